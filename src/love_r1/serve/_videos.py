"""The videos the demo page can pick (with durations), uploaded videos, and small preview frames.

* :class:`VideoCatalog` lists the videos under ``--video-root`` and the upload folder; it owns a
  cache of probed durations keyed by ``(path, size, mtime)``.
* Uploads are written by the app under a server-chosen name (``<random hex><suffix>``) inside the
  upload folder, then probed with the video engine; a file that does not open as a video is
  deleted and refused (:func:`check_upload`).
* :func:`preview_frames` decodes a few frames of an interval as small JPEG data URLs.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from love_r1.serve._errors import ApiError, bad_request

logger = logging.getLogger(__name__)

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".ts", ".mts", ".m2ts", ".mpg",
                            ".mpeg", ".flv", ".wmv", ".3gp", ".ogv"})
PARTIAL_SUFFIX = ".partial"
PREVIEW_MAX_PIXELS = 192 * 108
MAX_PREVIEW_FRAMES = 32


def _open(open_video: Callable[..., Any] | None) -> Callable[..., Any]:
    if open_video is not None:
        return open_video
    from love_r1.video import open_video as default

    return default


def probe(path: Path, *, open_video: Callable[..., Any] | None = None) -> dict[str, Any]:
    """``{"duration_seconds", "width", "height", "fps", "codec"}`` of a video; raises the video engine's
    ``VideoError`` (or ``OSError``) when it does not open."""
    with _open(open_video)(path) as reader:
        meta = reader.metadata
        return {"duration_seconds": round(float(meta.duration_seconds), 3), "width": meta.width,
                "height": meta.height, "fps": round(float(meta.fps), 3), "codec": meta.codec}


class VideoCatalog:
    """The videos a client may pick: files with a video suffix under ``video_root`` (recursively,
    hidden folders and symlinks leaving the root skipped) and in ``upload_dir``.

    Args:
        video_root: the served folder (``None``: only uploads are listed).
        upload_dir: where uploads are stored (``None``: uploads are off).
        max_listed: at most this many files are listed (count); the reply says when more exist.
        open_video: video opener override (tests).
    """

    def __init__(self, *, video_root: Path | None, upload_dir: Path | None, max_listed: int = 500,
                 open_video: Callable[..., Any] | None = None) -> None:
        self.video_root = video_root
        self.upload_dir = upload_dir
        self.max_listed = max_listed
        self._open_video = open_video
        self._lock = threading.Lock()
        self._probed: OrderedDict[tuple[str, int, int], dict[str, Any]] = OrderedDict()

    def _files(self) -> tuple[list[tuple[Path, str]], bool]:
        found: list[tuple[Path, str]] = []
        truncated = False
        for source, root in (("upload", self.upload_dir), ("root", self.video_root)):
            if root is None:
                continue
            for folder, dirs, names in os.walk(root):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                here = Path(folder)
                if source == "root" and self.upload_dir is not None and here == self.upload_dir:
                    dirs[:] = []
                    continue  # listed as uploads
                for name in sorted(names):
                    path = here / name
                    if name.startswith(".") or path.suffix.lower() not in VIDEO_SUFFIXES:
                        continue
                    if not path.resolve().is_relative_to(root):
                        continue  # a symlink out of the folder: requests for it are refused anyway
                    if len(found) >= self.max_listed:
                        truncated = True
                        break
                    found.append((path, source))
                if source == "upload":
                    dirs[:] = []  # uploads are flat
                if truncated:
                    break
        return found, truncated

    def request_path(self, path: Path) -> str:
        """How a client names ``path`` in a request: relative to the video root when inside it."""
        if self.video_root is not None and path.is_relative_to(self.video_root):
            return path.relative_to(self.video_root).as_posix()
        return str(path)

    def describe(self, path: Path, *, source: str, probed: dict[str, Any] | None = None) -> dict[str, Any]:
        """One listing entry; the probe result is cached until the file changes. ``probed``: the :func:`probe`
        of this very file made by the caller (an upload just checked), so it is not opened again."""
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            info = self._probed.get(key)
        if info is None:
            try:
                info = {**(probed if probed is not None else probe(path, open_video=self._open_video)), "error": None}
            except Exception as error:  # not swallowed: the entry shows why the file cannot be used
                info = {"duration_seconds": None, "error": f"{type(error).__name__}: {error}"}
            with self._lock:
                self._probed[key] = info
                while len(self._probed) > 4 * self.max_listed:
                    self._probed.popitem(last=False)
        return {"video": self.request_path(path), "name": path.name, "source": source, "size_bytes": stat.st_size,
                "modified_at": stat.st_mtime, **info}

    def listing(self) -> dict[str, Any]:
        """``{"video_root", "uploads", "videos": [...], "truncated"}`` (blocking: probes new files)."""
        files, truncated = self._files()
        videos = []
        for path, source in files:
            try:
                videos.append(self.describe(path, source=source))
            except OSError as error:  # vanished between the walk and the stat
                logger.info("skipping %s: %s", path, error)
        return {"video_root": None if self.video_root is None else str(self.video_root),
                "uploads": self.upload_dir is not None, "videos": videos, "truncated": truncated}


def upload_name(filename: str | None) -> str:
    """A server-chosen name for an upload: random hex plus the client's suffix when it is a known
    video suffix (``.mp4`` otherwise). Nothing else of the client's name is used."""
    suffix = Path(filename or "").suffix.lower()
    return uuid.uuid4().hex[:16] + (suffix if suffix in VIDEO_SUFFIXES else ".mp4")


def check_upload(partial: Path, final: Path, *, catalog: VideoCatalog, filename: str | None) -> dict[str, Any]:
    """Probe an uploaded file; keep it as ``final`` when it is a video, else delete it and raise a 415
    whose message names the client's ``filename`` (not the server's temporary path)."""
    shown = repr(Path(filename).name) if filename else "the uploaded file"
    try:
        info = probe(partial, open_video=catalog._open_video)
    except Exception as error:  # not swallowed: the upload is refused with the reason
        partial.unlink(missing_ok=True)
        reason = f"{type(error).__name__}: {error}".replace(f"{partial}: ", "").replace(f"'{partial}'", shown)
        raise ApiError(415, "invalid_request_error",
                       f"{shown} is not a video this server can read ({reason}); upload a video file such as "
                       ".mp4, .mkv, .webm or .mov", param="file") from None
    if not info["duration_seconds"] or info["duration_seconds"] <= 0:
        partial.unlink(missing_ok=True)
        raise ApiError(415, "invalid_request_error", f"{shown} has no video frames to show", param="file")
    partial.rename(final)  # same size and modification time: the probe stands for the final file
    return catalog.describe(final, source="upload", probed=info)


def preview_frames(path: Path, *, start_seconds: float, end_seconds: float, num_frames: int,
                   open_video: Callable[..., Any] | None = None) -> dict[str, Any]:
    """``num_frames`` frames at the centres of equal parts of ``[start_seconds, end_seconds)`` (the end
    clamped to the video's) as ``{"start_seconds", "end_seconds", "frames": [{"seconds", "src"}, ...]}``
    (``src`` a small ``data:image/jpeg`` URL). Blocking (decodes)."""
    from PIL import Image

    if not 1 <= num_frames <= MAX_PREVIEW_FRAMES:
        raise bad_request(f"num_frames must be in [1, {MAX_PREVIEW_FRAMES}], got {num_frames}", param="num_frames")
    if not 0 <= start_seconds < end_seconds:
        raise bad_request(f"need 0 <= start_seconds < end_seconds, got [{start_seconds}, {end_seconds})",
                          param="start_seconds")
    with _open(open_video)(path) as reader:
        end = min(end_seconds, float(reader.metadata.duration_seconds))
        last = max(float(reader.index.end_seconds) - 1e-3, 0.0)
        if start_seconds >= end:
            raise bad_request(f"start_seconds {start_seconds} is past the end of the video ({end:.3f} s)",
                              param="start_seconds")
        step = (end - start_seconds) / num_frames
        times = [min(start_seconds + (i + 0.5) * step, last) for i in range(num_frames)]
        frames = reader.get_frames_played_at(times, max_pixels=PREVIEW_MAX_PIXELS)
    out = []
    for seconds, rgb in zip(frames.timestamps_seconds, frames.data, strict=True):
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, format="JPEG", quality=75)
        out.append({"seconds": round(float(seconds), 3),
                    "src": "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")})
    return {"start_seconds": start_seconds, "end_seconds": round(end, 6), "frames": out}
