"""The eval pipeline driving the real transformers backend on a tiny random Qwen2.5-VL."""

from __future__ import annotations

from love_r1.agent.policy import ZoomPolicy
from love_r1.backends import SamplingParams
from love_r1.eval.benchmarks import make_benchmark
from love_r1.eval.config import EvalConfig
from love_r1.eval.report import summarize
from love_r1.eval.runner import evaluate
from love_r1.eval.store import read_run
from tests.helpers.markers import requires_torch

pytestmark = requires_torch


def test_tiny_hf_model_zoom_and_uniform(needle_root, tmp_path):
    from love_r1.backends.hf import HFBackend
    from tests.fixtures import tiny_qwen as tq

    model, processor = tq.build_tiny("qwen2_5_vl")
    backend = HFBackend(model, processor)
    policy = ZoomPolicy(fast_max_frames=8, fast_pixels_per_frame=56 * 56, clip_max_frames=4,
                        clip_pixels_per_frame=56 * 56, short_video_factor=1, overlay=False,
                        sampling=SamplingParams(max_new_tokens=4))
    bench = make_benchmark("needle", needle_root)
    _, state = evaluate(bench, backend, EvalConfig(run_dir=tmp_path / "zoom", model="tiny", policy=policy, limit=2, concurrency=2), progress=False)
    assert (state.done, state.errors) == (2, 0)
    summary = summarize(read_run(tmp_path / "zoom"))
    # random weights write no box: every item is an extraction failure or a lucky option text, never an error
    assert summary["num_items"] == 2 and summary["num_errors"] == 0
    assert summary["cost"]["prompt_tokens_per_question"] > 0
    _, state = evaluate(bench, backend, EvalConfig(run_dir=tmp_path / "uniform", model="tiny", policy=policy, limit=2, method="uniform", num_frames=4, pixels_per_frame=56 * 56), progress=False)
    assert (state.done, state.errors) == (2, 0)
    run = read_run(tmp_path / "uniform")
    assert all(row.episode["steps"][0]["usage"]["prompt_tokens"] > 0 for row in run.items)


def test_tiny_hf_model_stage1_and_no_visual_probe(needle_root, tmp_path):
    from love_r1.backends.hf import HFBackend
    from tests.fixtures import tiny_qwen as tq

    model, processor = tq.build_tiny("qwen2_5_vl")
    backend = HFBackend(model, processor)
    policy = ZoomPolicy(fast_max_frames=8, fast_pixels_per_frame=56 * 56, clip_max_frames=4,
                        clip_pixels_per_frame=56 * 56, short_video_factor=1, overlay=False,
                        sampling=SamplingParams(max_new_tokens=4))
    bench = make_benchmark("needle", needle_root)
    tokens = {}
    for probe in ("none", "no-visual"):
        _, state = evaluate(bench, backend, EvalConfig(run_dir=tmp_path / probe, model="tiny", policy=policy, limit=2, method="stage1", concurrency=2, probe=probe), progress=False)
        assert (state.done, state.errors) == (2, 0)
        run = read_run(tmp_path / probe)
        assert all(len(row.episode["steps"]) == 1 for row in run.items)
        tokens[probe] = [row.episode["steps"][0]["usage"]["vision_tokens"] for row in run.items]
    # one black frame per clip (padded to a frame pair) costs fewer vision tokens than 8 + 4 real frames
    assert all(0 < blind < real for blind, real in zip(tokens["no-visual"], tokens["none"], strict=True))
    _, state = evaluate(bench, backend, EvalConfig(run_dir=tmp_path / "uni", model="tiny", policy=policy, limit=2, method="uniform", num_frames=4, pixels_per_frame=56 * 56, probe="no-visual"), progress=False)
    assert (state.done, state.errors) == (2, 0)
    assert all(row.episode["steps"][0]["usage"]["vision_tokens"] == 0 for row in read_run(tmp_path / "uni").items)
