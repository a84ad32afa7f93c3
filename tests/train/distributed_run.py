"""One GRPO run on the tiny model, launched by tests/train/test_distributed.py (torchrun / accelerate launch).

    python tests/train/distributed_run.py CONFIG.json [--mask-record N]

``CONFIG.json`` holds ZoomGRPOConfig fields. The reward is a toy that varies inside every group (the
parity of the first completion token), so every update has a gradient. ``--mask-record N`` masks
rollouts 0 and 1 of record N (both steps) before the advantages: whichever process holds record N
masks, the others do not, and the update must still run the same collectives everywhere.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def first_token_parity(completions, completion_ids, **kwargs):
    return [1.0 if ids and ids[0] % 2 == 0 else 0.0 for ids in completion_ids]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("config", type=Path)
    parser.add_argument("--mask-record", type=int, default=-1)
    args = parser.parse_args()

    import torch

    from love_r1.train import ZoomGRPOConfig, make_grpo_trainer
    from love_r1.train.grpo import DecoupledGRPOTrainer

    torch.set_num_threads(1)
    if args.mask_record >= 0:
        original = DecoupledGRPOTrainer._advantages

        def masked_advantages(self, samples):
            for s in samples:
                if s.record_index == args.mask_record and s.rollout in (0, 1):
                    s.masked, s.reward = True, 0.0
            original(self, samples)

        DecoupledGRPOTrainer._advantages = masked_advantages
    config = ZoomGRPOConfig(**json.loads(args.config.read_text()))
    trainer = make_grpo_trainer(config, reward_funcs=[first_token_parity], reward_weights=[1.0])
    trainer.train()
    trainer.save_model()
    print(f"rank {trainer.rank}: {trainer.optimizer_steps} optimizer steps", file=sys.stderr)


if __name__ == "__main__":
    main()
