"""Time bases: the one clock a run uses for D, frame selection, clip bounds, labels and the overlay.

A :class:`Timeline` is the part of a video a run may sample (the whole file, or a ``window`` of
it) together with the time of every frame on one time base:

* ``"presentation"`` (default): the frame's presentation time (pts) measured from the timeline's
  first frame. Exact for variable frame rate, for files whose first frame starts after 0 (MPEG-TS,
  edit lists) and for image folders. ``D`` is the time from the first frame's start to the end of
  the last frame.
* ``"index"``: the reference's clock, ``frame_index / fps`` with ``fps`` the header's average rate
  (what decord reports) and ``D = N / fps``. On a constant-frame-rate file this is the same clock;
  on a variable-frame-rate file it is wrong by up to the whole drift between the two.

A ``window`` ``[start, end)`` (seconds on the same base, measured on the whole file) restricts the
timeline to that part of the file, as the reference does when it cuts a clip into a new file
(MVBench's bounded tasks): the window's first frame is the frame shown at ``start``, its times are
measured from that frame, and ``D`` is the cut's length.

The reference's cut (moviepy ``subclip(start, min(end, duration))`` re-encoded at the file's rate)
holds ``M = len(numpy.arange(0, L, 1 / fps))`` frames, ``L = min(end, D_file) - start`` (numpy's float
``arange`` rounds ``L * fps`` up by one frame in about a quarter of MVBench's 30 fps windows; we count
the same way), so its length is ``M / fps`` seconds:

* index base: frames ``a0 .. a0 + M - 1`` with ``a0 = int(fps * start + 1e-5)`` (moviepy's frame
  lookup); ``D = M / fps``.
* presentation base: the frame shown at ``start`` and every later frame that starts less than
  ``M / fps`` seconds after it; ``D`` = end of the last of them minus the start of the first.

Both are the reference's cut on a constant-frame-rate file. Intervals are half-open
``[start_seconds, end_seconds)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from love_r1.interval import Interval
from love_r1.time_base import DEFAULT_TIME_BASE, TimeBase, check_time_base
from love_r1.video.errors import IntervalError

if TYPE_CHECKING:
    from love_r1.video._decode import VideoReader

TIME_TOLERANCE_SECONDS = 1e-6  # a time this close before a frame start selects that frame (printed, rounded times)
_MOVIEPY_FRAME_EPSILON = 1e-5  # moviepy's get_frame: int(fps * t + 0.00001)


@dataclass(frozen=True, eq=False)
class Timeline:
    """The frames a run samples and their times on one time base (see the module docstring).

    Attributes:
        time_base: ``"presentation"`` or ``"index"``.
        first_index: source frame index (presentation order) of the timeline's first frame.
        num_frames: frames on the timeline: source frames ``first_index .. first_index + num_frames - 1``.
        duration_seconds: ``D``, the timeline's length in seconds.
        fps: the header's average frame rate (the index base's clock; frames per second).
        window: the window of the file the timeline is restricted to, or ``None`` (the whole file).
        pts: ``int64 [N]`` presentation ticks of every frame of the FILE (presentation base).
        origin_pts: tick of time 0 (the first frame's pts).
        seconds_per_tick: the stream's time base (seconds per tick).
        end_pts: tick at which the timeline's last frame stops being shown.
        path: the file, for error messages.
    """

    time_base: TimeBase
    first_index: int
    num_frames: int
    duration_seconds: float
    fps: float
    window: Interval | None
    pts: np.ndarray
    origin_pts: int
    seconds_per_tick: Fraction
    end_pts: int
    path: str = ""

    @property
    def ticks(self) -> np.ndarray:
        """``int64 [num_frames]``: presentation ticks of the timeline's frames, measured from its first frame."""
        return self.pts[self.first_index:self.first_index + self.num_frames] - self.origin_pts

    @property
    def spec(self) -> str:
        """Identity of the clock (for cache keys): base, window origin and rate."""
        if self.time_base == "index":
            return f"index|{self.first_index}|{self.fps!r}"
        return f"presentation|{self.origin_pts}|{self.seconds_per_tick}"

    def seconds_of(self, frame_indices: np.ndarray) -> np.ndarray:
        """``float64``: the time of each SOURCE frame index on this timeline (seconds; may be negative or
        beyond ``D`` for frames outside a window, e.g. keyframes snapped to in ``mode="keyframe"``)."""
        idx = np.asarray(frame_indices, dtype=np.int64)
        if self.time_base == "index":
            return (idx - self.first_index) / self.fps
        ticks = self.pts[idx] - self.origin_pts
        return (ticks * self.seconds_per_tick.numerator).astype(np.float64) / self.seconds_per_tick.denominator

    def overlay_text(self, frame_index: int) -> str:
        """The integer second drawn on SOURCE frame ``frame_index``: ``int(time)`` (truncated like the reference)."""
        if self.time_base == "index":
            return str(int((frame_index - self.first_index) / self.fps))
        ticks = int(self.pts[frame_index]) - self.origin_pts
        whole = abs(ticks) * self.seconds_per_tick.numerator // self.seconds_per_tick.denominator
        return str(whole if ticks >= 0 else -whole)

    def frame_at(self, seconds: float) -> int:
        """Timeline position (0-based) of the frame shown at ``seconds``, clamped to ``[0, num_frames - 1]``.

        Index base: ``int(seconds * fps)`` (the reference). Presentation base: the last frame whose start is
        at most ``seconds + 1 µs`` (exact tick arithmetic).
        """
        if self.time_base == "index":
            position = int(seconds * self.fps)
        else:
            limit = (Fraction(seconds) + Fraction(TIME_TOLERANCE_SECONDS)) / self.seconds_per_tick
            position = int(np.searchsorted(self.ticks, math.floor(limit), side="right")) - 1
        return min(max(position, 0), self.num_frames - 1)


def timeline(reader: VideoReader, *, time_base: TimeBase = DEFAULT_TIME_BASE,
             window: Interval | None = None) -> Timeline:
    """The timeline of an open video on ``time_base``, restricted to ``window`` when given.

    Raises:
        ValueError: unknown ``time_base``.
        IntervalError: the window starts at or after the end of the video, or is empty.
    """
    check_time_base(time_base)
    if window is not None and not isinstance(window, Interval):
        raise TypeError(f"window must be an Interval or None; got {type(window).__name__}: {window!r}")
    meta, index = reader.metadata, reader.index
    pts = index.pts
    n_file = int(index.num_frames)
    fps = float(meta.fps)
    path = str(reader.path)
    if time_base == "index" and not fps > 0:
        raise ValueError(f"{path}: the index time base needs a frame rate; the header gives {fps!r} "
                         "(hint: use time_base='presentation')")
    spt = Fraction(index.time_base)
    begin = int(pts[0])
    if time_base == "index":
        file_seconds = n_file / fps
    else:
        file_seconds = float((index.end_pts - begin) * spt)
    first, count = 0, n_file
    if window is not None:
        if window.length_seconds <= 0:
            raise IntervalError(f"{path}: window {window} is empty (hint: the item's end must be after its start)")
        if window.start_seconds >= file_seconds:
            raise IntervalError(f"{path}: window {window} starts at or after the end of the video "
                                f"({file_seconds:.3f} s on the {time_base} time base) (hint: check the item's "
                                "start/end against the video)")
        length = min(window.end_seconds, file_seconds) - window.start_seconds
        cut_frames = len(np.arange(0, length, 1.0 / fps))  # the reference's cut: numpy.arange at the file's rate
        if time_base == "index":
            first = min(int(fps * window.start_seconds + _MOVIEPY_FRAME_EPSILON), n_file - 1)
            count = cut_frames
        else:
            whole = Timeline(time_base=time_base, first_index=0, num_frames=n_file, duration_seconds=file_seconds,
                             fps=fps, window=None, pts=pts, origin_pts=begin, seconds_per_tick=spt,
                             end_pts=int(index.end_pts), path=path)
            first = whole.frame_at(window.start_seconds)
            cut_seconds = Fraction(cut_frames) / Fraction(fps)
            limit = (cut_seconds - Fraction(TIME_TOLERANCE_SECONDS)) / spt + (int(pts[first]) - begin)
            count = int(np.searchsorted(pts - begin, math.ceil(limit), side="left")) - first
        count = max(1, min(count, n_file - first))
    origin = int(pts[first])
    last = first + count - 1
    end_pts = int(index.end_pts) if last == n_file - 1 else int(pts[last + 1])
    if window is None:
        duration = file_seconds
    elif time_base == "index":
        duration = count / fps
    else:
        duration = float((end_pts - origin) * spt)
    return Timeline(time_base=time_base, first_index=first, num_frames=count, duration_seconds=duration, fps=fps,
                    window=window, pts=pts, origin_pts=origin, seconds_per_tick=spt, end_pts=end_pts, path=path)


__all__ = ["Timeline", "timeline"]
