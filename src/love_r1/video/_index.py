"""The frame index of one video stream, built once from a packet scan (demux only, no decode).

Frame ``i`` is the ``i``-th frame in PRESENTATION order: the sorted list of packet
timestamps (pts) gives every frame's true start time, which is exact for variable frame
rate too. Keyframe flags come from the packets.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

TIME_TOLERANCE_SECONDS = 1e-6


@dataclass(frozen=True, eq=False)
class FrameIndex:
    """Sorted presentation timestamps of every frame plus keyframe flags.

    Attributes:
        pts: ``int64 [N]`` presentation timestamps in ``time_base`` ticks, ascending.
        is_keyframe: ``bool [N]``.
        time_base: seconds per tick.
        end_pts: tick at which the last frame stops being shown (its pts + duration).
    """

    pts: np.ndarray
    is_keyframe: np.ndarray
    time_base: Fraction
    end_pts: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "_seconds", self.pts.astype(np.float64) * float(self.time_base))
        object.__setattr__(self, "_keyframes", np.flatnonzero(self.is_keyframe))

    @property
    def num_frames(self) -> int:
        return int(self.pts.shape[0])

    @property
    def seconds(self) -> np.ndarray:
        """``float64 [N]``: presentation time of every frame in seconds."""
        return self._seconds  # type: ignore[attr-defined]

    @property
    def keyframe_indices(self) -> np.ndarray:
        """``int64 [K]``: frame indices of the keyframes, ascending."""
        return self._keyframes  # type: ignore[attr-defined]

    @property
    def begin_seconds(self) -> float:
        return float(self.seconds[0])

    @property
    def end_seconds(self) -> float:
        return float(self.end_pts * self.time_base)

    def indices_played_at(self, seconds: np.ndarray) -> np.ndarray:
        """Index of the frame whose display interval ``[pts_i, pts_{i+1})`` contains each time.

        Times before the first frame map to frame 0; callers check the upper bound. A time within
        ``TIME_TOLERANCE_SECONDS`` (1 µs) before a frame start counts as that frame, so printed,
        rounded timestamps (ffprobe's 6 decimals) select the frame they name.
        """
        idx = np.searchsorted(self.seconds, np.asarray(seconds) + TIME_TOLERANCE_SECONDS, side="right") - 1
        return np.clip(idx, 0, self.num_frames - 1).astype(np.int64)

    def gop_of(self, indices: np.ndarray) -> np.ndarray:
        """Position (in :attr:`keyframe_indices`) of the last keyframe at or before each frame index.

        Frames before the first keyframe (broken files) get GOP 0.
        """
        gop = np.searchsorted(self.keyframe_indices, indices, side="right") - 1
        return np.clip(gop, 0, max(len(self.keyframe_indices) - 1, 0))

    def nearest_keyframes(self, indices: np.ndarray) -> np.ndarray:
        """For each frame index, the keyframe index closest in presentation time (earlier one on ties)."""
        keys = self.keyframe_indices
        if len(keys) == 0:
            return np.zeros_like(indices)
        pos = np.searchsorted(keys, indices, side="right") - 1
        before = keys[np.clip(pos, 0, len(keys) - 1)]
        after = keys[np.clip(pos + 1, 0, len(keys) - 1)]
        t = self.seconds[indices]
        take_after = (np.abs(self.seconds[after] - t) < np.abs(t - self.seconds[before])) | (pos < 0)
        return np.where(take_after, after, before).astype(np.int64)


def build_index(*, pts: list[int], keyframe: list[bool], durations: list[int], time_base: Fraction) -> FrameIndex:
    """Sort packets into presentation order and build the index (pure; the scan lives in the reader)."""
    pts_arr = np.asarray(pts, dtype=np.int64)
    order = np.argsort(pts_arr, kind="stable")
    pts_sorted = pts_arr[order]
    key_sorted = np.asarray(keyframe, dtype=bool)[order]
    last_duration = int(durations[order[-1]]) if len(pts) else 0
    if last_duration <= 0 and len(pts) > 1:  # missing duration: assume the median frame spacing
        last_duration = int(np.median(np.diff(pts_sorted)))
    end_pts = int(pts_sorted[-1]) + max(last_duration, 1) if len(pts) else 0
    return FrameIndex(pts=pts_sorted, is_keyframe=key_sorted, time_base=time_base, end_pts=end_pts)
