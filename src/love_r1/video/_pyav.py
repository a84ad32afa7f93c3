"""PyAV reader: packet-scan index, GOP-wise exact decoding and keyframe-only decoding."""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from fractions import Fraction

import numpy as np

from love_r1._imports import require
from love_r1.video._decode import VideoReader, upright
from love_r1.video._index import build_index
from love_r1.video._metadata import VideoMetadata
from love_r1.video._nal import is_disposable, nal_layout
from love_r1.video.errors import CorruptVideoError, EmptyVideoError, NotAVideoError, NoVideoStreamError
from love_r1.video.overlay import timestamp_mask

logger = logging.getLogger(__name__)

SKIP_TAIL_FRAMES = 8  # seek past a GOP tail of at least this many unrequested frames instead of decoding it


class PyAVReader(VideoReader):
    """Decodes with PyAV (FFmpeg). Exact mode decodes each needed GOP once, forward from its
    keyframe, with multithreading; it continues into the next GOP without seeking unless a seek
    skips undecoded work; packets of unrequested pictures that no other picture references
    (H.264 ``nal_ref_idc == 0``, HEVC sub-layer non-reference) are not decoded at all
    (``skip_disposable``). Keyframe mode decodes one keyframe packet per distinct keyframe."""

    backend = "pyav"

    def _open(self) -> None:
        av = require("av", extra="video", purpose="decoding videos")
        self._av = av
        self._red: dict[int, tuple[float, float, float]] = {}
        try:
            self._container = av.open(str(self.path))
        except av.FFmpegError as error:
            raise NotAVideoError(
                f"{self.path}: cannot be opened as a video container ({error}) "
                "(hint: the file is not a video, or it was truncated before its index was written)"
            ) from error
        try:
            self._open_stream()
        except BaseException:
            self._container.close()
            raise

    def _open_stream(self) -> None:
        av = self._av
        if not self._container.streams.video:
            kinds = sorted({s.type for s in self._container.streams})
            raise NoVideoStreamError(f"{self.path}: the container has no video stream (streams: {kinds}) "
                                     "(hint: pass a video file, not audio or subtitles)")
        stream = self._stream = self._container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.codec_context.thread_count = self.num_threads
        extradata = stream.codec_context.extradata
        self._nal_layout = nal_layout(codec=stream.codec_context.name, extradata=bytes(extradata or b""))
        pts: list[int] = []
        keyframe: list[bool] = []
        durations: list[int] = []
        # Decode timestamp of each keyframe (by pts). Demuxers that seek by searching timestamps
        # (MPEG-TS) land AFTER a B-frame stream's keyframe when given its pts; for them (detected by
        # the probe below) seeks use the keyframe's dts. Indexed containers (MP4, MKV) seek by pts.
        self._keyframe_dts: dict[int, int] = {}
        self._seek_by_dts = False
        self.scan_error: str | None = None
        try:
            for packet in self._container.demux(stream):
                if packet.pts is None:
                    continue
                pts.append(packet.pts)
                keyframe.append(bool(packet.is_keyframe))
                if packet.is_keyframe and packet.dts is not None:
                    self._keyframe_dts[packet.pts] = packet.dts
                durations.append(packet.duration or 0)
        except av.FFmpegError as error:  # damaged data: keep what was read, remember why it stopped
            self.scan_error = str(error)
            logger.warning("%s: packet scan stopped early: %s", self.path, error)
        if not pts:
            raise EmptyVideoError(f"{self.path}: the video stream holds no frame"
                                  f"{' (' + self.scan_error + ')' if self.scan_error else ''} "
                                  "(hint: the file is empty or damaged; re-encode it)")
        time_base = stream.time_base or Fraction(1, 90000)
        self.index = build_index(pts=pts, keyframe=keyframe, durations=durations, time_base=time_base)
        if len(self.index.keyframe_indices) == 0:
            raise CorruptVideoError(f"{self.path}: no keyframe among {len(pts)} packets (hint: re-encode the file)")
        # Probe the first keyframe: rotation (display matrix) and coded size.
        probe = self._decode_keyframe(int(self.index.keyframe_indices[0]))
        if probe is None and self._keyframe_dts:
            self._seek_by_dts = True
            probe = self._decode_keyframe(int(self.index.keyframe_indices[0]))
        if probe is None:
            raise CorruptVideoError(f"{self.path}: the first keyframe at "
                                    f"{self.index.seconds[self.index.keyframe_indices[0]]:.6f} s cannot be decoded "
                                    "(hint: the file is damaged; re-encode it)")
        frame = probe
        rotation = int(round((getattr(frame, "rotation", 0) or 0) / 90.0)) % 4 * 90
        self.rotation_degrees = rotation
        coded_w, coded_h = frame.width, frame.height
        width, height = (coded_h, coded_w) if rotation in (90, 270) else (coded_w, coded_h)
        header_duration = None
        if stream.duration is not None:
            header_duration = float(stream.duration * time_base)
        elif self._container.duration is not None:
            header_duration = self._container.duration / av.time_base
        self.metadata = VideoMetadata(
            path=self.path,
            codec=stream.codec_context.name,
            width=width,
            height=height,
            rotation_degrees=rotation,
            average_fps_from_header=float(stream.average_rate) if stream.average_rate else None,
            duration_seconds_from_header=header_duration,
            num_frames_from_header=int(stream.frames) or None,
            num_frames_from_content=self.index.num_frames,
            begin_stream_seconds=self.index.begin_seconds,
            end_stream_seconds=self.index.end_seconds,
            num_keyframes=len(self.index.keyframe_indices),
        )
        self.stats.frames_decoded = 0
        self.stats.seeks = 0

    def _close(self) -> None:
        self._container.close()

    # -- decoding ----------------------------------------------------------------------------
    def _seek(self, pts: int) -> None:
        target = self._keyframe_dts.get(int(pts), int(pts)) if self._seek_by_dts else int(pts)
        self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
        self.stats.seeks += 1

    def _frames_after_seek(self, pts: int, errors: list[str], *, keep_pts: set[int] | None = None) -> Iterator:
        """Seek to the keyframe at ``pts`` and yield decoded frames; decode errors are collected.

        With ``keep_pts`` (the requested presentation times), packets that carry none of them and
        whose picture no other picture references are not sent to the decoder.
        """
        av = self._av
        layout = self._nal_layout if keep_pts is not None else None
        self._seek(pts)
        packets = self._container.demux(self._stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.FFmpegError as error:
                errors.append(f"demux: {error}")
                return
            if layout is not None and packet.pts is not None and packet.pts not in keep_pts \
                    and is_disposable(bytes(packet), layout=layout):
                self.stats.packets_skipped += 1
                continue
            try:
                frames = packet.decode()
            except av.FFmpegError as error:
                errors.append(f"decode at pts {packet.pts}: {error}")
                continue
            for frame in frames:
                self.stats.frames_decoded += 1
                yield frame

    def _finish_fast(self, frame, *, text: str | None, height: int, width: int) -> np.ndarray | None:
        """Overlay in YUV + one swscale bicubic (antialiased) resize-and-convert; ``None`` when not applicable.

        Equivalent to RGB conversion, red overlay, then bicubic resize, up to rounding: the text
        mask is the one :func:`draw_timestamp` draws, alpha-blended into Y at full resolution and
        into U/V with the mask averaged over each 2x2 chroma block.
        """
        av = self._av
        w, h = frame.width, frame.height
        if self.rotation_degrees or frame.format.name != "yuv420p" or w % 2 or h % 2 or (h, w) == (height, width):
            return None
        if text is None:
            return frame.reformat(width=width, height=height, format="rgb24", interpolation="BICUBIC").to_ndarray()
        yuv = frame.to_ndarray(format="yuv420p")
        x0, y0, mask = timestamp_mask(width=w, height=h, text=text, fonts=self.fonts)
        if mask.size:
            red_y, red_u, red_v = self._red_yuv(frame.colorspace)
            flat = yuv.reshape(-1)
            luma = flat[: h * w].reshape(h, w)
            mh, mw = mask.shape
            alpha = mask.astype(np.float32) / 255.0
            region = luma[y0:y0 + mh, x0:x0 + mw]
            region[:] = np.round(region * (1 - alpha) + red_y * alpha)
            # chroma: align the mask to the 2x2 grid and average it per block
            cx0, cy0 = x0 // 2, y0 // 2
            padded = np.zeros((mh + 2, mw + 2), np.float32)
            padded[y0 - 2 * cy0:y0 - 2 * cy0 + mh, x0 - 2 * cx0:x0 - 2 * cx0 + mw] = alpha
            ch, cw = padded.shape[0] // 2, padded.shape[1] // 2
            block = padded[: 2 * ch, : 2 * cw].reshape(ch, 2, cw, 2).mean(axis=(1, 3))
            hw2 = (h // 2) * (w // 2)
            for plane, red in ((flat[h * w: h * w + hw2], red_u), (flat[h * w + hw2:], red_v)):
                chroma = plane.reshape(h // 2, w // 2)
                region = chroma[cy0:cy0 + ch, cx0:cx0 + cw]
                a = block[: region.shape[0], : region.shape[1]]
                region[:] = np.round(region * (1 - a) + red * a)
        marked = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        marked.colorspace, marked.color_range = frame.colorspace, frame.color_range
        return marked.reformat(width=width, height=height, format="rgb24", interpolation="BICUBIC").to_ndarray()

    def _red_yuv(self, colorspace: int) -> tuple[float, float, float]:
        if colorspace not in self._red:
            rgb = np.zeros((2, 2, 3), np.uint8)
            rgb[..., 0] = 255
            space = None if colorspace == 2 else colorspace  # 2 = unspecified: swscale's default matrix
            yuv = self._av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
                format="yuv420p", dst_colorspace=space).to_ndarray().reshape(-1)
            self._red[colorspace] = (float(yuv[0]), float(yuv[4]), float(yuv[5]))
        return self._red[colorspace]

    def _to_rgb(self, frame) -> np.ndarray:
        return upright(frame.to_ndarray(format="rgb24"), self.rotation_degrees)

    def _iter_exact(self, indices: np.ndarray) -> Iterator[tuple[int, object]]:
        index = self.index
        if len(indices) == 0:
            return
        gops = index.gop_of(indices)
        # Runs of requested frames decoded in one forward pass after one seek. A new run starts
        # when a GOP is skipped, or when the next GOP follows but the previous one still has at
        # least SKIP_TAIL_FRAMES unrequested frames after its last request: a forward seek to the
        # next keyframe skips them (nothing is ever decoded twice either way).
        keys = index.keyframe_indices
        next_key = np.where(gops + 1 < len(keys), keys[np.minimum(gops + 1, len(keys) - 1)], index.num_frames)
        tail = next_key[:-1] - indices[:-1] - 1
        new_gop = np.diff(gops)
        breaks = np.flatnonzero((new_gop > 1) | ((new_gop == 1) & (tail >= SKIP_TAIL_FRAMES))) + 1
        missing: list[int] = []
        errors: list[str] = []
        skip = self.skip_disposable and self._nal_layout is not None
        for run in np.split(np.arange(len(indices)), breaks):
            run_indices = indices[run]
            start_pts = int(index.pts[index.keyframe_indices[gops[run[0]]]])
            skipped_before = self.stats.packets_skipped
            lost = yield from self._decode_run(run_indices, start_pts=start_pts, errors=errors, skip=skip)
            if lost and self.stats.packets_skipped > skipped_before:
                # Safety net: a frame went missing in a pass that withheld packets. Decode the
                # missing ones again with every packet before calling the file damaged.
                logger.warning("%s: %d frame(s) missing after skipping disposable packets; decoding them "
                               "again without skipping", self.path, len(lost))
                lost = yield from self._decode_run(np.asarray(lost, np.int64), start_pts=start_pts, errors=errors,
                                                   skip=False)
            missing.extend(lost)
        if missing:
            self._raise_missing(missing, errors)

    def _decode_run(self, run_indices: np.ndarray, *, start_pts: int, errors: list[str],
                    skip: bool) -> Generator[tuple[int, object], None, list[int]]:
        """One forward pass from the keyframe at ``start_pts``; yields the requested frames, returns the missing."""
        wanted = self.index.pts[run_indices].tolist()
        by_pts = dict(zip(wanted, run_indices.tolist(), strict=True))
        missing: list[int] = []
        pos = 0
        for frame in self._frames_after_seek(start_pts, errors, keep_pts=set(wanted) if skip else None):
            t = frame.pts
            if t is None:
                continue
            while pos < len(wanted) and wanted[pos] < t:
                missing.append(by_pts[wanted[pos]])
                pos += 1
            if pos == len(wanted):
                break
            if t == wanted[pos]:
                yield by_pts[t], frame
                pos += 1
                if pos == len(wanted):
                    break
        missing.extend(by_pts[p] for p in wanted[pos:])
        return missing

    def _decode_keyframe(self, i: int):
        """Decode only the keyframe ``i`` (seek, one packet, drain). Returns the frame or None."""
        av = self._av
        target = int(self.index.pts[i])
        self._seek(target)
        codec = self._stream.codec_context
        try:
            for packet in self._container.demux(self._stream):
                if packet.pts is None or packet.pts < target:
                    continue
                if packet.pts != target:
                    return None
                frames = list(packet.decode()) + list(codec.decode(None))
                self.stats.frames_decoded += len(frames)
                for frame in frames:
                    if frame.pts == target:
                        return frame
                return None
        except av.FFmpegError as error:
            logger.debug("%s: keyframe %d failed: %s", self.path, i, error)
            return None
        finally:
            codec.flush_buffers()
        return None

    def _iter_keyframes(self, indices: np.ndarray) -> Iterator[tuple[int, object]]:
        missing: list[int] = []
        for i in indices.tolist():
            frame = self._decode_keyframe(i)
            if frame is None:
                missing.append(i)
            else:
                yield i, frame
        if missing:
            self._raise_missing(missing, [])

    def _raise_missing(self, missing: list[int], errors: list[str]) -> None:
        times = [round(float(self.index.seconds[i]), 6) for i in sorted(missing)]
        shown = ", ".join(f"{t:g}" for t in times[:20]) + (" ..." if len(times) > 20 else "")
        causes = "; ".join(dict.fromkeys(errors[:5])) or "the decoder produced no frame for them"
        raise CorruptVideoError(
            f"{self.path}: {len(times)} frame(s) listed in the container cannot be decoded, at seconds [{shown}] "
            f"(causes: {causes}; scan: {self.scan_error or 'complete'}) "
            "(hint: the file is truncated or damaged; re-encode or re-download it)"
        )
