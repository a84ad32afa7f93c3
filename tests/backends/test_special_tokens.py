"""Free-step replies keep special tokens, as the reference decodes them; forced answers drop them.

The reference (``model_sample_frame.py``) decodes free steps with ``skip_special_tokens=False`` and the
forced answer with ``True``. A free reply cut by end-of-sequence inside a box therefore reads
``\\boxed{[23, 25<|im_end|>`` there: not an interval, so the reference forces an answer, where the
text without the token (``\\boxed{[23, 25``) would be read as a zoom.
"""

from __future__ import annotations

import numpy as np
import torch

from love_r1.agent.loop import EpisodeTask, run_episode
from love_r1.agent.policy import ZoomPolicy
from love_r1.backends import Generation, GenerationRequest, Message, SamplingParams
from love_r1.backends.hf import HFBackend
from love_r1.backends.vllm import to_vllm_sampling_kwargs
from tests.fixtures import tiny_qwen as tq


def test_hf_backend_keeps_the_closing_token_only_when_asked():
    model, processor = tq.build_tiny("qwen2_5_vl")
    eos = processor.tokenizer.convert_tokens_to_ids("<|im_end|>")
    messages = (Message("system", "Answer."), Message("user", "Which?"))
    with torch.no_grad():  # make <|im_end|> certain: every reply is that one token
        bias = torch.zeros(model.lm_head.out_features)
        bias[eos] = 1e4
        model.lm_head.bias = torch.nn.Parameter(bias)
    try:
        for reuse in (True, False):
            backend = HFBackend(model, processor, reuse_cache=reuse)
            kept, dropped = backend.generate([
                GenerationRequest(messages, sampling=SamplingParams(max_new_tokens=3), session_id="a",
                                  skip_special_tokens=False),
                GenerationRequest(messages, sampling=SamplingParams(max_new_tokens=3), session_id="b")])
            assert (kept.text, kept.finish_reason) == ("<|im_end|>", "stop")
            assert (dropped.text, dropped.finish_reason) == ("", "stop")
    finally:
        model.lm_head.bias = None
    assert to_vllm_sampling_kwargs(SamplingParams(), stop_token_ids=[], skip_special_tokens=False)[
        "skip_special_tokens"] is False


class _Decoding:
    """Stands for a model whose free step ends with ``<|im_end|>`` inside an unclosed box; decodes like hf."""

    def __init__(self):
        self.requests: list[GenerationRequest] = []

    def generate(self, requests):
        out = []
        for request in requests:
            self.requests.append(request)
            text = "\\boxed{B}" if request.assistant_prefix else "I need to zoom in on the video.\n\n\\boxed{[3, 5"
            if not request.skip_special_tokens:
                text += "<|im_end|>"
            out.append(Generation(text=text, finish_reason="stop"))
        return out


def test_loop_asks_free_steps_for_special_tokens_and_follows_the_reference(tmp_path):
    from love_r1.synth import write_indexed_video

    video = write_indexed_video(tmp_path / "v.mp4", duration_seconds=12.0, fps=5.0, width=64, height=48)
    policy = ZoomPolicy(fast_max_frames=8, fast_pixels_per_frame=28 * 28 * 4, clip_max_frames=4,
                        clip_pixels_per_frame=28 * 28 * 4)
    backend = _Decoding()
    episode = run_episode(backend, EpisodeTask(episode_id="e", video_path=video, question="Which?",
                                               options=("A. a", "B. b")), policy)
    assert [r.skip_special_tokens for r in backend.requests] == [False, True]
    # the reference: '[3, 5<|im_end|>' is no interval -> forced answer at once, no zoom clip
    assert [s.kind for s in episode.steps] == ["zoom", "forced_answer"]
    assert episode.steps[0].applied_interval is None and episode.steps[0].raw_text.endswith("<|im_end|>")
    assert episode.answer == "B" and episode.clips == []
    assert np.isclose(episode.steps[1].clips_in_prompt[0].end_seconds, 12.0)


def test_a_recorded_free_step_trains_without_a_doubled_end_of_turn():
    """Trajectory records take ``raw_text`` as the target; the template closes the turn only once."""
    from love_r1.backends.qwen_inputs import IGNORE_INDEX, build_training_inputs

    processor = tq.build_processor("qwen2_5_vl")
    reply = "I need to zoom in on the video.\n\nLook. \\boxed{[4, 9]}"
    conversations = [(Message("user", "Where?"), Message("assistant", reply + ending)) for ending in ("", "<|im_end|>")]
    batch = build_training_inputs(processor, conversations, model_type="qwen2_5_vl")
    assert batch["input_ids"][0].tolist() == batch["input_ids"][1].tolist()
    kept = batch["labels"][1][batch["labels"][1] != IGNORE_INDEX]
    assert processor.tokenizer.decode(kept) == reply + "<|im_end|>"
