"""The frame-index block pattern: draw a frame number into an RGB frame and read it back.

Layout (all positions are fractions of the frame, so the pattern survives any resize,
including a change of aspect ratio): a grid of ``6 x 5`` black/white cells fills the
rectangle ``x in [0.03, 0.57)``, ``y in [0.03, 0.57)`` of the frame (the top-left part,
away from a bottom-right timestamp overlay). Cells are read row by row:

- cell 0 is always white and cell 29 always black (sync cells),
- cells 1..20 hold the frame index, most significant bit first (white = 1),
- cells 21..28 hold a CRC-8 (polynomial ``0x07``) of the index as 3 big-endian bytes.

A reader samples the mean luma of the central half of each cell; a cell whose luma is
neither clearly dark (< 100) nor clearly bright (> 155) makes the frame unreadable, as do
wrong sync cells or a wrong checksum. Random content therefore almost never reads as a
valid index.
"""

from __future__ import annotations

import numpy as np

PATTERN_COLUMNS = 6
PATTERN_ROWS = 5
PATTERN_BOX = (0.03, 0.03, 0.57, 0.57)  # x0, y0, x1, y1 as fractions of width / height
INDEX_BITS = 20
MAX_FRAME_INDEX = (1 << INDEX_BITS) - 1
_CRC_BITS = 8
_DARK_MAX = 100.0
_BRIGHT_MIN = 155.0


def _crc8(value: int) -> int:
    crc = 0
    for byte in value.to_bytes(3, "big"):
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _cell_bits(frame_index: int) -> list[int]:
    index_bits = [(frame_index >> (INDEX_BITS - 1 - i)) & 1 for i in range(INDEX_BITS)]
    crc = _crc8(frame_index)
    crc_bits = [(crc >> (_CRC_BITS - 1 - i)) & 1 for i in range(_CRC_BITS)]
    return [1, *index_bits, *crc_bits, 0]


def _cell_edges(size: int, start: float, stop: float, count: int) -> np.ndarray:
    """Pixel edges of ``count`` equal cells spanning ``[start, stop)`` of ``size`` pixels."""
    return np.round(np.linspace(start * size, stop * size, count + 1)).astype(int)


def pattern_box_pixels(*, width: int, height: int) -> tuple[int, int, int, int]:
    """The pattern's pixel rectangle ``(x0, y0, x1, y1)`` (half-open) in a ``width x height`` frame."""
    x0, y0, x1, y1 = PATTERN_BOX
    return round(x0 * width), round(y0 * height), round(x1 * width), round(y1 * height)


def draw_frame_index(rgb: np.ndarray, *, frame_index: int) -> np.ndarray:
    """Return a copy of ``rgb`` (``uint8 [H, W, 3]``) with ``frame_index`` drawn as the block pattern.

    Raises:
        ValueError: when ``frame_index`` is outside ``[0, 2**20 - 1]`` or ``rgb`` is not an RGB image.
    """
    _check_rgb(rgb)
    if not isinstance(frame_index, (int, np.integer)) or not 0 <= int(frame_index) <= MAX_FRAME_INDEX:
        raise ValueError(f"frame_index must be an integer in [0, {MAX_FRAME_INDEX}]; got {frame_index!r}")
    out = np.array(rgb, dtype=np.uint8, copy=True)
    height, width = out.shape[:2]
    x0, y0, x1, y1 = PATTERN_BOX
    xs = _cell_edges(width, x0, x1, PATTERN_COLUMNS)
    ys = _cell_edges(height, y0, y1, PATTERN_ROWS)
    for cell, bit in enumerate(_cell_bits(int(frame_index))):
        row, column = divmod(cell, PATTERN_COLUMNS)
        out[ys[row]:ys[row + 1], xs[column]:xs[column + 1]] = 255 if bit else 0
    return out


def read_frame_index(rgb: np.ndarray) -> int | None:
    """Read the frame index drawn by :func:`draw_frame_index` from an RGB frame of any size.

    Works after resizing (any aspect ratio; reliably down to about 96 px wide) and lossy
    compression. Returns ``None`` when the pattern is absent or unreadable (ambiguous cell,
    wrong sync cells or checksum mismatch).

    Raises:
        ValueError: when ``rgb`` is not a ``uint8 [H, W, 3]`` array.
    """
    _check_rgb(rgb)
    height, width = rgb.shape[:2]
    x0, y0, x1, y1 = PATTERN_BOX
    column_width = (x1 - x0) / PATTERN_COLUMNS
    row_height = (y1 - y0) / PATTERN_ROWS
    bits: list[int] = []
    for cell in range(PATTERN_COLUMNS * PATTERN_ROWS):
        row, column = divmod(cell, PATTERN_COLUMNS)
        cx0 = x0 + (column + 0.25) * column_width
        cy0 = y0 + (row + 0.25) * row_height
        px0, px1 = _span(cx0 * width, (cx0 + column_width / 2) * width)
        py0, py1 = _span(cy0 * height, (cy0 + row_height / 2) * height)
        patch = rgb[py0:py1, px0:px1].astype(np.float32)
        luma = float((patch @ np.array([0.299, 0.587, 0.114], dtype=np.float32)).mean())
        if luma < _DARK_MAX:
            bits.append(0)
        elif luma > _BRIGHT_MIN:
            bits.append(1)
        else:
            return None
    if bits[0] != 1 or bits[-1] != 0:
        return None
    value = 0
    for bit in bits[1:1 + INDEX_BITS]:
        value = (value << 1) | bit
    crc = 0
    for bit in bits[1 + INDEX_BITS:1 + INDEX_BITS + _CRC_BITS]:
        crc = (crc << 1) | bit
    return value if crc == _crc8(value) else None


def _span(start: float, stop: float) -> tuple[int, int]:
    lo = int(np.floor(start))
    hi = max(lo + 1, int(np.ceil(stop)))
    return lo, hi


def _check_rgb(rgb: np.ndarray) -> None:
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        shape = getattr(rgb, "shape", None)
        dtype = getattr(rgb, "dtype", None)
        raise ValueError(
            f"expected an RGB frame as a uint8 array [H, W, 3]; got shape={shape} dtype={dtype} "
            "(hint: convert with np.asarray(image.convert('RGB')))"
        )
    if rgb.shape[0] < 10 or rgb.shape[1] < 12:
        raise ValueError(f"frame of shape {rgb.shape} is too small to hold the index pattern (needs >= 12 x 10 px)")
