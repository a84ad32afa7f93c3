"""A tiny 5x7 bitmap font (digits and a few letters) and filled shapes, drawn with numpy only.

Own bitmaps rather than a system or Pillow font, so that the drawn needles are identical on
every machine and tests can recognise them by template matching.
"""

from __future__ import annotations

import numpy as np

GLYPH_WIDTH = 5
GLYPH_HEIGHT = 7

_GLYPH_ROWS: dict[str, tuple[str, ...]] = {
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
    "X": ("#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"),
    "T": ("#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."),
    "H": ("#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
}


def glyph(character: str) -> np.ndarray:
    """The ``bool [7, 5]`` bitmap of ``character`` (ink is True)."""
    if character not in _GLYPH_ROWS:
        raise ValueError(f"no bitmap for {character!r}; available: {''.join(sorted(_GLYPH_ROWS))}")
    return np.array([[c == "#" for c in row] for row in _GLYPH_ROWS[character]], dtype=bool)


def scaled(mask: np.ndarray, *, scale: int) -> np.ndarray:
    """Nearest-neighbour upscale of a boolean mask by an integer factor."""
    return np.kron(mask, np.ones((scale, scale), dtype=bool)).astype(bool)


def shape_mask(shape: str, *, size: int) -> np.ndarray:
    """A filled ``bool [size, size]`` mask of ``"square"``, ``"circle"`` or ``"triangle"`` (pointing up)."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    if shape == "square":
        return np.ones((size, size), dtype=bool)
    if shape == "circle":
        centre = size / 2
        return (xs - centre) ** 2 + (ys - centre) ** 2 <= centre**2
    if shape == "triangle":
        half_width = ys / size * (size / 2)
        return np.abs(xs - size / 2) <= half_width
    raise ValueError(f"shape must be one of ['circle', 'square', 'triangle']; got {shape!r}")
