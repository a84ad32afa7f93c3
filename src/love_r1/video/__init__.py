"""Video engine: open a video once, request frames by time or index, sample fast views and zoom clips."""

from love_r1.time_base import TIME_BASES, TimeBase
from love_r1.video._cache import FrameCache
from love_r1.video._decode import ReaderStats, VideoReader, open_video
from love_r1.video._folder import FRAME_FOLDER_DEFAULT_FPS, FrameFolderReader
from love_r1.video._frames import Frames
from love_r1.video._metadata import VideoMetadata
from love_r1.video._timeline import Timeline, timeline
from love_r1.video.errors import (
    CorruptVideoError,
    EmptyVideoError,
    FrameCountError,
    IntervalError,
    NotAVideoError,
    NoVideoStreamError,
    UnsupportedVideoError,
    VideoError,
    VideoNotFoundError,
)
from love_r1.video.overlay import OVERLAY_FONT_NAME, OverlayFonts, draw_timestamp, draw_timestamps
from love_r1.video.resize import budget_hw, resize_frames, smart_resize
from love_r1.video.sampling import (
    FrameSelection,
    clip_indices,
    clip_selection,
    fast_view_indices,
    fast_view_pixels,
    fast_view_selection,
    linspace_indices,
    sample_clip,
    sample_fast_view,
    uniform_selection,
)

__all__ = [
    "FRAME_FOLDER_DEFAULT_FPS",
    "OVERLAY_FONT_NAME",
    "TIME_BASES",
    "CorruptVideoError",
    "EmptyVideoError",
    "FrameCache",
    "FrameCountError",
    "FrameFolderReader",
    "FrameSelection",
    "Frames",
    "IntervalError",
    "NoVideoStreamError",
    "NotAVideoError",
    "OverlayFonts",
    "ReaderStats",
    "TimeBase",
    "Timeline",
    "UnsupportedVideoError",
    "VideoError",
    "VideoMetadata",
    "VideoNotFoundError",
    "VideoReader",
    "budget_hw",
    "clip_indices",
    "clip_selection",
    "draw_timestamp",
    "draw_timestamps",
    "fast_view_indices",
    "fast_view_selection",
    "fast_view_pixels",
    "linspace_indices",
    "open_video",
    "resize_frames",
    "sample_clip",
    "sample_fast_view",
    "smart_resize",
    "timeline",
    "uniform_selection",
]
