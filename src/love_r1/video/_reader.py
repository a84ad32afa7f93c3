"""The decoder-independent part of a reader (the base class every decoder's reader extends).

A reader owns one open container. On open it scans every video packet once (demux only) to
build the :class:`FrameIndex`; every request reuses it. Decoders (``_pyav``, ``_torchcodec``,
``_folder``; chosen in ``_decode.open_video``) only have to turn sorted frame indices into
upright RGB arrays; the shared code maps times to frames, checks arguments, draws the overlay,
resizes and talks to the cache.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import numpy as np
from PIL import Image

from love_r1.video._cache import FrameCache, file_identity, spec_digest
from love_r1.video._frames import Frames
from love_r1.video._index import FrameIndex
from love_r1.video._metadata import VideoMetadata
from love_r1.video.errors import CorruptVideoError, EmptyVideoError, FrameCountError, IntervalError, VideoNotFoundError
from love_r1.video.overlay import OverlayClock, OverlayFonts, draw_timestamp, timestamp_text
from love_r1.video.resize import budget_hw, resize_image

logger = logging.getLogger(__name__)

Mode = Literal["exact", "keyframe"]
Resampler = Literal["swscale", "pillow"]
_RESAMPLERS: tuple[str, ...] = get_args(Resampler)
_MODES: tuple[str, ...] = get_args(Mode)
MAX_FRAMES_PER_REQUEST = 100_000
_MAX_PENDING = 8  # decoded full-resolution frames waiting for the worker


@dataclass
class ReaderStats:
    """Work counters of one reader (cumulative; tests and the agent's ledger read them).

    ``frames_decoded`` counts every frame the decoder produced (including frames decoded only
    to reach a requested one); ``seeks`` counts container seeks; the one-frame probe at open
    is not counted. ``packets_skipped`` counts packets withheld from the decoder in ``exact`` mode
    because their picture is neither requested nor referenced by any other picture.
    """

    frames_decoded: int = 0
    seeks: int = 0
    requests: int = 0
    cache_hits: int = 0
    frames_cached: int = 0  # frames returned from the frame cache instead of being decoded
    decode_seconds: float = 0.0
    packets_skipped: int = 0


class VideoReader:
    """Base class: owns an open video; use :func:`open_video` to get one (a context manager)."""

    decoder: str = ""  # the name open_video(decoder=...) knows this reader by
    #: exception types of the decoding library that mean "this file cannot be decoded here";
    #: requests turn them into CorruptVideoError naming the file (set by each decoder's reader)
    decoder_errors: tuple[type[BaseException], ...] = ()
    #: share of the stream's packets that are disposable (no other picture references them); 0 when unknown
    disposable_share: float = 0.0

    def __init__(
        self, path: str | Path, *, cache: FrameCache | None = None, num_threads: int = 0,
        resampler: Resampler = "swscale", skip_disposable: bool | None = None,
    ) -> None:
        path = Path(path)
        self._check_path(path)
        if num_threads < 0:
            raise ValueError(f"num_threads must be >= 0 (0 = automatic); got {num_threads}")
        if resampler not in _RESAMPLERS:
            raise ValueError(f"resampler must be one of {list(_RESAMPLERS)}; got {resampler!r}")
        self.path = path
        self.resampler = resampler
        self.cache = cache
        self.num_threads = num_threads
        if skip_disposable not in (None, True, False):
            raise ValueError(f"skip_disposable must be None (decide per stream), True or False; got {skip_disposable!r}")
        self.skip_disposable = skip_disposable
        self.stats = ReaderStats()
        self.fonts = OverlayFonts()
        self._identity = file_identity(path)
        self._closed = False
        self._quirks: list[str] = []
        self._worker: ThreadPoolExecutor | None = None
        self.index: FrameIndex
        self.metadata: VideoMetadata
        self._open()

    @property
    def skips_disposable(self) -> bool:
        """Whether ``exact`` requests withhold disposable packets (only the PyAV decoder can)."""
        return False

    @property
    def quirks(self) -> tuple[str, ...]:
        """File quirks found at open and how they are handled (one sentence each; empty for a plain file)."""
        return tuple(self._quirks)

    # -- decoder hooks -------------------------------------------------------------------
    def _check_path(self, path: Path) -> None:
        if not path.is_file():
            what = "is a directory" if path.is_dir() else "does not exist"
            raise VideoNotFoundError(f"video file {str(path)!r} {what} (hint: check the path and the data root)")
        if path.stat().st_size == 0:
            raise EmptyVideoError(f"video file {str(path)!r} is empty (0 bytes) (hint: re-download or re-encode it)")

    def _open(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _iter_exact(self, indices: np.ndarray) -> Iterator[tuple[int, object]]:  # pragma: no cover
        """Yield ``(frame index, payload)`` for each of the sorted unique ``indices``."""
        raise NotImplementedError

    def _iter_keyframes(self, indices: np.ndarray) -> Iterator[tuple[int, object]]:  # pragma: no cover
        """Like :meth:`_iter_exact` for keyframe indices, decoding keyframes only."""
        raise NotImplementedError

    def _finish_fast(self, payload: object, *, text: str | None, height: int, width: int) -> np.ndarray | None:
        """Decoder fast path for overlay + resize (``resampler="swscale"``); ``None`` = use Pillow."""
        return None

    def _to_rgb(self, payload: object) -> np.ndarray:  # pragma: no cover - abstract
        """Turn a payload from ``_iter_*`` into an upright ``uint8 [H, W, 3]`` array (runs in the worker)."""
        raise NotImplementedError

    def _close(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._worker is not None:
                self._worker.shutdown(wait=True)
                self._worker = None
            self._close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        m = self.metadata
        return (f"{type(self).__name__}({str(self.path)!r}, {m.width}x{m.height}, {m.num_frames} frames, "
                f"{m.fps:.3f} fps, {m.duration_seconds:.3f} s)")

    @property
    def missing_range_seconds(self) -> tuple[float, float] | None:
        """``[start, end)`` seconds that the header promises but the packet scan did not find (truncated file)."""
        m = self.metadata
        header = m.num_frames_from_header
        if header is None or header <= m.num_frames_from_content + 1 or m.duration_seconds_from_header is None:
            return None
        end = m.begin_stream_seconds + m.duration_seconds_from_header
        return (m.end_stream_seconds, end) if end > m.end_stream_seconds else None

    def check_complete(self) -> None:
        """Raise :class:`CorruptVideoError` when the file holds fewer frames than its header promises."""
        missing = self.missing_range_seconds
        if missing is not None:
            m = self.metadata
            raise CorruptVideoError(
                f"{self.path}: truncated: {m.num_frames_from_content} of {m.num_frames_from_header} frames present; "
                f"seconds [{missing[0]:.6f}, {missing[1]:.6f}) are missing (hint: re-download or re-encode the file)"
            )

    # -- requests ----------------------------------------------------------------------------
    def get_frames_played_at(
        self,
        timestamps_seconds: Sequence[float] | np.ndarray,
        *,
        max_pixels: int | None = None,
        mode: Mode = "exact",
        overlay: bool = False,
        overlay_clock: OverlayClock | None = None,
    ) -> Frames:
        """The frames displayed at the given times (the frame whose ``[pts, next pts)`` contains each time).

        Args:
            timestamps_seconds: presentation times on the file's own clock (seconds): a file whose first
                frame is shown at 3 s has no frame before 3 s, and earlier times give its first frame. Run
                times (measured from the first frame or a window) go through :func:`love_r1.video.timeline`.
            max_pixels: pixel budget ``P`` per frame; frames are smart-resized to
                ``[P, max(P, int(1.05 P))]`` pixels with sides multiples of 28 (the reference
                ``get_video_hw``). ``None`` keeps the display size.
            mode: ``"exact"`` decodes exactly these frames; ``"keyframe"`` returns, for each time,
                the keyframe nearest to it (fast, approximate; true timestamps are reported).
            overlay: draw each frame's integer second in red before resizing.
            overlay_clock: which second to draw (e.g. a ``Timeline``); ``None`` = ``int(index / fps)``.
        """
        ts = np.asarray(timestamps_seconds, dtype=np.float64).reshape(-1)
        missing = self.missing_range_seconds
        if missing is not None:
            lost = ts[(ts >= missing[0]) & (ts < missing[1])]
            if len(lost):
                raise CorruptVideoError(
                    f"{self.path}: timestamps {lost[:20].tolist()} seconds lie in [{missing[0]:.6f}, {missing[1]:.6f}), "
                    f"which the header promises but the file does not hold ({self.metadata.num_frames_from_content} "
                    f"of {self.metadata.num_frames_from_header} frames present) (hint: the file is truncated; "
                    "re-download or re-encode it)"
                )
        bad = ts[~np.isfinite(ts) | (ts < 0) | (ts >= self.index.end_seconds)]
        if len(bad):
            raise IntervalError(
                f"{self.path}: timestamps {bad[:5].tolist()} are outside the video [0, {self.index.end_seconds:.6f}) "
                "seconds (hint: clamp requests to metadata.duration_seconds)"
            )
        return self.get_frames_at(self.index.indices_played_at(ts), max_pixels=max_pixels, mode=mode, overlay=overlay,
                                  overlay_clock=overlay_clock)

    def get_frames_at(
        self,
        indices: Sequence[int] | np.ndarray,
        *,
        max_pixels: int | None = None,
        mode: Mode = "exact",
        overlay: bool = False,
        overlay_clock: OverlayClock | None = None,
    ) -> Frames:
        """The frames at the given indices (presentation order; same options as :meth:`get_frames_played_at`)."""
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {list(_MODES)}; got {mode!r}")
        if max_pixels is not None and max_pixels <= 0:
            raise ValueError(f"max_pixels must be a positive pixel count or None; got {max_pixels}")
        idx = np.asarray(indices).reshape(-1)
        if idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"{self.path}: frame indices must be integers; got dtype {idx.dtype}")
        idx = idx.astype(np.int64)
        n = self.index.num_frames
        if idx.size > MAX_FRAMES_PER_REQUEST:
            raise FrameCountError(f"{self.path}: {idx.size} frames requested; at most {MAX_FRAMES_PER_REQUEST} "
                                  "per request (hint: sample fewer frames or split the request)")
        bad = idx[(idx < 0) | (idx >= n)]
        if len(bad):
            raise IndexError(f"{self.path}: frame indices {bad[:5].tolist()} are outside [0, {n}) "
                             "(hint: the video has metadata.num_frames frames)")
        self.stats.requests += 1
        clock = overlay_clock if overlay else None
        key = self._request_key(idx, max_pixels=max_pixels, mode=mode, overlay=overlay, clock=clock)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self.stats.cache_hits += 1
                self.stats.frames_cached += len(hit)
                return hit
        frames = self._decode_request(idx, max_pixels=max_pixels, mode=mode, overlay=overlay, key=key, clock=clock)
        if self.cache is not None:
            self.cache.put(key, frames)
        return frames

    def output_hw(self, max_pixels: int | None) -> tuple[int, int]:
        """``(height, width)`` of returned frames for a pixel budget (display size when ``None``)."""
        h, w = self.metadata.height, self.metadata.width
        return (h, w) if max_pixels is None else budget_hw(height=h, width=w, pixels_per_frame=max_pixels)

    def _request_key(self, idx: np.ndarray, *, max_pixels: int | None, mode: str, overlay: bool,
                     clock: OverlayClock | None = None) -> str:
        spec = f"{self.decoder}|{self.resampler}|{mode}|{max_pixels}|{overlay}|" + spec_digest(idx.tobytes().hex())
        if clock is not None:
            spec += f"|{clock.spec}"
        return f"{self._identity}-{spec_digest(spec)}"

    def _decode_request(self, idx: np.ndarray, *, max_pixels: int | None, mode: str, overlay: bool,
                        key: str, clock: OverlayClock | None = None) -> Frames:
        out_h, out_w = self.output_hw(max_pixels)
        fps = self.metadata.fps
        if mode == "keyframe":
            source = self.index.nearest_keyframes(idx)
            decode = self._iter_keyframes
        else:
            source = idx
            decode = self._iter_exact
        unique = np.unique(source)
        slots: dict[int, list[int]] = {}
        for pos, i in enumerate(source.tolist()):
            slots.setdefault(i, []).append(pos)
        data = np.empty((len(idx), out_h, out_w, 3), dtype=np.uint8)

        def finish(frame_index: int, payload: object) -> tuple[int, np.ndarray]:
            text = None
            if overlay:
                text = (clock.overlay_text(frame_index) if clock is not None
                        else timestamp_text(frame_index=frame_index, fps=fps))
            if self.resampler == "swscale":
                fast = self._finish_fast(payload, text=text, height=out_h, width=out_w)
                if fast is not None:
                    return frame_index, fast
            image = Image.fromarray(self._to_rgb(payload))
            if text is not None:
                draw_timestamp(image, text=text, fonts=self.fonts)
            return frame_index, np.asarray(resize_image(image, height=out_h, width=out_w))

        def place(done: tuple[int, np.ndarray]) -> None:
            for pos in slots[done[0]]:
                data[pos] = done[1]

        # RGB conversion, overlay and resize run in ONE worker thread (fonts are not shared across
        # threads) while this thread keeps the decoder busy; the queue bound caps memory.
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="love-r1-frames")
        pending: deque[Future] = deque()
        start = time.perf_counter()
        try:
            for frame_index, payload in decode(unique):
                pending.append(self._worker.submit(finish, frame_index, payload))
                if len(pending) > _MAX_PENDING:
                    place(pending.popleft().result())
            while pending:
                place(pending.popleft().result())
        except self.decoder_errors as error:  # never let a decoder exception escape untyped
            raise CorruptVideoError(
                f"{self.path}: the {self.decoder} decoder failed: {type(error).__name__}: {error} "
                "(hint: the file is damaged or uses a format this decoder cannot convert; re-encode it)"
            ) from error
        finally:
            for future in pending:
                future.cancel()
        self.stats.decode_seconds += time.perf_counter() - start
        return Frames(data=data, timestamps_seconds=self.index.seconds[source], frame_indices=source,
                      source_fps=fps, key=key)


def upright(rgb: np.ndarray, rotation_degrees: int) -> np.ndarray:
    """Rotate a coded frame by ``rotation_degrees`` counter-clockwise so it shows as a player displays it."""
    k = (rotation_degrees // 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, k=k)) if k else rgb
