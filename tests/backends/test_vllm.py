"""VLLMBackend: lazy import with a helpful error, request conversion, and (GPU) a real engine run."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from love_r1.backends import GenerationRequest, Message, SamplingParams, TextPart, VideoPart
from love_r1.backends import qwen_inputs as qi
from love_r1.backends.vllm import VLLMBackend, to_vllm_prompt, to_vllm_sampling_kwargs
from love_r1.video import Frames
from tests.fixtures import tiny_qwen as tq
from tests.helpers.markers import requires_vllm


def _request(prefix=""):
    indices = np.arange(4) * 15 + 300
    clip = Frames(data=np.zeros((4, 56, 56, 3), dtype=np.uint8), timestamps_seconds=indices / 30.0,
                  frame_indices=indices, source_fps=30.0, sample_fps=2.0, key="c")
    messages = (Message("system", "sys"), Message("user", (TextPart("Clip:"), VideoPart(clip), TextPart("Q?"))))
    return GenerationRequest(messages, assistant_prefix=prefix, sampling=SamplingParams(max_new_tokens=8))


def test_missing_vllm_raises_import_error_naming_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "vllm", None)  # makes `import vllm` fail even where it is installed
    with pytest.raises(ImportError, match=r"love-r1\[vllm\]"):
        VLLMBackend.from_pretrained(str(tmp_path))


@pytest.mark.parametrize("family", tq.FAMILIES)
def test_prompt_carries_rendered_text_and_per_clip_metadata(family):
    processor = tq.build_processor(family)
    request = _request(prefix="I get the answer.\n\n")
    prompt = to_vllm_prompt(processor, request, model_type=family)
    assert prompt["prompt"] == qi.render_prompt(processor, request.messages, assistant_prefix="I get the answer.\n\n")
    ((frames, metadata),) = prompt["multi_modal_data"]["video"]
    assert frames.shape == (4, 56, 56, 3)
    assert metadata == qi.video_metadata(request.messages[1].videos[0], model_type=family)
    assert prompt["mm_processor_kwargs"]["do_sample_frames"] is False


def test_sampling_conversion_greedy_and_sampled():
    greedy = to_vllm_sampling_kwargs(SamplingParams(max_new_tokens=9, top_p=0.5, top_k=3), stop_token_ids=[1])
    assert greedy["temperature"] == 0 and greedy["top_k"] == -1 and greedy["top_p"] == 1.0
    assert greedy["max_tokens"] == 9 and greedy["stop_token_ids"] == [1]
    sampled = to_vllm_sampling_kwargs(SamplingParams(temperature=0.9, top_k=50, seed=4), stop_token_ids=[])
    assert sampled["top_k"] == 50 and sampled["seed"] == 4 and sampled["temperature"] == 0.9


def test_vllm_records_the_trained_position_rule_and_refuses_others():
    processor = tq.build_processor("qwen2_5_vl")
    backend = VLLMBackend(object(), processor, model_type="qwen2_5_vl")
    assert backend.position_rule == "max_plus_one"  # what vLLM computes natively (get_mrope_input_positions)
    with pytest.raises(ValueError, match="vLLM computes M-RoPE positions itself.*--backend hf for 'spatial_extent'"):
        VLLMBackend(object(), processor, model_type="qwen2_5_vl", position_rule="spatial_extent")
    with pytest.raises(ValueError, match="vLLM computes M-RoPE positions itself"):
        VLLMBackend.from_pretrained("/nonexistent/dir", position_rule="spatial_extent")  # before loading anything


@pytest.mark.gpu
@requires_vllm
def test_vllm_engine_answers_like_hf_greedy(tmp_path):
    """Same prompt, same greedy tokens: both backends position text after a video with the trained rule."""
    from love_r1.backends.hf import HFBackend

    model, processor = tq.build_tiny("qwen2_5_vl")
    directory = tq.save_tiny(model, processor, tmp_path / "tiny")
    backend = VLLMBackend.from_pretrained(str(directory), max_model_len=4096, gpu_memory_utilization=0.3,
                                          enforce_eager=True)
    request = _request()
    got = backend.generate([request, request])
    assert got[1].usage.prompt_tokens_cached > 0  # prefix caching is on
    want = HFBackend.from_pretrained(str(directory), device="cuda", dtype="float32").generate([request])[0]
    assert got[0].raw["token_ids"][:4] == want.raw["token_ids"][:4]
