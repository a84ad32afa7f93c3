"""Stage-1/2 SFT: ``trl.SFTTrainer`` with our video collator (TRL recipe: ``skip_prepare_dataset``,
``remove_unused_columns=False``), records checked up front, the vision tower frozen by default."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from transformers import TrainerCallback

from love_r1.train.collate import SFTCollator, records_to_rows
from love_r1.train.inputs import RecordDecoder
from love_r1.train.records import Manifest, TrainRecord, check_records

logger = logging.getLogger(__name__)

SFT_KINDS = ("qa", "grounding", "cot", "step")


def load_model_and_processor(model_name_or_path: str, *, bf16: bool = False) -> tuple[Any, Any]:
    """Model class and processor from the checkpoint's config (``AutoModelForImageTextToText``), never its path."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    if not model_name_or_path:
        raise ValueError("model_name_or_path is empty; set it in the config (a checkpoint directory or Hub id)")
    dtype = torch.bfloat16 if bf16 else torch.float32
    model = AutoModelForImageTextToText.from_pretrained(model_name_or_path, dtype=dtype)
    processor = AutoProcessor.from_pretrained(model_name_or_path)
    return model, processor


def freeze_vision_tower(model: Any) -> int:
    """Freeze the vision encoder except its patch merger; returns the number of frozen parameters."""
    visual = getattr(getattr(model, "model", model), "visual", None)
    if visual is None:
        raise ValueError(f"{type(model).__name__} has no .model.visual vision tower to freeze")
    frozen = 0
    for name, parameter in visual.named_parameters():
        if not name.startswith("merger."):
            parameter.requires_grad_(False)
            frozen += parameter.numel()
    return frozen


def prepare_manifest(config: Any, records: Sequence[TrainRecord] | None = None, *, kinds: Sequence[str]) -> Manifest:
    """Pre-flight: read + check the train file (or use ``records``), keep the wanted kinds."""
    from love_r1.train.records import build_manifest

    if records is None:
        if not config.train_file:
            raise ValueError("train_file is empty; set it in the config (a .jsonl or .json records file)")
        manifest = check_records(config.train_file, video_root=config.video_root, probe_videos=config.probe_videos)
    else:
        manifest = build_manifest(records, video_root=config.video_root, probe_videos=config.probe_videos,
                                  time_base=config.time_base)
    wrong = [r for r in manifest.records if r.kind not in kinds]
    if wrong:
        logger.warning("ignoring %d record(s) of kinds %s (this stage takes %s)", len(wrong),
                       sorted({r.kind for r in wrong}), list(kinds))
    manifest.records = [r for r in manifest.records if r.kind in kinds]
    if not manifest.records:
        raise ValueError(f"no usable {'/'.join(kinds)} records after the pre-flight check "
                         f"({len(manifest.issues)} issue(s)); run `love-r1 data check` on the file")
    return manifest


def make_sft_trainer(config: Any, *, model: Any = None, processor: Any = None,
                     records: Sequence[TrainRecord] | None = None, open_video: Any = None) -> Any:
    """A ``trl.SFTTrainer`` over the checked records with the video collator (``config``: ZoomSFTConfig)."""
    from datasets import Dataset
    from trl import SFTTrainer

    if model is None or processor is None:
        model, processor = load_model_and_processor(config.model_name_or_path, bf16=bool(config.bf16))
    if config.freeze_vision_tower:
        freeze_vision_tower(model)
    manifest = prepare_manifest(config, records, kinds=SFT_KINDS)
    decoder = RecordDecoder(video_root=config.video_root, policy=config.clip_policy(), open_video=open_video,
                            mode=config.decode_mode)
    collator = SFTCollator(processor, decoder=decoder, model_config=model.config,
                           loss_on_prompt=config.loss_on_prompt, seed=config.seed,
                           max_length_tokens=config.max_sample_tokens)
    trainer = SFTTrainer(model=model, args=config, train_dataset=Dataset.from_list(records_to_rows(manifest.records)),
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


def make_grpo_trainer(config: Any, *, model: Any = None, processor: Any = None,
                      records: Sequence[TrainRecord] | None = None, open_video: Any = None, **kwargs: Any) -> Any:
    """A :class:`love_r1.train.grpo.DecoupledGRPOTrainer` over the checked GRPO records."""
    from love_r1.train.grpo import DecoupledGRPOTrainer

    if model is None or processor is None:
        model, processor = load_model_and_processor(config.model_name_or_path, bf16=bool(config.bf16))
    if config.freeze_vision_tower:
        freeze_vision_tower(model)
    manifest = prepare_manifest(config, records, kinds=("grpo",))
    from love_r1.video import FrameCache

    # step-1 and step-2 prompts of a rollout share the fast view and clips: decode them once
    decoder = RecordDecoder(video_root=config.video_root, policy=config.clip_policy(), open_video=open_video,
                            mode=config.decode_mode, cache=FrameCache(max_bytes=1024**3))
    trainer = DecoupledGRPOTrainer(model=model, processor=processor, args=config, train_records=manifest.records,
                                   decoder=decoder, **kwargs)
    trainer.manifest = manifest
    return trainer


__all__ = ["SFT_KINDS", "freeze_vision_tower", "load_model_and_processor", "make_grpo_trainer", "make_sft_trainer",
           "prepare_manifest"]
