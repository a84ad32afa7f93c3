"""``FrameCache``: decoded-and-processed frames keyed by file identity + request spec.

Many questions about one video ask for the same fast view; the cache makes them decode it
once. Entries live in a bounded in-memory LRU (by bytes) and, when ``directory`` is given, in
``<directory>/<key>.npz`` files that survive across readers and processes. The key includes
the file's path, size and modification time, so an edited file is never served stale frames.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from love_r1.video._frames import Frames

logger = logging.getLogger(__name__)


def file_identity(path: Path) -> str:
    """A short digest of ``(resolved path, size, mtime_ns)``: changes whenever the file does."""
    st = os.stat(path)
    raw = f"{Path(path).resolve()}|{st.st_size}|{st.st_mtime_ns}"
    return hashlib.sha1(raw.encode()).hexdigest()[:16]


def spec_digest(spec: str) -> str:
    return hashlib.sha1(spec.encode()).hexdigest()[:16]


@dataclass
class CacheStats:
    memory_hits: int = 0
    disk_hits: int = 0
    misses: int = 0
    stores: int = 0


class FrameCache:
    """Bounded LRU of :class:`Frames` (by bytes), optionally backed by an on-disk ``.npz`` directory.

    Args:
        max_bytes: memory budget for frame data; the least recently used entries are evicted.
            An entry larger than the budget is kept on disk only.
        directory: folder for ``.npz`` files (created on first store), or ``None`` for memory only.
    """

    def __init__(self, max_bytes: int = 2 * 1024**3, directory: str | Path | None = None) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0 bytes; got {max_bytes}")
        self.max_bytes = int(max_bytes)
        self.directory = Path(directory) if directory is not None else None
        self.stats = CacheStats()
        self._entries: OrderedDict[str, Frames] = OrderedDict()
        self._bytes = 0

    @property
    def num_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        return key in self._entries or (self.directory is not None and self._disk_path(key).is_file())

    def _disk_path(self, key: str) -> Path:
        if self.directory is None:
            raise ValueError("this FrameCache has no directory")
        return self.directory / f"{key}.npz"

    def get(self, key: str) -> Frames | None:
        """The cached frames for ``key`` (memory first, then disk), or ``None``."""
        if key in self._entries:
            self._entries.move_to_end(key)
            self.stats.memory_hits += 1
            return self._entries[key]
        if self.directory is not None:
            path = self._disk_path(key)
            if path.is_file():
                try:
                    with np.load(path) as z:
                        frames = Frames(
                            data=z["data"], timestamps_seconds=z["timestamps_seconds"],
                            frame_indices=z["frame_indices"], source_fps=float(z["source_fps"]), key=key,
                        )
                except (OSError, KeyError, ValueError) as error:  # unreadable entry: recompute
                    logger.warning("ignoring unreadable cache file %s: %s", path, error)
                else:
                    self.stats.disk_hits += 1
                    self._remember(key, frames)
                    return frames
        self.stats.misses += 1
        return None

    def put(self, key: str, frames: Frames) -> None:
        """Store ``frames`` under ``key`` in memory (LRU) and on disk when a directory is set."""
        self.stats.stores += 1
        self._remember(key, frames)
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self._disk_path(key)
            tmp = path.with_suffix(f".tmp{os.getpid()}.npz")
            np.savez(tmp, data=frames.data, timestamps_seconds=frames.timestamps_seconds,
                     frame_indices=frames.frame_indices, source_fps=np.float64(frames.source_fps or 0.0))
            os.replace(tmp, path)

    def _remember(self, key: str, frames: Frames) -> None:
        size = int(frames.data.nbytes)
        if key in self._entries:
            self._bytes -= int(self._entries.pop(key).data.nbytes)
        if size > self.max_bytes:
            return
        self._entries[key] = frames
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= int(evicted.data.nbytes)

    def clear(self) -> None:
        """Drop the in-memory entries (disk files are kept)."""
        self._entries.clear()
        self._bytes = 0
