"""torchcodec reader: our packet-scan index and request logic, torchcodec's decoder.

torchcodec's ``get_frames_at`` works on its own frame numbering; we pass presentation times
(``get_frames_played_at``) of our index entries, so both backends agree on which frame is
frame ``i``. Keyframe mode asks for the keyframes' own times, which decode without forward decoding.
torchcodec decodes whole packets in its own way: it cannot withhold disposable packets
(``skip_disposable=True`` is rejected) and it cannot reach frames of files whose timestamps
reset or whose packets lack pts (:class:`UnsupportedVideoError`; the PyAV decoder reads them).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from love_r1._imports import require
from love_r1.video._pyav import PyAVReader
from love_r1.video._reader import upright
from love_r1.video.errors import CorruptVideoError, UnsupportedVideoError


class TorchCodecReader(PyAVReader):
    """Index and metadata from a PyAV packet scan; frames decoded by ``torchcodec.decoders.VideoDecoder``."""

    decoder = "torchcodec"

    def _open(self) -> None:
        if self.skip_disposable:
            raise ValueError("skip_disposable=True needs the pyav decoder (torchcodec sends every packet to "
                             "FFmpeg); pass skip_disposable=None or False with decoder='torchcodec'")
        super()._open()
        if self._sequential or self._packets.num_segments > 1:
            quirk = "its packets lack timestamps" if self._sequential else "its timestamps reset (concatenated streams)"
            self._container.close()
            raise UnsupportedVideoError(f"{self.path}: the torchcodec decoder cannot read this file: {quirk} "
                                        "(hint: use decoder='pyav', which handles it)")
        decoders = require("torchcodec.decoders", extra="bench", purpose="the torchcodec decoder")
        # torchcodec reports FFmpeg failures as RuntimeError
        self.decoder_errors = (*self.decoder_errors, RuntimeError)
        try:
            self._decoder = decoders.VideoDecoder(str(self.path), seek_mode="exact",
                                                  num_ffmpeg_threads=self.num_threads)
        except (RuntimeError, ValueError) as error:
            self._container.close()
            raise CorruptVideoError(f"{self.path}: the torchcodec decoder cannot open it: {error} (hint: use "
                                    "decoder='pyav', or re-encode the file)") from error
        # torchcodec versions differ on applying the display rotation; detect it from the output shape.
        coded = self._decoder.metadata
        self._tc_rotated = (coded.height, coded.width) == (self.metadata.height, self.metadata.width) and \
            self.rotation_degrees in (90, 270)

    def _close(self) -> None:
        self._decoder = None
        super()._close()

    def _decode_batch(self, indices: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        batch = 64
        for start in range(0, len(indices), batch):
            chunk = indices[start:start + batch]
            times = (self._packets.raw_pts[chunk] * float(self.index.time_base) + 1e-6).tolist()
            out = self._decoder.get_frames_played_at(times)
            self.stats.frames_decoded += len(chunk)
            data = out.data.permute(0, 2, 3, 1).numpy()
            for i, rgb in zip(chunk.tolist(), data, strict=True):
                yield i, (rgb if self._tc_rotated else upright(rgb, self.rotation_degrees))

    def _finish_fast(self, payload, *, text, height, width) -> None:
        return None  # frames arrive as RGB arrays: Pillow does overlay and resize

    def _to_rgb(self, payload: np.ndarray) -> np.ndarray:
        return payload

    def _iter_exact(self, indices: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        return self._decode_batch(indices)

    def _iter_keyframes(self, indices: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        return self._decode_batch(indices)
