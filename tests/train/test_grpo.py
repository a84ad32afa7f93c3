"""Decoupled GRPO: the loss pass sees the sampling pass's video inputs and positions; a toy reward is learned."""

from __future__ import annotations

import json
import math

import pytest
import torch

from love_r1.backends.qwen_inputs import mrope_position_ids
from love_r1.train.configs import ZoomGRPOConfig
from love_r1.train.grpo import clipped_loss, make_grpo_trainer
from love_r1.train.records import load_records
from tests.helpers.train import GRPO_CPU, SMALL, grpo_records, write_jsonl


def _config(tmp_path, video_root, **overrides):
    values = dict(output_dir=str(tmp_path / "out"), prompts_per_update=1, micro_batch_size=8, num_generations=8,
                  max_steps=8, learning_rate=3e-2, max_completion_length=1, lr_scheduler_type="constant", seed=0,
                  video_root=str(video_root), **SMALL, **GRPO_CPU)
    values.update(overrides)
    return ZoomGRPOConfig(**values)


def _even_first_token(completions, completion_ids, **kwargs):
    return [1.0 if ids and ids[0] % 2 == 0 else 0.0 for ids in completion_ids]


@pytest.fixture
def records(tmp_path):
    return load_records(write_jsonl(tmp_path / "grpo.jsonl", grpo_records()))[0]


def test_loss_pass_positions_and_video_inputs_equal_the_sampling_pass(tmp_path, video_root, records, tiny):
    model, processor = tiny
    trainer = make_grpo_trainer(_config(tmp_path, video_root, num_generations=4, micro_batch_size=4,
                                        max_completion_length=3),
                                model=model, processor=processor, records=records[1:])  # b.mp4: 20 s at 5 fps
    calls = []

    def spy(module, args, kwargs):
        if kwargs.get("position_ids") is not None and kwargs["input_ids"].shape[1] > 1:  # prefill and loss forwards
            calls.append({"grad": torch.is_grad_enabled(), "ids": kwargs["input_ids"].clone(),
                          "positions": kwargs["position_ids"].clone(),
                          "second_per_grid_ts": kwargs.get("second_per_grid_ts")})

    forwards = []
    model.register_forward_pre_hook(
        lambda module, args, kwargs: forwards.append((torch.is_grad_enabled(), sorted(kwargs))), with_kwargs=True)
    model.register_forward_pre_hook(spy, with_kwargs=True)
    samples = trainer.rollout(trainer._next_records())
    trainer.update(samples)
    # sampling prefill of step 1 (G identical rows) vs the loss pass over that step's samples
    sampling = next(c for c in calls if not c["grad"])
    loss = [c for c in calls if c["grad"]][0]
    first = samples[0]
    prompt_len = int(first.prompt_inputs["input_ids"].shape[1])
    assert torch.equal(loss["ids"][0, :prompt_len], sampling["ids"][0, :prompt_len])
    assert torch.equal(loss["positions"][:, 0, :prompt_len], sampling["positions"][:, 0, :prompt_len])
    spgt = first.prompt_inputs["second_per_grid_ts"]
    assert torch.equal(loss["second_per_grid_ts"][: len(spgt)], spgt)
    assert float(spgt[0]) != 1.0  # the fast view is not 2 fps: dropping the value would change the time ids
    without = mrope_position_ids(loss["ids"][:1], config=model.config, second_per_grid_ts=torch.ones_like(spgt),
                                 video_grid_thw=first.prompt_inputs["video_grid_thw"])
    assert not torch.equal(without[:, 0, :prompt_len], loss["positions"][:, 0, :prompt_len])
    grad_forwards = [keys for grad, keys in forwards if grad]
    assert grad_forwards and all({"pixel_values_videos", "video_grid_thw", "second_per_grid_ts",
                                  "mm_token_type_ids", "position_ids"} <= set(k) for k in grad_forwards)
    # step-2 prompts are their own samples; grounding step 2 has the zoom phrase pre-filled
    assert {s.step for s in samples} == {1, 2} and all(s.assistant_prefix for s in samples)


def test_probability_of_the_rewarded_reply_rises(tmp_path, video_root, records, tiny):
    model, processor = tiny
    trainer = make_grpo_trainer(_config(tmp_path, video_root), model=model, processor=processor, records=records[:1],
                                reward_funcs=[_even_first_token], reward_weights=[1.0])
    inputs, _ = trainer._prompt_inputs(records[0], records[0].clips, "")

    def p_even_first_token() -> float:
        with torch.no_grad():
            model.model.rope_deltas = None
            probs = model(**inputs).logits[0, -1].float().softmax(-1)
        return float(probs[0::2].sum())

    before = p_even_first_token()
    history = trainer.train()
    after = p_even_first_token()
    assert after > before + 0.2
    assert len(history) == 8 and history[-1]["reward_step1"] >= history[0]["reward_step1"]


def test_alternating_schedule_trains_stored_step2_samples_without_new_rollouts(tmp_path, video_root, records, tiny):
    model, processor = tiny
    trainer = make_grpo_trainer(_config(tmp_path, video_root, alternate_steps=True, num_generations=2,
                                        micro_batch_size=2, max_steps=2),
                                model=model, processor=processor, records=records[:1],
                                reward_funcs=[_even_first_token], reward_weights=[1.0])
    first, second = trainer.step(), trainer.step()
    assert first["rollout_seconds"] > 0 and second["rollout_seconds"] == 0.0
    assert first["num_samples"] == second["num_samples"] == 2


def test_clipped_loss_hand_computed():
    logps = torch.log(torch.tensor([[0.5, 0.5], [0.3, 1.0]]))
    old = torch.log(torch.tensor([[0.25, 0.5], [0.3, 1.0]]))
    advantages = torch.tensor([1.0, -2.0])
    mask = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    # ratios [2, 1], [1, -]; A=1: -min(2, 1.2) = -1.2, -1; A=-2: -min(-2, -2) = 2  -> (-1.2 - 1 + 2) / 3
    loss = clipped_loss(logps, old, advantages, mask, epsilon=0.2)
    assert float(loss) == pytest.approx((-1.2 - 1.0 + 2.0) / 3)


def test_one_update_is_one_optimizer_step_and_the_schedule_advances_once(tmp_path, video_root, records, tiny):
    """3 micro-batches per update: one optimizer step, one scheduler step, 3 forward/backward passes."""
    model, processor = tiny
    config = _config(tmp_path, video_root, prompts_per_update=2, num_generations=2, micro_batch_size=3, max_steps=3,
                     lr_scheduler_type="cosine", learning_rate=1e-3, max_completion_length=2)
    trainer = make_grpo_trainer(config, model=model, processor=processor, records=records,
                                reward_funcs=[_even_first_token], reward_weights=[1.0])
    assert (trainer.plan.samples_per_process, trainer.plan.micro_batches) == (8, 3)  # 2 prompts x 2 rollouts x 2 steps
    passes = []
    model.register_forward_pre_hook(lambda module, args, kwargs: passes.append(torch.is_grad_enabled()),
                                    with_kwargs=True)
    history = trainer.train()
    assert [h["optimizer_steps"] for h in history] == [1.0, 2.0, 3.0]
    # cosine over 3 updates, read before each update: lr * (1 + cos(pi * k / 3)) / 2
    expected = [1e-3 * (1 + math.cos(math.pi * k / 3)) / 2 for k in range(3)]
    assert [h["learning_rate"] for h in history] == pytest.approx(expected)
    assert sum(passes) == 3 * 3  # gradient passes: micro-batches per update x updates
    lines = (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1.0, 2.0, 3.0]


def test_masked_samples_stay_in_their_micro_batch_with_no_weight(tmp_path, video_root, records, tiny, monkeypatch):
    """Masking every rollout of one record changes no pass count; the masked samples contribute no gradient."""
    from love_r1.train.grpo import DecoupledGRPOTrainer

    model, processor = tiny
    original = DecoupledGRPOTrainer._advantages

    def mask_record_0(self, samples):
        for s in samples:
            s.masked = s.masked or s.record_index == 0
        original(self, samples)

    monkeypatch.setattr(DecoupledGRPOTrainer, "_advantages", mask_record_0)
    # learning rate 0: the weights stay put, so repeated updates on the same samples give comparable gradients
    config = _config(tmp_path, video_root, prompts_per_update=2, num_generations=2, micro_batch_size=3, max_steps=1,
                     learning_rate=0.0, max_grad_norm=1e9)
    trainer = make_grpo_trainer(config, model=model, processor=processor, records=records,
                                reward_funcs=[_even_first_token], reward_weights=[1.0])
    trainer.model.eval()
    samples = trainer.rollout(trainer._next_records())
    masked = [s for s in samples if s.masked]
    assert len(masked) == 4 and all(s.advantage == 0 for s in masked)
    for i, s in enumerate(s for s in samples if not s.masked):  # a gradient for sure
        s.advantage = 1.0 if i % 2 else -1.0
    passes = []
    handle = model.register_forward_pre_hook(lambda module, args, kwargs: passes.append(torch.is_grad_enabled()),
                                             with_kwargs=True)
    trainer.update(samples)
    handle.remove()
    assert sum(passes) == trainer.plan.micro_batches == 3
    baseline = trainer.grad_norm
    for s in masked:
        s.advantage = 100.0
    trainer.update(samples)
    assert baseline > 0 and trainer.grad_norm == pytest.approx(baseline, rel=1e-6)  # masked: no weight
    next(s for s in samples if not s.masked).advantage = 100.0
    trainer.update(samples)
    assert trainer.grad_norm > 2 * baseline  # an unmasked sample does count


def test_engine_settings_one_optimizer_step_per_update():
    """DeepSpeed takes its accumulation, micro-batch, batch and clipping from the plan; FSDP/ZeRO-3 sample in sync."""
    from types import SimpleNamespace

    from accelerate.utils import DistributedType

    from love_r1.train._rollout import UpdatePlan
    from love_r1.train.grpo import DecoupledGRPOTrainer

    plan = UpdatePlan.build(prompts_per_update=8, num_processes=4, num_generations=8, micro_batch_size=3,
                            alternate_steps=False)
    plugin = SimpleNamespace(deepspeed_config={"gradient_accumulation_steps": 1}, zero_stage=3)
    fake = SimpleNamespace(plan=plan, num_processes=4, args=SimpleNamespace(max_grad_norm=5.0),
                           accelerator=SimpleNamespace(state=SimpleNamespace(deepspeed_plugin=plugin)))
    assert DecoupledGRPOTrainer._configure_engine(fake) is True  # ZeRO-3: generate with synced_gpus
    assert plugin.deepspeed_config == {"gradient_accumulation_steps": 11, "train_micro_batch_size_per_gpu": 3,
                                       "train_batch_size": 3 * 11 * 4, "gradient_clipping": 5.0}
    assert plan.samples_per_process == 32 and math.ceil(32 / 3) == 11
    fsdp = SimpleNamespace(plan=plan, num_processes=4, args=fake.args,
                           accelerator=SimpleNamespace(state=SimpleNamespace(), distributed_type=DistributedType.FSDP))
    assert DecoupledGRPOTrainer._configure_engine(fsdp) is True
