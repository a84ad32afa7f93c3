"""MVBench TVQA: frame-folder videos run end to end (scripted backend) instead of erroring."""

from __future__ import annotations

import numpy as np
from PIL import Image

from love_r1.backends.scripted import ScriptedBackend
from love_r1.eval.benchmarks import make_benchmark
from love_r1.eval.benchmarks.mvbench import _FOLDER_FPS
from love_r1.eval.config import EvalConfig
from love_r1.eval.preflight import preflight
from love_r1.eval.report import summarize
from love_r1.eval.runner import evaluate
from love_r1.eval.store import read_run
from love_r1.synth import draw_frame_index, write_indexed_video
from love_r1.video import FRAME_FOLDER_DEFAULT_FPS
from tests.helpers.eval import write_json


def _mvbench_root(tmp_path):
    root = tmp_path / "mvb"
    clip = root / "video" / "tvqa" / "frames_fps3_hq" / "castle_s01e01_seg02_clip_00"
    clip.mkdir(parents=True)
    for i in range(1, 37):  # 36 frames at 3 fps = 12 s; 1.jpg .. 36.jpg
        rgb = draw_frame_index(np.zeros((96, 128, 3), dtype=np.uint8), frame_index=i - 1)
        Image.fromarray(rgb).save(clip / f"{i}.jpg", quality=95)
    write_json(root / "json" / "episodic_reasoning.json", [{
        "video": "castle_s01e01_seg02_clip_00", "question": "What does Castle hold?",
        "candidates": ["a book", "a cup", "a phone"], "answer": "a book", "start": 1.5, "end": 9.0}])
    write_indexed_video(root / "video" / "ssv2_video" / "1.mp4", duration_seconds=2.0, fps=10.0,
                        width=128, height=96)
    write_json(root / "json" / "action_antonym.json", [{
        "video": "1.mp4", "question": "What is the action?", "candidates": ["push", "pull"], "answer": "push"}])
    return root


def test_folder_fps_matches_engine_default():
    assert _FOLDER_FPS == {"episodic_reasoning": FRAME_FOLDER_DEFAULT_FPS}


def test_tvqa_folder_item_is_scored(tmp_path):
    bench = make_benchmark("mvbench", _mvbench_root(tmp_path))
    samples = {s.qid: s for s in bench.load()}
    tvqa = samples["episodic_reasoning_0"]
    assert tvqa.video_path.is_dir() and tvqa.video_path.name == "castle_s01e01_seg02_clip_00"
    report = preflight(list(samples.values()))
    assert not report.missing and not report.corrupt

    key, state = evaluate(bench, ScriptedBackend(), EvalConfig(run_dir=tmp_path / "run", model="m"), progress=False)
    assert state.done == 2
    run = read_run(tmp_path / "run", config_hash_=key)
    summary = summarize(run)
    assert summary["num_errors"] == 0
    # the scripted policy answers the first option: gold is A for both items
    assert summary["breakdowns"]["task"]["episodic_reasoning"]["accuracy"] == 1.0
    assert summary["micro_accuracy"] == 1.0
