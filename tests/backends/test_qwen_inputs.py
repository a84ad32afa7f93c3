"""Qwen input building: metadata semantics per family, rendering, padding and training labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from love_r1.backends import Message, TextPart, VideoPart
from love_r1.backends import _qwen_inputs as qi
from love_r1.video import Frames
from tests.fixtures import tiny_qwen as tq

SOURCE_FPS = 30.0


def _frames(num_frames, height, width, *, first_index, step, sample_fps=None, key=None, seed=0):
    rng = np.random.default_rng(seed)
    indices = np.arange(num_frames) * step + first_index
    return Frames(
        data=rng.integers(0, 256, (num_frames, height, width, 3), dtype=np.uint8),
        timestamps_seconds=indices / SOURCE_FPS, frame_indices=indices, source_fps=SOURCE_FPS,
        sample_fps=sample_fps, key=key,
    )


def _conversation(*clips, question="Which colour? Answer or zoom."):
    content = [TextPart("Full video [0, 10]:"), VideoPart(clips[0])]
    for clip in clips[1:]:
        content += [TextPart("Subset zoom-in video clip [12, 14]:"), VideoPart(clip)]
    content.append(TextPart(question))
    return (Message("system", "You are a helpful assistant."), Message("user", tuple(content)))


@pytest.fixture(scope="module", params=tq.FAMILIES)
def family_processor(request):
    return request.param, tq.build_processor(request.param)


FAST = dict(num_frames=8, height=56, width=84, first_index=0, step=37, sample_fps=0.81)
CLIP = dict(num_frames=4, height=112, width=112, first_index=361, step=15, sample_fps=1.93)


def test_qwen2_5_second_per_grid_ts_is_two_over_sample_fps():
    processor = tq.build_processor("qwen2_5_vl")
    fast, clip = _frames(**FAST), _frames(**CLIP)
    batch = qi.build_generation_inputs(processor, [_conversation(fast, clip)], model_type="qwen2_5_vl")
    expected = torch.tensor([2 / 0.81, 2 / 1.93], dtype=batch["second_per_grid_ts"].dtype)
    assert torch.equal(batch["second_per_grid_ts"], expected)
    # frames that are multiples of 28 pass through unchanged: grid = (T/2, H/14, W/14)
    assert batch["video_grid_thw"].tolist() == [[4, 4, 6], [2, 8, 8]]


def test_qwen2_5_ad_hoc_frames_derive_rate_from_timestamps():
    processor = tq.build_processor("qwen2_5_vl")
    clip = _frames(num_frames=4, height=56, width=56, first_index=0, step=15)  # 4 frames over 1.5 s
    batch = qi.build_generation_inputs(processor, [_conversation(clip)], model_type="qwen2_5_vl")
    assert batch["second_per_grid_ts"].tolist() == pytest.approx([2 / (4 / 1.5)])


def test_qwen3_timestamps_are_absolute_and_frames_rounded_to_32():
    processor = tq.build_processor("qwen3_vl")
    fast, clip = _frames(**FAST), _frames(**CLIP)
    batch = qi.build_generation_inputs(processor, [_conversation(fast, clip)], model_type="qwen3_vl")
    text = processor.tokenizer.decode(batch["input_ids"][0])
    # independent: pair-averaged source times of the clip's frames 361, 376 | 391, 406 at 30 fps
    assert "<12.3 seconds>" in text and "<13.3 seconds>" in text
    assert "<0.0 seconds>" not in text.split("Subset")[1]
    # 56x84 (multiples of 28) becomes 64x96 (multiples of 32): grid 4x6 of 16-px patches
    assert batch["video_grid_thw"].tolist() == [[4, 4, 6], [2, 8, 8]]
    assert "second_per_grid_ts" not in batch


def test_qwen3_timestamps_are_the_frames_times_not_index_over_rate():
    """Frames from a window or a variable-frame-rate file: ``<t seconds>`` are the frames' times (what the
    digits and labels say), not ``frame_index / source_fps`` (times from the file start at the header rate)."""
    processor = tq.build_processor("qwen3_vl")
    fast = _frames(**FAST)
    rng = np.random.default_rng(1)
    windowed = Frames(data=rng.integers(0, 256, (4, 64, 64, 3), dtype=np.uint8),
                      timestamps_seconds=np.array([0.0, 1.0, 2.5, 3.0]),  # measured from the window start
                      frame_indices=np.array([333, 363, 408, 423]), source_fps=SOURCE_FPS, sample_fps=1.0)
    batch = qi.build_generation_inputs(processor, [_conversation(fast, windowed)], model_type="qwen3_vl")
    clip_text = processor.tokenizer.decode(batch["input_ids"][0]).split("Subset")[1]
    assert "<0.5 seconds>" in clip_text and "<2.8 seconds>" in clip_text  # pair means (0+1)/2, (2.5+3)/2
    assert "<11.6 seconds>" not in clip_text  # 333 and 363 at 30 fps


def test_qwen3_single_frame_clip_is_accepted():
    processor = tq.build_processor("qwen3_vl")
    one = _frames(num_frames=1, height=64, width=64, first_index=90, step=1)
    batch = qi.build_generation_inputs(processor, [_conversation(one)], model_type="qwen3_vl")
    assert batch["video_grid_thw"].tolist() == [[1, 4, 4]]
    assert "<3.0 seconds>" in processor.tokenizer.decode(batch["input_ids"][0])


def test_placeholders_match_grids_and_spans(family_processor):
    family, processor = family_processor
    batch = qi.build_generation_inputs(processor, [_conversation(_frames(**FAST), _frames(**CLIP))], model_type=family)
    video_id = processor.tokenizer.convert_tokens_to_ids("<|video_pad|>")
    per_video = qi.tokens_per_video(batch["video_grid_thw"], merge_size=2)
    assert per_video == [24, 32]
    spans = qi.video_token_spans(batch["input_ids"][0].numpy(), video_token_id=video_id, tokens_per_video=per_video)
    assert spans[0][1] <= spans[1][0]
    ids = batch["input_ids"][0]
    assert int((ids[spans[0][0]:spans[0][1]] == video_id).sum()) == 24
    config = tq.build_config(family, processor.tokenizer)
    assert torch.equal(batch["mm_token_type_ids"], qi.mm_token_type_ids(batch["input_ids"], config))


def test_left_padding_rows_equal_single_prompts(family_processor):
    family, processor = family_processor
    a = _conversation(_frames(**FAST), _frames(**CLIP))
    b = _conversation(_frames(**FAST, seed=1), question="Short?")
    batch = qi.build_generation_inputs(processor, [a, b], model_type=family, assistant_prefixes=["", "I get"])
    for row, conv, prefix in ((0, a, ""), (1, b, "I get")):
        single = qi.build_generation_inputs(processor, [conv], model_type=family, assistant_prefixes=[prefix])
        n = single["input_ids"].shape[1]
        assert batch["input_ids"][row, -n:].tolist() == single["input_ids"][0].tolist()
        assert int(batch["attention_mask"][row].sum()) == n
        assert batch["attention_mask"][row, -n:].all()
    assert batch["video_grid_thw"].shape[0] == 3


def test_render_prompt_appends_prefix_after_generation_prompt(family_processor):
    family, processor = family_processor
    text = qi.render_prompt(processor, _conversation(_frames(**FAST)), assistant_prefix="I get the answer.\n\n")
    assert text.endswith("<|im_start|>user\nFull video [0, 10]:<|vision_start|><|video_pad|><|vision_end|>"
                         "Which colour? Answer or zoom.<|im_end|>\n<|im_start|>assistant\nI get the answer.\n\n")
    assert text.startswith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n")


def test_training_labels_assistant_only(family_processor):
    family, processor = family_processor
    target = "I get the answer.\n\nRed is shown. \\boxed{A}"
    conv = _conversation(_frames(**FAST)) + (Message("assistant", target),)
    short = _conversation(_frames(**FAST, seed=2), question="?") + (Message("assistant", "\\boxed{B}"),)
    batch = qi.build_training_inputs(processor, [conv, short], model_type=family,
                                     assistant_prefixes=["I get the answer.\n\n", ""])
    decode = processor.tokenizer.decode
    labels = batch["labels"]
    assert decode(labels[0][labels[0] != -100]) == "Red is shown. \\boxed{A}<|im_end|>"
    assert decode(labels[1][labels[1] != -100]) == "\\boxed{B}<|im_end|>"
    assert batch["pixel_values_videos"].shape[0] > 0 and "mm_token_type_ids" in batch


def test_training_labels_reference_mode_keeps_prompt_text(family_processor):
    family, processor = family_processor
    conv = _conversation(_frames(**FAST)) + (Message("assistant", "\\boxed{A}"),)
    short = _conversation(_frames(**FAST, seed=2), question="?") + (Message("assistant", "\\boxed{B}"),)
    batch = qi.build_training_inputs(processor, [conv, short], model_type=family, loss_on_prompt=True)
    labels, ids = batch["labels"], batch["input_ids"]
    vision = qi.vision_token_ids(processor.tokenizer)
    kept = labels != -100
    assert not any(int((labels == v).sum()) for v in vision)
    assert torch.equal(labels[kept], ids[kept])
    # everything else is kept: prompt text (system, question) included, padding dropped
    expected = (batch["attention_mask"] == 1) & ~torch.isin(ids, torch.tensor(vision))
    expected &= ids != processor.tokenizer.pad_token_id
    assert torch.equal(kept, expected)
    assert "Which colour?" in processor.tokenizer.decode(ids[0][kept[0]])


def test_bad_inputs_raise_typed_errors():
    processor = tq.build_processor("qwen2_5_vl")
    with pytest.raises(ValueError, match="qwen2_5_vl"):
        qi.video_metadata(_frames(**FAST), model_type="llava")
    with pytest.raises(ValueError, match="only user messages"):
        qi.to_hf_messages([Message("system", (VideoPart(_frames(**FAST)),))])
    with pytest.raises(ValueError, match="assistant_prefixes"):
        conv = _conversation(_frames(**FAST)) + (Message("assistant", "\\boxed{A}"),)
        qi.build_training_inputs(processor, [conv], assistant_prefixes=["I get"])
    with pytest.raises(ValueError, match="model_type"):
        qi.resolve_model_type(object())
    assert qi.resolve_model_type(processor) == "qwen2_5_vl"


def test_per_clip_assembly_equals_the_batched_processor(family_processor):
    family, processor = family_processor
    fast, clip = _frames(**FAST), _frames(**CLIP)
    conv = _conversation(fast, clip)
    whole = qi.build_generation_inputs(processor, [conv], model_type=family, assistant_prefixes=["I get"])
    parts = [qi.process_clip(processor, f, model_type=family) for f in (fast, clip)]
    ids = qi.assemble_prompt_ids(processor, conv, clip_inputs=parts, assistant_prefix="I get")
    assert ids == whole["input_ids"][0].tolist()
    assert torch.equal(torch.stack([p.grid_thw for p in parts]), whole["video_grid_thw"])
    assert torch.equal(torch.cat([p.pixel_values for p in parts]), whole["pixel_values_videos"])
    if family == "qwen2_5_vl":
        assert torch.equal(torch.cat([p.second_per_grid_ts for p in parts]), whole["second_per_grid_ts"])
    with pytest.raises(ValueError, match="video slots"):
        qi.assemble_prompt_ids(processor, conv, clip_inputs=parts[:1])
