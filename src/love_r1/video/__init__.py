"""Video engine: open a video once, request frames by time or index, sample fast views and zoom clips.

The public surface is what users call: ``open_video`` (a reader), the samplers and their pure
selection functions, the time base (``timeline``), the result types, the cache and the typed
errors. Overlay, resize and reader internals live in their modules (``love_r1.video.overlay``,
``love_r1.video.resize``).
"""

from love_r1.time_base import TIME_BASES, TimeBase
from love_r1.video._cache import FrameCache
from love_r1.video._decode import Decoder, VideoReader, open_video
from love_r1.video._folder import FRAME_FOLDER_DEFAULT_FPS
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
from love_r1.video.overlay import OVERLAY_FONT_NAME
from love_r1.video.resize import budget_hw
from love_r1.video.sampling import (
    clip_indices,
    clip_selection,
    fast_view_indices,
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
    "Decoder",
    "EmptyVideoError",
    "FrameCache",
    "FrameCountError",
    "Frames",
    "IntervalError",
    "NoVideoStreamError",
    "NotAVideoError",
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
    "fast_view_indices",
    "fast_view_selection",
    "linspace_indices",
    "open_video",
    "sample_clip",
    "sample_fast_view",
    "timeline",
    "uniform_selection",
]
