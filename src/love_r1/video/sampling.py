"""Slow-fast frame sampling, exactly as the LOVE-R1 reference (protocol.md §2.1-2.2).

Index-level functions are pure and keyword-only; ``sample_fast_view`` / ``sample_clip`` apply
them to an open reader. Notation: ``N`` frames at ``fps`` (header average rate, what decord's
``get_avg_fps`` reports), duration ``D = N / fps``.

- Fast view: ``n = min(int(frames_per_second * D), max_frames)`` frames evenly spaced over
  ``[0, N-1]`` (``torch.linspace(...).round()``, float32, round half to even); rate
  ``round(n / (N-1) * fps, 2)``; pixels ``pixels_per_frame * factor`` with ``factor =
  short_video_factor`` when ``D < short_video_seconds``.
- Clip ``[s, e]``: ``a = max(0, int(s * fps))``, ``b = min(N-1, int(e * fps))``,
  ``n = min(int(frames_per_second * (e - s)), max_frames)``, evenly spaced over ``[a, b]``;
  rate ``round(n / (b - a) * fps, 2)``.

Deviation (reference defect #8): the reference divides by zero when ``b == a`` and returns no
frame when ``n == 0``; we raise :class:`IntervalError` naming the interval instead (callers
enforce a minimum clip length first). Odd frame counts are returned as they are: Qwen's
processor pads the last temporal patch with a copy of the last frame; we do not pad.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from love_r1.video._frames import Frames
from love_r1.video.errors import FrameCountError, IntervalError

if TYPE_CHECKING:
    from love_r1.video._decode import Mode, VideoReader

FAST_MAX_FRAMES = 768
SLOW_MAX_FRAMES = 32
FRAMES_PER_SECOND = 2.0
FAST_PIXELS_PER_FRAME = 32 * 28 * 28
SLOW_PIXELS_PER_FRAME = 256 * 28 * 28
SHORT_VIDEO_SECONDS = 60.0
SHORT_VIDEO_FACTOR = 2


@dataclass(frozen=True)
class FrameSelection:
    """Frame indices chosen by a sampler and the rate handed to the processor."""

    frame_indices: np.ndarray
    sample_fps: float

    @property
    def num_frames(self) -> int:
        return int(len(self.frame_indices))


def linspace_indices(*, start: int, end: int, num: int) -> np.ndarray:
    """``torch.linspace(start, end, num).round().long()`` reproduced in NumPy.

    PyTorch's CPU kernel computes a float32 ``step = (end - start) / (num - 1)``, then
    ``start + step * i`` for the first half and ``end - step * (num - 1 - i)`` for the second,
    with a fused multiply-add (one float32 rounding) in its vectorised path; the result is
    rounded half to even. We do the multiply-add exactly in float64 and round once to float32,
    which is the same thing; tests check equality with ``torch.linspace`` over many cases.
    """
    if num < 0:
        raise FrameCountError(f"num must be >= 0 frames; got {num}")
    if num == 0:
        return np.zeros(0, dtype=np.int64)
    if num == 1:
        return np.array([start], dtype=np.int64)
    f32 = np.float32
    step = np.float64(f32(f32(end) - f32(start)) / f32(num - 1))
    i = np.arange(num, dtype=np.float64)
    half = num // 2
    first = np.float64(f32(start)) + step * i[:half]
    second = np.float64(f32(end)) - step * (num - 1 - i[half:])
    values = np.concatenate([first, second]).astype(f32)
    return np.round(values).astype(np.int64)


def _check_rate(*, fps: float, num_frames_total: int, frames_per_second: float, max_frames: int) -> None:
    if not fps > 0:
        raise ValueError(f"fps must be > 0 frames per second; got {fps}")
    if num_frames_total < 1:
        raise FrameCountError(f"num_frames_total must be >= 1; got {num_frames_total}")
    if not frames_per_second > 0:
        raise ValueError(f"frames_per_second must be > 0; got {frames_per_second}")
    if max_frames < 1:
        raise FrameCountError(f"max_frames must be >= 1 frame; got {max_frames}")


def fast_view_indices(
    *, num_frames_total: int, fps: float, max_frames: int = FAST_MAX_FRAMES,
    frames_per_second: float = FRAMES_PER_SECOND,
) -> FrameSelection:
    """Fast-view frames over the whole video (reference values as defaults).

    Raises:
        FrameCountError: the video is too short for one frame (``int(fps_s * D) == 0``) or has one frame.
    """
    _check_rate(fps=fps, num_frames_total=num_frames_total, frames_per_second=frames_per_second,
                max_frames=max_frames)
    duration = num_frames_total / fps
    n = min(int(frames_per_second * duration), max_frames)
    if n < 1 or num_frames_total < 2:
        raise FrameCountError(
            f"a fast view of {num_frames_total} frames at {fps:g} fps (D={duration:.3f} s) gets n={n} frames "
            f"(n = min(int({frames_per_second:g} * D), {max_frames})); at least 2 source frames and n >= 1 needed "
            "(hint: the video is too short to sample)"
        )
    indices = linspace_indices(start=0, end=num_frames_total - 1, num=n)
    return FrameSelection(frame_indices=indices, sample_fps=round(n / (num_frames_total - 1) * fps, 2))


def clip_indices(
    *, start_seconds: float, end_seconds: float, num_frames_total: int, fps: float,
    max_frames: int = SLOW_MAX_FRAMES, frames_per_second: float = FRAMES_PER_SECOND,
) -> FrameSelection:
    """Slow-clip frames for ``[start_seconds, end_seconds]`` (reference values as defaults).

    The end frame is clamped to the last frame like the reference (``min(N-1, int(e * fps))``).

    Raises:
        IntervalError: reversed or empty interval, start outside the video, or ``b == a`` / ``n == 0``.
    """
    _check_rate(fps=fps, num_frames_total=num_frames_total, frames_per_second=frames_per_second,
                max_frames=max_frames)
    duration = num_frames_total / fps
    interval = f"[{start_seconds:g}, {end_seconds:g}]"
    if not (np.isfinite(start_seconds) and np.isfinite(end_seconds)):
        raise IntervalError(f"clip {interval} has a non-finite bound (hint: pass seconds as numbers)")
    if end_seconds <= start_seconds:
        raise IntervalError(f"clip {interval} is reversed or empty (hint: end_seconds must be > start_seconds)")
    if start_seconds < 0 or start_seconds >= duration:
        raise IntervalError(f"clip {interval} starts outside the video [0, {duration:g}) seconds "
                            "(hint: clamp the interval to the video duration)")
    a = max(0, int(start_seconds * fps))
    b = min(num_frames_total - 1, int(end_seconds * fps))
    n = min(int(frames_per_second * (end_seconds - start_seconds)), max_frames)
    if b <= a or n < 1:
        raise IntervalError(
            f"clip {interval} is too short: frames a={a}..b={b}, n={n} (n = min(int({frames_per_second:g} * "
            f"(e - s)), {max_frames})) (hint: widen the clip to at least {1 / frames_per_second:g} s and 1/fps)"
        )
    indices = linspace_indices(start=a, end=b, num=n)
    return FrameSelection(frame_indices=indices, sample_fps=round(n / (b - a) * fps, 2))


def fast_view_pixels(
    *, duration_seconds: float, pixels_per_frame: int = FAST_PIXELS_PER_FRAME,
    short_video_seconds: float = SHORT_VIDEO_SECONDS, short_video_factor: int = SHORT_VIDEO_FACTOR,
) -> int:
    """Pixel budget of a fast-view frame: ``pixels_per_frame * factor``, factor 2 below 60 s."""
    factor = short_video_factor if duration_seconds < short_video_seconds else 1
    return int(pixels_per_frame * factor)


def _with_key(frames: Frames, *, sample_fps: float, spec: str) -> Frames:
    digest = hashlib.sha1(f"{frames.key}|{spec}".encode()).hexdigest()[:16]
    return replace(frames, sample_fps=sample_fps, key=f"{(frames.key or '').split('-')[0]}-{digest}")


def sample_fast_view(
    reader: VideoReader, *, max_frames: int = FAST_MAX_FRAMES, frames_per_second: float = FRAMES_PER_SECOND,
    pixels_per_frame: int = FAST_PIXELS_PER_FRAME, short_video_seconds: float = SHORT_VIDEO_SECONDS,
    short_video_factor: int = SHORT_VIDEO_FACTOR, overlay: bool = True, mode: Mode = "exact",
) -> Frames:
    """The fast view of the whole video: low-res frames at up to 2 fps, timestamps burned in.

    ``mode="keyframe"`` snaps every frame to its nearest keyframe (fast; see :meth:`VideoReader.get_frames_at`);
    ``sample_fps`` keeps the reference value so the model input format is unchanged.
    """
    reader.check_complete()
    meta = reader.metadata
    selection = fast_view_indices(num_frames_total=meta.num_frames, fps=meta.fps, max_frames=max_frames,
                                  frames_per_second=frames_per_second)
    pixels = fast_view_pixels(duration_seconds=meta.num_frames / meta.fps, pixels_per_frame=pixels_per_frame,
                              short_video_seconds=short_video_seconds, short_video_factor=short_video_factor)
    frames = reader.get_frames_at(selection.frame_indices, max_pixels=pixels, mode=mode, overlay=overlay)
    return _with_key(frames, sample_fps=selection.sample_fps, spec=f"fast|{selection.sample_fps}")


def sample_clip(
    reader: VideoReader, start_seconds: float, end_seconds: float, *, max_frames: int = SLOW_MAX_FRAMES,
    frames_per_second: float = FRAMES_PER_SECOND, pixels_per_frame: int = SLOW_PIXELS_PER_FRAME,
    resolution_factor: int = 1, overlay: bool = True, mode: Mode = "exact",
) -> Frames:
    """A slow (zoom) clip of ``[start_seconds, end_seconds]`` at ``pixels_per_frame * resolution_factor``."""
    reader.check_complete()
    meta = reader.metadata
    selection = clip_indices(start_seconds=start_seconds, end_seconds=end_seconds, num_frames_total=meta.num_frames,
                             fps=meta.fps, max_frames=max_frames, frames_per_second=frames_per_second)
    frames = reader.get_frames_at(selection.frame_indices, max_pixels=int(pixels_per_frame * resolution_factor),
                                  mode=mode, overlay=overlay)
    return _with_key(frames, sample_fps=selection.sample_fps, spec=f"clip|{selection.sample_fps}")
