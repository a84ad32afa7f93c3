"""Seconds per optimizer step of SFT and decoupled GRPO on a tiny Qwen2.5-VL, 1 vs 2 GRPO processes, toy runs.

Launch (from the repository root):

    PYTHONPATH=src python benchmarks/train_step.py                 # CPU, a few minutes on 2 cores
    PYTHONPATH=src python benchmarks/train_step.py --device cuda --larger --processes 1

Data: a generated needle dataset (``love-r1 synth needle``) and its training records (``love-r1 synth
needle-records``): stage-2 SFT records (zoom into the needle, then answer) and GRPO records with the
needle's evidence interval.

* SFT: ``make_sft_trainer`` with ``configs/sft/tiny.yaml`` on the SFT records from a random tiny checkpoint;
  reports seconds per step (data loading = decode + collate, and compute) and the first and last loss.
* GRPO: ``make_grpo_trainer`` with ``configs/grpo/tiny.yaml`` from the SFT checkpoint, LOVE-R1 rewards (answer, format, zoom:
  the overlap of a zoom with the evidence), in this process (1 process) and with ``torchrun
  --nproc_per_node 2 -m love_r1.cli train grpo`` (2 processes, gloo on CPU) on the same config: seconds
  per update (rollouts + update), the step-1 reward of the first and last update, and the equality
  check (the same learning rate at every update, the same optimizer steps, max |Δ parameter|).

Peak memory is the process's peak RSS on CPU and ``torch.cuda.max_memory_allocated`` on CUDA. Prints a
table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
GRPO_CONFIG = REPO / "configs" / "grpo" / "tiny.yaml"


def _peak_mb(device: str) -> float:
    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_sft(work: Path, needle: Path, *, device: str, larger: bool, steps: int) -> dict:
    from transformers import TrainerCallback

    from love_r1.synth import write_tiny_model
    from love_r1.train import ZoomSFTConfig, load_config, make_sft_trainer

    class Clock(TrainerCallback):
        def __init__(self):
            self.times, self.start = [], 0.0

        def on_step_begin(self, args, state, control, **kwargs):
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            self.times.append(time.perf_counter() - self.start)

    tiny = write_tiny_model(work / "tiny", size="larger" if larger else "default")
    config = load_config(ZoomSFTConfig, REPO / "configs" / "sft" / "tiny.yaml", [
        "--model_name_or_path", str(tiny), "--train_file", str(needle / "train_sft.jsonl"), "--video_root",
        str(needle), "--output_dir", str(work / "sft"), "--max_steps", str(steps), "--use_cpu", str(device == "cpu")])
    trainer = make_sft_trainer(config)
    trainer.model.to(device)
    clock = Clock()
    trainer.add_callback(clock)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - start
    trainer.save_model(str(work / "sft"))
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    timed = clock.times[1:] or clock.times  # the first step includes lazy initialisation
    compute = sum(timed) / len(timed)
    # a step = decode + collate (data loader) + forward/backward/optimizer (compute)
    return {"step_s": wall / len(clock.times), "compute_s": compute, "peak_mb": _peak_mb(device),
            "loss_first": losses[0], "loss_last": losses[-1], "steps": len(clock.times)}


def _grpo_config(work: Path, needle: Path, *, device: str, updates: int) -> list[str]:
    """``configs/grpo/tiny.yaml`` on this run's files: the overrides."""
    return ["--model_name_or_path", str(work / "sft"), "--train_file", str(needle / "train_grpo.jsonl"),
            "--video_root", str(needle), "--output_dir", str(work / "grpo-1"), "--max_steps", str(updates),
            "--use_cpu", str(device == "cpu")]


def _per_update(history: list[dict]) -> float:
    timed = history[1:] or history  # the first update includes lazy initialisation
    return sum(h["rollout_seconds"] + h["update_seconds"] for h in timed) / len(timed)


def bench_grpo(overrides: list[str], *, device: str) -> dict:
    from love_r1.train import ZoomGRPOConfig, load_config, make_grpo_trainer

    config = load_config(ZoomGRPOConfig, GRPO_CONFIG, overrides, stage="grpo")
    trainer = make_grpo_trainer(config)
    trainer.model.to(device)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    history = trainer.train()
    trainer.save_model()
    timed = history[1:] or history
    return {"update_s": _per_update(history), "rollout_s": sum(h["rollout_seconds"] for h in timed) / len(timed),
            "loss_s": sum(h["update_seconds"] for h in timed) / len(timed), "peak_mb": _peak_mb(device),
            "reward_first": history[0]["reward_step1"], "reward_last": history[-1]["reward_step1"],
            "samples_per_update": history[0]["num_samples"], "updates": len(history)}


def bench_grpo_processes(overrides: list[str], work: Path, processes: int) -> dict:
    """The same GRPO config with ``processes`` processes (torchrun, gloo on CPU); compared with the 1-process run."""
    from safetensors.torch import load_file

    out = work / f"grpo-{processes}"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join([str(REPO / "src"),
                                                                            os.environ.get("PYTHONPATH", "")]))
    with socket.socket() as s:  # a free port for the rendezvous
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(processes), "--master_port",
               str(port), "-m", "love_r1.cli", "train", "grpo", "--config", str(GRPO_CONFIG), *overrides,
               "--output_dir", str(out)]
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-4000:]}")
    wall = time.perf_counter() - start
    one = [json.loads(line) for line in (work / "grpo-1" / "metrics.jsonl").read_text().splitlines()]
    many = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    a, b = load_file(str(work / "grpo-1" / "model.safetensors")), load_file(str(out / "model.safetensors"))
    return {"update_s": _per_update(many), "wall_s": wall,
            "lr_equal": [m["learning_rate"] for m in one] == [m["learning_rate"] for m in many],
            "optimizer_steps": [int(one[-1]["optimizer_steps"]), int(many[-1]["optimizer_steps"])],
            "param_max_abs_diff": max(float((a[k] - b[k]).abs().max()) for k in a)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                        help="torch device (default: cuda when available)")
    parser.add_argument("--larger", action="store_true", help="use the ~4 M-parameter tiny variant")
    parser.add_argument("--sft-steps", type=int, default=80, help="optimizer steps of the SFT run (count)")
    parser.add_argument("--grpo-updates", type=int, default=6, help="optimizer steps of each GRPO run (count)")
    parser.add_argument("--processes", type=int, default=2,
                        help="processes of the multi-process GRPO run (count; 1 = skip it; CPU runs use gloo)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from love_r1.synth import write_needle_dataset, write_needle_training_records

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        needle = work / "needle"
        write_needle_dataset(needle, duration_seconds=30.0, num_videos=2, num_questions_per_video=2, width=160,
                             height=96, fps=4.0, seed=0, progress=False)
        write_needle_training_records(needle)
        sft = bench_sft(work, needle, device=args.device, larger=args.larger, steps=args.sft_steps)
        config = _grpo_config(work, needle, device=args.device, updates=args.grpo_updates)
        grpo = bench_grpo(config, device=args.device)
        multi = bench_grpo_processes(config, work, args.processes) if args.processes > 1 else None

    print(f"device {args.device}, model {'larger' if args.larger else 'default'} tiny Qwen2.5-VL, needle records")
    print(f"{'stage':<8} {'s/step':>8} {'data/rollout s':>14} {'compute s':>9} {'peak MB':>8}  toy run")
    print(f"{'sft':<8} {sft['step_s']:>8.3f} {sft['step_s'] - sft['compute_s']:>14.3f} {sft['compute_s']:>9.3f} "
          f"{sft['peak_mb']:>8.0f}  loss {sft['loss_first']:.3f} -> {sft['loss_last']:.3f} over {sft['steps']} steps")
    print(f"{'grpo x1':<8} {grpo['update_s']:>8.3f} {grpo['rollout_s']:>14.3f} {grpo['loss_s']:>9.3f} "
          f"{grpo['peak_mb']:>8.0f}  step-1 reward (answer + format + zoom) {grpo['reward_first']:.3f} -> "
          f"{grpo['reward_last']:.3f} over {grpo['updates']} updates ({grpo['samples_per_update']:.0f} samples each)")
    if multi is not None:
        print(f"{'grpo x' + str(args.processes):<8} {multi['update_s']:>8.3f}  {'':>14} {'':>9} {'':>8}  "
              f"{args.processes} processes / 1: {multi['update_s'] / grpo['update_s']:.2f}x seconds per update; "
              f"same learning rates: {multi['lr_equal']}, optimizer steps {multi['optimizer_steps']}, "
              f"max |Δ parameter| {multi['param_max_abs_diff']:.2e}")
    print(json.dumps({
        "device": args.device, "sft_step_s": round(sft["step_s"], 4), "sft_compute_s": round(sft["compute_s"], 4),
        "sft_loss_first": round(sft["loss_first"], 4), "sft_loss_last": round(sft["loss_last"], 4),
        "grpo_update_s_1proc": round(grpo["update_s"], 4), "grpo_rollout_s": round(grpo["rollout_s"], 4),
        "grpo_reward_first": grpo["reward_first"], "grpo_reward_last": grpo["reward_last"],
        "sft_peak_mb": round(sft["peak_mb"], 1), "grpo_peak_mb": round(grpo["peak_mb"], 1),
        **({f"grpo_update_s_{args.processes}proc": round(multi["update_s"], 4),
            "grpo_lr_equal_1vN": multi["lr_equal"], "grpo_optimizer_steps_1vN": multi["optimizer_steps"],
            "grpo_param_max_abs_diff_1vN": multi["param_max_abs_diff"]} if multi else {}),
    }))


if __name__ == "__main__":
    main()
