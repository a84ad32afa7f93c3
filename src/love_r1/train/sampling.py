"""Seeded, pure clip-sampling rules of the training stages (``docs/protocol.md`` §4.2, §8).

Every function takes the policy and a ``seed`` explicitly, so a record always gets the same clips
for the same seed (tests pin the reference percentages on many seeds). Intervals are half-open
``[start_seconds, end_seconds)`` in seconds.

* **Stage 1, grounding** (records with ``tgt``: their evidence): 60 % ground-truth moments (overlaps merged, at
  most 3 sampled, each widened by U{0..5} s per side), 20 % the whole video, 20 % no clip.
* **Stage 1, plain QA**: 90 % the whole video; 10 % 0-3 random clips (at most 1 below 30 s,
  2 below 180 s, else 3), each ``max(randint(0, D // 8), 16)`` s long.
* **Stage 2, CoT**: the record's clips (``zoomin_intervals``) rounded to integer seconds; clips shorter than
  5 s become ``[mid - 3, mid + 3]``.
* **Zoom-clip frames per clip**: CoT 32/24/16 for 1/2/≥3 clips; stage-1 16 for several clips; 32 when
  there is at most one clip.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from love_r1.interval import Interval
from love_r1.time_base import DEFAULT_TIME_BASE, TimeBase, check_time_base
from love_r1.train.records import RecordKind

Stage1Kind = Literal["grounding", "qa"]
PresetName = Literal["reference", "aligned"]


@dataclass(frozen=True)
class ClipPolicy:
    """How training samples choose their clips and frame budgets (reference defaults).

    ``ClipPolicy.preset("reference")`` reproduces the training columns of protocol.md §8;
    ``"aligned"`` uses the inference values where they make sense (60 s resolution rule, the
    factor on zoom clips, 32 zoom-clip frames in GRPO).
    """

    grounding_moments_probability: float = field(default=0.6, metadata={"help": "stage-1 grounding: P(ground-truth moments)"})
    grounding_whole_video_probability: float = field(default=0.2, metadata={"help": "stage-1 grounding: P(whole video); the rest: no clip"})
    grounding_max_clips: int = field(default=3, metadata={"help": "stage-1 grounding: moments sampled at most (count)"})
    grounding_widen_max_seconds: int = field(default=5, metadata={"help": "stage-1 grounding: U{0..n} widening per side (seconds)"})
    qa_whole_video_probability: float = field(default=0.9, metadata={"help": "stage-1 QA: P(whole video); the rest: random clips"})
    qa_clip_count_thresholds_seconds: tuple[float, float] = field(default=(30.0, 180.0), metadata={"help": "stage-1 QA: durations below which at most 1 / 2 random clips are drawn (seconds)"})
    qa_min_clip_seconds: int = field(default=16, metadata={"help": "stage-1 QA: shortest random clip (seconds)"})
    cot_min_clip_seconds: float = field(default=5.0, metadata={"help": "stage 2: clips shorter than this are widened (seconds)"})
    cot_widen_half_seconds: int = field(default=3, metadata={"help": "stage 2: short clips become [mid - n, mid + n] (seconds)"})
    cot_frames_per_clip: tuple[int, int, int] = field(default=(32, 24, 16), metadata={"help": "stage 2: zoom-clip frames per clip for 1 / 2 / >=3 clips"})
    multi_clip_frames: int = field(default=16, metadata={"help": "stage 1: zoom-clip frames per clip when there are >= 2 clips"})
    single_clip_frames: int = field(default=32, metadata={"help": "zoom-clip frames when there is at most one clip"})
    grpo_frames_per_clip: int = field(default=16, metadata={"help": "stage 3: zoom-clip frames per clip"})
    fast_max_frames: int = field(default=768, metadata={"help": "fast view: most frames"})
    fast_pixels_per_frame: int = field(default=32 * 28 * 28, metadata={"help": "fast view: pixel budget per frame (pixels)"})
    clip_pixels_per_frame: int = field(default=256 * 28 * 28, metadata={"help": "zoom clips: pixel budget per frame (pixels)"})
    frames_per_second: float = field(default=2.0, metadata={"help": "sampling rate cap (frames per second)"})
    sft_short_video_seconds: float = field(default=120.0, metadata={"help": "SFT: resolution x factor below this duration (seconds)"})
    grpo_short_video_seconds: float = field(default=60.0, metadata={"help": "GRPO: resolution x factor below this duration (seconds)"})
    inference_short_video_seconds: float = field(default=60.0, metadata={"help": "trajectory steps (our own "
                                                 "inference runs): resolution x factor below this, zoom clips too (seconds)"})
    short_video_factor: int = field(default=2, metadata={"help": "pixel factor for short videos"})
    factor_on_clips: bool = field(default=False, metadata={"help": "apply the short-video factor to zoom clips too"})
    time_base: TimeBase = field(default=DEFAULT_TIME_BASE, metadata={
        "help": "clock of D, frames, clip bounds, labels and overlay: 'presentation' (frame pts from the first "
                "frame) or 'index' (the reference's frame_index / header fps); the same on constant-frame-rate files"})

    def __post_init__(self) -> None:
        check_time_base(self.time_base, name="ClipPolicy.time_base")
        p = self.grounding_moments_probability + self.grounding_whole_video_probability
        for name in ("grounding_moments_probability", "grounding_whole_video_probability", "qa_whole_video_probability"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"ClipPolicy.{name}={value} must lie in [0, 1]")
        if p > 1.0 + 1e-9:
            raise ValueError(
                f"ClipPolicy: grounding_moments_probability + grounding_whole_video_probability = {p} > 1"
            )
        for name in ("fast_max_frames", "fast_pixels_per_frame", "clip_pixels_per_frame", "single_clip_frames",
                     "multi_clip_frames", "grpo_frames_per_clip", "grounding_max_clips"):
            if getattr(self, name) < 1:
                raise ValueError(f"ClipPolicy.{name}={getattr(self, name)} must be >= 1")
        if len(self.cot_frames_per_clip) != 3 or min(self.cot_frames_per_clip) < 1:
            raise ValueError(f"ClipPolicy.cot_frames_per_clip={self.cot_frames_per_clip} must be 3 counts >= 1")

    @classmethod
    def preset(cls, name: PresetName, **overrides: object) -> ClipPolicy:
        """``"reference"`` (training as released) or ``"aligned"`` (inference values), then ``overrides``."""
        if name not in _PRESETS:
            raise ValueError(f"unknown clip preset {name!r}; expected one of {sorted(_PRESETS)}")
        return dataclasses.replace(cls(**_PRESETS[name]), **overrides)

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


_PRESETS: dict[str, dict[str, object]] = {
    "reference": {},
    "aligned": {"sft_short_video_seconds": 60.0, "factor_on_clips": True, "grpo_frames_per_clip": 32},
}


def merge_intervals(intervals: Sequence[Interval]) -> list[Interval]:
    """Sort by start and merge overlapping or touching intervals."""
    merged: list[Interval] = []
    for interval in sorted(intervals, key=lambda i: (i.start_seconds, i.end_seconds)):
        if merged and interval.start_seconds <= merged[-1].end_seconds:
            last = merged[-1]
            merged[-1] = Interval(last.start_seconds, max(last.end_seconds, interval.end_seconds))
        else:
            merged.append(interval)
    return merged


def whole_video(duration_seconds: float) -> Interval:
    """``[0, int(D)]``, the reference's whole-video zoom clip."""
    return Interval(0.0, float(int(duration_seconds)))


def random_clip(*, duration_seconds: float, min_clip_seconds: int, rng: random.Random) -> Interval:
    """A random integer clip ``max(randint(0, D // 8), min)`` seconds long, inside the video."""
    length = max(rng.randint(0, int(duration_seconds // 8)), min_clip_seconds)
    latest_start = max(0, int(duration_seconds - length - 1))
    start = rng.randint(0, latest_start)
    end = min(start + length, max(int(duration_seconds), start + 1))
    return Interval(float(start), float(end))


def stage1_clip_intervals(
    *, kind: Stage1Kind, duration_seconds: float, evidence: Sequence[Interval] = (), policy: ClipPolicy, seed: int
) -> list[Interval]:
    """The zoom clips shown with a stage-1 record, sorted by start (reference percentages by default)."""
    if duration_seconds <= 0:
        raise ValueError(f"duration_seconds must be > 0, got {duration_seconds}")
    rng = random.Random(seed)
    whole = whole_video(duration_seconds)
    if kind == "grounding":
        if not evidence:
            raise ValueError("a grounding record needs at least one evidence interval (its tgt)")
        draw = rng.random()
        if draw < policy.grounding_moments_probability:
            moments = merge_intervals([Interval(float(int(m.start_seconds)), float(int(m.end_seconds))) for m in evidence])
            if len(moments) > policy.grounding_max_clips:
                moments = rng.sample(moments, policy.grounding_max_clips)
            widened = []
            for m in moments:
                start = max(0, int(m.start_seconds) - rng.randint(0, policy.grounding_widen_max_seconds))
                end = min(int(duration_seconds), int(m.end_seconds) + rng.randint(0, policy.grounding_widen_max_seconds))
                widened.append(Interval(float(start), float(max(start, end))))
            return sorted(widened, key=lambda i: i.start_seconds)
        if draw < policy.grounding_moments_probability + policy.grounding_whole_video_probability:
            return [whole]
        return []
    if kind != "qa":
        raise ValueError(f"kind={kind!r} is not one of 'grounding', 'qa'")
    if rng.random() < policy.qa_whole_video_probability:
        return [whole]
    short_seconds, medium_seconds = policy.qa_clip_count_thresholds_seconds
    max_clips = 1 if duration_seconds < short_seconds else 2 if duration_seconds < medium_seconds else 3
    count = rng.choice(list(range(max_clips + 1)))
    clips = [random_clip(duration_seconds=duration_seconds, min_clip_seconds=policy.qa_min_clip_seconds, rng=rng)
             for _ in range(count)]
    return sorted(clips, key=lambda i: i.start_seconds)


def stage2_clip_intervals(
    *, clips: Sequence[Interval], duration_seconds: float, policy: ClipPolicy
) -> list[Interval]:
    """CoT clips: rounded to integer seconds; shorter than ``cot_min_clip_seconds`` -> ``[mid-3, mid+3]``."""
    out = []
    for interval in clips:
        start, end = int(round(interval.start_seconds)), int(round(interval.end_seconds))
        if end - start < policy.cot_min_clip_seconds:
            mid = int((start + end) / 2)
            start = max(mid - policy.cot_widen_half_seconds, 0)
            end = min(mid + policy.cot_widen_half_seconds, int(duration_seconds))
        out.append(Interval(float(start), float(max(start, end))))
    return sorted(out, key=lambda i: i.start_seconds)


def max_frames_per_clip(*, num_clips: int, kind: RecordKind, policy: ClipPolicy) -> int:
    """Zoom-clip frame cap: CoT 32/24/16 by clip count; stage 1 16 for several clips; 32 for <= 1 clip."""
    if num_clips < 0:
        raise ValueError(f"num_clips must be >= 0, got {num_clips}")
    if kind == "grpo":
        return policy.grpo_frames_per_clip
    if num_clips <= 1 or kind == "step":  # our own trajectories: the inference budget per clip
        return policy.single_clip_frames
    if kind == "cot":
        return policy.cot_frames_per_clip[min(num_clips, 3) - 1]
    return policy.multi_clip_frames


def resolution_factor(*, duration_seconds: float, short_video_seconds: float, policy: ClipPolicy) -> int:
    """``short_video_factor`` below ``short_video_seconds``, else 1."""
    return policy.short_video_factor if duration_seconds < short_video_seconds else 1


__all__ = [
    "ClipPolicy", "max_frames_per_clip", "merge_intervals", "random_clip", "resolution_factor",
    "stage1_clip_intervals", "stage2_clip_intervals", "whole_video",
]
