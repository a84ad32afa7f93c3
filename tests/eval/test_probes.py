"""Robustness probes: no-visual and shuffled-options, recorded in the config hash and the report."""

from __future__ import annotations

import hashlib
import random

import numpy as np
import pytest

from love_r1.backends import TextPart, VideoPart
from love_r1.backends.scripted import ScriptedBackend, dummy_reply
from love_r1.eval.benchmarks import make_benchmark
from love_r1.eval.config import EvalConfig
from love_r1.eval.probes import blank_frames, option_permutation
from love_r1.eval.report import render_markdown, summarize
from love_r1.eval.runner import evaluate
from love_r1.eval.store import read_run
from tests.helpers.eval import write_parquet

SINGLE = "\nProvide only the single option letter (e.g., A, B, C, D, etc.) as the answer."


def test_option_permutation_pinned_and_recipe():
    # pinned values (changing them changes every shuffled-options run)
    assert option_permutation("plotQA_0", 4) == (2, 1, 0, 3)
    assert option_permutation("plotQA_2", 4) == (1, 3, 0, 2)
    assert option_permutation("needle_0", 4) == (1, 2, 0, 3)
    assert option_permutation("q1", 4, seed=1) == (3, 2, 1, 0)
    assert option_permutation("x", 5) == (4, 3, 0, 2, 1)
    assert option_permutation("x", 0) == () and option_permutation("x", 1) == (0,)
    # the documented recipe, recomputed here
    order = list(range(4))
    random.Random(int.from_bytes(hashlib.sha256(b"7:abc").digest()[:8], "big")).shuffle(order)
    assert option_permutation("abc", 4, seed=7) == tuple(order)
    with pytest.raises(ValueError, match="num_options"):
        option_permutation("x", -1)


def test_shuffled_options_mlvu_hand_computed(mlvu_root, tmp_path):
    shuffled = {s.qid: s for s in make_benchmark("mlvu", mlvu_root, shuffle_options_seed=0).load()}
    # plotQA_2: [home, park, shop, road], gold "home"; order (1, 3, 0, 2) -> [park, road, home, shop], gold C
    sample = shuffled["plotQA_2"]
    assert sample.options == ("A. park", "B. road", "C. home", "D. shop") and sample.gold == "C"
    assert sample.question_text == "Where?\nOptions:\n(A) park\n(B) road\n(C) home\n(D) shop" + SINGLE
    # needle_0: [cup, pen, key, box], gold "cup"; order (1, 2, 0, 3) -> gold C
    assert shuffled["needle_0"].gold == "C" and shuffled["needle_0"].options[2] == "C. cup"

    bench = make_benchmark("mlvu", mlvu_root)
    key_plain, _ = evaluate(bench, ScriptedBackend(), EvalConfig(run_dir=tmp_path / "run", model="m"), progress=False)
    key_shuf, state = evaluate(bench, ScriptedBackend(), EvalConfig(run_dir=tmp_path / "run", model="m", probe="shuffled-options", probe_seed=0), progress=False)
    assert key_shuf != key_plain and state.done == 5  # a new configuration: nothing skipped
    run = read_run(tmp_path / "run", config_hash_=key_shuf)
    assert (run.config["probe"], run.config["probe_seed"]) == ("shuffled-options", 0)
    summary = summarize(run)
    # the dummy answers A: plotQA golds after shuffling B, A, C, A -> 2/4; needle gold C -> 0/1
    assert summary["breakdowns"]["task"]["plotQA"]["accuracy"] == 0.5
    assert summary["accuracy"] == pytest.approx((0.5 + 0.0) / 2) and summary["micro_accuracy"] == pytest.approx(2 / 5)
    assert summary["probe"] == "shuffled-options"
    assert render_markdown(summary).startswith("# mlvu: 25.0 (macro over task) [probe: shuffled-options]")
    assert "shuffled-options (seed 0)" in render_markdown(summary)
    assert "probe" not in read_run(tmp_path / "run", config_hash_=key_plain).config  # normal runs keep their hash
    with pytest.raises(ValueError, match="pass probe='shuffled-options'"):
        evaluate(make_benchmark("mlvu", mlvu_root, shuffle_options_seed=3), ScriptedBackend(), EvalConfig(run_dir=tmp_path / "x", model="m"), progress=False)
    with pytest.raises(ValueError, match="probe must be one of"):
        evaluate(bench, ScriptedBackend(), EvalConfig(run_dir=tmp_path / "x", model="m", probe="blind"), progress=False)


def test_shuffled_options_lvbench_rebuilds_embedded_options(tmp_path):
    root = tmp_path / "lvb"
    write_parquet(root / "data" / "train.parquet", [{
        "key": "k1", "uid": "u7", "question": "What?\n(A) one\n(B) two\n(C) three\n(D) four", "answer": "B",
        "question_type": ["reasoning"], "time_reference": "00:01-00:03", "type": "sport"}])
    order = option_permutation("u7", 4, seed=5)
    (sample,) = make_benchmark("lvbench", root, shuffle_options_seed=5).load()
    texts = ["one", "two", "three", "four"]
    shown = [texts[i] for i in order]
    assert sample.options == tuple(f"{'ABCD'[i]}. {t}" for i, t in enumerate(shown))
    assert sample.gold == "ABCD"[shown.index("two")]
    assert sample.question_text == ("What?\n" + "\n".join(f"({'ABCD'[i]}) {t}" for i, t in enumerate(shown)) + "\n"
                                    + "Respond with only the letter (A, B, C, or D) of the correct option.")


def _video_parts(request):
    return [(part.frames.num_frames, part.frames.data.shape[1:], int(part.frames.data.max()))
            for message in request.messages for part in message.content if isinstance(part, VideoPart)]


def _texts(request):
    return [part.text for message in request.messages for part in message.content if isinstance(part, TextPart)]


@pytest.mark.parametrize("method", ["zoom", "stage1"])
def test_no_visual_blacks_out_every_clip(needle_root, tmp_path, method):
    def recorder(store):
        def reply(request):
            store.append(request)
            return dummy_reply(request)
        return reply

    normal, blind = [], []
    evaluate(make_benchmark("needle", needle_root), ScriptedBackend(recorder(normal)), EvalConfig(run_dir=tmp_path / "a", model="m", method=method, concurrency=1), progress=False)
    key, state = evaluate(make_benchmark("needle", needle_root), ScriptedBackend(recorder(blind)), EvalConfig(run_dir=tmp_path / "b", model="m", method=method, concurrency=1, probe="no-visual"), progress=False)
    assert state.errors == 0 and len(blind) == len(normal) > 0
    for seen, real in zip(blind, normal, strict=True):
        assert _texts(seen) == _texts(real)  # labels, clip order and question unchanged
        parts, real_parts = _video_parts(seen), _video_parts(real)
        assert [n for n, _, _ in parts] == [1] * len(real_parts)  # one frame per clip
        assert [shape for _, shape, _ in parts] == [shape for _, shape, _ in real_parts]  # same frame size
        assert all(peak == 0 for _, _, peak in parts) and all(peak > 0 for _, _, peak in real_parts)
    run = read_run(tmp_path / "b")
    assert run.config["probe"] == "no-visual" and "probe_seed" not in run.config
    assert "[probe: no-visual]" in render_markdown(summarize(run))


def test_no_visual_uniform_sends_text_only(needle_root, tmp_path):
    seen = []

    def reply(request):
        seen.append(request)
        return "A"

    _, state = evaluate(make_benchmark("needle", needle_root), ScriptedBackend(reply), EvalConfig(run_dir=tmp_path / "run", model="m", method="uniform", num_frames=4, probe="no-visual"), progress=False)
    assert state.done == 4 and state.errors == 0
    for request in seen:
        assert _video_parts(request) == [] and len(request.messages) == 1
        assert _texts(request)[0].endswith("etc.) as the answer.")
    episode = read_run(tmp_path / "run").items[0].episode
    assert episode["fast_view"] is None and episode["answer"] == "A"


def test_blank_frames():
    from love_r1.video import Frames

    frames = Frames(data=np.full((3, 4, 6, 3), 200, np.uint8), timestamps_seconds=[1.0, 2.0, 3.0],
                    frame_indices=[5, 10, 15], source_fps=5.0, sample_fps=1.0, key="abc")
    blank = blank_frames(frames)
    assert blank.data.shape == (1, 4, 6, 3) and blank.data.max() == 0
    assert blank.timestamps_seconds.tolist() == [1.0] and blank.frame_indices.tolist() == [5]
    assert (blank.sample_fps, blank.source_fps, blank.key) == (1.0, 5.0, None)
