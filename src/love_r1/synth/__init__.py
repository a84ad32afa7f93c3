"""Synthetic videos with machine-checkable content: frame-indexed clips and needle-in-a-haystack datasets."""

from love_r1.synth._encode import indexed_video_timestamps_seconds
from love_r1.synth._indexed import write_indexed_video
from love_r1.synth._needle import Needle, write_needle_dataset
from love_r1.synth._pattern import MAX_FRAME_INDEX, draw_frame_index, pattern_box_pixels, read_frame_index

__all__ = [
    "MAX_FRAME_INDEX",
    "Needle",
    "draw_frame_index",
    "indexed_video_timestamps_seconds",
    "pattern_box_pixels",
    "read_frame_index",
    "write_indexed_video",
    "write_needle_dataset",
]
