"""Seconds and peak memory per optimizer step for SFT and decoupled GRPO on the tiny Qwen2.5-VL, plus toy runs.

Launch (from the repository root):

    PYTHONPATH=. python benchmarks/train_step.py                 # CPU, about 1 minute on 2 cores
    PYTHONPATH=. python benchmarks/train_step.py --device cuda --larger

SFT: a fixed set of 4 records (plain QA, grounding, two CoT) through ``make_sft_trainer``; the toy run
trains on it and reports the first and last logged loss. GRPO: ``DecoupledGRPOTrainer`` with G = 8
rollouts (two decoupled steps each) on one record; the toy reward is 1 when the first completion token
id is even, so the mean step-1 reward should rise. Peak memory is the process's peak RSS on CPU and
``torch.cuda.max_memory_allocated`` on CUDA. Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures import tiny_qwen as tq  # noqa: E402
from tests.train.conftest import SMALL, grpo_records, sft_records, write_jsonl  # noqa: E402


def _peak_mb(device: str) -> float:
    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _build(larger: bool, device: str):
    kwargs = dict(hidden_size=256, num_hidden_layers=4, intermediate_size=512, vision_hidden_size=128, vision_depth=4,
                  vision_num_heads=4, vision_intermediate_size=256) if larger else {}
    model, processor = tq.build_tiny("qwen2_5_vl", **kwargs)
    return model.to(device), processor


def bench_sft(work: Path, videos: Path, *, device: str, larger: bool, steps: int) -> dict:
    from transformers import TrainerCallback

    from love_r1.train.configs import ZoomSFTConfig
    from love_r1.train.records import load_records
    from love_r1.train.sft import make_sft_trainer

    class Clock(TrainerCallback):
        def __init__(self):
            self.times, self.start = [], 0.0

        def on_step_begin(self, args, state, control, **kwargs):
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            self.times.append(time.perf_counter() - self.start)

    records = load_records(write_jsonl(work / "sft.jsonl", sft_records()))[0]
    model, processor = _build(larger, device)
    config = ZoomSFTConfig(output_dir=str(work / "sft"), per_device_train_batch_size=2, max_steps=steps,
                           learning_rate=3e-3, lr_scheduler_type="constant", logging_steps=1, seed=0,
                           video_root=str(videos), use_cpu=device == "cpu", bf16=False, report_to="none",
                           save_strategy="no", activation_checkpointing=False, **SMALL)
    trainer = make_sft_trainer(config, model=model, processor=processor, records=records)
    clock = Clock()
    trainer.add_callback(clock)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - start
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    timed = clock.times[1:] or clock.times  # the first step includes lazy initialisation
    compute = sum(timed) / len(timed)
    # a step = decode + collate (data loader) + forward/backward/optimizer (compute)
    return {"step_s": wall / len(clock.times), "compute_s": compute, "peak_mb": _peak_mb(device), "loss_first": losses[0],
            "loss_last": losses[-1], "steps": len(clock.times)}


def bench_grpo(work: Path, videos: Path, *, device: str, larger: bool, steps: int) -> dict:
    from love_r1.train.configs import ZoomGRPOConfig
    from love_r1.train.records import load_records
    from love_r1.train.sft import make_grpo_trainer

    def even_first_token(completions, completion_ids, **kwargs):
        return [1.0 if ids and ids[0] % 2 == 0 else 0.0 for ids in completion_ids]

    records = load_records(write_jsonl(work / "grpo.jsonl", grpo_records()[:1]))[0]
    model, processor = _build(larger, device)
    config = ZoomGRPOConfig(output_dir=str(work / "grpo"), per_device_train_batch_size=8, num_generations=8,
                            max_steps=steps, learning_rate=3e-2, max_completion_length=2, lr_scheduler_type="constant",
                            seed=0, video_root=str(videos), use_cpu=device == "cpu", bf16=False, report_to="none",
                            save_strategy="no", activation_checkpointing=False, **SMALL)
    trainer = make_grpo_trainer(config, model=model, processor=processor, records=records,
                                reward_funcs=[even_first_token], reward_weights=[1.0])
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    history = trainer.train()
    timed = history[1:] or history
    rollout = sum(h["rollout_seconds"] for h in timed) / len(timed)
    update = sum(h["update_seconds"] for h in timed) / len(timed)
    return {"step_s": rollout + update, "rollout_s": rollout, "update_s": update, "peak_mb": _peak_mb(device),
            "reward_first": history[0]["reward_step1"], "reward_last": history[-1]["reward_step1"],
            "samples_per_step": history[0]["num_samples"], "steps": len(history)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                        help="torch device (default: cuda when available)")
    parser.add_argument("--larger", action="store_true", help="use the ~4 M-parameter tiny variant")
    parser.add_argument("--sft-steps", type=int, default=12, help="optimizer steps of the SFT toy run")
    parser.add_argument("--grpo-steps", type=int, default=12, help="optimizer steps of the GRPO toy run")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    from love_r1.synth import write_indexed_video

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        videos = work / "videos"
        write_indexed_video(videos / "a.mp4", duration_seconds=8.0, fps=10.0, width=112, height=84, seed=0)
        write_indexed_video(videos / "b.mp4", duration_seconds=20.0, fps=5.0, width=112, height=84, seed=1)
        sft = bench_sft(work, videos, device=args.device, larger=args.larger, steps=args.sft_steps)
        grpo = bench_grpo(work, videos, device=args.device, larger=args.larger, steps=args.grpo_steps)

    print(f"device {args.device}, model {'larger' if args.larger else 'default'} tiny Qwen2.5-VL")
    print(f"{'stage':<6} {'s/step':>8} {'data/rollout s':>14} {'update s':>9} {'peak MB':>8}  toy run")
    print(f"{'sft':<6} {sft['step_s']:>8.3f} {sft['step_s'] - sft['compute_s']:>14.3f} {sft['compute_s']:>9.3f} "
          f"{sft['peak_mb']:>8.0f}  "
          f"loss {sft['loss_first']:.3f} -> {sft['loss_last']:.3f} over {sft['steps']} steps")
    print(f"{'grpo':<6} {grpo['step_s']:>8.3f} {grpo['rollout_s']:>14.3f} {grpo['update_s']:>9.3f} "
          f"{grpo['peak_mb']:>8.0f}  step-1 reward {grpo['reward_first']:.3f} -> {grpo['reward_last']:.3f} "
          f"over {grpo['steps']} steps ({grpo['samples_per_step']:.0f} samples/step)")
    print(f"grpo rollout share of a step: {grpo['rollout_s'] / grpo['step_s']:.0%}")
    print(json.dumps({
        "device": args.device, "sft_step_s": round(sft["step_s"], 4), "sft_compute_s": round(sft["compute_s"], 4),
        "grpo_step_s": round(grpo["step_s"], 4),
        "grpo_rollout_s": round(grpo["rollout_s"], 4), "grpo_update_s": round(grpo["update_s"], 4),
        "sft_peak_mb": round(sft["peak_mb"], 1), "grpo_peak_mb": round(grpo["peak_mb"], 1),
        "sft_loss_first": round(sft["loss_first"], 4), "sft_loss_last": round(sft["loss_last"], 4),
        "grpo_reward_first": grpo["reward_first"], "grpo_reward_last": grpo["reward_last"],
    }))


if __name__ == "__main__":
    main()
