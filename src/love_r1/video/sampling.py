"""Slow-fast frame sampling: the LOVE-R1 reference arithmetic (protocol.md §2.1-2.2) on one time base.

Index-level functions are pure and keyword-only; ``sample_fast_view`` / ``sample_clip`` apply
them to an open reader. Reference notation: ``N`` frames at ``fps`` (header average rate, what
decord's ``get_avg_fps`` reports), duration ``D = N / fps``.

- Fast view: ``n = min(int(frames_per_second * D), max_frames)`` frames evenly spaced over
  ``[0, N-1]`` (``torch.linspace(...).round()``, float32, round half to even); rate
  ``round(n / (N-1) * fps, 2)``; pixels ``pixels_per_frame * factor`` with ``factor =
  short_video_factor`` when ``D < short_video_seconds``.
- Clip ``[s, e]``: ``a = max(0, int(s * fps))``, ``b = min(N-1, int(e * fps))``,
  ``n = min(int(frames_per_second * (e - s)), max_frames)``, evenly spaced over ``[a, b]``;
  rate ``round(n / (b - a) * fps, 2)``.

That arithmetic is the ``"index"`` time base (:mod:`love_r1.video._timeline`). The default
``"presentation"`` base does the same on the frames' true times (:func:`fast_view_selection`,
:func:`clip_selection`): identical frames and rates on a constant-frame-rate file, the frames
nearest to the intended times on a variable-frame-rate one.

Deviations: (reference defect #8) the reference divides by zero when ``b == a`` and returns no
frame when ``n == 0``; we raise :class:`IntervalError` naming the interval instead (callers
enforce a minimum clip length first). Every rate is floored at ``MIN_SAMPLE_FPS = 0.01`` as the
reference's stage-1 path does (its multi-step path rounds the whole-video clip of a video over
~6,400 s to 0.0 and fails). Odd frame counts are returned as they are: Qwen's processor pads the
last temporal patch with a copy of the last frame; we do not pad.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from love_r1.interval import Interval
from love_r1.time_base import DEFAULT_TIME_BASE, TimeBase
from love_r1.video._frames import Frames
from love_r1.video._timeline import Timeline, timeline
from love_r1.video.errors import FrameCountError, IntervalError

if TYPE_CHECKING:
    from love_r1.video._decode import Mode, VideoReader

FAST_MAX_FRAMES = 768
CLIP_MAX_FRAMES = 32
FRAMES_PER_SECOND = 2.0
FAST_PIXELS_PER_FRAME = 32 * 28 * 28
CLIP_PIXELS_PER_FRAME = 256 * 28 * 28
SHORT_VIDEO_SECONDS = 60.0
SHORT_VIDEO_FACTOR = 2
MIN_SAMPLE_FPS = 0.01  # the reference stage-1 path (model.py): max(round(rate, 2), 0.01)


@dataclass(frozen=True)
class FrameSelection:
    """Frame indices chosen by a sampler and the rate handed to the processor."""

    frame_indices: np.ndarray
    sample_fps: float

    @property
    def num_frames(self) -> int:
        return int(len(self.frame_indices))


def linspace_positions(*, start: int, end: int, num: int) -> np.ndarray:
    """``torch.linspace(start, end, num)`` (float32, before rounding) reproduced in NumPy.

    PyTorch's CPU kernel computes a float32 ``step = (end - start) / (num - 1)``, then
    ``start + step * i`` for the first half and ``end - step * (num - 1 - i)`` for the second,
    with a fused multiply-add (one float32 rounding) in its vectorised path. We do the
    multiply-add exactly in float64 and round once to float32, which is the same thing; tests
    check equality with ``torch.linspace`` over many cases.
    """
    if num < 0:
        raise FrameCountError(f"num must be >= 0 frames; got {num}")
    if num == 0:
        return np.zeros(0, dtype=np.float32)
    if num == 1:
        return np.array([start], dtype=np.float32)
    f32 = np.float32
    step = np.float64(f32(f32(end) - f32(start)) / f32(num - 1))
    i = np.arange(num, dtype=np.float64)
    half = num // 2
    first = np.float64(f32(start)) + step * i[:half]
    second = np.float64(f32(end)) - step * (num - 1 - i[half:])
    return np.concatenate([first, second]).astype(f32)


def linspace_indices(*, start: int, end: int, num: int) -> np.ndarray:
    """``torch.linspace(start, end, num).round().long()``: :func:`linspace_positions` rounded half to even."""
    return np.round(linspace_positions(start=start, end=end, num=num)).astype(np.int64)


def _check_rate(*, fps: float, num_frames_total: int, frames_per_second: float, max_frames: int) -> None:
    if not fps > 0:
        raise ValueError(f"fps must be > 0 frames per second; got {fps}")
    if num_frames_total < 1:
        raise FrameCountError(f"num_frames_total must be >= 1; got {num_frames_total}")
    _check_counts(frames_per_second=frames_per_second, max_frames=max_frames)


def _check_counts(*, frames_per_second: float, max_frames: int) -> None:
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
    n = _fast_view_count(num_frames=num_frames_total, duration_seconds=num_frames_total / fps,
                         frames_per_second=frames_per_second, max_frames=max_frames, what=f"at {fps:g} fps ")
    indices = linspace_indices(start=0, end=num_frames_total - 1, num=n)
    return FrameSelection(frame_indices=indices, sample_fps=_rate(n, 0, num_frames_total - 1, fps))


def clip_indices(
    *, start_seconds: float, end_seconds: float, num_frames_total: int, fps: float,
    max_frames: int = CLIP_MAX_FRAMES, frames_per_second: float = FRAMES_PER_SECOND,
) -> FrameSelection:
    """Zoom-clip frames for ``[start_seconds, end_seconds]`` (reference values as defaults).

    The end frame is clamped to the last frame like the reference (``min(N-1, int(e * fps))``).

    Raises:
        IntervalError: reversed or empty interval, start outside the video, or ``b == a`` / ``n == 0``.
    """
    _check_rate(fps=fps, num_frames_total=num_frames_total, frames_per_second=frames_per_second,
                max_frames=max_frames)
    interval = _check_clip_bounds(start_seconds=start_seconds, end_seconds=end_seconds,
                                  duration_seconds=num_frames_total / fps)
    a = max(0, int(start_seconds * fps))
    b = min(num_frames_total - 1, int(end_seconds * fps))
    n = min(int(frames_per_second * (end_seconds - start_seconds)), max_frames)
    if b <= a or n < 1:
        raise IntervalError(
            f"{interval} is too short: frames a={a}..b={b}, n={n} (n = min(int({frames_per_second:g} * "
            f"(e - s)), {max_frames})) (hint: widen the clip to at least {1 / frames_per_second:g} s and 1/fps)"
        )
    indices = linspace_indices(start=a, end=b, num=n)
    return FrameSelection(frame_indices=indices, sample_fps=_rate(n, a, b, fps))


def _fast_view_count(*, num_frames: int, duration_seconds: float, frames_per_second: float, max_frames: int,
                     what: str = "") -> int:
    """``n = min(int(frames_per_second * D), max_frames)``, or :class:`FrameCountError` when ``n == 0`` or ``N < 2``."""
    n = min(int(frames_per_second * duration_seconds), max_frames)
    if n < 1 or num_frames < 2:
        raise FrameCountError(
            f"a fast view of {num_frames} frames {what}(D={duration_seconds:.3f} s) gets n={n} frames (n = min(int("
            f"{frames_per_second:g} * D), {max_frames})); at least 2 source frames and n >= 1 needed (hint: the "
            "video is too short to sample)"
        )
    return n


def _check_clip_bounds(*, start_seconds: float, end_seconds: float, duration_seconds: float) -> str:
    """The clip's name for messages; :class:`IntervalError` for a non-finite, reversed or empty interval or a
    start outside ``[0, D)``."""
    interval = f"clip [{start_seconds:g}, {end_seconds:g}]"
    if not (np.isfinite(start_seconds) and np.isfinite(end_seconds)):
        raise IntervalError(f"{interval} has a non-finite bound (hint: pass seconds as numbers)")
    if end_seconds <= start_seconds:
        raise IntervalError(f"{interval} is reversed or empty (hint: end_seconds must be > start_seconds)")
    if start_seconds < 0 or start_seconds >= duration_seconds:
        raise IntervalError(f"{interval} starts outside the video [0, {duration_seconds:g}) seconds "
                            "(hint: clamp the interval to the video duration)")
    return interval


def _naming(path: str, error: Exception) -> Exception:
    """The same error with the file named first (the pure index functions do not know it)."""
    return type(error)(f"{path}: {error}")


def fast_view_pixels(
    *, duration_seconds: float, pixels_per_frame: int = FAST_PIXELS_PER_FRAME,
    short_video_seconds: float = SHORT_VIDEO_SECONDS, short_video_factor: int = SHORT_VIDEO_FACTOR,
) -> int:
    """Pixel budget of a fast-view frame: ``pixels_per_frame * factor``, factor 2 below 60 s."""
    factor = short_video_factor if duration_seconds < short_video_seconds else 1
    return int(pixels_per_frame * factor)


def _floored(rate: float) -> float:
    """``round(rate, 2)`` floored at :data:`MIN_SAMPLE_FPS` (the reference stage-1 path's ``max(round(r, 2), 0.01)``)."""
    return max(round(rate, 2), MIN_SAMPLE_FPS)


def _rate(n: int, a: int, b: int, fps: float) -> float:
    """``round(n / (b - a) * fps, 2)``, floored."""
    return _floored(n / (b - a) * fps)


def _shifted(selection: FrameSelection, offset: int) -> FrameSelection:
    return FrameSelection(frame_indices=selection.frame_indices + offset, sample_fps=selection.sample_fps)


def _nearest_in_time(ticks: np.ndarray, *, a: int, b: int, positions: np.ndarray) -> np.ndarray:
    """The frame nearest in time to each of ``positions`` (float32 points of ``[a, b]`` on a uniform grid).

    Position ``x`` stands for the time ``t_a + (x - a) / (b - a) * (t_b - t_a)``; its frame is found by
    interpolating the frame starts to a fractional position and rounding half to even. When frame starts
    are evenly spaced the fractional position is ``x`` itself, so the result is ``round(x)``: the
    reference's index arithmetic, bit for bit. Vectorised in float64; positions within 1e-6 of a half
    (where float error could flip the rounding) are redone in exact tick arithmetic.
    """
    ticks = np.asarray(ticks, dtype=np.int64)
    t_a, t_b = int(ticks[a]), int(ticks[b])
    x = positions.astype(np.float64)
    target = t_a + (x - a) * ((t_b - t_a) / (b - a))
    j = np.clip(np.searchsorted(ticks, target, side="right") - 1, a, b)
    lo = ticks[j].astype(np.float64)
    hi = ticks[np.minimum(j + 1, b)].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(hi > lo, j + (target - lo) / (hi - lo), j.astype(np.float64))
    out = np.round(u).astype(np.int64)
    ticks_per_step = Fraction(t_b - t_a, b - a)
    for k in np.flatnonzero(np.abs(u - np.floor(u) - 0.5) < 1e-6).tolist():
        exact = t_a + (Fraction(float(x[k])) - a) * ticks_per_step
        i = min(max(int(np.searchsorted(ticks, math.floor(exact), side="right")) - 1, a), b)
        low, high = (int(ticks[i]), int(ticks[i + 1])) if i < b else (0, 0)
        out[k] = round(i + (exact - low) / (high - low)) if high > low else i
    return out


def _span_rate(timeline: Timeline, *, n: int, a: int, b: int) -> float:
    """``n`` frames over timeline frames ``a..b``: ``n / (b - a) * r`` with ``r = (b - a) / (t_b - t_a)`` the span's
    own frame rate, so the float expression is the reference's on a constant-frame-rate file (``r == fps``)."""
    ticks = timeline.ticks
    span_rate = Fraction(b - a) / ((int(ticks[b]) - int(ticks[a])) * timeline.seconds_per_tick)
    return _floored(n / (b - a) * float(span_rate))


def fast_view_selection(
    *, timeline: Timeline, max_frames: int = FAST_MAX_FRAMES, frames_per_second: float = FRAMES_PER_SECOND,
) -> FrameSelection:
    """Fast-view frames of a timeline (SOURCE frame indices) and the processor rate.

    ``n = min(int(frames_per_second * D), max_frames)`` frames. Index base: :func:`fast_view_indices` on the
    timeline's frames. Presentation base: the frames nearest to ``n`` times evenly spaced from the first to
    the last frame start (:func:`_nearest_in_time`); the rate is ``n`` over that span. Both give the same
    frames and rate on a constant-frame-rate file.

    Raises:
        FrameCountError: fewer than 2 frames on the timeline or ``n == 0`` (a video under ``1 / frames_per_second`` s).
    """
    try:
        if timeline.time_base == "index":
            selection = fast_view_indices(num_frames_total=timeline.num_frames, fps=timeline.fps,
                                          max_frames=max_frames, frames_per_second=frames_per_second)
            return _shifted(selection, timeline.first_index)
        _check_counts(frames_per_second=frames_per_second, max_frames=max_frames)
        total = timeline.num_frames
        n = _fast_view_count(num_frames=total, duration_seconds=timeline.duration_seconds,
                             frames_per_second=frames_per_second, max_frames=max_frames)
    except FrameCountError as error:
        raise _naming(timeline.path, error) from None
    positions = linspace_positions(start=0, end=total - 1, num=n)
    indices = _nearest_in_time(timeline.ticks, a=0, b=total - 1, positions=positions)
    return FrameSelection(frame_indices=indices + timeline.first_index,
                          sample_fps=_span_rate(timeline, n=n, a=0, b=total - 1))


def clip_selection(
    *, timeline: Timeline, start_seconds: float, end_seconds: float, max_frames: int = CLIP_MAX_FRAMES,
    frames_per_second: float = FRAMES_PER_SECOND,
) -> FrameSelection:
    """Zoom-clip frames of ``[start_seconds, end_seconds]`` on a timeline (SOURCE frame indices) and the rate.

    ``n = min(int(frames_per_second * (e - s)), max_frames)``. Index base: :func:`clip_indices`. Presentation
    base: ``a`` = the frame shown at ``s``, ``b`` = the frame shown at ``e`` (at most the last), then the frames
    nearest to ``n`` times evenly spaced from ``t_a`` to ``t_b``, rate ``n`` over that span (the reference's
    frames and rate on a constant-frame-rate file). When one frame is shown during the whole interval
    (a still in a variable-frame-rate file), it is repeated ``n`` times at the rate ``n / (e - s)``.

    Raises:
        IntervalError: a non-finite, reversed or empty interval, a start outside ``[0, D)``, ``n == 0``; index
            base also ``b == a`` (the reference divides by zero there).
    """
    try:
        if timeline.time_base == "index":
            selection = clip_indices(start_seconds=start_seconds, end_seconds=end_seconds,
                                     num_frames_total=timeline.num_frames, fps=timeline.fps, max_frames=max_frames,
                                     frames_per_second=frames_per_second)
            return _shifted(selection, timeline.first_index)
        _check_counts(frames_per_second=frames_per_second, max_frames=max_frames)
        interval = _check_clip_bounds(start_seconds=start_seconds, end_seconds=end_seconds,
                                      duration_seconds=timeline.duration_seconds)
        n = min(int(frames_per_second * (end_seconds - start_seconds)), max_frames)
        if n < 1:
            raise IntervalError(f"{interval} is too short for one frame: n = min(int({frames_per_second:g} * (e - s)), "
                                f"{max_frames}) = {n} (hint: widen the clip to at least {1 / frames_per_second:g} s)")
    except (IntervalError, FrameCountError) as error:
        raise _naming(timeline.path, error) from None
    a = timeline.frame_at(start_seconds)
    b = timeline.frame_at(end_seconds)
    if b == a:
        rate = _floored(n / (end_seconds - start_seconds))
        return FrameSelection(frame_indices=np.full(n, a + timeline.first_index, dtype=np.int64), sample_fps=rate)
    positions = linspace_positions(start=a, end=b, num=n)
    indices = _nearest_in_time(timeline.ticks, a=a, b=b, positions=positions)
    return FrameSelection(frame_indices=indices + timeline.first_index, sample_fps=_span_rate(timeline, n=n, a=a, b=b))


def uniform_selection(*, timeline: Timeline, num_frames: int) -> FrameSelection:
    """``num_frames`` frames spread evenly over a timeline, both ends included (the uniform baseline,
    qwen-vl-utils style): ``count = min(num_frames, N)`` made even (Qwen2.5-VL pairs frames), positions
    ``linspace(0, N - 1, count)`` rounded (index base) or the frames nearest to the matching times
    (presentation base); rate ``round(count / D, 6)``.
    """
    if num_frames < 1:
        raise FrameCountError(f"num_frames must be >= 1 frame; got {num_frames}")
    total = timeline.num_frames
    count = max(1, min(num_frames, total))
    count -= count % 2 if count > 1 else 0
    positions = linspace_positions(start=0, end=total - 1, num=count)
    if timeline.time_base == "index" or total < 2:
        indices = np.round(positions).astype(np.int64)
    else:
        indices = _nearest_in_time(timeline.ticks, a=0, b=total - 1, positions=positions)
    return FrameSelection(frame_indices=indices + timeline.first_index,
                          sample_fps=round(count / timeline.duration_seconds, 6))


def _with_key(frames: Frames, *, sample_fps: float, spec: str, timeline: Timeline) -> Frames:
    digest = hashlib.sha1(f"{frames.key}|{spec}|{timeline.spec}".encode()).hexdigest()[:16]
    times = timeline.seconds_of(frames.frame_indices)
    return replace(frames, timestamps_seconds=times, sample_fps=sample_fps,
                   key=f"{(frames.key or '').split('-')[0]}-{digest}")


def sample_fast_view(
    reader: VideoReader, *, max_frames: int = FAST_MAX_FRAMES, frames_per_second: float = FRAMES_PER_SECOND,
    pixels_per_frame: int = FAST_PIXELS_PER_FRAME, short_video_seconds: float = SHORT_VIDEO_SECONDS,
    short_video_factor: int = SHORT_VIDEO_FACTOR, overlay: bool = True, mode: Mode = "exact",
    time_base: TimeBase = DEFAULT_TIME_BASE, window: Interval | None = None,
) -> Frames:
    """The fast view of the whole video (or of ``window``): low-res frames at up to 2 fps, times burned in.

    Frame selection, ``D`` (the 60 s rule), the overlay digits and the returned ``timestamps_seconds``
    all use ``time_base`` (see :func:`timeline`). ``mode="keyframe"`` snaps every frame to its nearest
    keyframe (fast; see :meth:`VideoReader.get_frames_at`); ``sample_fps`` keeps the computed value so the
    model input format is unchanged.
    """
    reader.check_complete()
    line = timeline(reader, time_base=time_base, window=window)
    selection = fast_view_selection(timeline=line, max_frames=max_frames, frames_per_second=frames_per_second)
    pixels = fast_view_pixels(duration_seconds=line.duration_seconds, pixels_per_frame=pixels_per_frame,
                              short_video_seconds=short_video_seconds, short_video_factor=short_video_factor)
    frames = reader.get_frames_at(selection.frame_indices, max_pixels=pixels, mode=mode, overlay=overlay,
                                  overlay_clock=line)
    return _with_key(frames, sample_fps=selection.sample_fps, spec=f"fast|{selection.sample_fps}", timeline=line)


def sample_clip(
    reader: VideoReader, start_seconds: float, end_seconds: float, *, max_frames: int = CLIP_MAX_FRAMES,
    frames_per_second: float = FRAMES_PER_SECOND, pixels_per_frame: int = CLIP_PIXELS_PER_FRAME,
    resolution_factor: int = 1, overlay: bool = True, mode: Mode = "exact",
    time_base: TimeBase = DEFAULT_TIME_BASE, window: Interval | None = None,
) -> Frames:
    """A zoom clip of ``[start_seconds, end_seconds]`` at ``pixels_per_frame * resolution_factor``.

    The bounds are seconds on ``time_base``, measured from the start of the video (or of ``window``).
    """
    reader.check_complete()
    line = timeline(reader, time_base=time_base, window=window)
    selection = clip_selection(timeline=line, start_seconds=start_seconds, end_seconds=end_seconds,
                               max_frames=max_frames, frames_per_second=frames_per_second)
    frames = reader.get_frames_at(selection.frame_indices, max_pixels=int(pixels_per_frame * resolution_factor),
                                  mode=mode, overlay=overlay, overlay_clock=line)
    return _with_key(frames, sample_fps=selection.sample_fps, spec=f"clip|{selection.sample_fps}", timeline=line)
