from __future__ import annotations

import numpy as np
import pytest

from love_r1.synth import read_frame_index
from love_r1.video import (
    FrameCountError,
    IntervalError,
    clip_indices,
    fast_view_indices,
    linspace_indices,
    open_video,
    sample_clip,
    sample_fast_view,
)
from love_r1.video.sampling import fast_view_pixels
from tests.helpers.markers import requires_torch


@pytest.mark.parametrize(("start", "end", "num"), [(0, 299, 20), (0, 107999, 768), (0, 107891, 768), (90, 150, 4),
                                                   (3000, 3600, 32), (0, 1, 2), (5, 5, 3), (0, 54001, 767),
                                                   (12345, 98765, 511), (0, 1799, 768)])
@requires_torch
def test_linspace_indices_equal_torch(start, end, num):
    import torch
    expected = torch.linspace(start, end, num).round().long().tolist()
    assert linspace_indices(start=start, end=end, num=num).tolist() == expected


@requires_torch
def test_linspace_indices_equal_torch_random_cases():
    import torch
    rng = np.random.default_rng(0)
    for _ in range(300):
        start = int(rng.integers(0, 200_000))
        end = start + int(rng.integers(1, 400_000))
        num = int(rng.integers(2, 769))
        expected = torch.linspace(start, end, num).round().long().tolist()
        assert linspace_indices(start=start, end=end, num=num).tolist() == expected, (start, end, num)


def test_fast_view_hand_computed():
    # 10 s at 30 fps: n = min(int(2 * 10), 768) = 20, linspace(0, 299, 20), rate round(20 / 299 * 30, 2)
    sel = fast_view_indices(num_frames_total=300, fps=30.0)
    assert sel.num_frames == 20 and sel.sample_fps == 2.01
    assert sel.frame_indices.tolist() == [0, 16, 31, 47, 63, 79, 94, 110, 126, 142, 157, 173, 189, 205, 220, 236,
                                          252, 268, 283, 299]
    # one hour at 30 fps hits the cap: 768 frames, rate round(768 / 107999 * 30, 2) = 0.21
    long = fast_view_indices(num_frames_total=108000, fps=30.0)
    assert long.num_frames == 768 and long.sample_fps == 0.21
    assert long.frame_indices[[0, 1, -1]].tolist() == [0, 141, 107999]
    assert fast_view_indices(num_frames_total=108000, fps=30.0, max_frames=384).num_frames == 384


def test_clip_hand_computed():
    # [3, 5] s at 30 fps: a = 90, b = 150, n = min(int(2 * 2), 32) = 4, rate round(4 / 60 * 30, 2) = 2.0
    sel = clip_indices(start_seconds=3, end_seconds=5, num_frames_total=300, fps=30.0)
    assert sel.frame_indices.tolist() == [90, 110, 130, 150] and sel.sample_fps == 2.0
    # [100, 120] s on an hour: n = 32 (capped from 40), a = 3000, b = 3600, rate round(32 / 600 * 30, 2) = 1.6
    sel = clip_indices(start_seconds=100, end_seconds=120, num_frames_total=108000, fps=30.0)
    assert sel.num_frames == 32 and sel.sample_fps == 1.6
    assert sel.frame_indices[[0, 1, -1]].tolist() == [3000, 3019, 3600]
    # end beyond the last frame is clamped like the reference: b = N - 1
    sel = clip_indices(start_seconds=8, end_seconds=11, num_frames_total=300, fps=30.0)
    assert sel.frame_indices[-1] == 299 and sel.sample_fps == round(6 / (299 - 240) * 30, 2)


@pytest.mark.parametrize(("start", "end"), [(5, 5), (6, 4), (-1, 3), (10, 12), (3.0, 3.4), (float("nan"), 2)])
def test_clip_bad_intervals_raise_interval_error(start, end):
    with pytest.raises(IntervalError, match=r"clip \["):
        clip_indices(start_seconds=start, end_seconds=end, num_frames_total=300, fps=30.0)


def test_fast_view_bad_counts():
    with pytest.raises(FrameCountError, match="too short"):
        fast_view_indices(num_frames_total=12, fps=30.0)  # 0.4 s -> n = 0
    with pytest.raises(FrameCountError, match="max_frames"):
        fast_view_indices(num_frames_total=300, fps=30.0, max_frames=0)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"fps": 0.0}, ValueError, r"fps must be > 0 frames per second; got 0.0"),
    ({"num_frames_total": 0}, FrameCountError, r"num_frames_total must be >= 1; got 0"),
    ({"frames_per_second": 0.0}, ValueError, r"frames_per_second must be > 0; got 0.0"),
    ({"frames_per_second": float("nan")}, ValueError, r"frames_per_second must be > 0; got nan"),
    ({"max_frames": 0}, FrameCountError, r"max_frames must be >= 1 frame; got 0"),
])
def test_sampler_arguments_are_checked_in_order(kwargs, error, message):
    arguments = {"num_frames_total": 300, "fps": 30.0, "frames_per_second": 2.0, "max_frames": 32, **kwargs}
    with pytest.raises(error, match=message):
        fast_view_indices(**arguments)
    with pytest.raises(error, match=message):
        clip_indices(start_seconds=1.0, end_seconds=5.0, **arguments)


def test_fast_view_pixels_sixty_second_rule():
    assert fast_view_pixels(duration_seconds=59.9) == 2 * 32 * 28 * 28
    assert fast_view_pixels(duration_seconds=60.0) == 32 * 28 * 28


def test_sample_fast_view_and_clip_on_reader(cfr_video):
    with open_video(cfr_video) as reader:
        fast = sample_fast_view(reader, overlay=False)
        again = sample_fast_view(reader, overlay=False)
        clip = sample_clip(reader, 3.0, 5.0, overlay=False)
        keyframes = sample_fast_view(reader, mode="keyframe", overlay=False)
    expected = fast_view_indices(num_frames_total=300, fps=30.0).frame_indices.tolist()
    assert fast.frame_indices.tolist() == expected
    assert [read_frame_index(x) for x in fast.data] == expected
    assert fast.sample_fps == 2.01 and fast.source_fps == 30.0
    # D = 10 s < 60 s: factor 2 -> 160x120 at 2 * 25088 pixels
    assert (fast.height, fast.width) == (196, 280)
    assert fast.key == again.key and fast.key != clip.key
    assert clip.frame_indices.tolist() == [90, 110, 130, 150] and clip.sample_fps == 2.0
    assert [read_frame_index(x) for x in clip.data] == [90, 110, 130, 150]
    assert set(keyframes.frame_indices.tolist()) <= {0, 60, 120, 180, 240}
    assert keyframes.sample_fps == fast.sample_fps and len(keyframes) == len(fast)
