"""Video clips shown to a teacher: where the evidence clip lies and the frames-plus-text request.

Shared by the vision steps (``caption``, ``clue-check``, ``answer-cot``): each samples the frames
of one clip with :func:`love_r1.video.sample_clip` (no timestamp overlay) and sends them before
the step's text prompt in a single user message.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from love_r1.backends import GenerationRequest, Message, SamplingParams, TextPart, VideoPart
from love_r1.data._engine import RunStats, item_errors
from love_r1.data._items import QAItem


def default_open_video(path: str):
    """Open ``path`` with :func:`love_r1.video.open_video` (imported lazily: text-only steps do not need it)."""
    from love_r1.video import open_video

    return open_video(path)


def check_clip_settings(*, pad_seconds: float, max_frames: int, frames_per_second: float,
                        pixels_per_frame: int) -> None:
    """Reject clip settings that cannot give a clip (raised by the step configs' ``__post_init__``)."""
    if not pad_seconds >= 0:
        raise ValueError(f"pad_seconds must be >= 0 seconds, got {pad_seconds}")
    if max_frames < 1:
        raise ValueError(f"max_frames must be >= 1 frame, got {max_frames}")
    if not frames_per_second > 0:
        raise ValueError(f"frames_per_second must be > 0, got {frames_per_second}")
    if pixels_per_frame < 1:
        raise ValueError(f"pixels_per_frame must be >= 1 pixel, got {pixels_per_frame} (e.g. 448*448 = 200704)")


def evidence_clip(item: QAItem, *, duration_seconds: float, pad_seconds: float) -> tuple[int, int]:
    """The first evidence interval padded by ``pad_seconds``, in integer seconds within ``[0, ⌊D⌋]``."""
    first = item.evidence[0]
    end_cap = max(1, int(duration_seconds))
    start = max(0, int(math.floor(first.start_seconds - pad_seconds)))
    end = min(end_cap, int(math.ceil(first.end_seconds + pad_seconds)))
    if end <= start:  # evidence past the end of the video: keep a 1-second clip at the end
        start = max(0, end - 1)
    return start, end


def evidence_clips(
    items: Sequence[QAItem], *, video_root: str | Path, pad_seconds: float, open_video: Callable[[str], Any],
    stats: RunStats, no_evidence_reason: str,
) -> dict[str, tuple[int, int]]:
    """``{qid: evidence_clip}`` of the items whose video opens; the others go to ``stats.failed_items``.

    An item without evidence intervals fails with ``no_evidence_reason``; one whose video cannot be
    opened fails with the error's type and message.
    """
    clips: dict[str, tuple[int, int]] = {}
    for item in items:
        if not item.evidence:
            stats.failed_items[item.qid] = no_evidence_reason
            continue
        try:
            with open_video(str(Path(video_root) / item.video_path)) as reader:
                duration = float(reader.metadata.duration_seconds)
        except item_errors() as error:
            stats.failed_items[item.qid] = f"{type(error).__name__}: {error}"
            continue
        clips[item.qid] = evidence_clip(item, duration_seconds=duration, pad_seconds=pad_seconds)
    return clips


def clip_request(
    *, open_video: Callable[[str], Any], path: str, start_seconds: float, end_seconds: float, text: str,
    max_frames: int, frames_per_second: float, pixels_per_frame: int, sampling: SamplingParams,
) -> GenerationRequest:
    """One user message: the frames of ``[start_seconds, end_seconds)`` of ``path``, then ``text``."""
    from love_r1.video import sample_clip

    with open_video(path) as reader:
        frames = sample_clip(reader, float(start_seconds), float(end_seconds), max_frames=max_frames,
                             frames_per_second=frames_per_second, pixels_per_frame=pixels_per_frame, overlay=False)
    return GenerationRequest(messages=(Message("user", (VideoPart(frames), TextPart(text))),), sampling=sampling)
