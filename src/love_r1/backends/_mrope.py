"""M-RoPE position ids of Qwen2.5-VL / Qwen3-VL prompts, computed the way the checkpoints were trained.

Every token of a Qwen-VL prompt has three position ids (time, height, width). Text tokens carry the
same id on all three axes; the tokens of a vision block carry a grid of ids that starts at the
block's *start* (the next free text position). Models and libraries differ in one place: where
the text that **follows** a vision block starts. That choice is a :data:`PositionRule`:

``"max_plus_one"`` (the default)
    After a block, text starts at ``max(every position so far) + 1``. For a Qwen2.5-VL video that
    is after its largest *time* id, ``start + long(t_last * second_per_grid_t * tokens_per_second)``.
    This is what Qwen2.5-VL and the LOVE-R1 checkpoints were trained with (transformers 4.49
    ``Qwen2_5_VLForConditionalGeneration.get_rope_index``), what vLLM and Qwen's own code compute,
    and what Qwen3-VL uses (there every frame pair is its own block with time id 0).
``"spatial_extent"``
    After a block, text starts at ``start + max(h, w)`` (merged grid): the spatial extent only.
    This is transformers 5.x's Qwen2.5-VL rule, for checkpoints fine-tuned with it. For Qwen3-VL it
    gives the same positions as ``"max_plus_one"``.

Tokens generated after the prompt continue the text: the first one sits at the position that text
appended to the prompt would get (``max + 1`` under the default rule, as transformers 4.49's decode
offset ``rope_deltas`` gives it), so a generation forward and a training forward over prompt +
completion see the same positions. (transformers 5.23 ``generate`` also continues from the prompt's
last position + 1, under its own rule; only a bare forward given a cache and no positions uses its
``rope_deltas``, which point at ``max + 1`` and so disagree with its own prompt rule.)

Temporal ids are computed exactly as transformers 4.49 does: ``arange(T) * second_per_grid_t``
(float32) ``* tokens_per_second``, truncated to an integer. Padding positions are 1, as in 4.49
(they are masked).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    import torch

PositionRule = Literal["max_plus_one", "spatial_extent"]
POSITION_RULES: tuple[str, ...] = get_args(PositionRule)
DEFAULT_POSITION_RULE: PositionRule = "max_plus_one"


@dataclass(frozen=True)
class _Block:
    """One vision block in the language model's grid: ``t`` x ``h`` x ``w`` merged tokens."""

    t: int
    h: int
    w: int
    seconds_per_t: Any  # float32 0-dim tensor (Qwen2.5-VL video), or None (time ids 0, 1, 2, ...)
    tokens_per_second: int

    @property
    def num_tokens(self) -> int:
        return self.t * self.h * self.w

    def positions(self, start: int) -> torch.Tensor:
        import torch

        steps = torch.arange(self.t).view(-1, 1).expand(-1, self.h * self.w)
        if self.seconds_per_t is not None:  # transformers 4.49's float32 arithmetic, then truncation
            steps = (steps * self.seconds_per_t * self.tokens_per_second).long()
        time = steps.flatten()
        height = torch.arange(self.h).view(1, -1, 1).expand(self.t, -1, self.w).flatten()
        width = torch.arange(self.w).view(1, 1, -1).expand(self.t, self.h, -1).flatten()
        return torch.stack([time, height, width]) + start


def _after_max(start: int, block: _Block, positions: torch.Tensor) -> int:
    return int(positions.max()) + 1


def _after_spatial_extent(start: int, block: _Block, positions: torch.Tensor) -> int:
    return start + max(block.h, block.w)


# where the text after a vision block starts, per rule
_TEXT_START_AFTER_BLOCK = {"max_plus_one": _after_max, "spatial_extent": _after_spatial_extent}


def check_position_rule(rule: str) -> PositionRule:
    """``rule`` when it is one of :data:`POSITION_RULES`, else a ``ValueError`` listing them."""
    if rule not in _TEXT_START_AFTER_BLOCK:
        raise ValueError(
            f"position_rule={rule!r} is not one of {list(POSITION_RULES)}; 'max_plus_one' is how Qwen2.5-VL and "
            "LOVE-R1 were trained (transformers 4.49, vLLM), 'spatial_extent' is transformers 5's Qwen2.5-VL rule"
        )
    return rule  # type: ignore[return-value]


def video_blocks(
    video_grid_thw: Any, second_per_grid_ts: Any, *, spatial_merge_size: int, tokens_per_second: int,
    frame_pair_blocks: bool,
) -> list[_Block]:
    """The vision blocks of a batch's videos, in order.

    ``frame_pair_blocks`` (Qwen3-VL): every temporal patch is its own one-step block, separated
    from the next by its ``<t seconds>`` text. Otherwise (Qwen2.5-VL) a video is one block whose time
    ids are spaced by ``second_per_grid_ts[i] * tokens_per_second``.
    """
    import torch

    if video_grid_thw is None:
        return []
    grids = [[int(v) for v in row] for row in video_grid_thw.tolist()]
    if frame_pair_blocks:
        return [_Block(1, h // spatial_merge_size, w // spatial_merge_size, None, tokens_per_second)
                for t, h, w in grids for _ in range(t)]
    if second_per_grid_ts is None:
        raise ValueError("second_per_grid_ts is required to position Qwen2.5-VL videos (2 / sample_fps per video); "
                         "pass the processor's batch['second_per_grid_ts']")
    seconds = torch.as_tensor(second_per_grid_ts).detach().to("cpu", torch.float32).reshape(-1)
    if len(seconds) != len(grids):
        raise ValueError(f"{len(seconds)} second_per_grid_ts values for {len(grids)} videos")
    return [_Block(t, h // spatial_merge_size, w // spatial_merge_size, seconds[i], tokens_per_second)
            for i, (t, h, w) in enumerate(grids)]


def _row_positions(ids: torch.Tensor, *, video_token_id: int, blocks: Iterator[_Block], rule: str) -> torch.Tensor:
    import torch

    n = int(ids.shape[0])
    out = torch.empty(3, n, dtype=torch.long)
    is_video = ids == video_token_id
    bounds = [0, *(torch.nonzero(is_video[1:] != is_video[:-1]).flatten() + 1).tolist(), n] if n else [0]
    text_start = 0
    for first, end in zip(bounds[:-1], bounds[1:], strict=True):
        if not bool(is_video[first]):
            out[:, first:end] = torch.arange(end - first) + text_start
            text_start += end - first
            continue
        position = first
        while position < end:  # a run of placeholders holds one or more whole blocks
            block = next(blocks, None)
            if block is None:
                raise ValueError(f"more video placeholder tokens than video_grid_thw describes (at token {position})")
            if position + block.num_tokens > end:
                raise ValueError(f"a run of {end - first} video placeholder tokens does not hold whole blocks of the "
                                 f"video grids (a block of {block.num_tokens} tokens at token {position})")
            block_positions = block.positions(text_start)
            out[:, position:position + block.num_tokens] = block_positions
            text_start = _TEXT_START_AFTER_BLOCK[rule](text_start, block, block_positions)
            position += block.num_tokens
    return out


def rope_positions(
    input_ids: torch.Tensor, *, blocks: list[_Block], video_token_id: int, image_token_id: int, rule: str,
    attention_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """``[3, batch, length]`` position ids of a (left- or right-) padded batch; padding gets 1.

    ``blocks`` are the vision blocks of all rows, in row order (:func:`video_blocks`).
    """
    import torch

    check_position_rule(rule)
    if input_ids.ndim != 2:
        raise ValueError(f"input_ids must be [batch, length], got shape {tuple(input_ids.shape)}")
    ids = input_ids.detach().to("cpu")
    mask = attention_mask.detach().to("cpu").bool() if attention_mask is not None else torch.ones_like(ids, dtype=bool)
    if bool((ids[mask] == image_token_id).any()):
        raise ValueError("the prompt holds image placeholder tokens; love-r1 positions videos only (send frames as "
                         "a video)")
    out = torch.ones(3, *ids.shape, dtype=torch.long)
    remaining = iter(blocks)
    for row in range(ids.shape[0]):
        out[:, row, mask[row]] = _row_positions(ids[row][mask[row]], video_token_id=video_token_id, blocks=remaining,
                                                rule=rule)
    if next(remaining, None) is not None:
        raise ValueError(f"video_grid_thw describes more videos than the prompts hold ({len(blocks)} blocks)")
    return out.to(input_ids.device)


__all__ = ["DEFAULT_POSITION_RULE", "POSITION_RULES", "PositionRule", "check_position_rule", "rope_positions",
           "video_blocks"]
