"""MVBench bounded tasks see only their start/end window (issue 9 §4), as the reference's moviepy cut."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from love_r1.backends import TextPart, VideoPart
from love_r1.backends.scripted import ScriptedBackend
from love_r1.eval.benchmarks import make_benchmark
from love_r1.eval.config import EvalConfig
from love_r1.eval.records import Sample
from love_r1.eval.runner import evaluate
from love_r1.eval.store import read_run
from love_r1.interval import Interval
from love_r1.synth import draw_frame_index, read_frame_index, write_indexed_video
from love_r1.video import open_video
from tests.fixtures.reference_sampling import moviepy_cut, ref_fast_view
from tests.helpers.eval import write_json
from tests.helpers.markers import requires_av

pytestmark = requires_av

ROW = {"question": "What did the person do first?", "candidates": ["sat", "stood"], "answer": "sat"}


def _root(tmp_path):
    root = tmp_path / "mvb"
    write_indexed_video(root / "video" / "star" / "Charades_v1_480" / "A1.mp4", duration_seconds=30.0, fps=30.0,
                        width=64, height=48)
    write_json(root / "json" / "action_sequence.json", [{**ROW, "video": "A1.mp4", "start": 11.1, "end": 19.6}])
    write_indexed_video(root / "video" / "ssv2_video" / "1.mp4", duration_seconds=3.0, fps=10.0, width=64, height=48)
    # an unbounded task keeps the whole video even if a row carries start/end (the reference's bound flag)
    write_json(root / "json" / "action_antonym.json", [{**ROW, "video": "1.mp4", "start": 1.0, "end": 2.0}])
    clip = root / "video" / "tvqa" / "frames_fps3_hq" / "s01e01_clip"
    clip.mkdir(parents=True)
    for i in range(90):  # 30 s at 3 fps
        Image.fromarray(draw_frame_index(np.full((48, 64, 3), 70, np.uint8), frame_index=i)).save(clip / f"{i + 1}.jpg",
                                                                                                   quality=95)
    write_json(root / "json" / "episodic_reasoning.json", [{**ROW, "video": "s01e01_clip", "start": 4.5, "end": 21.0}])
    return root


def test_adapter_sets_the_window_of_bounded_tasks_only(tmp_path):
    samples = {s.qid: s for s in make_benchmark("mvbench", _root(tmp_path)).load()}
    assert samples["action_sequence_0"].window == Interval(11.1, 19.6)
    assert samples["episodic_reasoning_0"].window == Interval(4.5, 21.0)
    assert samples["action_antonym_0"].window is None
    sample = samples["action_sequence_0"]
    assert Sample.from_dict(sample.to_dict()) == sample and sample.to_dict()["window"] == [11.1, 19.6]
    assert "window" not in samples["action_antonym_0"].to_dict()


@pytest.mark.parametrize(("row", "message"), [
    ({"start": 3.0}, "end must be a number of seconds \\(a bounded task\\); got None"),
    ({"start": "abc", "end": 4.0}, "start must be a number of seconds .*; got 'abc'"),
    ({"start": 5.0, "end": 5.0}, "end must be after start=5.0 seconds; got 5.0"),
    ({"start": -1.0, "end": 5.0}, "start must be a finite number of seconds >= 0; got -1.0")])
def test_malformed_bounds_name_the_file_and_item(tmp_path, row, message):
    root = tmp_path / "mvb"
    write_json(root / "json" / "object_interaction.json", [{**ROW, "video": "x.mp4", **row}])
    (sample,) = make_benchmark("mvbench", root).load()  # the bad record fails alone, as a data error
    assert sample.gold == "" and sample.window is None
    assert re.search(rf"object_interaction\.json: item object_interaction_0.*{message}", sample.data_error)


def test_eval_shows_only_the_window_like_the_reference_cut(tmp_path):
    """Through the runner: the fast view is the reference cut's (frames 333..588 of the 30 fps file: 256 frames,
    numpy.arange's count), D and the label are the cut's, times start at the window; on the TVQA folder too."""
    root = _root(tmp_path)
    backend = ScriptedBackend(["\\boxed{A}"] * 3)
    key, state = evaluate(make_benchmark("mvbench", root), backend, EvalConfig(run_dir=tmp_path / "run", model="m", concurrency=1), progress=False)
    assert (state.done, state.errors) == (3, 0)
    episodes = {row.qid: row.episode for row in read_run(tmp_path / "run", config_hash_=key).items}
    requests = {call[0].session_id: call[0] for call in backend.calls}

    for qid, path, fps, (start, end) in (
            ("action_sequence_0", root / "video/star/Charades_v1_480/A1.mp4", 30.0, (11.1, 19.6)),
            ("episodic_reasoning_0", root / "video/tvqa/frames_fps3_hq/s01e01_clip", 3.0, (4.5, 21.0))):
        with open_video(path) as reader:
            n = reader.metadata.num_frames
            cut = moviepy_cut(n, fps, start, end)
            expected_ids, expected_rate = ref_fast_view(len(cut), fps)
            episode = episodes[qid]
            assert episode["video"]["window"] == [start, end]
            assert episode["video"]["duration_seconds"] == pytest.approx(len(cut) / fps, abs=1e-9)
            request = requests[qid]
            label = request.messages[1].content[0]
            assert isinstance(label, TextPart) and label.text == f"Full video [0, {int(len(cut) / fps)}]:"
            fast = next(p.frames for p in request.messages[1].content if isinstance(p, VideoPart))
            shown = [read_frame_index(reader.get_frames_at([int(i)]).data[0]) for i in fast.frame_indices]
        assert shown == [cut[i] for i in expected_ids] and fast.sample_fps == expected_rate
        np.testing.assert_allclose(episode["fast_view"]["timestamps_seconds"], np.array(expected_ids) / fps)
    assert len(moviepy_cut(900, 30.0, 11.1, 19.6)) == 256
    assert episodes["action_antonym_0"]["video"]["duration_seconds"] == pytest.approx(3.0)


@pytest.mark.parametrize("method", ["stage1", "uniform"])
def test_other_methods_honour_the_window(tmp_path, method):
    root = _root(tmp_path)
    backend = ScriptedBackend(["\\boxed{A}"] * 3)
    key, state = evaluate(make_benchmark("mvbench", root), backend, EvalConfig(
        run_dir=tmp_path / "run", model="m", method=method, concurrency=1,
        **({"num_frames": 8, "pixels_per_frame": 64 * 48} if method == "uniform" else {})), progress=False)
    assert (state.done, state.errors) == (3, 0)
    request = next(call[0] for call in backend.calls if call[0].session_id == "action_sequence_0")
    frames = [p.frames for p in request.messages[-1].content if isinstance(p, VideoPart)]
    assert frames and all(f.frame_indices.min() >= 333 and f.frame_indices.max() <= 588 for f in frames)
    assert all(f.timestamps_seconds[0] == 0.0 for f in frames)
    # the episode records the window's D and frames (the cut's 256 frames at 30 fps), as the zoom loop does
    video = next(row.episode["video"] for row in read_run(tmp_path / "run", config_hash_=key).items
                 if row.qid == "action_sequence_0")
    assert video["window"] == [11.1, 19.6] and video["num_frames"] == 256
    assert video["duration_seconds"] == pytest.approx(256 / 30.0, abs=1e-9)


@pytest.mark.parametrize("method", ["zoom", "stage1", "uniform"])
def test_prefetch_decodes_each_items_window_once(tmp_path, method):
    """The prefetch pool decodes what an item will use (its window), so the loop takes the frames of its first
    call from the frame cache instead of decoding the whole file's fast view for nothing. (The first item is
    decoded by the loop itself: prefetching starts with the items after it.)"""
    root = _root(tmp_path)
    backend = ScriptedBackend(["\\boxed{A}"] * 3)
    key, state = evaluate(make_benchmark("mvbench", root), backend, EvalConfig(
        run_dir=tmp_path / "run", model="m", method=method, concurrency=1, prefetch_workers=1,
        **({"num_frames": 8, "pixels_per_frame": 64 * 48} if method == "uniform" else {})), progress=False)
    assert (state.done, state.errors) == (3, 0)
    first = backend.calls[0][0].session_id
    later = [row for row in read_run(tmp_path / "run", config_hash_=key).items if row.qid != first]
    assert "episodic_reasoning_0" in {row.qid for row in later}  # a windowed item (the TVQA folder) among them
    for row in later:
        ledger = row.episode["ledger"]
        assert ledger["frames_decoded"] == 0 and ledger["frames_cached"] > 0, (row.qid, ledger)
