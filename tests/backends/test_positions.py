"""M-RoPE positions: love-r1's computation against independent transcriptions of the trained rules.

The expectations come from ``tests/backends/mrope_oracle.py`` (transformers 4.49's Qwen2.5-VL
``get_rope_index`` and the Qwen3-VL release), never from the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from love_r1.backends import Message, TextPart, VideoPart
from love_r1.backends.qwen_inputs import POSITION_RULES, build_generation_inputs, mrope_position_ids
from love_r1.video import Frames
from tests.backends.mrope_oracle import oracle_positions, trained_next_positions, trained_qwen2_5_vl_positions
from tests.fixtures import tiny_qwen as tq

SOURCE_FPS = 30.0


def _frames(num_frames, rows, cols, family, *, first_index, step, sample_fps, seed):
    m = tq.frame_multiple(family)
    rng = np.random.default_rng(seed)
    indices = np.arange(num_frames) * step + first_index
    return Frames(data=rng.integers(0, 256, (num_frames, rows * m, cols * m, 3), dtype=np.uint8),
                  timestamps_seconds=indices / SOURCE_FPS, frame_indices=indices, source_fps=SOURCE_FPS,
                  sample_fps=sample_fps)


def _conversations(family):
    """Three prompts: fast view + two zoom clips, fast view only, text only (left padding differs per row)."""
    fast = _frames(16, 2, 3, family, first_index=0, step=110, sample_fps=0.27, seed=1)  # 2 / 0.27 s per patch
    early = _frames(6, 2, 2, family, first_index=300, step=15, sample_fps=1.93, seed=2)
    late = _frames(8, 4, 4, family, first_index=900, step=15, sample_fps=0.53, seed=3)
    user = (TextPart("Full video [0, 58]:"), VideoPart(fast), TextPart("Subset zoom-in video clip [10, 12]:"),
            VideoPart(early), TextPart("Subset zoom-in video clip [30, 34]:"), VideoPart(late),
            TextPart("Which colour? A. red B. blue"))
    system = Message("system", "The red numbers are timestamps.")
    return [(system, Message("user", user)),
            (system, Message("user", (TextPart("Full video [0, 58]:"), VideoPart(fast), TextPart("Short?")))),
            (system, Message("user", "No video at all, a longer question than the others to pad them."))]


@pytest.fixture(scope="module", params=tq.FAMILIES)
def family_batch(request):
    family = request.param
    model, processor = tq.build_tiny(family)
    batch = build_generation_inputs(processor, _conversations(family), model_type=family, padding_side="left")
    return family, model, batch


def _ours(model, batch, rule="max_plus_one"):
    return mrope_position_ids(batch["input_ids"], config=model.config, position_rule=rule,
                              attention_mask=batch["attention_mask"], video_grid_thw=batch["video_grid_thw"],
                              second_per_grid_ts=batch.get("second_per_grid_ts"))


def test_left_padded_multi_video_batch_equals_the_trained_rule(family_batch):
    family, model, batch = family_batch
    if family == "qwen2_5_vl":
        assert [round(float(s), 4) for s in batch["second_per_grid_ts"]] == [7.4074, 1.0363, 3.7736, 7.4074]
        assert (batch["attention_mask"] == 0).any()
    expected = oracle_positions(family, batch["input_ids"], config=model.config,
                                video_grid_thw=batch["video_grid_thw"],
                                second_per_grid_ts=batch.get("second_per_grid_ts"),
                                attention_mask=batch["attention_mask"])
    assert torch.equal(_ours(model, batch), expected)


def test_text_after_each_video_starts_after_its_largest_time_id():
    family = "qwen2_5_vl"
    model, processor = tq.build_tiny(family)
    batch = build_generation_inputs(processor, _conversations(family)[:1], model_type=family)
    positions = _ours(model, batch)[:, 0]
    ids = batch["input_ids"][0]
    video = (ids == model.config.video_token_id).nonzero().flatten().tolist()
    ends = [i + 1 for i in video if i + 1 < len(ids) and ids[i + 1] != model.config.video_token_id]
    # the fast view: 8 temporal patches at 2 / 0.27 s each, 2 tokens per second -> last time id long(7 * 14.81)
    first = video[0]
    assert int(positions[0, ends[0] - 1]) - int(positions[0, first]) == int(7 * (2 / 0.27) * 2) == 103
    for end in ends:  # every <|vision_end|> sits one past the largest position before it
        assert int(positions[:, end].max()) == int(positions[:, :end].max()) + 1
        assert positions[0, end] == positions[1, end] == positions[2, end]


def test_spatial_extent_is_transformers_5s_rule(family_batch):
    family, model, batch = family_batch
    theirs, _ = model.model.get_rope_index(
        batch["input_ids"], mm_token_type_ids=batch["mm_token_type_ids"], video_grid_thw=batch["video_grid_thw"],
        second_per_grid_ts=batch.get("second_per_grid_ts"), attention_mask=batch["attention_mask"])
    real = batch["attention_mask"].bool()
    assert torch.equal(_ours(model, batch, "spatial_extent")[:, real], theirs[:, real])


def test_qwen3_vl_rules_coincide_and_transformers_5_matches_the_release():
    """Qwen3-VL: each frame pair is its own block with time id 0, so both rules agree, and so does transformers."""
    family = "qwen3_vl"
    model, processor = tq.build_tiny(family)
    batch = build_generation_inputs(processor, _conversations(family), model_type=family)
    theirs, _ = model.model.get_rope_index(batch["input_ids"], mm_token_type_ids=batch["mm_token_type_ids"],
                                           video_grid_thw=batch["video_grid_thw"],
                                           attention_mask=batch["attention_mask"])
    real = batch["attention_mask"].bool()
    ours = [_ours(model, batch, rule) for rule in POSITION_RULES]
    assert torch.equal(ours[0], ours[1])
    assert torch.equal(ours[0][:, real], theirs[:, real])


def test_defect_reproduced_qwen2_5_rules_differ_after_a_video():
    family = "qwen2_5_vl"
    model, processor = tq.build_tiny(family)
    batch = build_generation_inputs(processor, _conversations(family)[1:2], model_type=family)
    trained, spatial = _ours(model, batch)[:, 0], _ours(model, batch, "spatial_extent")[:, 0]
    ids = batch["input_ids"][0]
    after = int((ids == model.config.video_token_id).nonzero().max()) + 1
    assert torch.equal(trained[:, :after], spatial[:, :after])  # identical up to the end of the video
    assert int(trained[0, after]) - int(spatial[0, after]) == 103 + 1 - 3  # time extent + 1 vs max(h, w) = 3


def test_completion_tokens_continue_at_the_trained_decode_position():
    """Positions of prompt + completion (a training forward) put the first completion token at max + 1."""
    family = "qwen2_5_vl"
    model, processor = tq.build_tiny(family)
    batch = build_generation_inputs(processor, _conversations(family)[:2], model_type=family)
    prompt = trained_qwen2_5_vl_positions(batch["input_ids"], config=model.config,
                                          video_grid_thw=batch["video_grid_thw"],
                                          second_per_grid_ts=batch["second_per_grid_ts"],
                                          attention_mask=batch["attention_mask"])
    next_positions = trained_next_positions(prompt, batch["attention_mask"])
    completion = torch.tensor([[5, 6, 7]] * 2)
    ids = torch.cat([batch["input_ids"], completion], dim=1)
    mask = torch.cat([batch["attention_mask"], torch.ones_like(completion)], dim=1)
    full = mrope_position_ids(ids, config=model.config, attention_mask=mask, video_grid_thw=batch["video_grid_thw"],
                              second_per_grid_ts=batch["second_per_grid_ts"])
    for row, start in enumerate(next_positions):
        assert full[:, row, -3:].tolist() == [[start, start + 1, start + 2]] * 3


def test_realistic_one_hour_fast_view_positions():
    """A 3600 s video's fast view: 768 frames (384 temporal patches) at 196x112, rate round(768/(N-1)*fps, 2)."""
    model, processor = tq.build_tiny("qwen2_5_vl")
    config, tokenizer = model.config, processor.tokenizer
    fps, num_frames = 30.0, 768
    sample_fps = round(num_frames / (3600 * fps - 1) * fps, 2)
    assert sample_fps == 0.21
    grid = torch.tensor([[num_frames // 2, 112 // 14, 196 // 14]])
    seconds = torch.tensor([2 / sample_fps])  # float32, as the processor returns it
    prefix = tokenizer.encode("<|im_start|>system\nThe red numbers are timestamps.<|im_end|>\n<|im_start|>user\n"
                              "Full video [0, 3600]:<|vision_start|>", add_special_tokens=False)
    video = [config.video_token_id] * (384 * 4 * 7)
    suffix = tokenizer.encode("<|vision_end|>Which? A. x B. y<|im_end|>\n<|im_start|>assistant\n",
                              add_special_tokens=False)
    ids = torch.tensor([prefix + video + suffix])
    ours = mrope_position_ids(ids, config=config, video_grid_thw=grid, second_per_grid_ts=seconds)
    expected = trained_qwen2_5_vl_positions(ids, config=config, video_grid_thw=grid, second_per_grid_ts=seconds)
    assert torch.equal(ours, expected)
    start, after = len(prefix), len(prefix) + len(video)  # first video token; <|vision_end|>
    last_time_id = int(383 * (2 / 0.21) * 2)  # 7295
    assert int(ours[0, 0, after]) == start + last_time_id + 1 == start + 7296
    spatial = mrope_position_ids(ids, config=config, video_grid_thw=grid, second_per_grid_ts=seconds,
                                 position_rule="spatial_extent")
    assert int(spatial[0, 0, after]) == start + 7  # max(4, 7): what transformers 5 feeds the checkpoints
    assert trained_next_positions(expected) == [int(ours[0, 0, -1]) + 1]


def test_bad_inputs_are_clear_errors():
    model, processor = tq.build_tiny("qwen2_5_vl")
    batch = build_generation_inputs(processor, _conversations("qwen2_5_vl")[1:2], model_type="qwen2_5_vl")
    kwargs = dict(config=model.config, video_grid_thw=batch["video_grid_thw"])
    with pytest.raises(ValueError, match=r"position_rule='after_video'.*\['max_plus_one', 'spatial_extent'\]"):
        mrope_position_ids(batch["input_ids"], position_rule="after_video", **kwargs)
    with pytest.raises(ValueError, match="second_per_grid_ts is required"):
        mrope_position_ids(batch["input_ids"], **kwargs)
    with pytest.raises(ValueError, match="more video placeholder tokens"):
        mrope_position_ids(torch.cat([batch["input_ids"], batch["input_ids"]], dim=1), **kwargs,
                           second_per_grid_ts=batch["second_per_grid_ts"])
    two = torch.cat([batch["video_grid_thw"]] * 2)
    with pytest.raises(ValueError, match="more videos than the prompts hold"):
        mrope_position_ids(batch["input_ids"], config=model.config, video_grid_thw=two,
                           second_per_grid_ts=torch.cat([batch["second_per_grid_ts"]] * 2))
    image = batch["input_ids"].clone()
    image[0, 0] = model.config.image_token_id
    with pytest.raises(ValueError, match="image placeholder"):
        mrope_position_ids(image, **kwargs, second_per_grid_ts=batch["second_per_grid_ts"])
