"""What both trainers do first: load the checkpoint, freeze the vision tower, check the records."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from love_r1.train.records import Manifest, TrainRecord, build_manifest, check_records

logger = logging.getLogger(__name__)


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


def _is_merger(name: str) -> bool:
    """``merger.*`` (Qwen2.5-VL, Qwen3-VL) and ``deepstack_merger_list.*`` (Qwen3-VL) under the vision tower."""
    return "merger" in name.split(".", 1)[0]


def freeze_vision_tower(model: Any, *, train_merger: bool = False) -> int:
    """Freeze every vision-tower parameter (``model.visual.*``) as the reference does; returns the count frozen.

    The reference freezes every parameter whose name contains ``visual``, the patch merger included.
    ``train_merger=True`` keeps the merger(s) trainable (they map vision features into the LLM).
    """
    visual = getattr(getattr(model, "model", model), "visual", None)
    if visual is None:
        raise ValueError(f"{type(model).__name__} has no .model.visual vision tower to freeze")
    frozen = 0
    for name, parameter in visual.named_parameters():
        if train_merger and _is_merger(name):
            continue
        parameter.requires_grad_(False)
        frozen += parameter.numel()
    return frozen


def prepare_manifest(config: Any, records: Sequence[TrainRecord] | None = None, *, kinds: Sequence[str]) -> Manifest:
    """Pre-flight: read + check the train file (or use ``records``), keep the wanted kinds."""
    if records is None:
        if not config.train_file:
            raise ValueError("train_file is empty; set it in the config (a .jsonl or .json records file)")
        manifest = check_records(config.train_file, video_root=config.video_root, probe_videos=config.probe_videos,
                                 time_base=config.time_base)
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


def prepare_model(config: Any, model: Any = None, processor: Any = None) -> tuple[Any, Any]:
    """Load (unless given) and freeze as the config says."""
    if model is None or processor is None:
        model, processor = load_model_and_processor(config.model_name_or_path, bf16=bool(config.bf16))
    if config.freeze_vision_tower:
        freeze_vision_tower(model, train_merger=config.train_merger)
    return model, processor


__all__ = ["freeze_vision_tower", "load_model_and_processor", "prepare_manifest", "prepare_model"]
