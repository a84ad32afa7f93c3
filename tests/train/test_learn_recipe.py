"""The learn-to-zoom recipe's configs load and say what they do; ``clip_max_frames`` caps every clip rule;
GRPO logs each reward's mean per step."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from love_r1.train.configs import ConfigError, ZoomGRPOConfig, ZoomSFTConfig, load_config
from love_r1.train.sampling import max_frames_per_clip

REPO = Path(__file__).resolve().parents[2]
LEARN = REPO / "configs" / "learn"


@pytest.mark.parametrize(("name", "cls"), [("sft_stage1", ZoomSFTConfig), ("sft_stage2_zoom", ZoomSFTConfig),
                                           ("sft_stage2", ZoomSFTConfig), ("sft_uniform", ZoomSFTConfig),
                                           ("grpo", ZoomGRPOConfig)])
def test_learn_training_configs_load_with_the_recipe_budgets(name, cls):
    config = load_config(cls, LEARN / f"{name}.yaml")
    policy = config.clip_policy()
    assert (policy.fast_max_frames, policy.fast_pixels_per_frame, policy.clip_pixels_per_frame) == (60, 784, 12544)
    for kind in ("cot", "grounding", "qa", "grpo"):
        for clips in (1, 2, 3):
            assert max_frames_per_clip(num_clips=clips, kind=kind, policy=policy) == 6
    # random weights: the vision tower learns in stage 1 (and the uniform baseline); the zoom stages after it
    # keep stage 1's stripe features
    assert config.freeze_vision_tower == (name in ("sft_stage2_zoom", "sft_stage2", "grpo")) and config.use_cpu


def test_learn_eval_configs_parse_with_the_same_budgets():
    from love_r1.cli._args import load_yaml_options
    from love_r1.cli.eval import Options

    names = {f.name for f in dataclasses.fields(Options)}
    for name, method in (("eval_zoom", "zoom"), ("eval_uniform", "stage1")):
        options = Options(**load_yaml_options(LEARN / f"{name}.yaml", names))
        assert options.method == method and options.benchmark == "needle"
        assert (options.fast_max_frames, options.fast_pixels_per_frame) == (60, 784)
        assert (options.clip_max_frames, options.clip_pixels_per_frame) == (6, 12544)


def test_clip_max_frames_overrides_every_preset_rule_and_is_checked(tmp_path):
    cpu = ["--output_dir", str(tmp_path), "--use_cpu", "true", "--bf16", "false"]
    base = load_config(ZoomSFTConfig, None, cpu)
    assert max_frames_per_clip(num_clips=2, kind="cot", policy=base.clip_policy()) == 24
    capped = load_config(ZoomSFTConfig, None, [*cpu, "--clip_max_frames", "3"])
    assert [max_frames_per_clip(num_clips=n, kind=k, policy=capped.clip_policy())
            for k in ("cot", "qa", "grpo") for n in (1, 2, 4)] == [3] * 9
    with pytest.raises(ConfigError, match="clip_max_frames=0"):
        load_config(ZoomGRPOConfig, None, ["--clip_max_frames", "0"])


def test_grpo_metrics_hold_each_reward_mean_per_step(tmp_path, video_root, tiny):
    from love_r1.train.grpo import make_grpo_trainer
    from love_r1.train.records import load_records
    from tests.helpers.train import GRPO_CPU, SMALL, grpo_records, write_jsonl

    records = load_records(write_jsonl(tmp_path / "grpo.jsonl", grpo_records()))[0]
    seen = []

    def first(completions, completion_ids, **kwargs):  # the "accuracy": 1 when the first token id is even
        values = [1.0 if ids and ids[0] % 2 == 0 else 0.0 for ids in completion_ids]
        seen.append((list(kwargs["step"]), values))
        return values

    def well_formed(completions, **kwargs):  # the "format" (the second function): never zeroes the first
        return [1.0] * len(completions)

    def third(completions, step, **kwargs):  # only step-2 samples get a value
        return [0.25 if s == 2 else None for s in step]

    model, processor = tiny
    config = ZoomGRPOConfig(output_dir=str(tmp_path / "out"), prompts_per_update=2, num_generations=3,
                            micro_batch_size=12, max_steps=2, max_completion_length=2, learning_rate=1e-3,
                            video_root=str(video_root), **SMALL, **GRPO_CPU)
    trainer = make_grpo_trainer(config, model=model, processor=processor, records=records,
                                reward_funcs=[first, well_formed, third], reward_weights=[1.0, 1.0, 1.0])
    history = trainer.train()
    lines = [json.loads(line) for line in (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()]
    for metrics, logged, (steps, values) in zip(history, lines, seen, strict=True):
        for k in (1, 2):
            chosen = [v for s, v in zip(steps, values, strict=True) if s == k]
            assert metrics[f"reward0_step{k}"] == pytest.approx(sum(chosen) / len(chosen))
        assert metrics["reward1_step1"] == metrics["reward1_step2"] == 1.0
        assert metrics["reward2_step2"] == pytest.approx(0.25)
        assert metrics["reward2_step1"] != metrics["reward2_step1"]  # NaN: no step-1 sample has a value
        assert logged["reward0_step1"] == pytest.approx(metrics["reward0_step1"])
