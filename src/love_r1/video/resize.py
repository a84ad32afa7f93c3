"""Pixel-budget resize: Qwen's smart-resize rule and a bicubic, antialiased resampler.

``smart_resize`` picks an output size whose sides are multiples of ``factor`` (28 for
Qwen2/2.5-VL: 14-px patches merged 2x2), whose area lies in ``[min_pixels, max_pixels]``
and whose aspect ratio is close to the input's. ``budget_hw`` is the reference's
``get_video_hw``: ``min_pixels = P`` and ``max_pixels = max(P, int(1.05 * P))`` for a
budget ``P`` pixels per frame.

Resampling uses Pillow's ``Image.resize(..., Image.BICUBIC)``, which widens the filter
support when downscaling (antialiasing). The reference uses torchvision's bicubic resize with
``antialias=True``; the two agree to within a few grey levels (tests check shape and closeness).
"""

from __future__ import annotations

import math

from PIL import Image

QWEN_RESIZE_FACTOR = 28
MAX_ASPECT_RATIO = 200.0
MAX_PIXELS_RATIO = 1.05


def smart_resize(
    *,
    height: int,
    width: int,
    min_pixels: int,
    max_pixels: int,
    factor: int = QWEN_RESIZE_FACTOR,
    max_aspect_ratio: float = MAX_ASPECT_RATIO,
) -> tuple[int, int]:
    """Return ``(new_height, new_width)``, both multiples of ``factor``, area within the budget.

    Raises:
        ValueError: non-positive sizes, ``max_pixels < min_pixels`` or aspect ratio above ``max_aspect_ratio``.
    """
    if height <= 0 or width <= 0:
        raise ValueError(f"height and width must be > 0 pixels; got height={height}, width={width}")
    if max_pixels < min_pixels:
        raise ValueError(f"max_pixels ({max_pixels}) must be >= min_pixels ({min_pixels})")
    if factor <= 0:
        raise ValueError(f"factor must be a positive number of pixels; got {factor}")
    ratio = max(height, width) / min(height, width)
    if ratio > max_aspect_ratio:
        raise ValueError(
            f"aspect ratio {ratio:.1f} of {width}x{height} exceeds max_aspect_ratio={max_aspect_ratio} "
            "(hint: crop the frame first)"
        )
    new_h = max(factor, round(height / factor) * factor)
    new_w = max(factor, round(width / factor) * factor)
    if new_h * new_w > max_pixels:
        scale = math.sqrt(height * width / max_pixels)
        new_h = math.floor(height / scale / factor) * factor
        new_w = math.floor(width / scale / factor) * factor
    elif new_h * new_w < min_pixels:
        scale = math.sqrt(min_pixels / (height * width))
        new_h = math.ceil(height * scale / factor) * factor
        new_w = math.ceil(width * scale / factor) * factor
    return new_h, new_w


def budget_hw(
    *,
    height: int,
    width: int,
    pixels_per_frame: int,
    max_pixels_ratio: float = MAX_PIXELS_RATIO,
    factor: int = QWEN_RESIZE_FACTOR,
) -> tuple[int, int]:
    """The reference ``get_video_hw``: smart-resize to ``[P, max(P, int(ratio * P))]`` pixels."""
    if pixels_per_frame <= 0:
        raise ValueError(f"pixels_per_frame must be > 0; got {pixels_per_frame}")
    max_pixels = max(pixels_per_frame, int(pixels_per_frame * max_pixels_ratio))
    return smart_resize(height=height, width=width, min_pixels=pixels_per_frame, max_pixels=max_pixels,
                        factor=factor)


def resize_image(image: Image.Image, *, height: int, width: int) -> Image.Image:
    """Bicubic, antialiased resize of one PIL image to ``width x height`` (no-op when equal)."""
    if image.size == (width, height):
        return image
    return image.resize((width, height), Image.BICUBIC)

