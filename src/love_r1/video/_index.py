"""The frame index of one video stream, built once from a packet scan (demux only, no decode).

Frame ``i`` is the ``i``-th PRESENTED frame in presentation order: the sorted presentation
timestamps (pts) of the packets whose pictures a player shows give every frame's true start
time, which is exact for variable frame rate too. Keyframe flags come from the packets.

:func:`index_packets` turns the packets of a scan (decode order) into that index and handles
the container quirks that make "every packet is a frame at its pts" wrong:

- packets the demuxer marks *discard* (MP4 edit lists, e.g. a stream-copy cut made with
  ``ffmpeg -ss 3.5 -i a.mp4 -c copy cut.mp4``: the GOP before the cut point is kept so that the
  first shown frame can be decoded, and its pictures are flagged) are decoded when needed as
  references but never presented, so they are not frames of the index; their keyframes still
  serve as places to start decoding (*seek points*);
- timestamp resets (concatenated MPEG-TS files: ``cat a.ts b.ts``): the decode timestamps run
  backwards where a new *segment* starts; each segment is shifted to start where the previous
  one ends, so presentation times are monotonic and every frame keeps its own time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

TIME_TOLERANCE_SECONDS = 1e-6


@dataclass(frozen=True, eq=False)
class FrameIndex:
    """Sorted presentation timestamps of every presented frame plus keyframe flags.

    Attributes:
        pts: ``int64 [N]`` presentation timestamps in ``time_base`` ticks, ascending (monotonic
            presentation times: segments after a timestamp reset are shifted, see the module doc).
        is_keyframe: ``bool [N]``.
        time_base: seconds per tick.
        end_pts: tick at which the last frame stops being shown (its pts + duration).
        seek_pts: ``int64 [K]`` presentation-time ticks of the places decoding can start (every
            keyframe of the stream, presented or not: an edit list may hide the keyframe a cut
            starts from), ascending; ``None`` = the presented keyframes.
    """

    pts: np.ndarray
    is_keyframe: np.ndarray
    time_base: Fraction
    end_pts: int
    seek_pts: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_seconds", self.pts.astype(np.float64) * float(self.time_base))
        object.__setattr__(self, "_keyframes", np.flatnonzero(self.is_keyframe))
        if self.seek_pts is None:
            object.__setattr__(self, "seek_pts", self.pts[self.is_keyframe])

    @property
    def num_frames(self) -> int:
        return int(self.pts.shape[0])

    @property
    def seconds(self) -> np.ndarray:
        """``float64 [N]``: presentation time of every frame in seconds."""
        return self._seconds  # type: ignore[attr-defined]

    @property
    def keyframe_indices(self) -> np.ndarray:
        """``int64 [K]``: frame indices of the presented keyframes, ascending."""
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
        """Position (in :attr:`seek_pts`) of the last seek point at or before each frame index.

        Frames before the first seek point (broken files) get GOP 0.
        """
        gop = np.searchsorted(self.seek_pts, self.pts[indices], side="right") - 1
        return np.clip(gop, 0, max(len(self.seek_pts) - 1, 0))

    def first_frame_of_gop(self, gops: np.ndarray) -> np.ndarray:
        """Index of the first presented frame at or after each seek point (``num_frames`` when none)."""
        return np.searchsorted(self.pts, self.seek_pts[gops], side="left").astype(np.int64)

    def nearest_keyframes(self, indices: np.ndarray) -> np.ndarray:
        """For each frame index, the cheapest frame to decode closest in presentation time (earlier one on ties).

        Candidates are the first presented frame of each GOP: the keyframe itself, except where an
        edit list hides the keyframe (then the first frame shown after it). Without any
        seek point, frame 0.
        """
        keys = np.unique(self.first_frame_of_gop(np.arange(len(self.seek_pts))))
        keys = keys[keys < self.num_frames]
        if len(keys) == 0:
            return np.zeros_like(indices)
        pos = np.searchsorted(keys, indices, side="right") - 1
        before = keys[np.clip(pos, 0, len(keys) - 1)]
        after = keys[np.clip(pos + 1, 0, len(keys) - 1)]
        t = self.seconds[indices]
        take_after = (np.abs(self.seconds[after] - t) < np.abs(t - self.seconds[before])) | (pos < 0)
        return np.where(take_after, after, before).astype(np.int64)


@dataclass(frozen=True, eq=False)
class PacketIndex:
    """What a packet scan yields: the :class:`FrameIndex` plus what a decoder needs to reach each frame.

    Attributes:
        frames: the index of presented frames.
        raw_pts: ``int64 [N]``: each frame's pts as the demuxer reports it (what decoded frames carry;
            differs from ``frames.pts`` after a timestamp reset).
        segment: ``int64 [N]``: the timestamp segment of each frame (0 unless timestamps reset).
        seek_raw_pts, seek_dts, seek_pos, seek_segment: ``int64 [K]`` per seek point (in the order of
            ``frames.seek_pts``): its demuxer pts, decode timestamp (``-1`` unknown), byte position
            (``-1`` unknown) and segment.
        num_discarded: packets the demuxer marks discard (not presented).
        segment_starts: ``int64 [S]``: byte position of the first packet of each segment.
        segment_of_packet: ``int64 [P]``: the segment of every scanned packet, in decode order.
    """

    frames: FrameIndex
    raw_pts: np.ndarray
    segment: np.ndarray
    seek_raw_pts: np.ndarray
    seek_dts: np.ndarray
    seek_pos: np.ndarray
    seek_segment: np.ndarray
    num_discarded: int
    segment_starts: np.ndarray
    segment_of_packet: np.ndarray

    @property
    def num_segments(self) -> int:
        return int(len(self.segment_starts))


def _segments(dts: np.ndarray, *, known: np.ndarray, tolerance: int) -> np.ndarray:
    """Segment number of each packet (decode order): a new segment starts where the decode timestamp
    runs backwards by more than ``tolerance`` ticks (packets with an unknown dts never start one)."""
    seg = np.zeros(len(dts), np.int64)
    last = None
    current = 0
    for i in np.flatnonzero(known).tolist():
        if last is not None and dts[i] < last - tolerance:
            current += 1
        seg[i] = current
        last = int(dts[i])
    # packets with an unknown dts belong to the segment of the last known one before them
    carried = np.maximum.accumulate(np.where(known, np.arange(len(dts)), 0))
    return np.where(known, seg, seg[carried]).astype(np.int64)


def index_packets(
    *, pts: list[int], dts: list[int | None], keyframe: list[bool], discard: list[bool], durations: list[int],
    positions: list[int], time_base: Fraction,
) -> PacketIndex:
    """Build the index from the packets of one stream in decode order (pure; the scan lives in the reader).

    Every packet must have a pts (the reader handles streams whose packets lack one). A packet
    marked ``discard`` is not a frame; a keyframe packet, discarded or not, is a seek point.
    Decode timestamps that run backwards (by more than the typical frame duration) start a new
    segment, shifted to begin where the previous segment ends.
    """
    n = len(pts)
    if n == 0:
        raise ValueError("index_packets needs at least one packet")
    raw = np.asarray(pts, dtype=np.int64)
    known = np.asarray([d is not None for d in dts], dtype=bool)
    dts_arr = np.asarray([-1 if d is None else d for d in dts], dtype=np.int64)
    key = np.asarray(keyframe, dtype=bool)
    shown = ~np.asarray(discard, dtype=bool)
    dur = np.asarray(durations, dtype=np.int64)
    pos = np.asarray(positions, dtype=np.int64)
    typical = int(np.median(dur[dur > 0])) if (dur > 0).any() else 1
    seg = _segments(dts_arr, known=known, tolerance=typical)
    num_segments = int(seg.max()) + 1
    # presented = raw + offset[segment]; each segment starts where the previous one's frames end
    offsets = np.zeros(num_segments, np.int64)
    for s in range(1, num_segments):
        prev = (seg == s - 1) & shown
        prev = prev if prev.any() else seg == s - 1
        prev_end = int((raw[prev] + offsets[s - 1] + np.where(dur[prev] > 0, dur[prev], typical)).max())
        cur = (seg == s) & shown
        cur = cur if cur.any() else seg == s
        offsets[s] = prev_end - int(raw[cur].min())
    presented = raw + offsets[seg]
    frames_mask = shown if shown.any() else np.ones(n, bool)
    order = np.flatnonzero(frames_mask)[np.argsort(presented[frames_mask], kind="stable")]
    pts_sorted = presented[order]
    last = order[-1]
    last_duration = int(dur[last])
    if last_duration <= 0:  # missing duration: assume the median frame spacing
        last_duration = int(np.median(np.diff(pts_sorted))) if len(pts_sorted) > 1 else 1
    end_pts = int(pts_sorted[-1]) + max(last_duration, 1)
    seeks = np.flatnonzero(key)
    seeks = seeks[np.argsort(presented[seeks], kind="stable")]
    frames = FrameIndex(pts=pts_sorted, is_keyframe=key[order], time_base=time_base, end_pts=end_pts,
                        seek_pts=presented[seeks])
    starts = np.asarray([int(pos[np.flatnonzero(seg == s)[0]]) for s in range(num_segments)], np.int64)
    return PacketIndex(
        frames=frames, raw_pts=raw[order], segment=seg[order], seek_raw_pts=raw[seeks],
        seek_dts=np.where(known[seeks], dts_arr[seeks], -1), seek_pos=pos[seeks],
        seek_segment=seg[seeks], num_discarded=int((~shown).sum()), segment_starts=starts,
        segment_of_packet=seg,
    )

