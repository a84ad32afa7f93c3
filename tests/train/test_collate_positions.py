"""Training forwards get the trained M-RoPE positions: the SFT collator (through TRL's SFTTrainer) and the
GRPO trainer's sampling, old-log-prob and loss batches. Expectations come from the independent oracle
in ``tests/backends/mrope_oracle.py``.
"""

from __future__ import annotations

import torch

from love_r1.train.collate import SFTCollator, records_to_rows
from love_r1.train.configs import ZoomGRPOConfig, ZoomSFTConfig
from love_r1.train.grpo import collate_samples, make_grpo_trainer
from love_r1.train.inputs import RecordDecoder
from love_r1.train.records import load_records
from love_r1.train.sampling import ClipPolicy
from love_r1.train.sft import make_sft_trainer
from tests.backends.mrope_oracle import trained_next_positions, trained_qwen2_5_vl_positions
from tests.helpers.train import CPU, GRPO_CPU, SMALL, grpo_records, sft_records, write_jsonl


def _oracle(batch, config):
    return trained_qwen2_5_vl_positions(batch["input_ids"], config=config, video_grid_thw=batch["video_grid_thw"],
                                        second_per_grid_ts=batch["second_per_grid_ts"],
                                        attention_mask=batch["attention_mask"])


def _real(positions, mask):
    return positions[:, mask.bool()]


def test_sft_batches_carry_the_trained_positions_into_the_trainers_forward(tmp_path, video_root, tiny):
    model, processor = tiny
    records = load_records(write_jsonl(tmp_path / "sft.jsonl", sft_records()))[0]
    collator = SFTCollator(processor, model_config=model.config,
                           decoder=RecordDecoder(video_root=video_root, policy=ClipPolicy.preset("reference", **SMALL)))
    batch = collator(records_to_rows(records)[:3])
    assert (batch["attention_mask"] == 0).any()  # right padding
    assert torch.equal(_real(batch["position_ids"], batch["attention_mask"]),
                       _real(_oracle(batch, model.config), batch["attention_mask"]))
    spatial = SFTCollator(processor, model_config=model.config, position_rule="spatial_extent",
                          decoder=collator.decoder)(records_to_rows(records)[:1])
    theirs, _ = model.model.get_rope_index(spatial["input_ids"], mm_token_type_ids=spatial["mm_token_type_ids"],
                                           video_grid_thw=spatial["video_grid_thw"],
                                           second_per_grid_ts=spatial["second_per_grid_ts"])
    assert torch.equal(spatial["position_ids"], theirs)

    fed = []
    model.register_forward_pre_hook(lambda module, args, kwargs: fed.append(kwargs), with_kwargs=True)
    config = ZoomSFTConfig(output_dir=str(tmp_path / "out"), per_device_train_batch_size=2, max_steps=1,
                           video_root=str(video_root), seed=0, **SMALL, **CPU)
    make_sft_trainer(config, model=model, processor=processor, records=records).train()
    (kwargs,) = fed  # TRL passes the collator's position_ids through to the model
    assert kwargs["position_ids"].shape == (3, *kwargs["input_ids"].shape)
    assert torch.equal(_real(kwargs["position_ids"], kwargs["attention_mask"]).cpu(),
                       _real(_oracle({k: v.cpu() for k, v in kwargs.items() if hasattr(v, "cpu")}, model.config),
                             kwargs["attention_mask"].cpu()))


def test_grpo_sampling_and_loss_batches_carry_the_trained_positions(tmp_path, video_root, tiny):
    model, processor = tiny
    records = load_records(write_jsonl(tmp_path / "grpo.jsonl", grpo_records()))[0]
    config = ZoomGRPOConfig(output_dir=str(tmp_path / "out"), prompts_per_update=1, micro_batch_size=4,
                            num_generations=2, max_steps=1, max_completion_length=3, seed=0, video_root=str(video_root),
                            **SMALL, **GRPO_CPU)
    trainer = make_grpo_trainer(config, model=model, processor=processor, records=records[1:])
    fed = []
    handle = model.model.language_model.register_forward_pre_hook(
        lambda module, args, kwargs: fed.append(kwargs["position_ids"].clone()), with_kwargs=True)
    try:
        samples = trainer.rollout(trainer._next_records())
    finally:
        handle.remove()
    first = samples[0]
    prompt = first.prompt_inputs
    expected = _oracle(prompt, model.config)
    assert float(prompt["second_per_grid_ts"][0]) != 1.0
    prefill, *decode = fed
    assert torch.equal(prefill, expected.expand(3, 2, -1))  # step-1 sampling: G copies of the prompt
    start = trained_next_positions(expected)[0]
    for step, positions in enumerate(decode[: first.completion_ids.shape[0] - 1]):
        assert positions.flatten().tolist() == [start + step] * 6

    # old-log-prob / loss batch: right-padded prompt + completion; step-2 sampling batch: left-padded
    for side, completions in (("right", [s.completion_ids for s in samples]), ("left", None)):
        batch, _ = collate_samples(processor, [s.prompt_inputs for s in samples], completions,
                                   padding_side=side, config=model.config)
        assert torch.equal(_real(batch["position_ids"], batch["attention_mask"]),
                           _real(_oracle(batch, model.config), batch["attention_mask"]))
