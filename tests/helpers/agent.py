"""A fake video engine for the agent loop: tiny synthetic ``Frames`` (4x4 pixels) so loop tests run in
milliseconds without decoding; it records every decode so tests can check that the fast view and each
clip are decoded once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from love_r1.video import Frames


@dataclass
class FakeMetadata:
    path: str
    duration_seconds: float
    fps: float = 30.0
    width: int = 320
    height: int = 240

    @property
    def num_frames(self) -> int:
        return int(round(self.duration_seconds * self.fps))


class FakeReader:
    def __init__(self, videos: FakeVideos, path: str) -> None:
        self.videos = videos
        self.metadata = FakeMetadata(path=path, duration_seconds=videos.durations[path])
        self.closed = False

    def __enter__(self) -> FakeReader:
        self.videos.open_readers += 1
        return self

    def __exit__(self, *exc) -> None:
        self.closed = True
        self.videos.open_readers -= 1


def tiny_frames(timestamps: np.ndarray, *, key: str | None, fill: int = 0, sample_fps: float = 2.0) -> Frames:
    n = len(timestamps)
    data = np.full((n, 4, 4, 3), fill, dtype=np.uint8)
    return Frames(data=data, timestamps_seconds=timestamps, source_fps=30.0, sample_fps=sample_fps, key=key)


@dataclass
class FakeVideos:
    """Fake ``open_video`` / ``sample_fast_view`` / ``sample_clip`` over a dict path -> duration."""

    durations: dict[str, float]
    broken: set[str] = field(default_factory=set)  # paths whose open raises OSError
    broken_clips: set[str] = field(default_factory=set)  # paths whose clip decoding raises ValueError
    decodes: list[tuple[str, str, float, float]] = field(default_factory=list)  # (path, kind, start, end)
    clip_kwargs: list[dict] = field(default_factory=list)
    fast_kwargs: list[dict] = field(default_factory=list)
    open_readers: int = 0

    def open_video(self, path, **kwargs) -> FakeReader:
        path = str(path)
        if path in self.broken or path not in self.durations:
            raise OSError(f"cannot open {path}")
        return FakeReader(self, path)

    def timeline(self, reader: FakeReader, *, time_base: str, window=None) -> SimpleNamespace:
        meta = reader.metadata
        return SimpleNamespace(duration_seconds=meta.duration_seconds, num_frames=meta.num_frames)

    def sample_fast_view(self, reader: FakeReader, **kwargs) -> Frames:
        self.fast_kwargs.append(kwargs)
        duration = reader.metadata.duration_seconds
        n = max(1, min(int(2 * duration), kwargs["max_frames"]))
        self.decodes.append((reader.metadata.path, "fast", 0.0, duration))
        return tiny_frames(np.linspace(0, duration, n, endpoint=False), key=f"{reader.metadata.path}#fast")

    def sample_clip(self, reader: FakeReader, start_seconds: float, end_seconds: float, **kwargs) -> Frames:
        path = reader.metadata.path
        if path in self.broken_clips:
            raise ValueError(f"cannot decode [{start_seconds}, {end_seconds}) of {path}")
        self.clip_kwargs.append(kwargs)
        n = max(1, min(int(2 * (end_seconds - start_seconds)), kwargs["max_frames"]))
        self.decodes.append((path, "clip", start_seconds, end_seconds))
        return tiny_frames(
            np.linspace(start_seconds, end_seconds, n, endpoint=False), key=f"{path}#{start_seconds}-{end_seconds}",
            fill=255,
        )

    def kwargs(self) -> dict:
        return dict(open_video=self.open_video, sample_fast_view=self.sample_fast_view, sample_clip=self.sample_clip,
                    timeline=self.timeline)
