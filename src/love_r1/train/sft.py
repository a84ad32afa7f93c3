"""Stage-1/2 SFT: ``trl.SFTTrainer`` with our video collator (TRL recipe: ``skip_prepare_dataset``,
``remove_unused_columns=False``), records checked up front, the vision tower frozen by default.

Multi-process runs are TRL's/transformers': the data loader is sharded over the processes, the
learning-rate schedule advances once per optimizer step, the loss is normalised by the number of
label tokens over all processes (``average_tokens_across_devices``), and DeepSpeed/FSDP come from
``accelerate launch --config_file configs/accelerate/...``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from transformers import TrainerCallback

from love_r1.train._setup import prepare_manifest, prepare_model
from love_r1.train.collate import SFTCollator, records_to_rows
from love_r1.train.inputs import RecordDecoder
from love_r1.train.records import TrainRecord

logger = logging.getLogger(__name__)

SFT_KINDS = ("qa", "grounding", "cot", "step")


def make_sft_trainer(config: Any, *, model: Any = None, processor: Any = None,
                     records: Sequence[TrainRecord] | None = None, open_video: Any = None) -> Any:
    """A ``trl.SFTTrainer`` over the checked records with the video collator (``config``: ZoomSFTConfig)."""
    from datasets import Dataset
    from trl import SFTTrainer

    model, processor = prepare_model(config, model, processor)
    manifest = prepare_manifest(config, records, kinds=SFT_KINDS)
    decoder = RecordDecoder(video_root=config.video_root, policy=config.clip_policy(), open_video=open_video,
                            mode=config.decode_mode)
    rows = records_to_rows(manifest.records)
    collator = SFTCollator(processor, decoder=decoder, model_config=model.config, position_rule=config.position_rule,
                           loss_on_prompt=config.loss_on_prompt, seed=config.seed,
                           max_length_tokens=config.max_sample_tokens, rows=rows)
    trainer = SFTTrainer(model=model, args=config, train_dataset=Dataset.from_list(rows),
                         processing_class=processor, data_collator=collator)
    trainer.add_callback(_EpochSeedCallback(collator))
    trainer.love_r1_manifest = manifest
    return trainer


class _EpochSeedCallback(TrainerCallback):
    """Gives the collator the epoch number, so stage-1 clips are re-drawn every epoch (seeded)."""

    def __init__(self, collator: SFTCollator) -> None:
        self.collator = collator

    def on_epoch_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.collator.epoch = int(state.epoch or 0)


__all__ = ["SFT_KINDS", "make_sft_trainer"]
