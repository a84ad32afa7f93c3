"""Frame-folder reader: a directory of images read as a video with a given frame rate.

Benchmarks such as MVBench's TVQA task ship videos as folders of JPEG frames (3 fps). Files
with an image suffix are ordered by the last number in their name (``1.jpg < 2.jpg < 10.jpg``;
ties by name); frame ``i`` is shown during ``[i / fps, (i + 1) / fps)``. Every frame is a
keyframe. Only the requested images are decoded (Pillow); the open reads the first image's
header for the size. An image whose size differs from the first one raises
:class:`CorruptVideoError` when it is requested (frames of one video must share a size).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from love_r1.video._index import FrameIndex
from love_r1.video._metadata import VideoMetadata
from love_r1.video._reader import VideoReader
from love_r1.video.errors import CorruptVideoError, EmptyVideoError, VideoNotFoundError

FRAME_FOLDER_DEFAULT_FPS = 3.0
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
_TICKS_PER_SECOND_LIMIT = 1_000_000
_NUMBER = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[int, int, str]:
    """Sort key of an image file name: its last number (files without one go last), then the name."""
    numbers = _NUMBER.findall(Path(name).stem)
    return (0, int(numbers[-1]), name) if numbers else (1, 0, name)


def list_frame_files(folder: Path) -> list[Path]:
    """Image files of ``folder`` in frame order (see :func:`natural_key`)."""
    names = [e.name for e in os.scandir(folder) if e.is_file() and Path(e.name).suffix.lower() in IMAGE_SUFFIXES]
    return [folder / name for name in sorted(names, key=natural_key)]


class FrameFolderReader(VideoReader):
    """A directory of images as a constant-frame-rate video (``decoder="frames"``)."""

    decoder = "frames"
    decoder_errors = (OSError, UnidentifiedImageError)

    def __init__(self, path: str | Path, *, frames_per_second: float | None = None, **kwargs) -> None:
        fps = FRAME_FOLDER_DEFAULT_FPS if frames_per_second is None else float(frames_per_second)
        if not np.isfinite(fps) or fps <= 0:
            raise ValueError(f"frames_per_second must be a positive finite rate (frames per second); got "
                             f"{frames_per_second!r} for {str(path)!r}")
        self.frames_per_second = fps
        kwargs.pop("skip_disposable", None)
        super().__init__(path, **kwargs)

    def _check_path(self, path: Path) -> None:
        if not path.is_dir():
            what = "is a file" if path.exists() else "does not exist"
            raise VideoNotFoundError(f"frame folder {str(path)!r} {what} (hint: pass a directory of images)")

    def _open(self) -> None:
        self.files = list_frame_files(self.path)
        if not self.files:
            raise EmptyVideoError(f"frame folder {str(self.path)!r} is a directory with no "
                                  f"{'/'.join(IMAGE_SUFFIXES)} images (hint: pass a video file, or a folder "
                                  "of frames; check the path and the data root)")
        digest = hashlib.sha1(f"fps={self.frames_per_second!r}\n".encode())
        for f in self.files:
            st = f.stat()
            digest.update(f"{f.name}|{st.st_size}|{st.st_mtime_ns}\n".encode())
        self._identity = f"{self._identity}{digest.hexdigest()[:8]}"
        try:
            with Image.open(self.files[0]) as first:
                width, height = first.size
        except (OSError, UnidentifiedImageError) as error:
            raise CorruptVideoError(f"{self.files[0]}: unreadable image: {error} (hint: re-extract the frame)") from error
        n = len(self.files)
        time_base = Fraction(self.frames_per_second).limit_denominator(_TICKS_PER_SECOND_LIMIT) ** -1
        # pts in ticks of 1/fps seconds: frame i at tick i (exact for any rate)
        self.index = FrameIndex(pts=np.arange(n, dtype=np.int64), is_keyframe=np.ones(n, dtype=bool),
                                time_base=time_base, end_pts=n)
        self.metadata = VideoMetadata(
            path=self.path, codec="image-folder", width=width, height=height, rotation_degrees=0,
            average_fps_from_header=self.frames_per_second, duration_seconds_from_header=n / self.frames_per_second,
            num_frames_from_header=n, num_frames_from_content=n, begin_stream_seconds=0.0,
            end_stream_seconds=float(self.index.end_seconds), num_keyframes=n,
        )

    def _close(self) -> None:
        pass

    def _iter_exact(self, indices: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        for i in indices.tolist():
            yield i, self._load(i)

    def _iter_keyframes(self, indices: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        return self._iter_exact(indices)

    def _load(self, i: int) -> np.ndarray:
        path = self.files[i]
        try:
            with Image.open(path) as image:
                rgb = np.asarray(image.convert("RGB"))
        except (OSError, UnidentifiedImageError) as error:
            raise CorruptVideoError(f"{path}: unreadable image (frame {i}): {error} "
                                    "(hint: re-extract the frame)") from error
        self.stats.frames_decoded += 1
        m = self.metadata
        if rgb.shape[:2] != (m.height, m.width):
            raise CorruptVideoError(f"{path}: image is {rgb.shape[1]}x{rgb.shape[0]} but the first frame "
                                    f"{self.files[0].name} is {m.width}x{m.height} (hint: frames of one video "
                                    "must share a size; re-extract them)")
        return rgb

    def _to_rgb(self, payload: np.ndarray) -> np.ndarray:
        return payload
