"""``ZoomPolicy``: every number of the inference loop, with the reference defaults and presets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from love_r1.backends import SamplingParams
from love_r1.prompts.constants import SINGLE_LETTER_INSTRUCTION

PresetName = Literal["reference", "mlvu", "longvideobench"]

# name -> field overrides on top of the reference defaults (model_sample_frame.py keys these on the
# benchmark name; we ship them as explicit, recorded presets).
_PRESETS: dict[str, dict[str, Any]] = {
    "reference": {},
    "mlvu": {"fast_max_frames": 384, "fast_pixels_per_frame": 64 * 28 * 28},
    "longvideobench": {"slow_max_frames": 16, "widen": False},
}


@dataclass(frozen=True)
class ZoomPolicy:
    """Settings of the multi-step zoom loop (defaults: the reference inference settings).

    Attributes:
        name: preset name recorded with every result (``"custom"`` after manual changes is fine).
        max_free_steps: model calls that may zoom or answer before the forced answer (reference: 2).
        pad_seconds: each requested interval is padded by this on both sides (seconds).
        min_clip_seconds: a padded interval shorter than this forces the answer (seconds).
        min_length_seconds, min_length_fraction: intervals shorter than
            ``min(min_length_seconds, duration * min_length_fraction)`` are widened to that length
            around their midpoint (endpoints cast to ``int`` as the reference does).
        widen: apply the widening (off in the LongVideoBench preset).
        iou_stop: a new interval whose IoU with an existing clip is above this forces the answer.
        fast_max_frames, fast_pixels_per_frame: fast-view frame cap and pixel budget per frame.
        slow_max_frames, slow_pixels_per_frame: zoom-clip frame cap and pixel budget per frame.
        short_video_seconds, short_video_factor: videos shorter than ``short_video_seconds`` get
            ``short_video_factor`` times the pixel budget (fast view and zoom clips).
        frames_per_second: sampling rate cap for both views (frames per second).
        overlay: burn the timestamp overlay into the frames (the checkpoints were trained with it).
        sampling: decoding settings of every model call (reference: near-greedy, <= 2048 new tokens;
            temperature 0.01 / top-k 1 there, i.e. greedy, which we express as temperature 0).
        strict_parsing: read intervals exactly like the reference (``[int, int]`` only).
        answer_instruction: appended to the question text when a task gives none.
    """

    name: str = "reference"
    max_free_steps: int = 2
    pad_seconds: float = 5.0
    min_clip_seconds: float = 3.0
    min_length_seconds: float = 30.0
    min_length_fraction: float = 1 / 8
    widen: bool = True
    iou_stop: float = 0.3
    fast_max_frames: int = 768
    fast_pixels_per_frame: int = 32 * 28 * 28
    slow_max_frames: int = 32
    slow_pixels_per_frame: int = 256 * 28 * 28
    short_video_seconds: float = 60.0
    short_video_factor: int = 2
    frames_per_second: float = 2.0
    overlay: bool = True
    sampling: SamplingParams = field(default_factory=lambda: SamplingParams(max_new_tokens=2048))
    strict_parsing: bool = False
    answer_instruction: str = SINGLE_LETTER_INSTRUCTION

    def __post_init__(self) -> None:
        if isinstance(self.sampling, dict):
            object.__setattr__(self, "sampling", SamplingParams(**self.sampling))
        if not isinstance(self.sampling, SamplingParams):
            raise TypeError(f"ZoomPolicy.sampling must be SamplingParams, got {type(self.sampling).__name__}")
        for name in ("max_free_steps", "fast_max_frames", "slow_max_frames", "fast_pixels_per_frame",
                     "slow_pixels_per_frame", "short_video_factor"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"ZoomPolicy.{name} must be an int, got {value!r}")
        if self.max_free_steps < 0:
            raise ValueError(f"ZoomPolicy.max_free_steps must be >= 0, got {self.max_free_steps}")
        for name in ("fast_max_frames", "slow_max_frames", "fast_pixels_per_frame", "slow_pixels_per_frame",
                     "short_video_factor"):
            if getattr(self, name) < 1:
                raise ValueError(f"ZoomPolicy.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("pad_seconds", "min_clip_seconds", "min_length_seconds", "min_length_fraction",
                     "short_video_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"ZoomPolicy.{name} must be >= 0, got {getattr(self, name)}")
        if self.frames_per_second <= 0:
            raise ValueError(f"ZoomPolicy.frames_per_second must be > 0, got {self.frames_per_second}")
        if not 0 <= self.iou_stop <= 1:
            raise ValueError(f"ZoomPolicy.iou_stop must be in [0, 1], got {self.iou_stop}")

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> ZoomPolicy:
        """A named preset: ``"reference"``, ``"mlvu"`` (384 fast frames at 64*28*28 pixels) or
        ``"longvideobench"`` (16 frames per zoom clip, no widening); ``overrides`` replace fields."""
        if name not in _PRESETS:
            raise ValueError(f"unknown ZoomPolicy preset {name!r}; choose one of {sorted(_PRESETS)}")
        return cls(**{"name": name, **_PRESETS[name], **overrides})

    @staticmethod
    def preset_names() -> list[str]:
        return sorted(_PRESETS)

    def replace(self, **changes: Any) -> ZoomPolicy:
        return dataclasses.replace(self, **changes)

    def resolution_factor(self, duration_seconds: float) -> int:
        """Pixel-budget multiplier for a video of ``duration_seconds`` (the 60 s rule)."""
        return self.short_video_factor if duration_seconds < self.short_video_seconds else 1

    def min_length_for(self, duration_seconds: float) -> float:
        """Length in seconds that short intervals are widened to: ``min(30, D/8)`` by default."""
        return min(self.min_length_seconds, duration_seconds * self.min_length_fraction)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["sampling"] = dataclasses.asdict(self.sampling)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ZoomPolicy:
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"unknown ZoomPolicy fields {unknown}; known: {sorted(cls.__dataclass_fields__)}")
        return cls(**data)
