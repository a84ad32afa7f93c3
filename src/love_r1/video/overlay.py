"""Timestamp overlay: the integer second of each frame, drawn in red near the bottom-right corner.

The layout follows the reference (``add_frame_numbers_batch``): font size ``int(min(W, H) / 8)``
of the ORIGINAL frame, text box = glyph box + 10 px, ``x = W - box_w``,
``y = H - box_h - box_h / 3``, fill red. The text is ``str(int(frame_index / fps))``.
It is drawn before any resize, identically for training and inference. A run's time base
(``love_r1.video.Timeline``, an :class:`OverlayClock`) may give other digits: the frame's
presentation time measured from the first frame (or from a window's first frame).

Font: the reference loads "Arial Unicode" (not redistributable). We use Pillow's built-in
scalable font (``ImageFont.load_default(size=...)``, Aileron Regular, CC0), so no font file is
shipped or looked up on disk. :data:`OVERLAY_FONT_NAME` records it in run metadata.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from PIL import Image, ImageDraw, ImageFont

OVERLAY_FONT_NAME = "Pillow built-in (Aileron Regular, CC0) via ImageFont.load_default(size)"
OVERLAY_COLOR = "red"


class OverlayClock(Protocol):
    """Which integer second the overlay draws on a frame (``love_r1.video.Timeline`` is one).

    ``spec`` identifies the clock in cache keys: two clocks with the same spec draw the same digits.
    """

    @property
    def spec(self) -> str: ...

    def overlay_text(self, frame_index: int) -> str: ...


class OverlayFonts:
    """Holds fonts loaded once per size; owned by a reader (or created by the caller), never global."""

    def __init__(self) -> None:
        self._fonts: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}

    def get(self, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        if size not in self._fonts:
            self._fonts[size] = ImageFont.load_default(size=max(1, size))
        return self._fonts[size]


def overlay_font_size(*, width: int, height: int) -> int:
    """``int(min(width, height) / 8)``: the reference font size for a frame of that size."""
    return int(min(width, height) / 8)


def timestamp_text(*, frame_index: int, fps: float) -> str:
    """``str(int(frame_index / fps))``: the integer second shown on the frame."""
    if fps <= 0:
        raise ValueError(f"fps must be > 0 frames per second to compute the overlay text; got {fps}")
    return str(int(frame_index / fps))


def draw_timestamp(image: Image.Image, *, text: str, fonts: OverlayFonts) -> Image.Image:
    """Draw ``text`` in red at the reference position onto ``image`` (modified in place and returned)."""
    width, height = image.size
    font = fonts.get(overlay_font_size(width=width, height=height))
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    box_w = right - left + 10
    box_h = bottom - top + 10
    draw.text((width - box_w, height - box_h - box_h / 3), text, font=font, fill=OVERLAY_COLOR)
    return image


def timestamp_mask(
    *, width: int, height: int, text: str, fonts: OverlayFonts
) -> tuple[int, int, np.ndarray]:
    """The overlay's coverage as ``(x0, y0, alpha)``: ``alpha`` is ``uint8 [h, w]`` (255 = full red) for
    the frame region starting at column ``x0``, row ``y0``; the same glyphs, size and position as
    :func:`draw_timestamp`, for pipelines that blend the text themselves (e.g. in YUV)."""
    font = fonts.get(overlay_font_size(width=width, height=height))
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), text, font=font)
    box_w = right - left + 10
    box_h = bottom - top + 10
    x, y = width - box_w, height - box_h - box_h / 3
    size = overlay_font_size(width=width, height=height)
    # Draw into a generous region and trim to the ink (textbbox at fractional positions is not
    # reliable for every font); pixels outside the frame are clipped exactly as on the frame.
    x0, y0 = max(0, int(np.floor(x)) - 2 * size - 2), max(0, int(np.floor(y)) - 2 * size - 2)
    mask = Image.new("L", (width - x0, height - y0), 0)
    ImageDraw.Draw(mask).text((x - x0, y - y0), text, font=font, fill=255)
    ink = mask.getbbox()
    if ink is None:
        return 0, 0, np.zeros((0, 0), np.uint8)
    mask = mask.crop(ink)
    x0, y0 = x0 + ink[0], y0 + ink[1]
    return x0, y0, np.asarray(mask)

