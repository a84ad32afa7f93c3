"""Independent test oracles for M-RoPE positions: the rules the released checkpoints were trained with.

* :func:`trained_qwen2_5_vl_positions` transcribes ``Qwen2_5_VLForConditionalGeneration.get_rope_index``
  of transformers 4.49 (the reference environment; the copy bundled with the LOVE-R1 reference at
  ``VLMEvalKit/vlmeval/vlm/qwen2_vl/modeling_qwen2_5_vl.py``): it scans each row's tokens for
  ``<|vision_start|>`` followed by a placeholder, places the text before it, then the video grid, and
  starts the next text at ``last block's max + 1``; padding keeps position 1. The decode-time
  offset of that file (``rope_deltas = max + 1 - padded length``, added to ``cache_position``)
  puts the first generated token at ``max + 1`` of its row: :func:`trained_next_positions`.
* :func:`official_qwen3_vl_positions` transcribes the Qwen3-VL release (transformers 4.57
  ``Qwen3VLModel.get_rope_index``; vLLM computes the same): every temporal patch of a video is its
  own block ``[1, h, w]`` with time index 0, and text after a block starts at ``max + 1``.

Nothing here calls love-r1: the expectations of the position tests come from these functions.
"""

from __future__ import annotations

import torch


def _scan(input_ids, *, config, grids, seconds, attention_mask):
    """The scan both releases share: text up to the next placeholder, then the next grid, then max + 1.

    ``grids[k]`` is the ``(t, h, w)`` of the k-th block in token order and ``seconds[k]`` its time
    spacing (``None``: time indices 0, 1, 2, ...).
    """
    merge = config.vision_config.spatial_merge_size
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    positions = torch.ones(3, input_ids.shape[0], input_ids.shape[1], dtype=input_ids.dtype)
    index = 0
    for i in range(input_ids.shape[0]):
        ids = input_ids[i][attention_mask[i] == 1]
        starts = torch.argwhere(ids == config.vision_start_token_id).squeeze(1)
        num_blocks = int((ids[starts + 1] == config.video_token_id).sum())
        tokens = ids.tolist()
        pieces = []
        st = 0
        for _ in range(num_blocks):
            ed = tokens.index(config.video_token_id, st)
            t, h, w = grids[index]
            spacing = seconds[index]
            index += 1
            gt, gh, gw = t, h // merge, w // merge
            text_len = ed - st
            st_idx = pieces[-1].max() + 1 if pieces else 0
            pieces.append(torch.arange(text_len).view(1, -1).expand(3, -1) + st_idx)
            time = torch.arange(gt).view(-1, 1).expand(-1, gh * gw)
            if spacing is not None:
                time = (time * spacing * config.vision_config.tokens_per_second).long()
            height = torch.arange(gh).view(1, -1, 1).expand(gt, -1, gw).flatten()
            width = torch.arange(gw).view(1, 1, -1).expand(gt, gh, -1).flatten()
            pieces.append(torch.stack([time.flatten(), height, width]) + text_len + st_idx)
            st = ed + gt * gh * gw
        if st < len(tokens):
            st_idx = pieces[-1].max() + 1 if pieces else 0
            pieces.append(torch.arange(len(tokens) - st).view(1, -1).expand(3, -1) + st_idx)
        positions[:, i, attention_mask[i] == 1] = torch.cat(pieces, dim=1).reshape(3, -1)
    return positions


def trained_qwen2_5_vl_positions(input_ids, *, config, video_grid_thw, second_per_grid_ts, attention_mask=None):
    """``[3, B, L]`` positions as transformers 4.49 computes them for Qwen2.5-VL (videos only)."""
    grids = [tuple(int(v) for v in row) for row in video_grid_thw]
    seconds = [second_per_grid_ts[k] for k in range(len(grids))]  # float32 0-dim tensors, as 4.49 indexes them
    return _scan(input_ids, config=config, grids=grids, seconds=seconds, attention_mask=attention_mask)


def trained_next_positions(positions, attention_mask=None):
    """Position of the first generated token of each row under the 4.49 decode rule (``max + 1``)."""
    if attention_mask is None:
        attention_mask = torch.ones(positions.shape[1:], dtype=torch.long)
    return [int(positions[:, i, attention_mask[i] == 1].max()) + 1 for i in range(positions.shape[1])]


def official_qwen3_vl_positions(input_ids, *, config, video_grid_thw, attention_mask=None):
    """``[3, B, L]`` positions as the Qwen3-VL release computes them (videos only)."""
    grids = [(1, int(h), int(w)) for t, h, w in video_grid_thw.tolist() for _ in range(int(t))]
    return _scan(input_ids, config=config, grids=grids, seconds=[None] * len(grids), attention_mask=attention_mask)


def oracle_positions(family, input_ids, *, config, video_grid_thw, second_per_grid_ts=None, attention_mask=None):
    """The trained rule of ``family`` (``"qwen2_5_vl"`` or ``"qwen3_vl"``)."""
    if family == "qwen2_5_vl":
        return trained_qwen2_5_vl_positions(input_ids, config=config, video_grid_thw=video_grid_thw,
                                            second_per_grid_ts=second_per_grid_ts, attention_mask=attention_mask)
    return official_qwen3_vl_positions(input_ids, config=config, video_grid_thw=video_grid_thw,
                                       attention_mask=attention_mask)
