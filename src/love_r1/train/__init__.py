"""Training: records and their pre-flight check, SFT (stages 1-2, TRL) and decoupled GRPO (stage 3, accelerate).

The trainers and configs import torch/TRL; they load on first use, so ``import love_r1.train`` stays
cheap::

    from love_r1.train import ZoomGRPOConfig, make_grpo_trainer

    trainer = make_grpo_trainer(ZoomGRPOConfig(model_name_or_path="runs/stage2", train_file="rl.jsonl"))
    trainer.train()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from love_r1.train.records import Manifest, RecordIssue, TrainRecord, check_records, load_records
from love_r1.train.sampling import ClipPolicy

# name -> module that defines it (heavy: torch, transformers, TRL)
_LAZY = {
    "ConfigError": "love_r1.train.configs",
    "ZoomGRPOConfig": "love_r1.train.configs",
    "ZoomSFTConfig": "love_r1.train.configs",
    "load_config": "love_r1.train.configs",
    "DecoupledGRPOTrainer": "love_r1.train.grpo",
    "make_grpo_trainer": "love_r1.train.grpo",
    "make_sft_trainer": "love_r1.train.sft",
}

if TYPE_CHECKING:
    from love_r1.train.configs import ConfigError, ZoomGRPOConfig, ZoomSFTConfig, load_config
    from love_r1.train.grpo import DecoupledGRPOTrainer, make_grpo_trainer
    from love_r1.train.sft import make_sft_trainer

__all__ = [
    "ClipPolicy", "ConfigError", "DecoupledGRPOTrainer", "Manifest", "RecordIssue", "TrainRecord", "ZoomGRPOConfig",
    "ZoomSFTConfig", "check_records", "load_config", "load_records", "make_grpo_trainer", "make_sft_trainer",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'love_r1.train' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
