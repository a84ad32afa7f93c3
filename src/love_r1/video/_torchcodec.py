"""torchcodec reader: our packet-scan index and request logic, torchcodec's decoder.

torchcodec's ``get_frames_at`` works on its own frame numbering; we pass presentation times
(``get_frames_played_at``) of our index entries, so both backends agree on which frame is
frame ``i``. Keyframe mode asks for the keyframes' own times, which decode without forward decoding.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from love_r1._imports import require
from love_r1.video._decode import upright
from love_r1.video._pyav import PyAVReader


class TorchCodecReader(PyAVReader):
    """Index and metadata from a PyAV packet scan; frames decoded by ``torchcodec.decoders.VideoDecoder``."""

    backend = "torchcodec"

    def _open(self) -> None:
        super()._open()
        decoders = require("torchcodec.decoders", extra="bench", purpose="the torchcodec backend")
        self._decoder = decoders.VideoDecoder(str(self.path), seek_mode="exact",
                                              num_ffmpeg_threads=self.num_threads)
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
            times = (self.index.seconds[chunk] + 1e-6).tolist()
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
