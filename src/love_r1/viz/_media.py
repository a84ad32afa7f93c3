"""Pictures for trace pages, decoded with the video engine: fast-view thumbnails and the zoom-clip frames.

The zoom-clip frames are re-derived, not stored: each clip the prompts showed is sampled again with
:func:`love_r1.video.sample_clip` and the settings the episode ran with (its ``policy`` with its time
base, the video's ``window`` and, with a token budget, the step's ``clip_plan``), so the pictures are
the frames the model got (same frame indices, same timestamp overlay), shrunk for display. Times are
measured like the episode's (from the start of its window, if any). Decoding is deterministic, so this equals what
the run decoded. Every image is a base64 JPEG, ready for a ``data:`` URI.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from love_r1.time_base import DEFAULT_TIME_BASE

logger = logging.getLogger(__name__)

THUMB_MAX_PIXELS = 160 * 90
CLIP_FRAME_WIDTH = 160


@dataclass(frozen=True)
class Picture:
    """One small frame: its presentation time (seconds) and a base64 JPEG."""

    seconds: float
    jpeg_base64: str


@dataclass(frozen=True)
class ClipFrames:
    """The frames of one zoom clip as the model saw them.

    Attributes:
        interval: ``(start_seconds, end_seconds)`` of the clip.
        num_frames: frames the model got for this clip (count).
        width, height: their size in the prompt (pixels, after the pixel-budget resize).
        pictures: the frames shown (all of them, or an even subset including the first and last),
            shrunk to :data:`CLIP_FRAME_WIDTH` pixels wide.
    """

    interval: tuple[float, float]
    num_frames: int
    width: int
    height: int
    pictures: tuple[Picture, ...]


@dataclass(frozen=True)
class TraceFrames:
    """Everything a trace page shows from the video: ``thumbs`` (fast-view strip), ``clips`` (zoom-clip
    frames, in the order the prompts first showed them) and ``notes`` (why something is missing)."""

    thumbs: tuple[Picture, ...] = ()
    clips: tuple[ClipFrames, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def _jpeg(rgb: Any, *, width: int | None = None, quality: int = 80) -> str:
    from PIL import Image

    image = Image.fromarray(rgb)
    if width is not None and image.width > width:
        image = image.resize((width, max(1, round(image.height * width / image.width))), Image.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _thumbs(reader: Any, *, num_thumbnails: int, max_pixels: int, time_base: str,
            window: Sequence[float] | None) -> list[Picture]:
    """Keyframes spread over the episode's timeline (the whole file or its ``window``, on its ``time_base``),
    each timed on that timeline: a file whose first frame starts after 0 (MPEG-TS, edit lists) or a windowed
    item gets the same times as the episode's fast view and zoom clips."""
    from love_r1.interval import Interval
    from love_r1.video import timeline

    line = timeline(reader, time_base=time_base,  # type: ignore[arg-type]
                    window=Interval(float(window[0]), float(window[1])) if window else None)
    step = line.duration_seconds / num_thumbnails
    positions = [line.frame_at((i + 0.5) * step) for i in range(num_thumbnails)]
    frames = reader.get_frames_at([line.first_index + p for p in positions], max_pixels=max_pixels, mode="keyframe")
    times = line.seconds_of(frames.frame_indices)
    return [Picture(float(t), _jpeg(rgb)) for t, rgb in zip(times, frames.data, strict=True)]


def _key(interval: Sequence[float]) -> tuple[float, float]:
    return (float(interval[0]), float(interval[1]))


def shown_clips(episode: dict[str, Any]) -> list[tuple[tuple[float, float], list[int]]]:
    """The clips the prompts showed, in order of first appearance, each with the 1-based steps that showed it."""
    seen: dict[tuple[float, float], list[int]] = {}
    for step in episode.get("steps") or ():
        for clip in step.get("clips_in_prompt") or ():
            if clip:
                seen.setdefault(_key(clip), []).append(int(step.get("index", 0)) + 1)
    return list(seen.items())


def _clip_plans(episode: dict[str, Any]) -> dict[tuple[float, float], dict[str, Any]]:
    """Token-budget clip plans by clip: a zoom step's plan belongs to its applied clip; a forced answer's
    plan to the whole-video fallback clip its prompt showed."""
    plans: dict[tuple[float, float], dict[str, Any]] = {}
    final = {_key(c) for c in episode.get("clips") or () if c}
    for step in episode.get("steps") or ():
        plan = step.get("clip_plan")
        if not isinstance(plan, dict):
            continue
        if step.get("applied_interval"):
            plans[_key(step["applied_interval"])] = plan
        else:
            for clip in step.get("clips_in_prompt") or ():
                if clip and _key(clip) not in final:
                    plans[_key(clip)] = plan
    return plans


def _even_subset(count: int, limit: int | None) -> list[int]:
    if limit is None or count <= limit:
        return list(range(count))
    if limit == 1:
        return [0]
    return sorted({round(i * (count - 1) / (limit - 1)) for i in range(limit)})


def _clip_frames(reader: Any, episode: dict[str, Any], *, duration_seconds: float,
                 max_frames_per_clip: int | None) -> list[ClipFrames]:
    from love_r1.agent.policy import ZoomPolicy
    from love_r1.interval import Interval
    from love_r1.video import sample_clip

    policy = ZoomPolicy.from_dict(dict(episode.get("policy") or {}))
    window = (episode.get("video") or {}).get("window")
    window = Interval(float(window[0]), float(window[1])) if window else None
    plans = _clip_plans(episode)
    out = []
    for interval, _ in shown_clips(episode):
        plan = plans.get(interval)
        if plan is None:  # the reference's fixed clip (the agent loop and the stage-1 path alike)
            arguments = policy.clip_arguments(duration_seconds=duration_seconds)
        else:
            arguments = policy.clip_arguments(duration_seconds=duration_seconds, num_frames=int(plan["num_frames"]),
                                              pixels_per_frame=int(plan["pixels_per_frame"]))
        frames = sample_clip(reader, interval[0], interval[1], **arguments, window=window)
        chosen = _even_subset(frames.num_frames, max_frames_per_clip)
        pictures = tuple(Picture(float(frames.timestamps_seconds[i]), _jpeg(frames.data[i], width=CLIP_FRAME_WIDTH))
                         for i in chosen)
        out.append(ClipFrames(interval, frames.num_frames, frames.width, frames.height, pictures))
    return out


def trace_frames(
    episode: dict[str, Any],
    *,
    video_path: str | Path | None = None,
    num_thumbnails: int = 24,
    max_frames_per_clip: int | None = None,
) -> TraceFrames:
    """Decode the pictures of one episode's trace page (never raises for an unreadable video: the
    page then says why in ``notes``).

    Args:
        episode: ``Episode.to_dict()``.
        video_path: the video; ``None`` uses ``episode["video"]["path"]``.
        num_thumbnails: keyframe thumbnails across the whole video (count; 0 for none).
        max_frames_per_clip: zoom-clip frames shown per clip (count; ``None``: every frame the model got,
            0: no zoom-clip frames); a smaller number picks an even subset including both ends.
    """
    if num_thumbnails < 0:
        raise ValueError(f"num_thumbnails must be >= 0, got {num_thumbnails}")
    if max_frames_per_clip is not None and max_frames_per_clip < 0:
        raise ValueError(f"max_frames_per_clip must be >= 0 or None, got {max_frames_per_clip}")
    from love_r1.video import VideoError, open_video

    source = video_path if video_path is not None else (episode.get("video") or {}).get("path")
    want_clips = max_frames_per_clip != 0 and bool(shown_clips(episode))
    if not source or not (num_thumbnails or want_clips):
        return TraceFrames()
    if not Path(source).exists():
        return TraceFrames(notes=(f"video not available: {source} does not exist",))
    duration = float((episode.get("video") or {}).get("duration_seconds") or 0.0)
    thumbs: list[Picture] = []
    clips: list[ClipFrames] = []
    notes: list[str] = []
    try:
        with open_video(source) as reader:
            duration = duration or float(reader.metadata.duration_seconds or 0.0)
            if num_thumbnails and duration > 0:
                policy = episode.get("policy") or {}
                thumbs = _thumbs(reader, num_thumbnails=num_thumbnails, max_pixels=THUMB_MAX_PIXELS,
                                 time_base=policy.get("time_base") or DEFAULT_TIME_BASE,
                                 window=(episode.get("video") or {}).get("window"))
            if want_clips:
                try:
                    clips = _clip_frames(reader, episode, duration_seconds=duration,
                                         max_frames_per_clip=max_frames_per_clip)
                except (VideoError, OSError, ValueError, TypeError) as error:
                    notes.append(f"zoom-clip frames not re-derived: {type(error).__name__}: {error}")
    except (VideoError, OSError, ValueError) as error:
        notes.append(f"video not readable: {type(error).__name__}: {error}")
    for note in notes:
        logger.warning("%s: %s", source, note)
    return TraceFrames(tuple(thumbs), tuple(clips), tuple(notes))
