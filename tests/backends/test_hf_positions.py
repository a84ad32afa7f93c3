"""The positions HFBackend feeds the model: the trained rule on every path (batched, cached, generated tokens).

A forward pre-hook on the language model records the ``position_ids`` each forward receives (the
prefill of the uncached prompt tokens, then one call per generated token); they are compared with
independent transcriptions of the trained rule (``tests/backends/mrope_oracle.py``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from love_r1.backends import GenerationRequest, Message, SamplingParams, TextPart, VideoPart
from love_r1.backends import _qwen_inputs as qi
from love_r1.backends.hf import HFBackend
from love_r1.prompts import constants
from love_r1.video import Frames
from tests.backends.mrope_oracle import oracle_positions, trained_next_positions
from tests.fixtures import tiny_qwen as tq

SOURCE_FPS = 30.0
GREEDY = SamplingParams(max_new_tokens=4)


class _PositionRecorder:
    """``position_ids`` of every language-model forward: ``[3, batch, tokens]`` (t, h, w rows)."""

    def __init__(self, model):
        self.calls: list[torch.Tensor] = []
        self._handle = model.model.language_model.register_forward_pre_hook(self._hook, with_kwargs=True)

    def _hook(self, module, args, kwargs):
        self.calls.append(kwargs["position_ids"][-3:].clone())  # transformers' own path prepends a text row

    def remove(self):
        self._handle.remove()


def _frames(num_frames, rows, cols, family, *, first_index, step, sample_fps, key, seed=0):
    m = tq.frame_multiple(family)
    rng = np.random.default_rng(seed)
    indices = np.arange(num_frames) * step + first_index
    return Frames(data=rng.integers(0, 256, (num_frames, rows * m, cols * m, 3), dtype=np.uint8),
                  timestamps_seconds=indices / SOURCE_FPS, frame_indices=indices, source_fps=SOURCE_FPS,
                  sample_fps=sample_fps, key=key)


def _messages(fast, clips=(), question="Which colour? A. red B. blue"):
    content = [TextPart("Full video [0, 58]:"), VideoPart(fast)]
    for clip in clips:
        content += [TextPart("Subset zoom-in video clip [10, 14]:"), VideoPart(clip)]
    content.append(TextPart(question + constants.DECISION_INSTRUCTION))
    return (Message("system", constants.SYSTEM_MESSAGE), Message("user", tuple(content)))


def _expected(family, model, processor, request, rule, completion=()):
    """Positions of the prompt (+ completion tokens) under ``rule``, from an oracle or from transformers 5."""
    batch = qi.build_generation_inputs(processor, [request.messages], model_type=family,
                                       assistant_prefixes=[request.assistant_prefix])
    ids = batch["input_ids"]
    if rule == "max_plus_one":
        prompt = oracle_positions(family, ids, config=model.config, video_grid_thw=batch.get("video_grid_thw"),
                                  second_per_grid_ts=batch.get("second_per_grid_ts"))
        first_generated = trained_next_positions(prompt)[0]
    else:  # transformers 5's prompt rule; generated tokens continue the prompt's text
        prompt, _ = model.model.get_rope_index(ids, mm_token_type_ids=batch["mm_token_type_ids"],
                                               video_grid_thw=batch["video_grid_thw"],
                                               second_per_grid_ts=batch.get("second_per_grid_ts"))
        first_generated = int(prompt[0, 0, -1]) + 1
    generated = torch.arange(len(completion)).view(1, 1, -1).expand(3, 1, -1) + first_generated
    return torch.cat([prompt, generated], dim=2), ids


def test_first_text_token_after_a_150_s_fast_view_sits_after_its_time_extent():
    """The defect as measured: a 150 s video's fast view (300 frames at 2 fps), LOVE-R1 prompt layout."""
    model, processor = tq.build_tiny("qwen2_5_vl")
    num_source = int(150 * SOURCE_FPS)
    fast = _frames(300, 1, 2, "qwen2_5_vl", first_index=0, step=(num_source - 1) / 299, key="fast",
                   sample_fps=round(300 / (num_source - 1) * SOURCE_FPS, 2))  # 2.0 fps; 56x28 px keeps it fast
    request = GenerationRequest(_messages(fast), sampling=SamplingParams(max_new_tokens=1), session_id="e")
    expected, ids = _expected("qwen2_5_vl", model, processor, request, "max_plus_one")
    after = int((ids[0] == model.config.video_token_id).nonzero().max()) + 1  # <|vision_end|>
    start = int((ids[0] == model.config.video_token_id).nonzero().min())
    assert int(expected[0, 0, after]) == start + int(149 * (2 / 2.0) * 2) + 1  # after the last time id, 298
    for reuse in (True, False):
        recorder = _PositionRecorder(model)
        try:
            HFBackend(model, processor, reuse_cache=reuse).generate([request])
        finally:
            recorder.remove()
        fed = recorder.calls[0][:, 0]
        assert int(fed[0, after]) == int(expected[0, 0, after]), "transformers 5 puts it at start + max(h, w) / 2"
        assert torch.equal(fed, expected[:, 0])


def test_batched_left_padded_prompts_and_their_generated_tokens(tmp_path):
    family = "qwen2_5_vl"
    model, processor = tq.build_tiny(family)
    fast = _frames(16, 2, 3, family, first_index=0, step=110, sample_fps=0.27, key="fast", seed=1)
    clip = _frames(8, 4, 4, family, first_index=900, step=15, sample_fps=0.53, key="clip", seed=2)
    requests = [GenerationRequest(_messages(fast, [clip]), sampling=GREEDY),
                GenerationRequest(_messages(fast, question="Short?"), assistant_prefix="I", sampling=GREEDY)]
    recorder = _PositionRecorder(model)
    try:
        replies = HFBackend(model, processor, reuse_cache=False).generate(requests)
    finally:
        recorder.remove()
    batch = qi.build_generation_inputs(processor, [r.messages for r in requests], model_type=family,
                                       assistant_prefixes=[r.assistant_prefix for r in requests])
    mask = batch["attention_mask"]
    assert (mask == 0).any()  # the second prompt is left-padded
    expected = oracle_positions(family, batch["input_ids"], config=model.config,
                                video_grid_thw=batch["video_grid_thw"],
                                second_per_grid_ts=batch["second_per_grid_ts"], attention_mask=mask)
    prefill, *decode = recorder.calls
    assert torch.equal(prefill[:, mask.bool()], expected[:, mask.bool()])
    starts = trained_next_positions(expected, mask)
    for step, positions in enumerate(decode):
        for row in range(2):
            assert positions[:, row].flatten().tolist() == [starts[row] + step] * 3
    assert len(decode) == max(len(r.raw["token_ids"]) for r in replies) - 1


@pytest.mark.parametrize(("family", "rule"), [("qwen2_5_vl", "max_plus_one"), ("qwen2_5_vl", "spatial_extent"),
                                              ("qwen3_vl", "max_plus_one")])
def test_cached_continuation_feeds_the_positions_of_a_full_recomputation(family, rule):
    """Steps that reuse a cached prefix prefill only the suffix, at the full prompt's positions; tokens continue."""
    model, processor = tq.build_tiny(family)
    fast = _frames(16, 2, 3, family, first_index=0, step=110, sample_fps=0.27, key="fast", seed=1)
    late = _frames(8, 4, 4, family, first_index=900, step=15, sample_fps=2.0, key="late", seed=2)
    early = _frames(6, 2, 2, family, first_index=300, step=15, sample_fps=1.93, key="early", seed=3)
    steps = [GenerationRequest(_messages(fast), sampling=GREEDY, session_id="s"),
             GenerationRequest(_messages(fast, [late]), sampling=GREEDY, session_id="s"),
             GenerationRequest(_messages(fast, [early, late]), sampling=GREEDY, session_id="s"),
             GenerationRequest(_messages(fast, [early, late]), assistant_prefix="I get the answer.\n\n",
                               sampling=GREEDY, session_id="s")]
    cached = HFBackend(model, processor, position_rule=rule, return_logits=True)
    fresh = HFBackend(model, processor, position_rule=rule, return_logits=True, reuse_cache=False)
    for request in steps:
        recorder = _PositionRecorder(model)
        try:
            reply = cached.generate([request])[0]
        finally:
            recorder.remove()
        reference = fresh.generate([request])[0]
        assert reply.raw["token_ids"] == reference.raw["token_ids"]
        torch.testing.assert_close(reply.raw["logits"], reference.raw["logits"], atol=1e-5, rtol=0)
        tokens = reply.raw["token_ids"]
        expected, ids = _expected(family, model, processor, request, rule, completion=tokens[:-1])
        fed = torch.cat([call[:, 0] for call in recorder.calls], dim=1)  # suffix prefill, then one per token
        cached_length = reply.usage.prompt_tokens_cached
        assert fed.shape[1] == ids.shape[1] - cached_length + len(tokens) - 1
        assert torch.equal(fed, expected[:, 0, cached_length:])
    assert reply.usage.prompt_tokens_cached > 0


def test_position_rule_is_validated_and_kept():
    model, processor = tq.build_tiny("qwen2_5_vl")
    assert HFBackend(model, processor).position_rule == "max_plus_one"
    assert HFBackend(model, processor, position_rule="spatial_extent").position_rule == "spatial_extent"
    with pytest.raises(ValueError, match=r"position_rule='trained'.*'max_plus_one', 'spatial_extent'"):
        HFBackend(model, processor, position_rule="trained")


def test_spatial_extent_reproduces_transformers_5_generate():
    """For checkpoints fine-tuned under transformers 5: the option gives what its own ``generate`` computes."""
    family = "qwen2_5_vl"
    model, processor = tq.build_tiny(family)
    fast = _frames(16, 2, 3, family, first_index=0, step=110, sample_fps=0.27, key="fast", seed=1)
    request = GenerationRequest(_messages(fast), sampling=SamplingParams(max_new_tokens=6))
    ours = HFBackend(model, processor, position_rule="spatial_extent", return_logits=True,
                     reuse_cache=False).generate([request])[0]
    batch = qi.build_generation_inputs(processor, [request.messages], model_type=family)
    model.model.rope_deltas = None
    with torch.no_grad():
        native = model.generate(**batch, max_new_tokens=6, do_sample=False, output_logits=True,
                                return_dict_in_generate=True, suppress_tokens=qi.vision_token_ids(processor.tokenizer),
                                eos_token_id=[], pad_token_id=processor.tokenizer.pad_token_id)
    length = len(ours.raw["token_ids"])
    assert ours.raw["token_ids"] == native.sequences[0, batch["input_ids"].shape[1]:][:length].tolist()
    torch.testing.assert_close(ours.raw["logits"], torch.stack([s[0] for s in native.logits])[:length],
                               atol=1e-5, rtol=0)
    trained = HFBackend(model, processor, return_logits=True, reuse_cache=False).generate([request])[0]
    assert not torch.allclose(trained.raw["logits"][0], ours.raw["logits"][0], atol=1e-4)  # the rules differ


def test_several_return_sequences_share_their_prompts_positions():
    family = "qwen2_5_vl"
    model, processor = tq.build_tiny(family)
    fast = _frames(16, 2, 3, family, first_index=0, step=110, sample_fps=0.27, key="fast", seed=1)
    sampling = SamplingParams(max_new_tokens=3, temperature=1.0, seed=3, num_return_sequences=2)
    requests = [GenerationRequest(_messages(fast), sampling=sampling, session_id="a"),
                GenerationRequest(_messages(fast, question="Short?"), sampling=sampling, session_id="b")]
    recorder = _PositionRecorder(model)
    try:
        replies = HFBackend(model, processor).generate(requests)
    finally:
        recorder.remove()
    assert all(len(r.raw["token_ids_all"]) == 2 for r in replies)
    batch = qi.build_generation_inputs(processor, [r.messages for r in requests], model_type=family)
    mask = batch["attention_mask"]
    expected = oracle_positions(family, batch["input_ids"], config=model.config,
                                video_grid_thw=batch["video_grid_thw"],
                                second_per_grid_ts=batch["second_per_grid_ts"], attention_mask=mask)
    prefill = recorder.calls[0]
    assert prefill.shape[1] == 4
    for row in range(4):  # rows 0, 1 sample prompt 0; rows 2, 3 prompt 1
        real = mask[row // 2].bool()
        assert torch.equal(prefill[:, row, real], expected[:, row // 2, real])
    starts = trained_next_positions(expected, mask)
    assert recorder.calls[1][:, :, 0].tolist() == [[starts[0], starts[0], starts[1], starts[1]]] * 3
