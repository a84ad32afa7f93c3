"""HFBackend on tiny random Qwen2.5-VL / Qwen3-VL models: cross-step reuse equals full recomputation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from love_r1.backends import Backend, GenerationRequest, Message, SamplingParams, TextPart, VideoPart
from love_r1.backends.hf import HFBackend
from love_r1.video import Frames
from tests.fixtures import tiny_qwen as tq

SOURCE_FPS = 30.0
GREEDY = SamplingParams(max_new_tokens=5)


def _frames(num_frames, size, *, first_index, step, sample_fps, key, seed):
    rng = np.random.default_rng(seed)
    indices = np.arange(num_frames) * step + first_index
    return Frames(
        data=rng.integers(0, 256, (num_frames, size[0], size[1], 3), dtype=np.uint8),
        timestamps_seconds=indices / SOURCE_FPS, frame_indices=indices, source_fps=SOURCE_FPS,
        sample_fps=sample_fps, key=key,
    )


def _clips(tag=""):
    fast = _frames(16, (56, 84), first_index=0, step=110, sample_fps=0.27, key=f"fast{tag}", seed=1)
    late = _frames(8, (112, 112), first_index=900, step=15, sample_fps=2.0, key=f"late{tag}", seed=2)
    early = _frames(8, (112, 112), first_index=300, step=15, sample_fps=2.0, key=f"early{tag}", seed=3)
    return fast, late, early


def _messages(fast, clips, question="Which colour is shown? A. red B. blue"):
    content = [TextPart("Full video [0, 58]:"), VideoPart(fast)]
    for clip in sorted(clips, key=lambda c: c.timestamps_seconds[0]):
        start, end = clip.timestamps_seconds[0], clip.timestamps_seconds[-1]
        content += [TextPart(f"Subset zoom-in video clip [{start:.0f}, {end:.0f}]:"), VideoPart(clip)]
    content.append(TextPart(question))
    return (Message("system", "The red numbers are timestamps."), Message("user", tuple(content)))


def _episode(session_id, tag=""):
    """step 1 fast only; step 2 + a clip; step 3 + an earlier clip (sorts first); forced step with prefix."""
    fast, late, early = _clips(tag)
    return [
        GenerationRequest(_messages(fast, []), sampling=GREEDY, session_id=session_id),
        GenerationRequest(_messages(fast, [late]), sampling=GREEDY, session_id=session_id),
        GenerationRequest(_messages(fast, [late, early]), sampling=GREEDY, session_id=session_id),
        GenerationRequest(_messages(fast, [late, early]), assistant_prefix="I get the answer.\n\n",
                          sampling=GREEDY, session_id=session_id),
    ]


@pytest.fixture(scope="module", params=tq.FAMILIES)
def tiny_model(request):
    model, processor = tq.build_tiny(request.param)
    return request.param, model, processor


class _EncoderCounter:
    def __init__(self, model):
        self.frames = 0
        self.calls = 0
        self._handle = model.model.visual.register_forward_hook(self._hook, with_kwargs=True)

    def _hook(self, module, args, kwargs, output):
        grid = kwargs.get("grid_thw", args[1] if len(args) > 1 else None)
        self.calls += 1
        self.frames += int(grid[:, 0].sum()) * 2

    def remove(self):
        self._handle.remove()


def _assert_same(cached, fresh):
    assert cached.raw["token_ids"] == fresh.raw["token_ids"]
    assert cached.text == fresh.text
    assert cached.finish_reason == fresh.finish_reason
    torch.testing.assert_close(cached.raw["logits"], fresh.raw["logits"], atol=1e-5, rtol=0)


def test_cached_episode_equals_full_recomputation(tiny_model):
    family, model, processor = tiny_model
    cached = HFBackend(model, processor, return_logits=True)
    fresh = HFBackend(model, processor, return_logits=True, reuse_cache=False)
    assert isinstance(cached, Backend)
    counter = _EncoderCounter(model)
    try:
        replies = [cached.generate([r])[0] for r in _episode("ep")]
        encoded_frames, encoder_calls = counter.frames, counter.calls
        references = [fresh.generate([r])[0] for r in _episode("ep")]
    finally:
        counter.remove()
    for reply, reference in zip(replies, references, strict=True):
        _assert_same(reply, reference)
        assert reply.usage.prompt_tokens == reference.usage.prompt_tokens
        assert reply.usage.completion_tokens == reference.usage.completion_tokens == 5
        assert reply.finish_reason == "length"
    # fast view (16 frames) and each clip (8 frames) go through the ViT once per episode
    assert encoded_frames == 16 + 8 + 8
    assert encoder_calls == 3
    assert [r.usage.vision_frames_encoded for r in replies] == [16, 8, 8, 0]
    assert [r.usage.vision_frames_cached for r in replies] == [0, 16, 24, 32]
    usage = [r.usage for r in replies]
    assert usage[0].prompt_tokens_cached == 0
    # step 2 reuses at least system + fast view; step 3 re-prefills from the new (earlier) clip on;
    # the forced step reuses the whole previous prompt
    fast_end = usage[0].prompt_tokens - 30
    assert usage[1].prompt_tokens_cached > fast_end
    assert usage[1].prompt_tokens_cached < usage[2].prompt_tokens_cached < usage[1].prompt_tokens
    assert usage[3].prompt_tokens_cached == usage[2].prompt_tokens
    computed = sum(u.prompt_tokens_computed for u in usage)
    assert computed < 0.6 * sum(u.prompt_tokens for u in usage)


def test_interleaved_sessions_and_eviction_keep_outputs_exact(tiny_model, caplog):
    family, model, processor = tiny_model
    small = HFBackend(model, processor, return_logits=True, max_cached_sessions=1)
    fresh = HFBackend(model, processor, return_logits=True, reuse_cache=False)
    a, b = _episode("a", tag="a")[:3], _episode("b", tag="b")[:3]
    # one batched call per round, like the agent loop; sessions evict each other (bound 1)
    for step in range(3):
        out = small.generate([a[step], b[step]])
        ref = fresh.generate([a[step], b[step]])
        for got, want in zip(out, ref, strict=True):
            _assert_same(got, want)
            assert got.usage.prompt_tokens_cached == 0  # evicted by the other session in between
    assert small.num_cached_sessions == 1
    assert sum("max_cached_sessions=1" in r.getMessage() for r in caplog.records) == 1  # warned once
    assert small.close_session("b") and not small.close_session("b")


def test_batched_left_padding_equals_single_requests(tiny_model):
    family, model, processor = tiny_model
    backend = HFBackend(model, processor, return_logits=True, reuse_cache=False)
    fast, late, early = _clips()
    requests = [GenerationRequest(_messages(fast, [late, early]), sampling=GREEDY),
                GenerationRequest(_messages(fast, [], question="Short?"), assistant_prefix="I", sampling=GREEDY)]
    together = backend.generate(requests)
    for got, request in zip(together, requests, strict=True):
        alone = backend.generate([request])[0]
        assert got.raw["token_ids"] == alone.raw["token_ids"]
        torch.testing.assert_close(got.raw["logits"], alone.raw["logits"], atol=1e-5, rtol=0)
        assert got.usage.prompt_tokens == alone.usage.prompt_tokens
    assert together[0].usage.vision_frames_encoded == 32 and together[1].usage.vision_frames_encoded == 16


def test_sampling_is_seeded_and_never_emits_vision_tokens(tiny_model):
    family, model, processor = tiny_model
    backend = HFBackend(model, processor)
    fast, late, _ = _clips()
    params = SamplingParams(max_new_tokens=12, temperature=1.5, top_p=0.95, top_k=50, seed=7)
    request = GenerationRequest(_messages(fast, [late]), sampling=params, session_id="s")
    first = backend.generate([request])[0]
    second = backend.generate([GenerationRequest(request.messages, sampling=params, session_id="t")])[0]
    uncached = HFBackend(model, processor, reuse_cache=False).generate([request])[0]
    assert first.raw["token_ids"] == second.raw["token_ids"] == uncached.raw["token_ids"]
    vision = set(processor.tokenizer.convert_tokens_to_ids(list(tq.VISION_TOKENS)))
    assert not vision & set(first.raw["token_ids"])
    other = backend.generate([GenerationRequest(request.messages, sampling=SamplingParams(
        max_new_tokens=12, temperature=1.5, seed=8), session_id="s")])[0]
    assert other.raw["token_ids"] != first.raw["token_ids"]


def test_stop_reason_and_usage_fields(tiny_model):
    family, model, processor = tiny_model
    backend = HFBackend(model, processor)
    fast, _, _ = _clips()
    eos = processor.tokenizer.convert_tokens_to_ids("<|im_end|>")
    # forbid nothing, but make <|im_end|> certain by biasing the head: the reply stops at once
    with torch.no_grad():
        bias = torch.zeros(model.lm_head.out_features)
        bias[eos] = 1e4
        model.lm_head.bias = torch.nn.Parameter(bias)
    try:
        reply = backend.generate([GenerationRequest(_messages(fast, []), sampling=GREEDY)])[0]
    finally:
        model.lm_head.bias = None
    assert reply.finish_reason == "stop" and reply.text == "" and reply.usage.completion_tokens == 1
    assert reply.usage.vision_tokens == 48  # 16 frames -> 8 temporal patches x (4 x 6) / 4
    assert reply.usage.prefill_seconds > 0


def test_rejects_unsupported_model_type():
    model, processor = tq.build_tiny("qwen2_5_vl")
    model.config.model_type = "llava"
    with pytest.raises(ValueError, match="qwen2_5_vl"):
        HFBackend(model, processor)


def test_agent_loop_episode_with_real_video_reuses_and_matches(tmp_path):
    from love_r1 import synth
    from love_r1.agent import loop
    from love_r1.agent import policy as policy_module
    from love_r1.backends import Generation

    video = synth.write_indexed_video(tmp_path / "v.mp4", duration_seconds=40.0, fps=10.0, width=160, height=120)
    policy = policy_module.ZoomPolicy(max_free_steps=2, fast_max_frames=32, fast_pixels_per_frame=4 * 28 * 28,
                                      clip_max_frames=4, clip_pixels_per_frame=16 * 28 * 28,
                                      sampling=SamplingParams(max_new_tokens=3))
    model, processor = tq.build_tiny("qwen2_5_vl")

    class Scripted:  # real model calls; replies replaced: zoom late, zoom early, forced answer
        def __init__(self, inner):
            self.inner, self.tokens, self.usage = inner, [], []

        def generate(self, requests):
            out = []
            for request, generation in zip(requests, self.inner.generate(requests), strict=True):
                self.tokens.append(generation.raw["token_ids"])
                self.usage.append(generation.usage)
                zoom = "[25, 30]" if len(self.tokens) == 1 else "[5, 10]"
                text = "\\boxed{A}" if request.assistant_prefix else f"I need to zoom in.\n\n\\boxed{{{zoom}}}"
                out.append(Generation(text=text, usage=generation.usage))
            return out

    task = loop.EpisodeTask(episode_id="e", video_path=video, question="Which?", options=("A. a", "B. b"))
    cached, rebuilt = Scripted(HFBackend(model, processor)), Scripted(HFBackend(model, processor, reuse_cache=False))
    episode = loop.run_episode(cached, task, policy)
    loop.run_episode(rebuilt, task, policy)
    assert [s.kind for s in episode.steps] == ["zoom", "zoom", "forced_answer"]
    assert cached.tokens == rebuilt.tokens
    assert [u.vision_frames_encoded for u in cached.usage] == [32, 4, 4]
    assert sum(u.prompt_tokens_computed for u in cached.usage) < sum(u.prompt_tokens for u in rebuilt.usage)
    assert episode.ledger.prompt_tokens_cached == sum(u.prompt_tokens_cached for u in cached.usage) > 0


def test_suffix_made_only_of_previously_encoded_clips(tiny_model):
    family, model, processor = tiny_model
    cached = HFBackend(model, processor, return_logits=True)
    fresh = HFBackend(model, processor, return_logits=True, reuse_cache=False)
    fast, late, early = _clips()
    prompts = [[early], [late], [early]]  # the third suffix holds a clip encoded two calls ago
    replies = [cached.generate([GenerationRequest(_messages(fast, c), sampling=GREEDY, session_id="x")])[0]
               for c in prompts]
    for reply, clips in zip(replies, prompts, strict=True):
        _assert_same(reply, fresh.generate([GenerationRequest(_messages(fast, clips), sampling=GREEDY)])[0])
    assert [r.usage.vision_frames_encoded for r in replies] == [24, 8, 0]
    assert replies[2].raw["clips_encoded"] == 0 and replies[2].usage.prompt_tokens_cached > 0


def test_second_question_on_the_same_video_starts_from_the_first_sessions_prefix(tiny_model):
    family, model, processor = tiny_model
    cached = HFBackend(model, processor, return_logits=True)
    fresh = HFBackend(model, processor, return_logits=True, reuse_cache=False)
    fast, late, _ = _clips()
    first = GenerationRequest(_messages(fast, [late], question="What colour?"), sampling=GREEDY, session_id="q1")
    second = GenerationRequest(_messages(fast, [], question="How many?"), sampling=GREEDY, session_id="q2")
    one = cached.generate([first])[0]
    two = cached.generate([second])[0]
    _assert_same(two, fresh.generate([second])[0])
    assert one.usage.vision_frames_encoded == 24
    assert two.usage.vision_frames_encoded == 0  # the fast view's features come from session q1
    assert two.usage.prompt_tokens_cached > 48  # system + fast view from q1's cache
    again = cached.generate([first])[0]  # q1's own cache was not disturbed by the copy
    _assert_same(again, one)
    isolated = HFBackend(model, processor, share_across_sessions=False)
    isolated.generate([first])
    assert isolated.generate([second])[0].usage.prompt_tokens_cached == 0


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_cached_episode_on_cuda(tiny_model, dtype):
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    family, model, processor = tiny_model
    cuda_model = tq.build_model(model.config).to("cuda", getattr(torch, dtype))
    cached = HFBackend(cuda_model, processor, return_logits=True)
    fresh = HFBackend(cuda_model, processor, return_logits=True, reuse_cache=False)
    for request in _episode("gpu"):
        got, want = cached.generate([request])[0], fresh.generate([request])[0]
        if dtype == "float32":  # cuDNN may use TF32 in the patch-embedding convolution
            assert got.raw["token_ids"] == want.raw["token_ids"]
            torch.testing.assert_close(got.raw["logits"], want.raw["logits"], atol=1e-3, rtol=0)
        else:  # bf16 kernels round differently for other prefix lengths: first-token logits only
            torch.testing.assert_close(got.raw["logits"][0].float(), want.raw["logits"][0].float(), atol=5e-2, rtol=0)


def test_text_only_requests_in_a_session(tiny_model):
    family, model, processor = tiny_model
    cached = HFBackend(model, processor, return_logits=True)
    fresh = HFBackend(model, processor, return_logits=True, reuse_cache=False)
    base = (Message("system", "Answer briefly."), Message("user", "Which colour is the sky?"))
    requests = [GenerationRequest(base, sampling=GREEDY, session_id="t"),
                GenerationRequest(base, assistant_prefix="I get the answer.\n\n", sampling=GREEDY, session_id="t")]
    replies = [cached.generate([r])[0] for r in requests]
    for reply, request in zip(replies, requests, strict=True):
        _assert_same(reply, fresh.generate([request])[0])
    assert replies[1].usage.prompt_tokens_cached == replies[0].usage.prompt_tokens
    assert replies[1].usage.vision_tokens == 0
