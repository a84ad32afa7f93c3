"""Qwen2.5-VL / Qwen3-VL model inputs from love-r1 messages: the one path shared by inference and training.

The hf backend, the vLLM backend and the trainers build their model inputs with these functions,
so a checkpoint sees the same prompt, pixels, labels and M-RoPE positions in training and at
inference. Import from here; the private modules behind it may change.

* :func:`build_generation_inputs` / :func:`build_training_inputs`: processor batches (left / right
  padding) for conversations of :class:`~love_r1.backends.Message`, with ``labels`` for training.
* :func:`mrope_position_ids`: the ``position_ids`` to pass with every forward of such a batch, under
  a :data:`PositionRule` (default ``"max_plus_one"``, the rule the checkpoints were trained with).
* :func:`render_prompt`, :func:`render_conversation`: the chat-template text.
* :func:`video_metadata`: the per-clip ``video_metadata`` given to the processor.
* :func:`mm_token_type_ids`, :func:`vision_token_ids`, :data:`IGNORE_INDEX`: token helpers.
* :func:`resolve_model_type`, :func:`supported_model_types`: the family (``config.model_type``).

See ``docs/backends-hf.md`` ("Model inputs" and "Positions").
"""

from __future__ import annotations

from love_r1.backends._mrope import DEFAULT_POSITION_RULE, POSITION_RULES, PositionRule, check_position_rule
from love_r1.backends._qwen_inputs import (
    IGNORE_INDEX,
    build_generation_inputs,
    build_training_inputs,
    mm_token_type_ids,
    mrope_position_ids,
    render_conversation,
    render_prompt,
    resolve_model_type,
    supported_model_types,
    video_metadata,
    vision_token_ids,
)

__all__ = [
    "DEFAULT_POSITION_RULE", "IGNORE_INDEX", "POSITION_RULES", "PositionRule", "build_generation_inputs",
    "build_training_inputs", "check_position_rule", "mm_token_type_ids", "mrope_position_ids", "render_conversation",
    "render_prompt", "resolve_model_type", "supported_model_types", "video_metadata", "vision_token_ids",
]
