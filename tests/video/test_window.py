"""Windows: a time window of a file that an item is restricted to (MVBench's bounded tasks).

The reference cuts ``[start, min(end, duration)]`` into a new file with moviepy and samples that file;
the oracle (``tests/fixtures/reference_sampling.py``) transcribes the cut and the reference sampler, and
we compare which source frames, which D, which labels and which overlay digits the model gets.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from love_r1.agent.messages import full_video_label, zoom_clip_label
from love_r1.interval import Interval
from love_r1.synth import draw_frame_index, write_indexed_video
from love_r1.video import (
    IntervalError,
    clip_selection,
    fast_view_selection,
    open_video,
    sample_clip,
    sample_fast_view,
    timeline,
)
from tests.fixtures.reference_sampling import (
    moviepy_cut,
    ref_clip,
    ref_fast_view,
    ref_full_video_label,
    ref_overlay_text,
)
from tests.helpers.markers import requires_torch

pytestmark = requires_torch

# (start, end) seconds of 20 s test files; the last one ends after the video (clamped like the reference)
WINDOWS = [(1.1, 9.6), (2.0, 8.0), (0.05, 1.05), (3.0, 19.0), (12.5, 30.0), (0.0, 20.0), (7.3, 11.9)]


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("window")
    folder = root / "frames"
    folder.mkdir()
    for i in range(60):  # 20 s at 3 fps, TVQA style
        Image.fromarray(draw_frame_index(np.full((48, 64, 3), 80, np.uint8), frame_index=i)).save(folder / f"{i + 1}.jpg",
                                                                                                   quality=95)
    return {
        "mp4_30": write_indexed_video(root / "a.mp4", duration_seconds=20.0, fps=30.0, width=64, height=48),
        "mp4_2997": write_indexed_video(root / "b.mp4", duration_seconds=20.0, fps=29.97, width=64, height=48),
        "folder": folder,
    }


def _reference_view(cut: list[int], fps: float):
    """What the reference model gets from the cut file: fast-view source frames and rate, D, label, digits."""
    n_cut = len(cut)
    ids, rate = ref_fast_view(n_cut, fps)
    return {"fast": [cut[i] for i in ids], "rate": rate, "duration": n_cut / fps,
            "label": ref_full_video_label(n_cut / fps), "digits": [ref_overlay_text(i, fps) for i in ids]}


@pytest.mark.parametrize("time_base", ["index", "presentation"])
@pytest.mark.parametrize("name", ["mp4_30", "mp4_2997", "folder"])
@pytest.mark.parametrize(("start", "end"), WINDOWS)
def test_window_is_the_reference_cut_on_cfr(sources, time_base, name, start, end):
    """Both time bases: the cut's source frames, D, label, fast view, rate, digits and zoom clips."""
    with open_video(sources[name]) as reader:
        n, fps = reader.metadata.num_frames, reader.metadata.fps
        line = timeline(reader, time_base=time_base, window=Interval(start, end))
    cut = moviepy_cut(n, fps, start, end)
    expected = _reference_view(cut, fps)
    assert cut == list(range(cut[0], cut[0] + len(cut)))  # a cut is a run of consecutive source frames
    assert (line.first_index, line.num_frames) == (cut[0], len(cut))
    assert line.duration_seconds == pytest.approx(expected["duration"], abs=1e-9)
    assert full_video_label(line.duration_seconds) == expected["label"]
    fast = fast_view_selection(timeline=line)
    assert (fast.frame_indices.tolist(), fast.sample_fps) == (expected["fast"], expected["rate"])
    assert [line.overlay_text(int(i)) for i in fast.frame_indices] == expected["digits"]
    for s, e in ((0.0, float(int(line.duration_seconds))), (1.0, 4.5)):
        if e <= s or s >= line.duration_seconds:
            continue
        try:
            ids, rate = ref_clip(len(cut), fps, s, e)
        except ZeroDivisionError:  # the reference crashes (b == a); the index base raises a typed error
            if time_base == "index":
                with pytest.raises(IntervalError):
                    clip_selection(timeline=line, start_seconds=s, end_seconds=e)
            continue
        clip = clip_selection(timeline=line, start_seconds=s, end_seconds=e)
        assert (clip.frame_indices.tolist(), clip.sample_fps) == ([cut[i] for i in ids], rate)


def test_window_count_follows_numpy_arange_like_the_cut():
    """moviepy iterates ``numpy.arange(0, L, 1 / fps)``: for ``[11.1, 19.6)`` at 30 fps that is 256 frames, not 255."""
    assert len(moviepy_cut(900, 30.0, 11.1, 19.6)) == 256 and len(moviepy_cut(900, 30.0, 11.0, 19.5)) == 255


def test_window_decoded_frames_times_and_digits(sources):
    """End to end on a real file: the window's frames (read back from their pixels), times from the window start,
    and the same pixels as the index base (whose digits are the reference cut's)."""
    window = Interval(7.3, 11.9)  # L * fps = 138 to float precision: numpy's arange makes the cut 139 frames
    with open_video(sources["mp4_30"]) as reader:
        fast = sample_fast_view(reader, window=window, max_frames=8)
        same = sample_fast_view(reader, window=window, max_frames=8, time_base="index")
        raw = reader.get_frames_at(fast.frame_indices, overlay=False)
        clip = sample_clip(reader, 1.0, 3.0, window=window, overlay=False)
    from love_r1.synth import read_frame_index

    shown = [read_frame_index(rgb) for rgb in raw.data]
    assert shown == fast.frame_indices.tolist() and shown[0] == int(30 * 7.3 + 1e-5) == 219
    assert shown[-1] == 219 + 138
    np.testing.assert_allclose(fast.timestamps_seconds, (fast.frame_indices - 219) / 30)
    np.testing.assert_array_equal(fast.data, same.data)
    assert clip.frame_indices[0] == 219 + 30 and clip.timestamps_seconds[0] == pytest.approx(1.0)
    assert zoom_clip_label(Interval(1.0, 3.0)) == "Subset zoom-in video clip [1, 3]:"


def test_window_errors_name_the_file(sources):
    with open_video(sources["mp4_30"]) as reader:
        with pytest.raises(IntervalError, match=r"a\.mp4: window \[25, 30\) starts at or after the end"):
            timeline(reader, window=Interval(25.0, 30.0))
        with pytest.raises(IntervalError, match="is empty"):
            timeline(reader, window=Interval(3.0, 3.0))
        with pytest.raises(IntervalError, match="starts outside the video"):
            sample_clip(reader, 5.0, 7.0, window=Interval(2.0, 6.0))  # a 4 s window has no second 5
