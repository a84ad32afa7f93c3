"""One time base per run: presentation time (default) vs the reference's index time.

* On constant-frame-rate files the presentation base gives the reference's frame indices,
  processor rates, D, labels and overlay digits bit for bit (the oracle is an independent
  transcription of ``model_sample_frame.py`` using torch's own linspace).
* On variable-frame-rate files, files whose first frame starts after 0 and a transport stream
  whose timestamps reset, the presentation base samples by true time and burns in true seconds,
  and the index base reproduces the reference.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

from love_r1.agent.policy import ZoomPolicy
from love_r1.synth import read_frame_index, write_indexed_video
from love_r1.video import (
    TIME_BASES,
    IntervalError,
    VideoError,
    clip_selection,
    fast_view_selection,
    open_video,
    sample_clip,
    sample_fast_view,
    timeline,
)
from love_r1.video.overlay import OverlayFonts, draw_timestamp
from love_r1.video.resize import budget_hw, resize_image
from tests.fixtures.reference_sampling import ref_clip, ref_fast_view, ref_overlay_text
from tests.fixtures.timed_videos import two_rate_times, write_timed_video
from tests.helpers.markers import requires_torch

pytestmark = requires_torch


def _frame_folder(path, *, num_frames: int):
    from love_r1.synth import draw_frame_index

    path.mkdir(parents=True)
    for i in range(num_frames):
        rgb = draw_frame_index(np.full((48, 64, 3), 90, np.uint8), frame_index=i)
        Image.fromarray(rgb).save(path / f"{i + 1}.png")
    return path


@pytest.fixture(scope="module")
def cfr_files(tmp_path_factory):
    """Constant-frame-rate files: mp4 at 30 / 29.97 / 25 / 24 fps, a transport stream starting at 1.4 s,
    an mkv starting at 0.5 s, and a 3 fps image folder."""
    root = tmp_path_factory.mktemp("cfr")
    files = {
        "mp4_30": write_indexed_video(root / "a.mp4", duration_seconds=21.0, fps=30.0, width=64, height=48),
        "mp4_2997": write_indexed_video(root / "b.mp4", duration_seconds=12.345, fps=29.97, width=64, height=48),
        "mp4_25": write_indexed_video(root / "c.mp4", duration_seconds=9.96, fps=25.0, width=64, height=48),
        "mp4_24": write_indexed_video(root / "d.mp4", duration_seconds=17.5, fps=24.0, width=64, height=48),
        "ts_offset": write_timed_video(root / "e.ts", [1.4 + i / 30 for i in range(400)], rate=30,
                                       time_base=Fraction(1, 90000), container_format="mpegts"),
        "mkv_offset": write_timed_video(root / "f.mkv", [0.5 + i / 25 for i in range(333)], rate=25),
        "folder": _frame_folder(root / "frames", num_frames=40),
    }
    return files


def _intervals(duration: float) -> list[tuple[float, float]]:
    whole = int(duration)
    out = [(0.0, float(whole))]
    for start in np.arange(0.0, whole, 0.5):
        for length in (0.5, 1.0, 3.0, 7.5, 13.0):
            out.append((float(start), float(min(start + length, whole + 5))))
        out.append((float(start), float(whole)))  # clamped to int(D), as the loop does
    return [(s, e) for s, e in out if e > s]


@pytest.mark.parametrize("name", ["mp4_30", "mp4_2997", "mp4_25", "mp4_24", "ts_offset", "mkv_offset", "folder"])
def test_presentation_base_equals_reference_index_arithmetic_on_cfr(cfr_files, name):
    with open_video(cfr_files[name]) as reader:
        n, fps = reader.metadata.num_frames, reader.metadata.fps
        line = timeline(reader, time_base="presentation")
        index_line = timeline(reader, time_base="index")
    assert line.duration_seconds == pytest.approx(n / fps, abs=1e-9)
    assert int(line.duration_seconds) == int(n / fps) == int(index_line.duration_seconds)
    assert [line.overlay_text(i) for i in range(n)] == [ref_overlay_text(i, fps) for i in range(n)]
    np.testing.assert_allclose(line.seconds_of(np.arange(n)), np.arange(n) / fps, atol=1e-9)
    for max_frames in (768, 7, 2):
        ids, rate = ref_fast_view(n, fps, max_frames=max_frames)
        for base in (line, index_line):
            selection = fast_view_selection(timeline=base, max_frames=max_frames)
            assert (selection.frame_indices.tolist(), selection.sample_fps) == (ids, rate), (base.time_base, max_frames)
    checked = 0
    for start, end in _intervals(n / fps):
        try:
            expected = ref_clip(n, fps, start, end)
        except ZeroDivisionError:  # the reference crashes (b == a); the index base raises, defect #8
            with pytest.raises(IntervalError):
                clip_selection(timeline=index_line, start_seconds=start, end_seconds=end)
            continue
        if not expected[0]:  # n == 0: no frame; both bases raise
            for base in (line, index_line):
                with pytest.raises(IntervalError):
                    clip_selection(timeline=base, start_seconds=start, end_seconds=end)
            continue
        for base in (line, index_line):
            selection = clip_selection(timeline=base, start_seconds=start, end_seconds=end)
            assert (selection.frame_indices.tolist(), selection.sample_fps) == expected, (base.time_base, start, end)
        checked += 1
    assert checked > 100


def test_cfr_fast_view_and_clip_pixels_identical_on_both_bases(cfr_files):
    """The decoded, overlaid, resized frames are the same (so are the returned times), only the cache keys differ."""
    with open_video(cfr_files["ts_offset"]) as reader:
        a = sample_fast_view(reader, time_base="presentation", max_frames=24)
        b = sample_fast_view(reader, time_base="index", max_frames=24)
        c = sample_clip(reader, 5.0, 9.0, time_base="presentation")
        d = sample_clip(reader, 5.0, 9.0, time_base="index")
    for x, y in ((a, b), (c, d)):
        np.testing.assert_array_equal(x.frame_indices, y.frame_indices)
        np.testing.assert_array_equal(x.data, y.data)
        np.testing.assert_allclose(x.timestamps_seconds, y.timestamps_seconds, atol=1e-9)
        assert x.sample_fps == y.sample_fps and x.key != y.key
    assert a.timestamps_seconds[0] == 0.0  # measured from the first frame (its pts is 1.4 s)


def _expected_overlaid(reader, frame_indices, texts, pixels):
    """Independent rendering: raw frame, reference overlay position, then the resize."""
    raw = reader.get_frames_at(np.asarray(frame_indices), overlay=False)
    fonts = OverlayFonts()
    height, width = budget_hw(height=reader.metadata.height, width=reader.metadata.width, pixels_per_frame=pixels)
    out = []
    for rgb, text in zip(raw.data, texts, strict=True):
        image = draw_timestamp(Image.fromarray(rgb), text=text, fonts=fonts)
        out.append(np.asarray(resize_image(image, height=height, width=width)))
    return np.stack(out)


@pytest.fixture(scope="module")
def vfr_mp4(tmp_path_factory):
    """The issue's phone-style VFR mp4: 10 s at 5 fps, then 10 s at 30 fps (350 frames; header average 17.5 fps)."""
    times = two_rate_times(slow_seconds=10, slow_fps=5, fast_seconds=10, fast_fps=30)
    path = write_timed_video(tmp_path_factory.mktemp("vfr") / "phone.mp4", times, time_base=Fraction(1, 15360))
    return path, times


def test_vfr_clip_presentation_samples_true_times_and_burns_true_seconds(vfr_mp4):
    path, times = vfr_mp4
    with open_video(path, resampler="pillow") as reader:
        assert reader.metadata.fps == pytest.approx(17.5, abs=1e-3)
        clip = sample_clip(reader, 10, 20, time_base="presentation", pixels_per_frame=64 * 48)
        shown = [read_frame_index(reader.get_frames_at([i]).data[0]) for i in clip.frame_indices]
        true_times = np.array([times[i] for i in shown])
        # frames really shown between 10 and 20 s, evenly spaced (the 30 fps half): 20 frames, 0.5 s apart
        assert true_times[0] == 10.0 and true_times[-1] < 20.0
        np.testing.assert_allclose(np.diff(true_times), np.diff(true_times).mean(), atol=1 / 30)
        np.testing.assert_allclose(clip.timestamps_seconds, true_times, atol=1e-9)
        assert clip.sample_fps == round(20 / (true_times[-1] - true_times[0]), 2)
        texts = [str(int(t)) for t in true_times]
        np.testing.assert_array_equal(clip.data, _expected_overlaid(reader, clip.frame_indices, texts, 64 * 48))


def test_vfr_clip_index_base_is_the_reference(vfr_mp4):
    """The switch reproduces the reference exactly, including its wrong times on VFR (3.3-23.3 s in the issue)."""
    path, times = vfr_mp4
    with open_video(path, resampler="pillow") as reader:
        n, fps = reader.metadata.num_frames, reader.metadata.fps
        clip = sample_clip(reader, 10, 20, time_base="index", pixels_per_frame=64 * 48)
        ids, rate = ref_clip(n, fps, 10, 20)
        assert clip.frame_indices.tolist() == ids and clip.sample_fps == rate
        assert times[ids[0]] > 14.0  # the reference's "second 10" is really 14.1 s into this video
        np.testing.assert_allclose(clip.timestamps_seconds, np.array(ids) / fps)
        texts = [ref_overlay_text(i, fps) for i in ids]
        np.testing.assert_array_equal(clip.data, _expected_overlaid(reader, ids, texts, 64 * 48))
        fast = sample_fast_view(reader, time_base="index", overlay=False)
        assert (fast.frame_indices.tolist(), fast.sample_fps) == ref_fast_view(n, fps)


def test_vfr_fast_view_presentation_is_evenly_spaced_in_time(vfr_mp4):
    path, times = vfr_mp4
    with open_video(path) as reader:
        fast = sample_fast_view(reader, time_base="presentation", overlay=False)
    chosen = np.array([times[i] for i in fast.frame_indices])
    targets = np.linspace(0.0, times[-1], len(chosen))
    starts = np.array(times)
    for t, target in zip(chosen, targets, strict=True):  # the nearest frame start to every target time
        assert abs(t - target) <= np.min(np.abs(starts - target)) + 1e-9
    assert len(chosen) == 40 and fast.sample_fps == round(40 / times[-1], 2)
    # the index base puts 29 of its 40 frames in the 30 fps half; the presentation base 20
    assert int(np.sum(chosen >= 10.0)) in (20, 21)


@pytest.fixture(scope="module")
def mkv_header_lies(tmp_path_factory):
    """An mkv whose header says 30 fps while its 350 frames span 20 s (N / fps = 11.67 s)."""
    times = two_rate_times(slow_seconds=10, slow_fps=5, fast_seconds=10, fast_fps=30)
    return write_timed_video(tmp_path_factory.mktemp("mkv") / "phone.mkv", times, rate=30), times


def test_header_rate_that_disagrees_with_timestamps(mkv_header_lies):
    path, _ = mkv_header_lies
    with open_video(path) as reader:
        assert reader.metadata.fps == 30.0
        assert timeline(reader, time_base="presentation").duration_seconds == pytest.approx(20.0, abs=1e-3)
        assert timeline(reader, time_base="index").duration_seconds == pytest.approx(350 / 30)
        # a zoom near the end of the presentation timeline is valid on it; on the index timeline it starts outside
        late = sample_clip(reader, 15.0, 20.0, time_base="presentation", overlay=False)
        assert late.timestamps_seconds[0] == pytest.approx(15.0, abs=1e-3)
        with pytest.raises(IntervalError):
            sample_clip(reader, 15.0, 20.0, time_base="index")


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".ts"])
def test_start_offset_times_measured_from_first_frame(tmp_path, suffix):
    fmt = "mpegts" if suffix == ".ts" else None
    tb = Fraction(1, 90000) if suffix == ".ts" else Fraction(1, 15360) if suffix == ".mp4" else Fraction(1, 1000)
    times = [3.0 + i / 10 for i in range(100)]  # 10 s at 10 fps, first frame at 3 s
    path = write_timed_video(tmp_path / f"offset{suffix}", times, rate=10, time_base=tb, container_format=fmt)
    with open_video(path, resampler="pillow") as reader:
        assert reader.index.seconds[0] == pytest.approx(3.0, abs=1e-3)
        for base in TIME_BASES:
            line = timeline(reader, time_base=base)
            assert line.duration_seconds == pytest.approx(10.0, abs=1e-3)
            clip = sample_clip(reader, 8.0, 10.0, time_base=base, pixels_per_frame=64 * 48)
            assert [read_frame_index(reader.get_frames_at([i]).data[0]) for i in clip.frame_indices][0] == 80
            np.testing.assert_allclose(clip.timestamps_seconds, (clip.frame_indices) / 10, atol=1e-3)
            texts = [str(int(t + 1e-9)) for t in clip.timestamps_seconds]
            assert texts[0] == "8"
            np.testing.assert_array_equal(clip.data, _expected_overlaid(reader, clip.frame_indices, texts, 64 * 48))


def test_transport_stream_with_timestamp_reset(tmp_path):
    """Two 5 s transport streams concatenated (pts restart at 0 halfway). Whatever the reader makes of the
    timestamps (monotonic times, or a typed error), D, frame times, overlay digits and labels come from the
    reader's timestamps on both bases, consistently, and nothing crashes untyped."""
    part = write_timed_video(tmp_path / "part.ts", [i / 30 for i in range(150)], rate=30,
                             time_base=Fraction(1, 90000), container_format="mpegts")
    joined = tmp_path / "joined.ts"
    joined.write_bytes(part.read_bytes() * 2)
    try:
        reader = open_video(joined)
    except VideoError:
        return  # refused with a typed error: the loop records it on the episode (test_time_base_loop)
    with reader:
        seconds = reader.index.seconds
        assert np.all(np.diff(seconds) >= 0)
        for base in TIME_BASES:
            line = timeline(reader, time_base=base)
            try:
                fast = sample_fast_view(reader, time_base=base, overlay=False, max_frames=16)
            except VideoError:
                continue
            times = fast.timestamps_seconds
            assert np.all(np.diff(times) >= 0) and times[0] == 0.0 and times[-1] < line.duration_seconds
            np.testing.assert_allclose(times, line.seconds_of(fast.frame_indices))
            assert [line.overlay_text(int(i)) for i in fast.frame_indices] == [str(int(t + 1e-9)) for t in times]


def test_time_base_is_a_closed_choice(cfr_files):
    with pytest.raises(ValueError, match=r"ZoomPolicy.time_base must be one of \['presentation', 'index'\]"):
        ZoomPolicy(time_base="pts")
    with open_video(cfr_files["mp4_30"]) as reader, pytest.raises(ValueError, match="time_base must be one of"):
        timeline(reader, time_base="decode")
    assert ZoomPolicy().to_dict()["time_base"] == "presentation"
    assert ZoomPolicy.from_dict({**ZoomPolicy().to_dict(), "time_base": "index"}).time_base == "index"


def test_nearest_in_time_is_the_reference_rounding_on_any_uniform_grid():
    """Evenly spaced frame starts (any spacing, any offset up to 3 hours of 90 kHz ticks): the frames nearest in
    time are exactly ``torch.linspace(a, b, n).round()``, ties at halves included."""
    import torch

    from love_r1.video.sampling import _nearest_in_time, linspace_positions

    rng = np.random.default_rng(0)
    for _ in range(200):
        num_frames = int(rng.integers(2, 400_000))
        spacing, offset = int(rng.integers(1, 5000)), int(rng.integers(0, 10**9))
        a = int(rng.integers(0, num_frames - 1))
        b = int(rng.integers(a + 1, num_frames))
        ticks = offset + spacing * np.arange(b + 1, dtype=np.int64)  # frames after b play no part
        num = int(rng.integers(1, 769))
        got = _nearest_in_time(ticks, a=a, b=b, positions=linspace_positions(start=a, end=b, num=num))
        assert got.tolist() == torch.linspace(a, b, num).round().long().tolist(), (num_frames, spacing, offset, a, b)
    # exact halves: 4 frames, 3 targets -> positions 0, 1.5, 3 -> rounded half to even: 0, 2, 3
    ticks = np.array([7, 10, 13, 16])
    assert _nearest_in_time(ticks, a=0, b=3, positions=linspace_positions(start=0, end=3, num=3)).tolist() == [0, 2, 3]
