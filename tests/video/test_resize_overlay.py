from __future__ import annotations

import itertools

import numpy as np
import pytest
from PIL import Image

from love_r1.video import OVERLAY_FONT_NAME, budget_hw
from love_r1.video.overlay import OverlayFonts, draw_timestamp, overlay_font_size, timestamp_text
from love_r1.video.resize import resize_image, smart_resize
from tests.helpers.markers import requires_qwen_vl_utils, requires_torch, requires_torchvision

SIZES = [16, 28, 50, 96, 120, 144, 160, 240, 320, 360, 480, 540, 640, 720, 1080, 1280, 1920, 2160, 3840]
BUDGETS = [32 * 28 * 28, 64 * 28 * 28, 256 * 28 * 28, 2 * 256 * 28 * 28, 5000]


@requires_qwen_vl_utils
def test_smart_resize_matches_qwen_vl_utils():
    import qwen_vl_utils as qwen
    checked = 0
    for h, w, p in itertools.product(SIZES, SIZES, BUDGETS):
        if max(h, w) / min(h, w) > 200:
            continue
        max_pixels = max(p, int(p * 1.05))
        expected = qwen.smart_resize(h, w, factor=28, min_pixels=p, max_pixels=max_pixels)
        assert smart_resize(height=h, width=w, min_pixels=p, max_pixels=max_pixels) == expected, (h, w, p)
        assert budget_hw(height=h, width=w, pixels_per_frame=p) == expected
        checked += 1
    assert checked > 1000


def test_budget_table_values():
    # protocol.md §2.2 for 16:9 input: fast 196x112, fast short 280x168, slow 588x336
    assert budget_hw(height=720, width=1280, pixels_per_frame=32 * 28 * 28) == (112, 196)
    assert budget_hw(height=720, width=1280, pixels_per_frame=2 * 32 * 28 * 28) == (168, 280)
    assert budget_hw(height=720, width=1280, pixels_per_frame=256 * 28 * 28) == (336, 588)


def test_smart_resize_rejects_bad_input():
    with pytest.raises(ValueError, match="aspect ratio"):
        smart_resize(height=1, width=500, min_pixels=100, max_pixels=200)
    with pytest.raises(ValueError, match="max_pixels"):
        smart_resize(height=100, width=100, min_pixels=200, max_pixels=100)


@requires_torch
@requires_torchvision
def test_bicubic_resize_close_to_torchvision_antialias():
    import torch
    from torchvision.transforms import functional
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:120, 0:160]
    smooth = np.stack([(xx * 1.5) % 256, (yy * 2) % 256, (xx + yy) % 256], -1).astype(np.uint8)
    noisy = np.clip(smooth + rng.normal(0, 10, smooth.shape), 0, 255).astype(np.uint8)
    ours = np.asarray(resize_image(Image.fromarray(noisy), height=56, width=84))[None]
    theirs = functional.resize(torch.from_numpy(noisy).permute(2, 0, 1)[None], [56, 84],
                               interpolation=functional.InterpolationMode.BICUBIC, antialias=True)
    theirs = theirs.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    assert ours.shape == theirs.shape == (1, 56, 84, 3)
    assert np.abs(ours.astype(int) - theirs.astype(int)).mean() < 3.0


def test_overlay_text_size_and_red_bottom_right():
    assert timestamp_text(frame_index=59, fps=30.0) == "1" and timestamp_text(frame_index=3599 * 30, fps=30.0) == "3599"
    assert overlay_font_size(width=1280, height=720) == 90
    grey = Image.new("RGB", (320, 240), (128, 128, 128))
    out = np.asarray(draw_timestamp(grey, text=timestamp_text(frame_index=1234 * 30, fps=30.0), fonts=OverlayFonts()))
    changed = (out != 128).any(-1)
    red = (out[..., 0] > 200) & (out[..., 1] < 60) & (out[..., 2] < 60)
    ys, xs = np.nonzero(changed)
    assert red.sum() > 200
    assert xs.min() > 320 * 0.5 and ys.min() > 240 * 0.6  # bottom-right only
    assert xs.max() < 320 and ys.max() < 240
    assert "Pillow" in OVERLAY_FONT_NAME


def test_overlay_fonts_are_loaded_once_per_size():
    fonts = OverlayFonts()
    assert fonts.get(30) is fonts.get(30) and fonts.get(30) is not fonts.get(31)


@pytest.mark.parametrize("size", [(160, 120), (1280, 720)])
def test_overlay_is_drawn_before_resize(video_dir, size):
    from love_r1.synth import write_indexed_video
    from love_r1.video import open_video

    width, height = size
    path = write_indexed_video(video_dir / f"overlay_{width}.mp4", duration_seconds=4.0, fps=30.0, width=width,
                               height=height, gop_seconds=2.0)
    budget = 32 * 28 * 28
    with open_video(path, resampler="pillow") as reader:
        original = reader.get_frames_at([95]).data
        marked = reader.get_frames_at([95], max_pixels=budget, overlay=True)
        plain = reader.get_frames_at([95], max_pixels=budget)
    with open_video(path) as fast_reader:  # default resampler: YUV overlay + swscale bicubic
        fast = fast_reader.get_frames_at([95], max_pixels=budget, overlay=True)
    # Pillow path: overlay "3" on the original frame (font int(min(W, H) / 8)), then bicubic resize
    out_h, out_w = budget_hw(height=height, width=width, pixels_per_frame=budget)
    expected_full = draw_timestamp(Image.fromarray(original[0]), text=timestamp_text(frame_index=95, fps=30.0),
                                   fonts=OverlayFonts())
    expected = np.asarray(expected_full.resize((out_w, out_h), Image.BICUBIC))
    np.testing.assert_array_equal(marked.data[0], expected)
    assert (marked.data[0] != plain.data[0]).any()
    # swscale path: same layout, close values, the digit is red in the bottom-right
    assert fast.data.shape == marked.data.shape
    diff = np.abs(fast.data[0].astype(int) - marked.data[0].astype(int))
    assert diff.mean() < 4.0
    region = fast.data[0, out_h // 2:, out_w // 2:].astype(int)
    assert ((region[..., 0] > 150) & (region[..., 1] < 90) & (region[..., 2] < 90)).sum() >= 3
