"""Configs say what they do: every accepted field is honoured; unknown and inert fields are clear errors."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
import yaml

from love_r1.cli import main
from love_r1.train.configs import ConfigError, ZoomGRPOConfig, ZoomSFTConfig, describe_fields, load_config

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "love_r1"


def _yaml(tmp_path, values) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


@pytest.mark.parametrize(("cls", "path"), [
    (ZoomSFTConfig, "configs/sft/stage1.yaml"), (ZoomSFTConfig, "configs/sft/stage2.yaml"),
    (ZoomSFTConfig, "configs/sft/tiny.yaml"), (ZoomGRPOConfig, "configs/grpo/stage3.yaml"),
    (ZoomGRPOConfig, "configs/grpo/tiny.yaml"),
])
def test_shipped_configs_load(cls, path):
    config = load_config(cls, REPO / path, ["--bf16", "false", "--use_cpu", "true"])
    assert config.clip_preset == "reference" and config.freeze_vision_tower and not config.train_merger


def test_unknown_yaml_key_names_file_field_and_closest_fields(tmp_path):
    path = _yaml(tmp_path, {"learning_rat": 1e-5})
    with pytest.raises(ConfigError, match=r"c\.yaml: 'learning_rat' is not a field of ZoomGRPOConfig; did you mean "
                                          r"learning_rate\?"):
        load_config(ZoomGRPOConfig, path, stage="grpo")


@pytest.mark.parametrize(("name", "instead"), [
    ("gradient_accumulation_steps", "prompts_per_update"), ("per_device_train_batch_size", "micro_batch_size"),
    ("beta", "no KL term"), ("num_iterations", "alternate_steps"), ("reward_weights", "accuracy_weight"),
    ("loss_type", "clipped surrogate"), ("scale_rewards", "advantage_epsilon"), ("use_vllm", "HF generate"),
    ("min_zoom_seconds", "min_clip_seconds"), ("zoom_repeat_iou", "repeat_iou"),
])
def test_trl_grpo_fields_the_trainer_does_not_honour_are_rejected_with_the_alternative(name, instead):
    with pytest.raises(ConfigError, match=instead):
        load_config(ZoomGRPOConfig, None, [f"--{name}", "1"], stage="grpo")


@pytest.mark.parametrize(("values", "message"), [
    ({"max_length": 1024}, "max_sample_tokens"), ({"packing": True}, "not packed"),
    ({"assistant_only_loss": True}, "loss_on_prompt"), ({"dataset_text_field": "x"}, "train_file"),
    ({"do_eval": True}, "no evaluation set"), ({"eos_token": "<x>"}, "video collator"),
])
def test_sft_fields_the_collator_replaces_are_rejected(tmp_path, values, message):
    with pytest.raises(ConfigError, match=message):
        load_config(ZoomSFTConfig, _yaml(tmp_path, values))
    with pytest.raises(ConfigError, match=message):  # also when built in Python
        ZoomSFTConfig(output_dir=str(tmp_path), use_cpu=True, bf16=False, **values)


def test_sft_keeps_trainer_fields_that_work(tmp_path):
    config = load_config(ZoomSFTConfig, _yaml(tmp_path, {"learning_rate": 2e-5, "loss_type": "dft",
                                                         "lr_scheduler_type": "cosine", "use_cpu": True}))
    assert (config.learning_rate, config.loss_type, config.lr_scheduler_type) == (2e-5, "dft", "cosine")


@pytest.mark.parametrize(("override", "message"), [
    (["--prompts_per_update", "0"], "prompts_per_update=0 must be >= 1"),
    (["--warmup_ratio", "1.5"], "warmup_ratio"),
    (["--min_clip_seconds", "90"], "min_clip_seconds <= max_clip_seconds"),
    (["--accuracy_weight", "0", "--format_weight", "0"], "nothing to learn"),
    (["--lr_scheduler_type", "polynomial"], "invalid choice"),
    (["--top_k", "many"], "invalid int"),
])
def test_grpo_values_are_checked(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(ZoomGRPOConfig, None, override, stage="grpo")


def _attributes_read(*paths: Path) -> set[str]:
    names: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute):
                names.add(node.attr)
    return names


def test_every_grpo_field_is_read_by_the_trainer():
    """A field nobody reads would be accepted and ignored: the trainer's modules must read each one."""
    read = _attributes_read(SRC / "train" / "grpo.py", SRC / "train" / "_rollout.py", SRC / "train" / "_setup.py",
                            SRC / "cli" / "train.py")
    from love_r1.train.configs import _FRAME_OVERRIDES

    read |= set(_FRAME_OVERRIDES) | {"clip_preset"}  # read by ZoomGRPOConfig.clip_policy()
    unread = sorted(f.name for f in dataclasses.fields(ZoomGRPOConfig) if f.name not in read)
    assert unread == []


def test_list_options_prints_every_field_and_nothing_else(capsys):
    assert main(["train", "grpo", "--list-options"]) == 0
    out = capsys.readouterr().out
    listed = {line.split()[0][2:].replace("-", "_") for line in out.splitlines()[1:]}  # flags: --learning-rate
    assert listed == {name for name, _, _ in describe_fields(ZoomGRPOConfig)} == ZoomGRPOConfig.settable_fields()
    assert "gradient_accumulation_steps" not in listed and "beta" not in listed and len(listed) < 60
    assert main(["train", "sft", "--list-options"]) == 0
    sft = {line.split()[0][2:].replace("-", "_") for line in capsys.readouterr().out.splitlines()[1:]}
    assert "learning_rate" in sft and "max_sample_tokens" in sft and not sft & {"packing", "max_length", "do_eval"}


def test_cli_reports_a_bad_field_without_a_traceback(tmp_path, capsys):
    assert main(["train", "grpo", "--config", str(_yaml(tmp_path, {"beta": 0.1}))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "'beta' is not a field of ZoomGRPOConfig" in err and "Traceback" not in err
