"""Video-aware SFT collator: records -> decoded prompts -> padded processor inputs with labels and positions.

Labels come from :func:`love_r1.backends.qwen_inputs.build_training_inputs`: assistant-only by
default, every non-pad non-vision token with ``loss_on_prompt=True`` (the reference). Each batch
carries ``pixel_values_videos``, ``video_grid_thw``, ``mm_token_type_ids``, (Qwen2.5-VL)
``second_per_grid_ts`` and ``position_ids`` -- exactly the inputs the hf backend gives the model at
inference. :func:`add_position_ids` is the one place a training batch gets its M-RoPE positions
(the SFT collator and the GRPO trainer's sampling, old-log-prob and loss batches all call it);
``position_rule`` defaults to the rule the checkpoints were trained with (``docs/backends-hf.md``).

A row whose video fails to decode mid-epoch is skipped and counted in ``skipped`` (the pre-flight
manifest should have caught it); a batch whose rows all fail re-uses the last good rows with a
warning, so training never dies mid-epoch on a bad record.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from love_r1.backends.qwen_inputs import (
    DEFAULT_POSITION_RULE,
    PositionRule,
    build_training_inputs,
    check_position_rule,
    mrope_position_ids,
)
from love_r1.train.inputs import RecordDecoder, with_reply
from love_r1.train.records import RecordIssue, TrainRecord

logger = logging.getLogger(__name__)


class TrainingDataError(RuntimeError):
    """No usable sample could be built for a batch (and no earlier batch to fall back on)."""


def records_to_rows(records: Sequence[TrainRecord]) -> list[dict[str, Any]]:
    """Rows for a ``datasets.Dataset``: the record as JSON (Arrow-safe) plus its position."""
    return [{"record": json.dumps(r.to_dict()), "index": i} for i, r in enumerate(records)]


def add_position_ids(batch: Any, *, model_config: Any, position_rule: PositionRule = DEFAULT_POSITION_RULE) -> Any:
    """Set ``batch["position_ids"]`` (``[3, batch, length]``) from the batch's ids, padding and video grids.

    Call it on every batch a Qwen-VL model is run on in training, after padding (left or right):
    completion tokens appended to a prompt get the positions generation gave them.
    """
    batch["position_ids"] = mrope_position_ids(
        batch["input_ids"], config=model_config, position_rule=position_rule,
        attention_mask=batch.get("attention_mask"), video_grid_thw=batch.get("video_grid_thw"),
        second_per_grid_ts=batch.get("second_per_grid_ts"))
    return batch


def sample_seed(*, base_seed: int, index: int, epoch: int = 0) -> int:
    """The clip-sampling seed of one sample (pure; differs per record and per epoch)."""
    return (base_seed * 1_000_003 + epoch * 7_919 + index) % (2**31 - 1)


class SFTCollator:
    """Builds SFT batches; owns the processor, the video decoder and the skip log.

    ``model_config`` is the model's config (family, token ids, M-RoPE geometry); ``position_rule``
    picks the M-RoPE rule of the emitted ``position_ids`` (default: as the checkpoints were trained).
    """

    def __init__(
        self, processor: Any, *, decoder: RecordDecoder, model_config: Any,
        position_rule: PositionRule = DEFAULT_POSITION_RULE, loss_on_prompt: bool = False, seed: int = 0,
        max_length_tokens: int | None = None,
    ) -> None:
        self.processor = processor
        self.decoder = decoder
        self.model_config = model_config
        self.model_type = model_config.model_type
        self.position_rule = check_position_rule(position_rule)
        self.loss_on_prompt = loss_on_prompt
        self.seed = seed
        self.max_length_tokens = max_length_tokens
        self.epoch = 0
        self.skipped: list[RecordIssue] = []
        self._last_good: list[dict[str, Any]] = []

    def conversation(self, row: dict[str, Any]) -> tuple[tuple[Any, ...], str]:
        record = TrainRecord.from_dict(json.loads(row["record"]) if isinstance(row["record"], str) else row["record"])
        seed = sample_seed(base_seed=self.seed, index=int(row.get("index", 0)), epoch=self.epoch)
        messages, _, _ = self.decoder.prompt(record, seed=seed, stage="sft")
        return with_reply(messages, record.target or ""), record.assistant_prefix

    def _build(self, rows: Sequence[dict[str, Any]]) -> tuple[list[Any], list[str], list[dict[str, Any]]]:
        from love_r1.video import VideoError

        conversations, prefixes, good = [], [], []
        for row in rows:
            try:
                conversation, prefix = self.conversation(row)
            except VideoError as error:
                record = json.loads(row["record"]) if isinstance(row["record"], str) else row["record"]
                issue = RecordIssue(int(record.get("line", 0)), "video", f"decode failed: {error}",
                                    record.get("video", ""))
                self.skipped.append(issue)
                logger.warning("skipping sample: %s", issue)
                continue
            conversations.append(conversation)
            prefixes.append(prefix)
            good.append(row)
        return conversations, prefixes, good

    def __call__(self, rows: Sequence[dict[str, Any]]) -> Any:
        conversations, prefixes, good = self._build(rows)
        if not conversations:
            if not self._last_good:
                raise TrainingDataError(
                    f"none of the {len(rows)} samples of the first batch could be decoded; run "
                    "`love-r1 data check` on the records file"
                )
            logger.warning("every sample of a batch failed; re-using the previous batch's samples")
            conversations, prefixes, good = self._build(self._last_good)
        self._last_good = list(good)
        batch = build_training_inputs(self.processor, conversations, model_type=self.model_type,
                                      assistant_prefixes=prefixes, loss_on_prompt=self.loss_on_prompt)
        if self.max_length_tokens is not None:
            lengths = batch["attention_mask"].sum(-1).tolist()
            keep = [i for i, n in enumerate(lengths) if n <= self.max_length_tokens]
            if len(keep) < len(lengths):
                logger.warning("dropping %d sample(s) longer than %d tokens", len(lengths) - len(keep),
                               self.max_length_tokens)
                if keep:
                    batch = build_training_inputs(
                        self.processor, [conversations[i] for i in keep], model_type=self.model_type,
                        assistant_prefixes=[prefixes[i] for i in keep], loss_on_prompt=self.loss_on_prompt)
        return add_position_ids(batch, model_config=self.model_config, position_rule=self.position_rule)


__all__ = ["SFTCollator", "TrainingDataError", "add_position_ids", "records_to_rows", "sample_seed"]
