"""``open_video``: pick the reader for a path and a decoder (a closed set in a private dict)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from love_r1.video._cache import FrameCache
from love_r1.video._folder import FrameFolderReader
from love_r1.video._pyav import PyAVReader
from love_r1.video._reader import Mode, ReaderStats, Resampler, VideoReader
from love_r1.video._torchcodec import TorchCodecReader

__all__ = ["Decoder", "Mode", "ReaderStats", "Resampler", "VideoReader", "open_video"]

Decoder = Literal["pyav", "torchcodec", "frames"]
_READERS: dict[str, type[VideoReader]] = {"pyav": PyAVReader, "torchcodec": TorchCodecReader,
                                          "frames": FrameFolderReader}


def open_video(
    path: str | Path, *, decoder: Decoder = "pyav", cache: FrameCache | None = None, num_threads: int = 0,
    resampler: Resampler = "swscale", skip_disposable: bool | None = None, frames_per_second: float | None = None,
) -> VideoReader:
    """Open a video for frame requests; use as a context manager.

    Args:
        path: the video file, or a directory of images (``.jpg``/``.jpeg``/``.png``/``.webp``, ordered
            by the number in the file name) read as a video by the ``"frames"`` decoder, which is
            chosen automatically for a directory.
        decoder: ``"pyav"`` (default) or ``"torchcodec"`` (where installed); ``"frames"`` for a
            directory of images.
        frames_per_second: frame rate of an image directory (frame ``i`` is shown at ``i / fps``
            seconds); ``None`` = ``FRAME_FOLDER_DEFAULT_FPS`` (3.0, MVBench TVQA's rate). Ignored
            for video files.
        cache: a :class:`FrameCache` shared by readers, or ``None`` for no caching.
        num_threads: decoder threads (0 = let FFmpeg choose).
        resampler: how overlay + resize run when a pixel budget is given. ``"swscale"`` (default,
            PyAV decoder, unrotated yuv420p video): the overlay is blended in YUV and FFmpeg's
            bicubic scaler (antialiased: its filter widens with the downscale factor) converts and
            resizes in one pass, about 3x cheaper. ``"pillow"``: RGB conversion, ``ImageDraw`` overlay,
            ``Image.resize(BICUBIC)``. Both agree to a few grey levels; other cases use Pillow.
        skip_disposable: in ``exact`` mode (PyAV decoder, H.264 and HEVC), do not send the
            decoder packets whose picture is not requested and not referenced by any other
            picture (non-reference B-frames). The returned frames are bit-identical either way.
            ``None`` (default) decides per stream from the packet scan (see docs/video.md,
            "Modes"); ``True`` always skips, ``False`` never (e.g. to measure the decoder alone).
            Counted in ``reader.stats.packets_skipped``. The torchcodec decoder cannot skip
            packets: it accepts ``None`` or ``False`` and raises ``ValueError`` for ``True``.

    Raises:
        VideoNotFoundError, NotAVideoError, NoVideoStreamError, EmptyVideoError, CorruptVideoError.
    """
    if decoder not in _READERS:
        raise ValueError(f"decoder must be one of {sorted(_READERS)}; got {decoder!r}")
    if decoder == "frames" or Path(path).is_dir():
        return FrameFolderReader(path, cache=cache, num_threads=num_threads, resampler=resampler,
                                 frames_per_second=frames_per_second)
    return _READERS[decoder](path, cache=cache, num_threads=num_threads, resampler=resampler,
                             skip_disposable=skip_disposable)
