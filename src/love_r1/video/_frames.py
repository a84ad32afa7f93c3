"""``Frames``: decoded RGB frames plus the true presentation time of each one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class Frames:
    """A batch of decoded frames.

    Attributes:
        data: ``uint8`` array ``[N, H, W, 3]`` (RGB).
        timestamps_seconds: ``float64`` array ``[N]``: the true presentation time of each
            returned frame (what the decoder reported, not what was requested).
        frame_indices: ``int64`` array ``[N]``: index of each frame in the source video's
            decode order, or ``None`` when unknown.
        source_fps: average frame rate of the source video (frames per second), or ``None``.
        sample_fps: the sampling rate of this clip as handed to a Qwen processor (the
            reference formula ``round(n / (b - a) * fps, 2)``), or ``None`` for ad-hoc frames.
        key: a stable identity of this clip (file identity + sampling spec), used by backends
            to reuse vision features across steps; ``None`` when not cacheable.
    """

    data: np.ndarray
    timestamps_seconds: np.ndarray
    frame_indices: np.ndarray | None = None
    source_fps: float | None = None
    sample_fps: float | None = None
    key: str | None = field(default=None)

    def __post_init__(self) -> None:
        data = self.data
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 4 or data.shape[-1] != 3:
            shape = getattr(data, "shape", None)
            dtype = getattr(data, "dtype", None)
            raise ValueError(f"Frames.data must be a uint8 array [N, H, W, 3]; got shape={shape} dtype={dtype}")
        ts = np.asarray(self.timestamps_seconds, dtype=np.float64)
        if ts.shape != (data.shape[0],):
            raise ValueError(
                f"Frames.timestamps_seconds must have shape ({data.shape[0]},) to match data; got {ts.shape}"
            )
        object.__setattr__(self, "timestamps_seconds", ts)
        if self.frame_indices is not None:
            idx = np.asarray(self.frame_indices, dtype=np.int64)
            if idx.shape != (data.shape[0],):
                raise ValueError(f"Frames.frame_indices must have shape ({data.shape[0]},); got {idx.shape}")
            object.__setattr__(self, "frame_indices", idx)

    @property
    def num_frames(self) -> int:
        return int(self.data.shape[0])

    @property
    def height(self) -> int:
        return int(self.data.shape[1])

    @property
    def width(self) -> int:
        return int(self.data.shape[2])

    def __len__(self) -> int:
        return self.num_frames

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.data)

    def __getitem__(self, item: int | slice) -> Frames:
        if isinstance(item, int):
            item = slice(item, item + 1 if item != -1 else None)
        if not isinstance(item, slice):
            raise TypeError(f"Frames can be indexed by int or slice, got {type(item).__name__}")
        return Frames(
            data=self.data[item],
            timestamps_seconds=self.timestamps_seconds[item],
            frame_indices=None if self.frame_indices is None else self.frame_indices[item],
            source_fps=self.source_fps,
            sample_fps=self.sample_fps,
            key=None,
        )

    def __repr__(self) -> str:
        ts = self.timestamps_seconds
        span = f"{ts[0]:.3f}..{ts[-1]:.3f}s" if len(ts) else "empty"
        return (
            f"Frames(data=uint8[{self.num_frames}, {self.height}, {self.width}, 3], "
            f"timestamps_seconds={span}, sample_fps={self.sample_fps}, key={self.key!r})"
        )
