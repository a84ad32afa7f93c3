"""Synthetic data with machine-checkable content: frame-indexed clips, needle-in-a-haystack and learn-to-zoom
datasets, tiny models."""

from love_r1.synth._encode import indexed_video_timestamps_seconds
from love_r1.synth._indexed import write_indexed_video
from love_r1.synth._learn_to_zoom import write_learn_to_zoom_dataset
from love_r1.synth._needle import Needle, write_needle_dataset
from love_r1.synth._pattern import MAX_FRAME_INDEX, draw_frame_index, pattern_box_pixels, read_frame_index
from love_r1.synth._tiny_model import TINY_MODEL_TYPES, build_tiny_model, write_tiny_model
from love_r1.synth._training_records import write_needle_training_records

__all__ = [
    "MAX_FRAME_INDEX",
    "Needle",
    "TINY_MODEL_TYPES",
    "build_tiny_model",
    "draw_frame_index",
    "indexed_video_timestamps_seconds",
    "pattern_box_pixels",
    "read_frame_index",
    "write_indexed_video",
    "write_learn_to_zoom_dataset",
    "write_needle_dataset",
    "write_needle_training_records",
    "write_tiny_model",
]
