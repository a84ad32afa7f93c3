"""The whole eval path with the scripted backend: resume, shards, broken videos, uniform baseline."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from love_r1.backends.scripted import ScriptedBackend
from love_r1.eval.benchmarks import make_benchmark
from love_r1.eval.config import EvalConfig, select_samples
from love_r1.eval.explorer import render_explorer
from love_r1.eval.preflight import preflight
from love_r1.eval.report import render_markdown, summarize
from love_r1.eval.runner import evaluate
from love_r1.eval.store import db_files, export_jsonl, read_run

REPO = Path(__file__).resolve().parents[2]


def _rows(run_dir):
    out = []
    for path in db_files(run_dir):
        with sqlite3.connect(path) as db:
            out += [r[0] for r in db.execute("SELECT qid FROM items")]
    return out


def test_mlvu_end_to_end_with_dummy_policy(mlvu_root, tmp_path):
    bench = make_benchmark("mlvu", mlvu_root)
    backend = ScriptedBackend()
    key, state = evaluate(bench, backend, EvalConfig(run_dir=tmp_path / "run", model="dummy", concurrency=2), progress=False)
    assert (state.done, state.errors, state.extraction_failures) == (5, 0, 0)
    run = read_run(tmp_path / "run")
    assert run.config["policy"]["name"] == "mlvu" and run.config["policy"]["fast_max_frames"] == 384
    summary = summarize(run)
    # the dummy always answers A: plotQA gold B, A, A, A -> 3/4; needle gold A -> 1/1
    assert summary["breakdowns"]["task"]["plotQA"]["accuracy"] == 0.75
    assert summary["accuracy"] == pytest.approx((0.75 + 1.0) / 2)
    assert summary["micro_accuracy"] == pytest.approx(4 / 5)
    assert summary["zoom"]["steps_per_question"] == 2.0 and summary["zoom"]["zooms_per_question"] == 1.0
    episode = run.items[0].episode
    assert episode["steps"][0]["kind"] == "zoom" and episode["steps"][1]["kind"] == "answer"
    assert episode["question"].endswith("etc.) as the answer.")
    # questions on the same video run together; one batched generate per round of 2 episodes
    assert all(len(call) <= 2 for call in backend.calls)
    assert "macro over task" in render_markdown(summary)
    page = render_explorer(run, frame_items=0)
    assert '"benchmark":"mlvu"' in page and '"aggregation":"macro over task"' in page
    lines = export_jsonl(run, tmp_path / "x.jsonl").read_text().splitlines()
    assert len(lines) == 5 and json.loads(lines[0])["episode"]["answer"] == "A"
    # same command again: nothing re-run, nothing duplicated
    key2, again = evaluate(bench, ScriptedBackend(), EvalConfig(run_dir=tmp_path / "run", model="dummy"), progress=False)
    assert key2 == key and again.done == 0 and again.skipped_finished == 5
    assert sorted(_rows(tmp_path / "run")) == sorted({s.qid for s in bench.load()})


def test_broken_and_missing_videos_fail_only_their_items(mlvu_root, tmp_path):
    (mlvu_root / "MLVU" / "video" / "2_needle" / "n1.mp4").write_bytes(b"not a video at all" * 10)
    (mlvu_root / "MLVU" / "video" / "1_plotQA" / "p2.mp4").unlink()
    bench = make_benchmark("mlvu", mlvu_root)
    report = preflight(bench.load())
    assert list(report.missing) == [str(mlvu_root.absolute() / "MLVU/video/1_plotQA/p2.mp4")]
    assert len(report.corrupt) == 1 and "n1.mp4" in next(iter(report.corrupt))
    _, state = evaluate(bench, ScriptedBackend(), EvalConfig(run_dir=tmp_path / "run", model="dummy"), progress=False)
    assert (state.done, state.errors) == (5, 3)
    summary = summarize(read_run(tmp_path / "run"))
    assert summary["num_errors"] == 3 and summary["num_items"] == 5
    assert summary["error_kinds"] == {"missing video file": 2, "corrupt video": 1}


def test_shards_merge_and_uniform_baseline(needle_root, tmp_path):
    bench = make_benchmark("needle", needle_root)
    assert [s.qid for s in select_samples(bench.load(), EvalConfig(run_dir=tmp_path, model="m", shard_index=1, num_shards=2))] == [
        s.qid for s in bench.load()[1::2]]
    for index in range(2):
        evaluate(bench, ScriptedBackend(["The answer is B."] * 4), EvalConfig(run_dir=tmp_path / "run", model="base", method="uniform", num_frames=6, pixels_per_frame=32 * 28 * 28, shard_index=index, num_shards=2), progress=False)
    assert len(db_files(tmp_path / "run")) == 2
    run = read_run(tmp_path / "run")
    assert len(run.items) == 4 and run.config["method"] == "uniform" and "policy" not in run.config
    episode = run.items[0].episode
    assert episode["fast_view"]["num_frames"] == 6 and len(episode["steps"]) == 1
    gold_b = sum(row.sample["gold"] == "B" for row in run.items)
    assert summarize(run)["accuracy"] == pytest.approx(gold_b / 4)


SLOW_RUN = """
import sys, time
from love_r1.backends.scripted import ScriptedBackend, dummy_reply
from love_r1.eval.benchmarks import make_benchmark
from love_r1.eval.config import EvalConfig
from love_r1.eval.runner import evaluate

def slow(request):
    time.sleep(0.3)
    return dummy_reply(request)

evaluate(make_benchmark("needle", sys.argv[1]), ScriptedBackend(slow),
         EvalConfig(run_dir=sys.argv[2], model="m", concurrency=1, prefetch_workers=0), progress=False)
"""


def test_sigkill_mid_run_then_resume(needle_root, tmp_path):
    run_dir = tmp_path / "run"
    script = tmp_path / "slow.py"
    script.write_text(textwrap.dedent(SLOW_RUN))
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen([sys.executable, str(script), str(needle_root), str(run_dir)], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if db_files(run_dir) and len(_rows(run_dir)) >= 1:
                break
        except sqlite3.OperationalError:  # the child is still creating the schema
            pass
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = _rows(run_dir)
    assert 1 <= len(partial) < 4
    _, state = evaluate(make_benchmark("needle", needle_root), ScriptedBackend(), EvalConfig(run_dir=run_dir, model="m"), progress=False)
    assert state.skipped_finished == len(partial) and state.done == 4 - len(partial)
    rows = _rows(run_dir)
    assert len(rows) == len(set(rows)) == 4


def test_each_video_is_decoded_once_with_prefetch(mlvu_root, tmp_path, monkeypatch):
    from love_r1.video import FrameCache

    stored = []
    original = FrameCache.put

    def counting_put(self, key, frames):
        stored.append(key)
        return original(self, key, frames)

    monkeypatch.setattr(FrameCache, "put", counting_put)
    bench = make_benchmark("mlvu", mlvu_root)
    _, state = evaluate(bench, ScriptedBackend(), EvalConfig(run_dir=tmp_path / "run", model="dummy", concurrency=1, prefetch_workers=2), progress=False)
    assert state.done == 5
    # 3 video files (5 questions): one fast view and one (identical) zoom clip each, decoded once
    assert len(stored) == len(set(stored)) == 6


def test_videomme_count_warning_and_breakdowns(tmp_path, video_bank):
    from tests.helpers.eval import place, write_parquet

    root = tmp_path / "vmme"
    rows = []
    for index, (duration, answer) in enumerate([("short", "A"), ("short", "B"), ("long", "A")]):
        rows.append({"video_id": f"{index:03d}", "duration": duration, "domain": "Sports", "sub_category": "Golf",
                     "videoID": f"yt{index}", "question_id": f"{index:03d}-1", "task_type": "OCR Problems",
                     "question": "Which?", "options": ["A. x", "B. y", "C. z", "D. w"], "answer": answer})
        place(video_bank["v1"], root / "data" / f"yt{index}.mp4")
    write_parquet(root / "videomme" / "test-00000-of-00001.parquet", rows)
    _, state = evaluate(make_benchmark("videomme", root), ScriptedBackend(), EvalConfig(run_dir=tmp_path / "run", model="m"), progress=False)
    assert state.count_warning.startswith("videomme: the annotations hold 3 questions, the official set has 2700")
    summary = summarize(read_run(tmp_path / "run"))
    assert summary["breakdowns"]["duration"] == {"long": {"correct": 1, "total": 1, "accuracy": 1.0},
                                                 "short": {"correct": 1, "total": 2, "accuracy": 0.5}}
    assert summary["breakdowns"]["duration/task_type"]["short/OCR Problems"]["total"] == 2


def test_unreadable_answers_are_counted_not_guessed(needle_root, tmp_path):
    bench = make_benchmark("needle", needle_root)
    _, state = evaluate(bench, ScriptedBackend(lambda request: "I cannot tell."), EvalConfig(run_dir=tmp_path / "run", model="m"), progress=False)
    assert (state.done, state.extraction_failures, state.correct) == (4, 4, 0)
    summary = summarize(read_run(tmp_path / "run"))
    assert (summary["num_extraction_failures"], summary["num_scored"], summary["accuracy"]) == (4, 0, 0.0)
    assert summary["extraction_failure_rate"] == 1.0
    assert summary["zoom"]["forced_answer_rate"] == 1.0 and summary["zoom"]["stop_reasons"]["no_box"] == 8


def test_a_checkpoint_retrained_in_place_is_not_resumed_into_its_old_results(needle_root, tmp_path):
    # the model is a local folder; the same path with other weights (retrained into it) must not resume the run
    from love_r1._sqlite import StoreError
    from love_r1.eval.store import model_fingerprint

    model = tmp_path / "ckpt"
    model.mkdir()
    weights = model / "model.safetensors"
    weights.write_bytes(bytes(range(256)) * 9000)  # > 2 MiB: the start and end blocks are read
    (model / "config.json").write_text("{}")
    first = model_fingerprint(str(model))
    bench = make_benchmark("needle", needle_root)

    def run(limit=None):
        return evaluate(bench, ScriptedBackend(), EvalConfig(run_dir=tmp_path / "run", model=str(model), limit=limit),
                        progress=False)

    key, state = run(limit=2)
    assert state.done == 2
    assert read_run(tmp_path / "run").provenance[-1]["model_fingerprint"] == first
    _, again = run()  # same files: resumes
    assert again.skipped_finished == 2 and again.done == len(bench.load()) - 2
    # retrained in place: one byte near the end of the weights changes
    data = bytearray(weights.read_bytes())
    data[-10] ^= 1
    weights.write_bytes(bytes(data))
    assert model_fingerprint(str(model)) != first
    with pytest.raises(StoreError, match=r"other files at the checkpoint .*another --out"):
        run()
    assert len(_rows(tmp_path / "run")) == len(bench.load())  # nothing stored over the old results
    # a model that is not a folder (a hub id, an API model name) has no fingerprint
    assert model_fingerprint("Qwen/Qwen2.5-VL-7B-Instruct") is None
