"""`love-r1 train sft|grpo --config X.yaml`: TrlParser configs, pre-flight report, loadable checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from love_r1.cli import main
from love_r1.cli.train import parse_config
from tests.train.conftest import CPU, GRPO_CPU, SMALL, grpo_records, sft_records, write_jsonl

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("stage", "path"), [("sft", "configs/sft/stage1.yaml"), ("sft", "configs/sft/stage2.yaml"),
                                             ("grpo", "configs/grpo/stage3.yaml")])
def test_shipped_configs_parse(stage, path):
    config = parse_config(stage, REPO / path, ["--bf16", "false", "--use_cpu", "true", "--output_dir", "/tmp/x"])
    assert config.clip_preset == "reference" and config.freeze_vision_tower
    assert config.max_grad_norm == 5.0


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
        "output_dir": str(tmp_path / "sft_out"), "per_device_train_batch_size": 2, "max_steps": 1, **SMALL, **CPU})
    assert main(["train", "sft", "--config", str(config), "--", "--learning_rate", "1e-4"]) == 0
    out = capsys.readouterr().out
    assert "pre-flight: 4 sample(s) used, 1 issue(s) skipped" in out and "missing video" in out
    assert HFBackend.from_pretrained(str(tmp_path / "sft_out"), device="cpu", dtype="float32") is not None

    grpo_file = write_jsonl(tmp_path / "grpo.jsonl", grpo_records())
    config = _yaml(tmp_path, "grpo.yaml", {
        "model_name_or_path": str(tmp_path / "sft_out"), "train_file": str(grpo_file), "video_root": str(video_root),
        "output_dir": str(tmp_path / "grpo_out"), "prompts_per_update": 1, "micro_batch_size": 2,
        "num_generations": 2, "max_steps": 1, "max_completion_length": 3, **SMALL, **GRPO_CPU})
    assert main(["train", "grpo", "--config", str(config)]) == 0
    assert "reward step1" in capsys.readouterr().out
    assert HFBackend.from_pretrained(str(tmp_path / "grpo_out"), device="cpu", dtype="float32") is not None
