"""Offline vLLM backend (extra ``vllm``): Qwen2.5-VL / Qwen3-VL with video given as frames plus metadata.

vLLM is imported lazily, so this module imports without it; constructing :class:`VLLMBackend`
without vLLM raises an ``ImportError`` naming the extra. The engine runs with
``enable_prefix_caching=True``: successive steps of an episode share their prompt start (system
message and fast view), and vLLM's prefix cache reuses those KV blocks across calls (vision
features of the prefix included, since the engine hashes the multimodal inputs with the tokens).

Prompts are rendered with the checkpoint's own chat template (:mod:`love_r1.backends._qwen_inputs`),
and each clip is passed as ``(uint8 frames [N, H, W, 3], video_metadata)`` with
``do_sample_frames=False`` — the same metadata the hf backend gives the transformers processor, so
Qwen2.5-VL gets ``second_per_grid_ts = 2 / sample_fps`` and Qwen3-VL absolute ``<t seconds>``.

M-RoPE positions: vLLM computes them itself with the rule Qwen2.5-VL and LOVE-R1 were trained with
(text after a video starts at the largest position so far + 1, its ``get_mrope_input_positions``),
i.e. love-r1's ``position_rule="max_plus_one"``; the backend records that value and accepts no other.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from love_r1._imports import require
from love_r1.backends import DEFAULT_MODEL_ID, BackendError, Generation, GenerationRequest, SamplingParams, TokenUsage
from love_r1.backends import _qwen_inputs as qi
from love_r1.backends._hub import resolve_model_path
from love_r1.backends._mrope import DEFAULT_POSITION_RULE, PositionRule, check_position_rule

logger = logging.getLogger(__name__)


def _vllm_position_rule(rule: str) -> PositionRule:
    if check_position_rule(rule) != "max_plus_one":
        raise ValueError(f"position_rule={rule!r}: vLLM computes M-RoPE positions itself, always with "
                         "'max_plus_one' (the trained rule); use --backend hf for 'spatial_extent'")
    return rule  # type: ignore[return-value]


def to_vllm_prompt(processor: Any, request: GenerationRequest, *, model_type: str) -> dict[str, Any]:
    """One request as a vLLM prompt dict: rendered text, clips with metadata, processor kwargs."""
    text = qi.render_prompt(processor, request.messages, assistant_prefix=request.assistant_prefix)
    clips = qi.videos_of(request.messages)
    prompt: dict[str, Any] = {"prompt": text}
    if clips:
        prompt["multi_modal_data"] = {
            "video": [(clip.data, qi.video_metadata(clip, model_type=model_type)) for clip in clips]
        }
        prompt["mm_processor_kwargs"] = qi.video_processor_kwargs(processor)
    return prompt


def to_vllm_sampling_kwargs(sampling: SamplingParams, *, stop_token_ids: Sequence[int],
                            skip_special_tokens: bool = True) -> dict[str, Any]:
    """Our sampling settings as ``vllm.SamplingParams`` keyword arguments (``temperature == 0``: greedy)."""
    return {
        "n": sampling.num_return_sequences, "max_tokens": sampling.max_new_tokens,
        "temperature": sampling.temperature, "top_p": sampling.top_p if sampling.temperature > 0 else 1.0,
        "top_k": sampling.top_k if sampling.top_k > 0 and sampling.temperature > 0 else -1,
        "repetition_penalty": sampling.repetition_penalty, "seed": sampling.seed,
        "stop_token_ids": list(stop_token_ids), "skip_special_tokens": skip_special_tokens,
    }


class VLLMBackend:
    """A ``vllm.LLM`` engine plus the checkpoint's processor (for the chat template and metadata rules).

    Build it with :meth:`from_pretrained`; ``llm`` may also be an engine you made yourself (then pass
    the matching ``processor`` and ``model_type``). ``position_rule`` can only be ``"max_plus_one"``:
    vLLM positions Qwen-VL prompts the way the checkpoints were trained (use the hf backend for
    ``"spatial_extent"``).
    """

    def __init__(self, llm: Any, processor: Any, *, model_type: str,
                 position_rule: PositionRule = DEFAULT_POSITION_RULE) -> None:
        self.position_rule: PositionRule = _vllm_position_rule(position_rule)
        qi.resolve_model_type(processor, model_type)
        self.llm = llm
        self.processor = processor
        self.model_type = model_type
        tokenizer = processor.tokenizer
        self._stop_token_ids = [int(tokenizer.convert_tokens_to_ids(t)) for t in ("<|im_end|>", "<|endoftext|>")]

    @classmethod
    def from_pretrained(
        cls,
        model_id_or_dir: str = DEFAULT_MODEL_ID,
        *,
        revision: str | None = None,
        dtype: str = "auto",
        tensor_parallel_size: int = 1,
        gpu_memory_utilization: float = 0.9,
        max_model_len: int | None = 32768,
        max_videos_per_prompt: int = 4,
        seed: int = 0,
        position_rule: PositionRule = DEFAULT_POSITION_RULE,
        **llm_kwargs: Any,
    ) -> VLLMBackend:
        """Start an offline engine with prefix caching; ``max_videos_per_prompt`` = fast view + zoom clips."""
        _vllm_position_rule(position_rule)  # before the engine starts
        vllm = require("vllm", extra="vllm", purpose="the vLLM backend")
        transformers = require("transformers", extra="hf")
        path = resolve_model_path(model_id_or_dir, revision=revision)
        config = transformers.AutoConfig.from_pretrained(path)
        processor = transformers.AutoProcessor.from_pretrained(path)
        try:
            llm = vllm.LLM(
                model=str(path), dtype=dtype, tensor_parallel_size=tensor_parallel_size,
                gpu_memory_utilization=gpu_memory_utilization, max_model_len=max_model_len, seed=seed,
                enable_prefix_caching=True, limit_mm_per_prompt={"video": max_videos_per_prompt, "image": 0},
                **llm_kwargs,
            )
        except (RuntimeError, ValueError) as error:
            raise BackendError(f"vLLM could not start on {str(path)!r}: {error}") from error
        return cls(llm, processor, model_type=config.model_type, position_rule=position_rule)

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        vllm = require("vllm", extra="vllm", purpose="the vLLM backend")
        requests = list(requests)
        if not requests:
            return []
        prompts = [to_vllm_prompt(self.processor, r, model_type=self.model_type) for r in requests]
        params = [vllm.SamplingParams(**to_vllm_sampling_kwargs(r.sampling, stop_token_ids=self._stop_token_ids,
                                                                skip_special_tokens=r.skip_special_tokens))
                  for r in requests]
        outputs = self.llm.generate(prompts, sampling_params=params, use_tqdm=False)
        results = []
        for output, request in zip(outputs, requests, strict=True):
            first = output.outputs[0]
            clips = qi.videos_of(request.messages)
            usage = TokenUsage(
                prompt_tokens=len(output.prompt_token_ids or ()),
                prompt_tokens_cached=int(getattr(output, "num_cached_tokens", 0) or 0),
                completion_tokens=len(first.token_ids),
                vision_tokens=sum(1 for t in output.prompt_token_ids or () if t == self._video_token_id()),
                vision_frames_encoded=sum(c.num_frames for c in clips),
            )
            finish = "length" if first.finish_reason == "length" else "stop"
            raw = {"token_ids": list(first.token_ids), "texts": [o.text for o in output.outputs], "path": "vllm"}
            results.append(Generation(text=first.text, usage=usage, finish_reason=finish, raw=raw))
        return results

    def _video_token_id(self) -> int:
        return int(self.processor.tokenizer.convert_tokens_to_ids("<|video_pad|>"))


__all__ = ["VLLMBackend", "to_vllm_prompt", "to_vllm_sampling_kwargs"]
