"""Video-aware SFT collator: records -> decoded prompts -> padded processor inputs with labels and positions.

Labels come from :func:`love_r1.backends.qwen_inputs.build_training_inputs`: assistant-only by
default (every assistant turn), every non-pad non-vision token with ``loss_on_prompt=True`` (the
reference). Each batch carries ``pixel_values_videos``, ``video_grid_thw``, ``mm_token_type_ids``,
(Qwen2.5-VL) ``second_per_grid_ts`` and ``position_ids`` -- exactly the inputs the hf backend gives the
model at inference. :func:`add_position_ids` is the one place a training batch gets its M-RoPE positions
(the SFT collator and the GRPO trainer's sampling, old-log-prob and loss batches all call it);
``position_rule`` defaults to the rule the checkpoints were trained with (``docs/backends-hf.md``).

A row whose video fails to decode mid-epoch (the pre-flight manifest should have caught it), or
whose sample is longer than ``max_length_tokens``, is dropped, recorded in ``skipped`` and replaced
by the next row of ``rows`` that works (the reference re-draws another record), so a batch keeps
its size and every process runs the same number of steps; training never dies mid-epoch on a bad
record and never trains on an over-long one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from love_r1.backends import Message, TextPart
from love_r1.backends.qwen_inputs import (
    DEFAULT_POSITION_RULE,
    PositionRule,
    build_training_inputs,
    check_position_rule,
    mrope_position_ids,
)
from love_r1.errors import DataError
from love_r1.train.inputs import RecordDecoder, with_reply
from love_r1.train.records import RecordIssue, TrainRecord

logger = logging.getLogger(__name__)


class TrainingDataError(DataError):
    """No usable sample could be built from the records file: every record fails to decode or is too long."""


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
    ``rows`` (the dataset's rows, ``records_to_rows``) are where replacements for dropped samples come
    from; without them a dropped sample just leaves the batch smaller.
    """

    def __init__(
        self, processor: Any, *, decoder: RecordDecoder, model_config: Any,
        position_rule: PositionRule = DEFAULT_POSITION_RULE, loss_on_prompt: bool = False, seed: int = 0,
        max_length_tokens: int | None = None, rows: Sequence[dict[str, Any]] | None = None,
    ) -> None:
        self.processor = processor
        self.decoder = decoder
        self.model_config = model_config
        self.model_type = model_config.model_type
        self.position_rule = check_position_rule(position_rule)
        self.loss_on_prompt = loss_on_prompt
        self.seed = seed
        self.max_length_tokens = max_length_tokens
        self.rows = list(rows) if rows is not None else None
        self.epoch = 0
        self.skipped: list[RecordIssue] = []
        self._dropped: set[int] = set()

    def conversation(self, row: dict[str, Any]) -> tuple[tuple[Any, ...], str]:
        record = _record(row)
        seed = sample_seed(base_seed=self.seed, index=int(row.get("index", 0)), epoch=self.epoch)
        messages, _, _ = self.decoder.prompt(record, seed=seed, stage="sft")
        conversation = with_reply(messages, record.target or "")
        for user, assistant in record.later_turns:  # a multi-turn record: every assistant turn is a target
            conversation = with_reply((*conversation, Message(role="user", content=(TextPart(user),))), assistant)
        return conversation, record.assistant_prefix

    def _drop(self, row: dict[str, Any], field_name: str, message: str) -> None:
        record = _record(row)
        issue = RecordIssue(record.line, field_name, message, record.video_path)
        self.skipped.append(issue)
        self._dropped.add(int(row.get("index", -1)))
        logger.warning("dropping sample: %s", issue)

    def _try(self, row: dict[str, Any]) -> tuple[tuple[Any, ...], str] | None:
        from love_r1.video import VideoError

        try:
            return self.conversation(row)
        except VideoError as error:
            self._drop(row, "video", f"decode failed: {error}")
            return None

    def _inputs(self, conversations: Sequence[Any], prefixes: Sequence[str]) -> Any:
        return build_training_inputs(self.processor, conversations, model_type=self.model_type,
                                     assistant_prefixes=prefixes, loss_on_prompt=self.loss_on_prompt)

    def _fits(self, built: tuple[tuple[Any, ...], str]) -> int | None:
        """The sample's length in tokens when it is over ``max_length_tokens``, else ``None``."""
        if self.max_length_tokens is None:
            return None
        length = int(self._inputs([built[0]], [built[1]])["attention_mask"].sum())
        return length if length > self.max_length_tokens else None

    def _replacement(self, row: dict[str, Any]) -> tuple[tuple[Any, ...], str] | None:
        """The first row after ``row`` (wrapping around) that decodes and fits; ``None`` without ``rows``."""
        if not self.rows:
            return None
        start = int(row.get("index", 0))
        for step in range(1, len(self.rows) + 1):
            candidate = self.rows[(start + step) % len(self.rows)]
            if int(candidate.get("index", -1)) in self._dropped:
                continue
            built = self._try(candidate)
            if built is None:
                continue
            length = self._fits(built)
            if length is not None:
                self._drop(candidate, "tokens", f"{length} tokens > max_sample_tokens={self.max_length_tokens}")
                continue
            return built
        raise TrainingDataError(
            f"none of the {len(self.rows)} records decodes into a sample of at most max_sample_tokens="
            f"{self.max_length_tokens} tokens", field="max_sample_tokens", value=self.max_length_tokens,
            hint="raise max_sample_tokens or lower the frame budgets, and run `love-r1 data check` on the records file")

    def __call__(self, rows: Sequence[dict[str, Any]]) -> Any:
        built: list[tuple[tuple[Any, ...], str] | None] = [self._try(row) for row in rows]
        if self.max_length_tokens is not None and any(b is not None for b in built):
            good = [i for i, b in enumerate(built) if b is not None]
            batch = self._inputs([built[i][0] for i in good], [built[i][1] for i in good])  # type: ignore[index]
            lengths = batch["attention_mask"].sum(-1).tolist()
            for i, length in zip(good, lengths, strict=True):
                if length > self.max_length_tokens:
                    self._drop(rows[i], "tokens", f"{int(length)} tokens > max_sample_tokens={self.max_length_tokens}")
                    built[i] = None
            if all(b is not None for b in built):
                return add_position_ids(batch, model_config=self.model_config, position_rule=self.position_rule)
        for i, row in enumerate(rows):
            if built[i] is None:
                built[i] = self._replacement(row)
        kept = [b for b in built if b is not None]
        if not kept:
            raise TrainingDataError(
                f"none of the {len(rows)} samples of a batch could be used (decode failures or longer than "
                f"max_sample_tokens={self.max_length_tokens})", hint="run `love-r1 data check` on the records file")
        batch = self._inputs([b[0] for b in kept], [b[1] for b in kept])
        return add_position_ids(batch, model_config=self.model_config, position_rule=self.position_rule)


def _record(row: dict[str, Any]) -> TrainRecord:
    return TrainRecord.from_dict(json.loads(row["record"]) if isinstance(row["record"], str) else row["record"])


__all__ = ["SFTCollator", "TrainingDataError", "add_position_ids", "records_to_rows", "sample_seed"]
