"""The loop, the stage-1 path and the training input builder on one time base (issue 9 §2), on real files.

The file: an mkv whose header says 30 fps while its 1,500 frames span 70 s (60 s at 15 fps, then 10 s at
60 fps): the reference's ``D = N / fps`` is 50 s, the timestamps say 70 s. Before the time base, the loop
labelled ``[0, 70]``, sampled with the header rate (``D = 50``), failed the episode on a zoom near the end
(``IntervalError: clip [61, 70] starts outside the video``) and gave the fast view the x2 short-video factor
(50 < 60) but not the zoom clips (70 >= 60).
"""

from __future__ import annotations

import numpy as np
import pytest

from love_r1.agent.loop import EpisodeTask, run_episode
from love_r1.agent.policy import ZoomPolicy
from love_r1.agent.single_pass import run_single_pass
from love_r1.backends import TextPart, VideoPart
from love_r1.backends.scripted import ScriptedBackend
from love_r1.interval import Interval
from love_r1.synth import read_frame_index
from love_r1.video import budget_hw, open_video
from tests.fixtures.timed_videos import two_rate_times, write_timed_video
from tests.helpers.markers import requires_av

pytestmark = requires_av

SMALL = dict(fast_max_frames=16, clip_max_frames=8)


@pytest.fixture(scope="module")
def header_lies(tmp_path_factory):
    times = two_rate_times(slow_seconds=60, slow_fps=15, fast_seconds=10, fast_fps=60)
    assert len(times) == 1500
    return write_timed_video(tmp_path_factory.mktemp("tb") / "phone.mkv", times, rate=30), times


def _labels(request) -> list[str]:
    return [p.text for p in request.messages[1].content if isinstance(p, TextPart) and p.text.endswith(":")]


def _videos(request) -> list:
    return [p.frames for p in request.messages[1].content if isinstance(p, VideoPart)]


def _true_times(path, frames, times) -> list[float]:
    with open_video(path) as reader:
        return [times[read_frame_index(reader.get_frames_at([int(i)]).data[0])] for i in frames.frame_indices]


def test_presentation_base_labels_zoom_near_the_end_and_one_resolution_factor(header_lies):
    path, times = header_lies
    backend = ScriptedBackend(["I need to zoom in on the video.\n\n\\boxed{[66, 68]}", "I get the answer.\n\n\\boxed{A}"])
    episode = run_episode(backend, EpisodeTask("e", path, "Which?", ("A. x", "B. y")), ZoomPolicy(**SMALL))
    assert episode.error is None and episode.answer == "A"
    assert episode.clips == [Interval(61.0, 70.0)]
    assert episode.video.duration_seconds == pytest.approx(70.0, abs=0.02) and episode.policy["time_base"] == "presentation"
    second = backend.calls[1][0]
    assert _labels(second) == ["Full video [0, 70]:", "Subset zoom-in video clip [61, 70]:"]
    fast, clip = _videos(second)
    clip_times = _true_times(path, clip, times)
    assert 61.0 <= clip_times[0] < 61.1 and clip_times[-1] < 70.0
    np.testing.assert_allclose(clip.timestamps_seconds, clip_times, atol=1e-3)
    fast_times = _true_times(path, fast, times)
    np.testing.assert_allclose(fast_times, np.linspace(0, times[-1], 16), atol=1 / 15)  # evenly spaced in true time
    # D = 70 s >= 60 s: no x2 factor, on the fast view and the zoom clip alike
    assert (fast.height, fast.width) == budget_hw(height=48, width=64, pixels_per_frame=32 * 28 * 28)
    assert (clip.height, clip.width) == budget_hw(height=48, width=64, pixels_per_frame=256 * 28 * 28)


def test_index_base_is_the_reference_and_forces_the_answer_near_its_end(header_lies):
    path, _ = header_lies
    backend = ScriptedBackend(["I need to zoom in on the video.\n\n\\boxed{[66, 68]}", "I get the answer.\n\n\\boxed{B}"])
    policy = ZoomPolicy(time_base="index", **SMALL)
    episode = run_episode(backend, EpisodeTask("e", path, "Which?", ("A. x", "B. y")), policy)
    # the reference: s = 61, e = min(73, int(50)) = 50 -> too short -> forced answer on the whole video
    assert episode.error is None and episode.answer == "B"
    assert [(s.kind, s.stop_reason) for s in episode.steps] == [("zoom", "too_short"), ("forced_answer", "too_short")]
    assert episode.video.duration_seconds == 50.0 and episode.policy["time_base"] == "index"
    forced = backend.calls[1][0]
    assert _labels(forced) == ["Full video [0, 50]:", "Subset zoom-in video clip [0, 50]:"]
    fast, whole = _videos(forced)
    # D = 50 s < 60 s: x2 on both
    assert (fast.height, fast.width) == budget_hw(height=48, width=64, pixels_per_frame=2 * 32 * 28 * 28)
    assert (whole.height, whole.width) == budget_hw(height=48, width=64, pixels_per_frame=2 * 256 * 28 * 28)
    np.testing.assert_array_equal(whole.frame_indices, np.round(np.linspace(0, 1499, 8)).astype(int))


@pytest.mark.parametrize(("time_base", "label"), [("presentation", "[0, 70]"), ("index", "[0, 50]")])
def test_stage1_single_pass_uses_the_time_base(header_lies, time_base, label):
    path, _ = header_lies
    backend = ScriptedBackend(["\\boxed{A}"])
    (episode,) = run_single_pass(backend, [EpisodeTask("s", path, "Which?", ("A. x", "B. y"))],
                                 ZoomPolicy(time_base=time_base, **SMALL))
    assert episode.error is None and episode.answer == "A"
    assert _labels(backend.calls[0][0]) == [f"Full video {label}:", f"Subset zoom-in video clip {label}:"]


@pytest.mark.parametrize(("time_base", "duration"), [("presentation", 70.0), ("index", 50.0)])
def test_training_input_builder_honours_the_time_base(header_lies, time_base, duration):
    """The same labels and clip frames as inference renders (the builder is ``ClipPolicy.time_base``-driven)."""
    from love_r1.train.inputs import RecordDecoder
    from love_r1.train.records import TrainRecord
    from love_r1.train.sampling import ClipPolicy

    path, times = header_lies
    policy = ClipPolicy(fast_max_frames=16, time_base=time_base)
    record = TrainRecord(line=1, kind="step", video_path=str(path), question_text="Which?",
                         clips=(Interval(40.0, 49.0),))
    messages, intervals, got = RecordDecoder(video_root=None, policy=policy).prompt(record, clip_max_frames=8)
    assert got == pytest.approx(duration, abs=0.02)
    labels = [p.text for p in messages[1].content if isinstance(p, TextPart) and p.text.endswith(":")]
    assert labels == [f"Full video [0, {int(duration)}]:", "Subset zoom-in video clip [40, 49]:"]
    clip = [p.frames for p in messages[1].content if isinstance(p, VideoPart)][1]
    clip_times = _true_times(path, clip, times)
    if time_base == "presentation":
        assert clip_times[0] == 40.0 and clip_times[-1] == 49.0  # [a, b] both included, as the reference
    else:  # the reference's frames 1200..1470 lie in the 60 fps tail (60.0-64.5 s)
        assert clip_times[0] >= 60.0
    with pytest.raises(ValueError, match="ClipPolicy.time_base must be one of"):
        ClipPolicy(time_base="pts")


def test_unsamplable_zoom_forces_the_answer_instead_of_failing(tmp_path):
    """A 0.25 fps time-lapse: the zoom [101, 103.5] holds one frame (the reference divides by zero): the index
    base forces the answer with the clip rejected as too short instead of failing the episode."""
    from love_r1.synth import write_indexed_video

    path = write_indexed_video(tmp_path / "lapse.mp4", duration_seconds=200.0, fps=0.25, width=64, height=48,
                               gop_seconds=40.0)
    for time_base in ("index", "presentation"):
        backend = ScriptedBackend(["I need to zoom in on the video.\n\n\\boxed{[101, 103.5]}", "\\boxed{A}"])
        policy = ZoomPolicy(time_base=time_base, pad_seconds=0.0, min_clip_seconds=2.0, widen=False, **SMALL)
        episode = run_episode(backend, EpisodeTask("e", path, "Which?", ("A. x", "B. y")), policy)
        assert episode.error is None and episode.answer == "A", time_base
        if time_base == "index":
            assert [(s.kind, s.stop_reason) for s in episode.steps] == [("zoom", "too_short"),
                                                                         ("forced_answer", "too_short")]
        else:  # the presentation base shows the frame on screen during [100, 104) five times: a valid clip
            assert episode.clips == [Interval(101.0, 103.5)]
            clip = _videos(backend.calls[1][0])[1]
            assert clip.frame_indices.tolist() == [25] * 5 and clip.sample_fps == 2.0


def test_window_in_the_loop_and_the_recorded_episode(header_lies):
    path, times = header_lies
    backend = ScriptedBackend(["\\boxed{A}"])
    task = EpisodeTask("w", path, "Which?", ("A. x", "B. y"), window=(20.0, 35.5))
    episode = run_episode(backend, task, ZoomPolicy(**SMALL))
    assert episode.error is None and episode.video.window == Interval(20.0, 35.5)
    assert episode.to_dict()["video"]["window"] == [20.0, 35.5]
    # the cut is 15.5 s (465 frames at the header's 30 fps): the 233 frames starting in [20, 35.5), the last shown
    # until 35.533 s
    assert episode.video.duration_seconds == pytest.approx(233 / 15, abs=1e-3)  # mkv: millisecond ticks
    assert _labels(backend.calls[0][0]) == ["Full video [0, 15]:"]
    (fast,) = _videos(backend.calls[0][0])
    fast_times = _true_times(path, fast, times)
    assert fast_times[0] == 20.0 and fast_times[-1] < 35.5
    np.testing.assert_allclose(episode.fast_view.timestamps_seconds, np.array(fast_times) - 20.0, atol=1e-3)


def test_sub_second_video_forced_answer_without_the_whole_video_clip(tmp_path):
    """0.8 s: the fast view has one frame and the whole-video fallback ``[0, int(D)] = [0, 0]`` holds none; the
    forced answer goes without it (the reference fails and answers "")."""
    from love_r1.synth import write_indexed_video

    path = write_indexed_video(tmp_path / "blink.mp4", duration_seconds=0.8, fps=10.0, width=64, height=48)
    backend = ScriptedBackend(["no box here", "\\boxed{B}"])
    episode = run_episode(backend, EpisodeTask("e", path, "Which?", ("A. x", "B. y")), ZoomPolicy(**SMALL))
    assert episode.error is None and episode.answer == "B"
    assert [(s.kind, s.stop_reason) for s in episode.steps] == [("zoom", "no_box"), ("forced_answer", "no_box")]
    assert episode.steps[-1].clips_in_prompt == () and _labels(backend.calls[1][0]) == ["Full video [0, 0]:"]
