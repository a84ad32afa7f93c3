"""``EvalConfig`` validation, the run-store key kept stable across the runner split, the CLI's choices."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from love_r1.agent.policy import ZoomPolicy
from love_r1.eval.benchmarks import make_benchmark
from love_r1.eval.config import EvalConfig, run_config
from love_r1.eval.store import config_hash


def legacy_run_config(*, benchmark, policy, model, method, num_frames, pixels_per_frame, probe="none",
                      probe_seed=0, extra=None) -> dict[str, Any]:
    """The configuration of the runner before the split (transcribed from ``runner.py::run_config`` at the
    commit before this change): what the stored runs' hashes were computed from."""
    config = {
        "benchmark": benchmark.name, "prompt_preset": benchmark.prompt_preset, "subtitles": benchmark.subtitles,
        "prompt_text_version": 1, "data_revision": benchmark.data_revision(), "model": model, "method": method,
    }
    if benchmark.subtitles:
        config["subtitle_mode"] = benchmark.subtitle_mode
    if probe != "none":
        config["probe"] = probe
        if probe == "shuffled-options":
            config["probe_seed"] = probe_seed
    if method in ("zoom", "stage1"):
        config["policy"] = policy.to_dict()
    else:
        config.update(num_frames=num_frames, pixels_per_frame=pixels_per_frame,
                      sampling={"max_new_tokens": policy.sampling.max_new_tokens,
                                "temperature": policy.sampling.temperature})
    config.update(extra or {})
    return config


@pytest.mark.parametrize("method, probe, seed, frames, pixels", [
    ("zoom", "none", 0, None, None), ("stage1", "none", 0, None, None), ("uniform", "none", 0, None, None),
    ("uniform", "none", 0, 32, 64 * 28 * 28), ("zoom", "shuffled-options", 3, None, None),
    ("uniform", "no-visual", 0, 8, None),
])
def test_run_config_hash_is_unchanged_by_the_runner_split(needle_root, tmp_path, method, probe, seed, frames, pixels):
    bench = make_benchmark("needle", needle_root)
    policy = ZoomPolicy.preset("reference")
    new = run_config(bench, EvalConfig(run_dir=tmp_path, model="m", method=method, policy=policy, num_frames=frames,
                                       pixels_per_frame=pixels, probe=probe, probe_seed=seed,
                                       backend={"backend": "scripted"}))
    old = legacy_run_config(benchmark=bench, policy=policy, model="m", method=method, num_frames=frames or 128,
                            pixels_per_frame=pixels or 256 * 28 * 28, probe=probe, probe_seed=seed,
                            extra={"backend": "scripted"})
    assert new == old and config_hash(new) == config_hash(old)


def test_uniform_runs_on_another_time_base_get_their_own_hash(needle_root, tmp_path):
    """The uniform method picks its frames on the policy's time base, so a run on the index base must not resume
    into (or be reported as) a presentation-base run; the default keeps the hashes of existing runs."""
    bench = make_benchmark("needle", needle_root)
    hashes = {}
    for time_base in ("presentation", "index"):
        config = EvalConfig(run_dir=tmp_path, model="m", method="uniform",
                            policy=ZoomPolicy.preset("reference", time_base=time_base))
        hashes[time_base] = run_config(bench, config)
    assert "time_base" not in hashes["presentation"] and hashes["index"]["time_base"] == "index"
    assert config_hash(hashes["presentation"]) != config_hash(hashes["index"])
    with pytest.raises(ValueError, match=r"must not set the configuration's own keys \['time_base'\]"):
        EvalConfig(run_dir=tmp_path, model="m", backend={"time_base": "index"})


def test_benchmark_settings_enter_the_hash_only_where_an_adapter_has_them(tmp_path):
    from tests.helpers.eval import write_json

    write_json(tmp_path / "cgbench_mini.json", [])
    write_json(tmp_path / "cgbench.json", [])
    config = EvalConfig(run_dir=tmp_path, model="m")
    mini = run_config(make_benchmark("cgbench", tmp_path), config)
    full = run_config(make_benchmark("cgbench", tmp_path, split="full"), config)
    assert mini["benchmark_settings"] == {"split": "mini"} and full["benchmark_settings"] == {"split": "full"}
    assert config_hash(mini) != config_hash(full)
    with pytest.raises(TypeError):
        make_benchmark("needle", tmp_path, split="full")  # adapter options belong to their adapter
    with pytest.raises(ValueError, match=r"CG-Bench split 'all' is not one of \('mini', 'full'\)"):
        make_benchmark("cgbench", tmp_path, split="all")


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "beam"}, r"method must be one of \('zoom', 'stage1', 'uniform'\), got 'beam'"),
    ({"probe": "blind"}, r"probe must be one of \('none', 'no-visual', 'shuffled-options'\)"),
    ({"num_frames": 64}, r"num_frames=64 is only used by method='uniform' \(got method='zoom'\)"),
    ({"method": "uniform", "pixels_per_frame": 0}, r"pixels_per_frame must be an int >= 1, got 0"),
    ({"shard_index": 2, "num_shards": 2}, r"shard 2/2 is invalid"),
    ({"concurrency": 0}, r"concurrency must be >= 1 questions in flight, got 0"),
    ({"limit": -1}, r"limit must be >= 0 questions, got -1"),
    ({"probe_seed": 4}, r"probe_seed=4 is only used by probe='shuffled-options'"),
    ({"model": ""}, r"EvalConfig.model must be a non-empty string"),
    ({"prefetch_workers": -1}, r"prefetch_workers must be >= 0 threads"),
])
def test_eval_config_rejects_what_no_code_would_honour(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        EvalConfig(**{"run_dir": tmp_path, "model": "m", **kwargs})


def test_uniform_defaults_and_policy_resolution(needle_root, tmp_path):
    config = EvalConfig(run_dir=str(tmp_path), model="m", method="uniform")
    assert (config.uniform_frames, config.uniform_pixels_per_frame) == (128, 256 * 28 * 28)
    assert config.run_dir == tmp_path
    mlvu = make_benchmark("mlvu", tmp_path)
    assert EvalConfig(run_dir=tmp_path, model="m").resolved_policy(mlvu).name == "mlvu"
    assert EvalConfig(run_dir=tmp_path, model="m", method="stage1").resolved_policy(mlvu).name == "reference"


def test_closed_sets_are_derived_from_their_literals():
    from love_r1.agent.steps import STOP_REASONS, StopReason
    from love_r1.eval.benchmarks import BENCHMARK_NAMES, PROMPT_PRESETS, BenchmarkName, PromptPreset
    from love_r1.eval.config import METHODS, Method
    from love_r1.eval.extract import EXTRACTOR_MODES, ExtractorMode
    from love_r1.eval.probes import PROBES, Probe
    from love_r1.eval.subtitles import SUBTITLE_MODES, SubtitleMode

    for values, literal in ((STOP_REASONS, StopReason), (BENCHMARK_NAMES, BenchmarkName), (METHODS, Method),
                            (PROMPT_PRESETS, PromptPreset), (EXTRACTOR_MODES, ExtractorMode), (PROBES, Probe),
                            (SUBTITLE_MODES, SubtitleMode)):
        assert values == get_args(literal)
