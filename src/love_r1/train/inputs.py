"""Decode a training record into the exact prompt inference renders (same engine, overlay, resize, layout).

The prompt is always built by :func:`love_r1.agent.messages.build_messages`; records trained
without the decision instruction (stage-1 SFT, as in ``sft_video.py``) get the same layout with
the question text as the last item. ``D``, frame selection, clip bounds, labels and the overlay use
``ClipPolicy.time_base`` (the same setting as ``ZoomPolicy.time_base`` at inference).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from love_r1.backends import Message, TextPart
from love_r1.interval import Interval
from love_r1.train.records import TrainRecord
from love_r1.train.sampling import (
    ClipPolicy,
    max_frames_per_clip,
    resolution_factor,
    stage1_clip_intervals,
    stage2_clip_intervals,
)


@dataclass(frozen=True)
class SampleClips:
    """The zoom clips of one training sample and the frame cap per clip."""

    intervals: tuple[Interval, ...]
    clip_max_frames: int


def sft_sample_clips(record: TrainRecord, *, duration_seconds: float, policy: ClipPolicy, seed: int) -> SampleClips:
    """Clips of an SFT sample: stage-1 random policy, stage-2 rounding/widening, trajectory steps as recorded."""
    if record.kind in ("qa", "grounding"):
        intervals = stage1_clip_intervals(kind=record.kind, duration_seconds=duration_seconds, evidence=record.evidence,
                                          policy=policy, seed=seed)
    elif record.kind == "cot":
        intervals = stage2_clip_intervals(clips=record.clips,
                                          duration_seconds=duration_seconds, policy=policy)
    elif record.kind == "step":
        intervals = sorted(record.clips, key=lambda i: i.start_seconds)
    else:
        raise ValueError(f"record on line {record.line} has kind {record.kind!r}; SFT takes qa, grounding, cot, step")
    frames = max_frames_per_clip(num_clips=len(intervals), kind=record.kind, policy=policy)
    return SampleClips(tuple(intervals), frames)


def prompt_messages(
    *, fast_view: Any, clips: Sequence[tuple[Interval, Any]], duration_seconds: float, question_text: str,
    decision_instruction: bool = True,
) -> tuple[Message, ...]:
    """System + user turn as at inference; without the decision instruction the last item is the question text."""
    from love_r1.agent.messages import build_messages

    messages = build_messages(fast_view=fast_view, clips=clips, duration_seconds=duration_seconds,
                              question_text=question_text)
    if decision_instruction:
        return messages
    system, user = messages
    content = (*user.content[:-1], TextPart(question_text))
    return (system, Message(role="user", content=content))


class RecordDecoder:
    """Decodes records' fast views and clips with the video engine (owns the reader factory and cache)."""

    def __init__(self, *, video_root: Any, policy: ClipPolicy, open_video: Callable[..., Any] | None = None,
                 mode: str = "exact", cache: Any = None) -> None:
        if open_video is None:
            from love_r1.video import open_video
        self.video_root = video_root
        self.policy = policy
        self.open_video = open_video
        self.mode = mode
        self.cache = cache

    def _open(self, record: TrainRecord) -> Any:
        from love_r1.train.records import record_video_path

        path = record_video_path(record.video_path, self.video_root)
        if self.cache is not None:
            return self.open_video(path, cache=self.cache)
        return self.open_video(path)

    def prompt(
        self, record: TrainRecord, *, clips: Sequence[Interval] | None = None, stage: str = "sft", seed: int = 0,
        clip_max_frames: int | None = None,
    ) -> tuple[tuple[Message, ...], tuple[Interval, ...], float]:
        """``(messages, intervals, duration_seconds)`` of a record's prompt.

        ``clips`` overrides the record's clips (GRPO steps); otherwise the SFT plan is used.
        """
        from love_r1.video import sample_clip, sample_fast_view, timeline

        policy = self.policy
        time_base = record.time_base or policy.time_base  # a trajectory step: the clock its episode ran on
        window = record.window
        short = policy.sft_short_video_seconds if stage == "sft" else policy.grpo_short_video_seconds
        inference_rules = record.kind == "step"  # our own trajectories: re-render exactly what inference saw
        if inference_rules:
            short = policy.inference_short_video_seconds
        with self._open(record) as reader:
            meta = reader.metadata
            duration = float(timeline(reader, time_base=time_base, window=window).duration_seconds)
            if clips is None:
                chosen = sft_sample_clips(record, duration_seconds=duration, policy=policy, seed=seed)
                intervals, frames_per_clip = chosen.intervals, chosen.clip_max_frames
            else:
                intervals = tuple(sorted(clips, key=lambda i: i.start_seconds))
                frames_per_clip = clip_max_frames or max_frames_per_clip(
                    num_clips=len(intervals), kind="grpo", policy=policy)
            fast = sample_fast_view(reader, max_frames=policy.fast_max_frames,
                                    frames_per_second=policy.frames_per_second,
                                    pixels_per_frame=policy.fast_pixels_per_frame, short_video_seconds=short,
                                    short_video_factor=policy.short_video_factor, mode=self.mode,
                                    time_base=time_base, window=window)
            factor = resolution_factor(duration_seconds=duration, short_video_seconds=short, policy=policy)
            clip_factor = factor if (policy.factor_on_clips or inference_rules) else 1
            decoded = []
            for interval in intervals:
                end = min(interval.end_seconds, duration)
                start = min(interval.start_seconds, max(0.0, end - 1.0 / meta.fps))
                frames = sample_clip(reader, start, end, max_frames=frames_per_clip,
                                     frames_per_second=policy.frames_per_second,
                                     pixels_per_frame=policy.clip_pixels_per_frame, resolution_factor=clip_factor,
                                     mode=self.mode, time_base=time_base, window=window)
                decoded.append((interval, frames))
        messages = prompt_messages(fast_view=fast, clips=decoded, duration_seconds=duration,
                                   question_text=record.question_text,
                                   decision_instruction=record.decision_instruction)
        return messages, tuple(intervals), duration


def with_reply(messages: Sequence[Message], reply: str) -> tuple[Message, ...]:
    """The prompt plus the assistant turn (the training target)."""
    return (*messages, Message(role="assistant", content=(TextPart(reply),)))


__all__ = ["RecordDecoder", "SampleClips", "prompt_messages", "sft_sample_clips", "with_reply"]
