"""PyAV reader: packet-scan index, GOP-wise exact decoding and keyframe-only decoding."""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from fractions import Fraction

import numpy as np

from love_r1._imports import require
from love_r1.video._index import FrameIndex, PacketIndex, index_packets
from love_r1.video._metadata import VideoMetadata
from love_r1.video._nal import is_disposable, nal_layout
from love_r1.video._reader import VideoReader, upright
from love_r1.video.errors import CorruptVideoError, EmptyVideoError, NotAVideoError, NoVideoStreamError
from love_r1.video.overlay import timestamp_mask

logger = logging.getLogger(__name__)

SKIP_TAIL_FRAMES = 8  # seek past a GOP tail of at least this many unrequested frames instead of decoding it
# skip_disposable=None withholds disposable packets only where they are at least this share of the
# stream's packets: below it (e.g. encoders that make B-frames references, or few B-frames) there is
# next to nothing to save and the per-packet bookkeeping is all that remains
MIN_DISPOSABLE_SHARE = 0.05
IMAGE_CODECS = frozenset({"mjpeg", "png", "webp", "bmp", "tiff", "gif", "jpeg2000", "jpegxl", "qoi", "ppm", "pgm"})
FRAME_FOLDER_HINT = ("to read still images as video frames, put them in one folder named in frame order (1.jpg, "
                     "2.jpg, ...) and pass the folder; its rate is frames_per_second (default 3 frames per second)")


def _plane_arrays(frame) -> list[np.ndarray]:
    """``uint8 [height, width]`` views of a planar frame's planes (no copy; strides skip the line padding)."""
    arrays = []
    for plane in frame.planes:
        rows = np.frombuffer(plane, np.uint8, count=plane.line_size * plane.height).reshape(plane.height,
                                                                                             plane.line_size)
        arrays.append(rows[:, : plane.width])
    return arrays


class PyAVReader(VideoReader):
    """Decodes with PyAV (FFmpeg). Exact mode decodes each needed GOP once, forward from its
    keyframe, with multithreading; it continues into the next GOP without seeking unless a seek
    skips undecoded work; packets of unrequested pictures that no other picture references
    (H.264 ``nal_ref_idc == 0``, HEVC sub-layer non-reference) are not decoded at all
    (``skip_disposable``). Keyframe mode decodes one keyframe packet per distinct keyframe.

    File quirks (see docs/video.md, "File quirks"): packets the demuxer marks discard (edit
    lists) are decoded as references but are not frames; timestamp resets (concatenated
    streams) make segments, shifted to monotonic presentation times and reached by byte-position
    seeks; a stream whose packets lack pts is indexed by one full decode at open and then decoded
    sequentially, frames matched by their position in the output.
    """

    decoder = "pyav"

    def _open(self) -> None:
        av = require("av", extra="video", purpose="decoding videos")
        self._av = av
        self.decoder_errors = (av.FFmpegError, UnicodeError)
        self._red: dict[int, tuple[float, float, float]] = {}
        self._reformatter = None  # persistent swscale context, used by the worker thread only
        self._scratch: dict[tuple[int, int], object] = {}  # one writable yuv420p frame per size (worker only)
        try:
            # metadata tags are free text in any encoding; undecodable bytes become U+FFFD
            self._container = av.open(str(self.path), metadata_errors="replace")
        except (av.FFmpegError, UnicodeError) as error:
            raise NotAVideoError(
                f"{self.path}: cannot be opened as a video container ({_reason(error)}) "
                "(hint: the file is not a video, or it was truncated before its index was written)"
            ) from error
        try:
            self._open_stream()
        except av.FFmpegError as error:
            self._container.close()
            raise CorruptVideoError(f"{self.path}: the video stream cannot be read: {type(error).__name__}: {error} "
                                    "(hint: the file is damaged; re-encode or re-download it)") from error
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
        if stream.codec_context is None:  # FFmpeg found no decoder for the stream's (damaged or unknown) codec
            raise CorruptVideoError(f"{self.path}: the video stream has no usable codec parameters (hint: the file "
                                    "is damaged; re-encode or re-download it)")
        fmt = self._container.format.name
        if (fmt == "image2" or fmt.endswith("_pipe")) and stream.codec_context.name in IMAGE_CODECS:
            raise NotAVideoError(f"{self.path}: is a still image ({stream.codec_context.name}), not a video "
                                 f"(hint: {FRAME_FOLDER_HINT})")
        stream.thread_type = "AUTO"
        stream.codec_context.thread_count = self.num_threads
        extradata = stream.codec_context.extradata
        self._nal_layout = nal_layout(codec=stream.codec_context.name, extradata=bytes(extradata or b""))
        time_base = self._time_base = stream.time_base or Fraction(1, 90000)
        pts: list[int | None] = []
        dts: list[int | None] = []
        keyframe: list[bool] = []
        discard: list[bool] = []
        durations: list[int] = []
        positions: list[int] = []
        disposable: list[bool] = []
        layout = self._nal_layout
        self.scan_error: str | None = None
        try:
            for packet in self._container.demux(stream):
                if packet.size == 0:  # end-of-stream marker
                    continue
                if layout is not None:  # NAL headers only; a memoryview reads them without copying the packet
                    disposable.append(not packet.is_keyframe and is_disposable(memoryview(packet), layout=layout))
                pts.append(packet.pts)
                dts.append(packet.dts)
                keyframe.append(bool(packet.is_keyframe))
                discard.append(bool(packet.is_discard))
                durations.append(packet.duration or 0)
                positions.append(-1 if packet.pos is None else int(packet.pos))
        except av.FFmpegError as error:  # damaged data: keep what was read, remember why it stopped
            self.scan_error = str(error)
            logger.warning("%s: packet scan stopped early: %s", self.path, error)
        if not pts or all(discard):
            raise EmptyVideoError(f"{self.path}: the video stream holds no frame"
                                  f"{' (' + self.scan_error + ')' if self.scan_error else ''} "
                                  "(hint: the file is empty or damaged; re-encode it)")
        self._sequential = any(p is None for p, d in zip(pts, discard, strict=True) if not d)
        self._packets: PacketIndex | None = None
        if self._sequential:
            self.index = self._index_by_decoding(
                num_missing=sum(p is None for p in pts), num_packets=len(pts), durations=durations)
        else:
            self._packets = index_packets(pts=pts, dts=dts, keyframe=keyframe, discard=discard, durations=durations,
                                          positions=positions, time_base=time_base)
            self.index = self._packets.frames
            if self._packets.num_discarded:
                self._quirks.append(f"{self._packets.num_discarded} packet(s) marked discard (edit list): decoded as "
                                    "references, not presented")
            if self._packets.num_segments > 1:
                self._quirks.append(f"timestamps reset {self._packets.num_segments - 1} time(s) (concatenated "
                                    "streams): later segments shifted to follow the earlier ones")
        if len(self.index.seek_pts) == 0 and not self._sequential:
            raise CorruptVideoError(f"{self.path}: no keyframe among {len(pts)} packets (hint: re-encode the file)")
        self._byte_seek = self._packets is not None and self._packets.num_segments > 1 and \
            bool((self._packets.seek_pos >= 0).all())
        if self._packets is not None and self._packets.num_segments > 1 and not self._byte_seek:
            raise CorruptVideoError(f"{self.path}: timestamps reset {self._packets.num_segments - 1} time(s) and "
                                    "the container gives no byte positions to seek by (hint: remux or re-encode "
                                    "the file so its timestamps run forward, e.g. ffmpeg -i IN -c copy OUT.mkv)")
        self._seek_by_dts = False
        self.rotation_degrees = 0
        frame = self._probe()
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
            num_keyframes=len(self.index.seek_pts) if not self._sequential else len(self.index.keyframe_indices),
        )
        self._disposable_pts: list[set[int]] = []
        self.disposable_share = 0.0
        if disposable and self._packets is not None:
            flags = np.asarray(disposable, bool)
            self.disposable_share = float(flags.mean())
            segments = self._packets.segment_of_packet
            raw = np.asarray(pts, dtype=np.int64)
            self._disposable_pts = [set(raw[flags & (segments == s)].tolist())
                                    for s in range(self._packets.num_segments)]
        self._skip = self._decide_skip()
        self.stats.frames_decoded = 0
        self.stats.seeks = 0

    def _probe(self):
        """Decode one frame at open (rotation and coded size): the first keyframe shown, else frame 0."""
        first = 0
        if not self._sequential:
            shown = self.index.keyframe_indices
            if len(shown):
                first = int(shown[0])
                probe = self._decode_keyframe(first)
                if probe is None and (self._packets.seek_dts >= 0).any() and not self._byte_seek:
                    # demuxers that seek by searching timestamps (MPEG-TS) land AFTER a B-frame stream's
                    # keyframe when given its pts; they are given the keyframe's dts instead
                    self._seek_by_dts = True
                    probe = self._decode_keyframe(first)
                if probe is not None:
                    return probe
        errors: list[str] = []
        for _, frame in self._iter_exact_unchecked(np.array([first], np.int64), errors):
            return frame
        raise CorruptVideoError(f"{self.path}: the first frame at {self.index.seconds[first]:.6f} s cannot be decoded"
                                f"{' (' + '; '.join(errors[:3]) + ')' if errors else ''} "
                                "(hint: the file is damaged; re-encode it)")

    def _decide_skip(self) -> bool:
        """Whether exact mode withholds disposable packets (``skip_disposable=None``: decided per stream).

        Withholding saves the decoding of the disposable pictures a request does not need; it pays
        where they are a real share of the stream (x264's default layout: about half of all packets)
        and is pure bookkeeping where there are none (every frame a reference, e.g. x264 ultrafast,
        or encoders whose B-frames are references).
        """
        if self._nal_layout is None or self._sequential or self.decoder != "pyav" or not self._disposable_pts:
            return False
        if self.skip_disposable is not None:
            return self.skip_disposable
        return self.disposable_share >= MIN_DISPOSABLE_SHARE

    @property
    def skips_disposable(self) -> bool:
        """Whether ``exact`` requests withhold disposable packets (resolved from ``skip_disposable``)."""
        return self._skip

    def _index_by_decoding(self, *, num_missing: int, num_packets: int, durations: list[int]) -> FrameIndex:
        """Index a stream whose packets lack pts: decode it once; the output order is the presentation order.

        Frames that carry a pts keep it; the others get times interpolated between their neighbours
        (or extrapolated by the typical frame duration at the ends). Requests on such a stream decode
        forward from the start and pick frames by their position in the output.
        """
        logger.warning("%s: %d of %d packets have no presentation timestamp (e.g. laced Matroska blocks); "
                       "indexing by one full decode", self.path, num_missing, num_packets)
        self._quirks.append(f"{num_missing} of {num_packets} packets lack pts: indexed by one full decode, "
                            "times interpolated, requests decode from the start")
        known: list[int | None] = []
        key: list[bool] = []
        errors: list[str] = []
        for frame in self._decode_from_start(errors):
            known.append(frame.pts)
            key.append(bool(frame.key_frame))
        if not known:
            raise EmptyVideoError(f"{self.path}: no frame decodes ({'; '.join(errors[:3]) or 'no output'}) "
                                  "(hint: the file is damaged; re-encode it)")
        positive = [d for d in durations if d > 0]
        step = float(np.median(positive)) if positive else None
        at = np.flatnonzero([p is not None for p in known])
        values = np.asarray([known[i] for i in at], dtype=np.float64)
        if len(at) and np.any(np.diff(values) <= 0):
            raise CorruptVideoError(f"{self.path}: packets lack timestamps and the decoded frames' timestamps are "
                                    "not in presentation order (hint: re-encode the file)")
        if step is None:
            step = float(np.median(np.diff(values) / np.diff(at))) if len(at) > 1 else 1.0
        if len(at) == 0:
            times = np.arange(len(known), dtype=np.float64) * step
        else:
            grid = np.arange(len(known), dtype=np.float64)
            times = np.interp(grid, at.astype(np.float64), values)
            times[: at[0]] = values[0] - (at[0] - grid[: at[0]]) * step
            times[at[-1] + 1:] = values[-1] + (grid[at[-1] + 1:] - at[-1]) * step
        ticks = np.round(times).astype(np.int64)
        if np.any(np.diff(ticks) <= 0):
            raise CorruptVideoError(f"{self.path}: packets lack timestamps and the frames cannot be given distinct "
                                    "times (hint: re-encode the file)")
        return FrameIndex(pts=ticks, is_keyframe=np.asarray(key, bool), time_base=self._time_base,
                          end_pts=int(ticks[-1] + max(1, round(step))))

    def _decode_from_start(self, errors: list[str]) -> Iterator:
        """Every frame of the stream, decoding from the first packet (no skipping)."""
        av = self._av
        try:
            self._container.seek(0, stream=self._stream, backward=True, any_frame=False)
        except av.FFmpegError:  # some demuxers cannot seek to 0 after a scan: reopen
            self._container.close()
            self._container = av.open(str(self.path), metadata_errors="replace")
            self._stream = self._container.streams.video[0]
            self._stream.thread_type = "AUTO"
            self._stream.codec_context.thread_count = self.num_threads
        self.stats.seeks += 1
        codec = self._stream.codec_context
        for packet in self._demuxed(errors):
            try:
                frames = packet.decode() if packet.size else codec.decode(None)
            except av.FFmpegError as error:
                errors.append(f"decode: {error}")
                continue
            for frame in frames:
                self.stats.frames_decoded += 1
                yield frame

    def _close(self) -> None:
        self._container.close()

    def _demuxed(self, errors: list[str]) -> Iterator:
        """The video stream's packets from the current position; a demux error is recorded and ends them."""
        packets = self._container.demux(self._stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except self._av.FFmpegError as error:
                errors.append(f"demux: {error}")
                return
            yield packet

    # -- decoding ----------------------------------------------------------------------------
    def _seek(self, k: int) -> None:
        """Seek so that the next packet demuxed is (at or before) seek point ``k``."""
        p = self._packets
        if self._byte_seek:
            self._container.seek(int(p.seek_pos[k]), backward=True, unsupported_byte_offset=True)
        else:
            target = int(p.seek_raw_pts[k])
            if self._seek_by_dts and p.seek_dts[k] >= 0:
                target = int(p.seek_dts[k])
            self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
        self.stats.seeks += 1

    def _stop_position(self, k: int) -> int | None:
        """Byte position where the segment of seek point ``k`` ends (multi-segment files), else ``None``."""
        p = self._packets
        seg = int(p.seek_segment[k])
        return int(p.segment_starts[seg + 1]) if self._byte_seek and seg + 1 < p.num_segments else None

    def _frames_after_seek(self, k: int, errors: list[str], *, keep_pts: set[int] | None = None) -> Iterator:
        """Seek to seek point ``k`` and yield decoded frames; decode errors are collected.

        With ``keep_pts`` (the requested demuxer pts), packets that carry none of them and
        whose picture no other picture references (classified by the packet scan) are not sent
        to the decoder.
        """
        av = self._av
        withhold = self._disposable_pts[int(self._packets.seek_segment[k])] if keep_pts is not None else None
        stop = self._stop_position(k)
        try:
            self._seek(k)
        except av.FFmpegError as error:
            errors.append(f"seek: {error}")
            return
        codec = self._stream.codec_context
        for packet in self._demuxed(errors):
            if stop is not None and packet.pos is not None and packet.pos >= stop:
                packet = None  # the segment ends: drain the decoder
            elif withhold is not None and packet.pts in withhold and packet.pts not in keep_pts:
                self.stats.packets_skipped += 1
                continue
            try:
                frames = codec.decode(packet)
            except av.FFmpegError as error:
                errors.append(f"decode at pts {None if packet is None else packet.pts}: {error}")
                if packet is None:
                    return
                continue
            for frame in frames:
                self.stats.frames_decoded += 1
                yield frame
            if packet is None:
                return

    def _finish_fast(self, frame, *, text: str | None, height: int, width: int) -> np.ndarray | None:
        """Overlay in YUV + one swscale bicubic (antialiased) resize-and-convert; ``None`` when not applicable.

        Equivalent to RGB conversion, red overlay, then bicubic resize, up to rounding: the text
        mask is the one :func:`draw_timestamp` draws, alpha-blended into Y at full resolution and
        into U/V with the mask averaged over each 2x2 chroma block. Runs in the reader's one worker
        thread, which owns a persistent scaler (its filter tables are built once per size, not per
        frame) and one scratch frame per size (the decoder's frame is copied into it once).
        """
        w, h = frame.width, frame.height
        if self.rotation_degrees or frame.format.name != "yuv420p" or w % 2 or h % 2 or (h, w) == (height, width):
            return None
        mask = None
        if text is not None:
            x0, y0, mask = timestamp_mask(width=w, height=h, text=text, fonts=self.fonts)
        if mask is None or not mask.size:
            return self._scale(frame, height=height, width=width)
        marked = self._scratch.get((w, h))
        if marked is None:
            marked = self._scratch[(w, h)] = self._av.VideoFrame(w, h, "yuv420p")
        luma, *chroma = _plane_arrays(marked)
        for target, source in zip((luma, *chroma), _plane_arrays(frame), strict=True):
            np.copyto(target, source)
        red_y, red_u, red_v = self._red_yuv(frame.colorspace)
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
        for plane, red in zip(chroma, (red_u, red_v), strict=True):
            region = plane[cy0:cy0 + ch, cx0:cx0 + cw]
            a = block[: region.shape[0], : region.shape[1]]
            region[:] = np.round(region * (1 - a) + red * a)
        marked.colorspace, marked.color_range = frame.colorspace, frame.color_range
        return self._scale(marked, height=height, width=width)

    def _scale(self, frame, *, height: int, width: int) -> np.ndarray:
        """Bicubic (antialiased) resize + RGB conversion with the worker's persistent scaler."""
        if self._reformatter is None:
            from av.video.reformatter import VideoReformatter

            self._reformatter = VideoReformatter()
        return self._reformatter.reformat(frame, width=width, height=height, format="rgb24",
                                          interpolation="BICUBIC").to_ndarray()

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
        errors: list[str] = []
        missing = yield from self._iter_exact_unchecked(indices, errors)
        if missing:
            self._raise_missing(missing, errors)

    def _iter_exact_unchecked(self, indices: np.ndarray,
                              errors: list[str]) -> Generator[tuple[int, object], None, list[int]]:
        """Yield ``(index, frame)`` for the sorted unique ``indices``; return the indices that did not decode."""
        if len(indices) == 0:
            return []
        if self._sequential:
            return (yield from self._decode_sequential(indices, errors))
        index = self.index
        gops = index.gop_of(indices)
        # Runs of requested frames decoded in one forward pass after one seek. A new run starts
        # when a GOP is skipped, when the timestamp segment changes, or when the next GOP follows
        # but the previous one still has at least SKIP_TAIL_FRAMES unrequested frames after its
        # last request: a forward seek to the next keyframe skips them (nothing is decoded twice).
        num_seeks = len(index.seek_pts)
        next_first = np.where(gops + 1 < num_seeks, index.first_frame_of_gop(np.minimum(gops + 1, num_seeks - 1)),
                              index.num_frames)
        tail = next_first[:-1] - indices[:-1] - 1
        new_gop = np.diff(gops)
        new_segment = np.diff(self._packets.seek_segment[gops]) != 0
        breaks = np.flatnonzero((new_gop > 1) | ((new_gop == 1) & (tail >= SKIP_TAIL_FRAMES)) | new_segment) + 1
        missing: list[int] = []
        for run in np.split(np.arange(len(indices)), breaks):
            run_indices = indices[run]
            k = int(gops[run[0]])
            skipped_before = self.stats.packets_skipped
            lost = yield from self._decode_run(run_indices, k=k, errors=errors, skip=self._skip)
            if lost and self.stats.packets_skipped > skipped_before:
                # Safety net: a frame went missing in a pass that withheld packets. Decode the
                # missing ones again with every packet before calling the file damaged.
                logger.warning("%s: %d frame(s) missing after skipping disposable packets; decoding them "
                               "again without skipping", self.path, len(lost))
                lost = yield from self._decode_run(np.asarray(lost, np.int64), k=k, errors=errors, skip=False)
            missing.extend(lost)
        return missing

    def _decode_run(self, run_indices: np.ndarray, *, k: int, errors: list[str],
                    skip: bool) -> Generator[tuple[int, object], None, list[int]]:
        """One forward pass from seek point ``k``; yields the requested frames, returns the missing."""
        wanted = self._packets.raw_pts[run_indices].tolist()
        by_pts = dict(zip(wanted, run_indices.tolist(), strict=True))
        missing: list[int] = []
        pos = 0
        for frame in self._frames_after_seek(k, errors, keep_pts=set(wanted) if skip else None):
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

    def _decode_sequential(self, indices: np.ndarray,
                           errors: list[str]) -> Generator[tuple[int, object], None, list[int]]:
        """Streams without pts: decode from the start; output frame ``n`` is frame ``n`` of the index."""
        wanted = set(indices.tolist())
        last = int(indices[-1])
        reached = -1
        for ordinal, frame in enumerate(self._decode_from_start(errors)):
            reached = ordinal
            if ordinal in wanted:
                yield ordinal, frame
            if ordinal >= last:
                break
        return [i for i in indices.tolist() if i > reached]

    def _decode_keyframe(self, i: int):
        """Decode only the presented keyframe ``i`` (seek, one packet, drain). Returns the frame or None."""
        av = self._av
        k = int(self.index.gop_of(np.array([i]))[0])
        target = int(self._packets.raw_pts[i])
        codec = self._stream.codec_context
        try:
            self._seek(k)
            for packet in self._container.demux(self._stream):
                if packet.pts is None or packet.pts < target:
                    continue
                if packet.pts != target:
                    return None
                frames = list(codec.decode(packet)) + list(codec.decode(None))
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
        """Keyframes decode alone; a GOP's first shown frame that is no keyframe (edit lists) decodes exactly."""
        if self._sequential:
            yield from self._iter_exact(indices)
            return
        alone = indices[self.index.is_keyframe[indices]]
        rest = indices[~self.index.is_keyframe[indices]]
        missing: list[int] = []
        for i in alone.tolist():
            frame = self._decode_keyframe(i)
            if frame is None:
                missing.append(i)
            else:
                yield i, frame
        errors: list[str] = []
        missing += yield from self._iter_exact_unchecked(rest, errors)
        if missing:
            self._raise_missing(missing, errors)

    def _raise_missing(self, missing: list[int], errors: list[str]) -> None:
        times = [round(float(self.index.seconds[i]), 6) for i in sorted(missing)]
        shown = ", ".join(f"{t:g}" for t in times[:20]) + (" ..." if len(times) > 20 else "")
        causes = "; ".join(dict.fromkeys(errors[:5])) or "the decoder produced no frame for them"
        raise CorruptVideoError(
            f"{self.path}: {len(times)} frame(s) listed in the container cannot be decoded, at seconds [{shown}] "
            f"(causes: {causes}; scan: {self.scan_error or 'complete'}) "
            "(hint: the file is truncated or damaged; re-encode or re-download it)"
        )


def _reason(error: Exception) -> str:
    """FFmpeg's reason without the file name it appends (the message already names the file once)."""
    reason = getattr(error, "strerror", None)
    return reason if isinstance(reason, str) and reason else str(error)
