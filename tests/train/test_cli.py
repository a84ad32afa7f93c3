"""`love-r1 train sft|grpo --config X.yaml`: pre-flight report, loadable checkpoints, metrics files."""

from __future__ import annotations

import json

import yaml

from love_r1.cli import main
from tests.helpers.train import CPU, GRPO_CPU, SMALL, grpo_records, sft_records, write_jsonl


def _yaml(tmp_path, name, values):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(values))
    return path


def test_train_sft_and_grpo_from_yaml(tmp_path, tiny_dir, video_root, capsys):
    from love_r1.backends.hf import HFBackend

    bad = {"video": "gone.mp4", "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    sft_file = write_jsonl(tmp_path / "sft.jsonl", sft_records() + [bad])
    config = _yaml(tmp_path, "sft.yaml", {
        "model_name_or_path": str(tiny_dir), "train_file": str(sft_file), "video_root": str(video_root),
        "output_dir": str(tmp_path / "sft_out"), "per_device_train_batch_size": 2, "max_steps": 1, "logging_steps": 1,
        **SMALL, **CPU})
    assert main(["train", "sft", "--config", str(config), "--learning-rate", "1e-4"]) == 0
    out = capsys.readouterr().out
    assert "pre-flight: 4 sample(s) used, 1 issue(s) skipped" in out and "missing video" in out
    assert "1 optimizer step(s)" in out
    state = json.loads((tmp_path / "sft_out" / "trainer_state.json").read_text())
    assert state["global_step"] == 1 and state["log_history"][0]["learning_rate"] == 1e-4
    assert HFBackend.from_pretrained(str(tmp_path / "sft_out"), device="cpu", dtype="float32") is not None

    grpo_file = write_jsonl(tmp_path / "grpo.jsonl", grpo_records())
    config = _yaml(tmp_path, "grpo.yaml", {
        "model_name_or_path": str(tmp_path / "sft_out"), "train_file": str(grpo_file), "video_root": str(video_root),
        "output_dir": str(tmp_path / "grpo_out"), "prompts_per_update": 1, "micro_batch_size": 2,
        "num_generations": 2, "max_steps": 1, "max_completion_length": 3, **SMALL, **GRPO_CPU})
    assert main(["train", "grpo", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "reward step1" in out and "1 process(es), 1 optimizer step(s)" in out
    (metrics,) = [json.loads(line) for line in (tmp_path / "grpo_out" / "metrics.jsonl").read_text().splitlines()]
    assert metrics["optimizer_steps"] == 1 and metrics["num_samples"] == 4  # 1 prompt x 2 rollouts x 2 steps
    assert HFBackend.from_pretrained(str(tmp_path / "grpo_out"), device="cpu", dtype="float32") is not None
