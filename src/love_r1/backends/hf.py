"""transformers backend for Qwen2.5-VL / Qwen3-VL checkpoints (extra ``hf``), with cross-step reuse.

``HFBackend.generate`` answers a batch of :class:`~love_r1.backends.GenerationRequest`. Requests that
carry a ``session_id`` (one per episode) are run one at a time against that session's cached state
when ``reuse_cache=True``: clips already encoded by the vision tower are not encoded again, and the
KV cache of the longest common token prefix with the session's previous prompt (system message and
fast view always; earlier zoom clips that kept their place) is reused, so only the changed suffix is
prefilled. The result equals a full recomputation (tested on logits, ``atol=1e-5``). Other requests
are batched with left padding.

Every forward gets explicit M-RoPE ``position_ids`` (:func:`love_r1.backends.qwen_inputs.mrope_position_ids`)
under ``position_rule``: by default the rule the checkpoints were trained with (text after a video
starts after the video's largest time id), not transformers 5's own. See ``docs/backends-hf.md``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from love_r1._compat import copy_cache_prefix, crop_cache
from love_r1._imports import require
from love_r1.backends import (
    DEFAULT_MODEL_ID,
    BackendError,
    Generation,
    GenerationRequest,
    SamplingParams,
    TokenUsage,
)
from love_r1.backends import _qwen_inputs as qi
from love_r1.backends._hub import resolve_model_path
from love_r1.backends._kv_cache import (
    ClipFeatures,
    Session,
    SessionStore,
    reusable_prefix_length,
    token_identities,
)
from love_r1.backends._mrope import DEFAULT_POSITION_RULE, PositionRule, check_position_rule

logger = logging.getLogger(__name__)

# config.model_type -> transformers model class name.
_MODEL_CLASSES = {
    "qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration",
    "qwen3_vl": "Qwen3VLForConditionalGeneration",
}
_DEVICES = ("auto", "cpu", "cuda", "cuda:N", "mps")


def _torch():
    return require("torch", extra="hf", purpose="the transformers backend")


def _resolve_device(device: str | None) -> Any:
    torch = _torch()
    if device in (None, "auto"):
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device={device!r} is not a torch device; use one of {list(_DEVICES)}") from error
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise BackendError(f"device={device!r} was requested but this torch sees no CUDA device "
                           f"(torch {torch.__version__}, CUDA build {torch.version.cuda or 'none'}); "
                           "run on the CPU: --device cpu on the command line, device='cpu' in Python")
    return resolved


def _resolve_dtype(dtype: Any, device: Any) -> Any:
    torch = _torch()
    if dtype in (None, "auto"):
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    value = getattr(torch, str(dtype), None) if isinstance(dtype, str) else None
    if not isinstance(value, torch.dtype):
        raise ValueError(f"dtype={dtype!r} is not a torch dtype; use 'auto', 'bfloat16', 'float16' or 'float32'")
    return value


class _FirstTokenClock:
    """A logits processor that only records when generate produced its first logits (end of prefill)."""

    def __init__(self) -> None:
        self.first_seconds: float | None = None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self.first_seconds is None:
            self.first_seconds = time.perf_counter()
        return scores


class _VisionTimer:
    """Wall-clock seconds spent in the vision tower (``model.model.visual``) while active.

    On the batched path ``generate`` runs the ViT itself; timing it keeps ``encode_seconds``
    (pixels + ViT) and ``prefill_seconds`` (language model) comparable with the cached path.
    """

    def __init__(self, model: Any) -> None:
        self._visual = getattr(getattr(model, "model", None), "visual", None)
        self._handles: list[Any] = []
        self._started: float | None = None
        self.seconds = 0.0

    def _pre(self, *_: Any) -> None:
        self._started = time.perf_counter()

    def _post(self, *_: Any) -> None:
        if self._started is not None:
            self.seconds += time.perf_counter() - self._started
            self._started = None

    def __enter__(self) -> _VisionTimer:
        if self._visual is not None:
            self._handles = [self._visual.register_forward_pre_hook(self._pre),
                             self._visual.register_forward_hook(self._post)]
        return self

    def __exit__(self, *_: Any) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []


@dataclass
class _Prompt:
    """One cached-path prompt: token ids, its clips and their inputs, spans, identities and positions."""

    input_ids: Any  # LongTensor [1, L]
    clips: list[Any]  # Frames, in prompt order
    clip_inputs: list[qi.ClipInputs]
    tokens_per_video: list[int]
    spans: list[tuple[int, int]]
    identities: list[Any]
    position_ids: Any  # LongTensor [3, 1, L]


class HFBackend:
    """A transformers Qwen-VL model plus processor, answering batched requests.

    Args:
        model: a ``Qwen2_5_VLForConditionalGeneration`` or ``Qwen3VLForConditionalGeneration``.
        processor: its processor (chat template, tokenizer, video processor).
        device, dtype: when given, the model is moved/cast; ``None`` leaves it where it is.
        position_rule: where text after a video starts in the M-RoPE positions (``docs/backends-hf.md``):
            ``"max_plus_one"`` (default) is how Qwen2.5-VL and LOVE-R1 were trained (transformers 4.49,
            vLLM); ``"spatial_extent"`` is transformers 5's Qwen2.5-VL rule, for checkpoints fine-tuned
            with it. Qwen3-VL gets the same positions under both.
        reuse_cache: reuse clip features and the KV cache of a common prompt prefix across
            requests with the same ``session_id``.
        max_cached_sessions: sessions kept at once (least recently used evicted). A KV cache of a
            long-video prompt on a 7B model is about 1 GB; set this to at least the number of
            episodes run concurrently, or reuse is lost to eviction.
        share_across_sessions: a new session may start from another held session's cache and clip
            features (questions on the same video share system message and fast view).
        return_logits: keep the per-step logits in ``Generation.raw["logits"]`` (tests, debugging).
    """

    def __init__(
        self,
        model: Any,
        processor: Any,
        *,
        device: str | None = None,
        dtype: Any = None,
        position_rule: PositionRule = DEFAULT_POSITION_RULE,
        reuse_cache: bool = True,
        max_cached_sessions: int = 8,
        share_across_sessions: bool = True,
        return_logits: bool = False,
    ) -> None:
        torch = _torch()
        model_type = getattr(model.config, "model_type", None)
        if model_type not in _MODEL_CLASSES:
            raise ValueError(
                f"model.config.model_type={model_type!r} is not supported; expected one of {sorted(_MODEL_CLASSES)}"
            )
        self.position_rule: PositionRule = check_position_rule(position_rule)
        if device is not None or dtype is not None:
            target = _resolve_device(device) if device is not None else model.device
            model = model.to(device=target, dtype=_resolve_dtype(dtype, target) if dtype is not None else None)
        self.model = model.eval()
        self.processor = processor
        self.model_type: str = model_type
        self.reuse_cache = reuse_cache
        self.share_across_sessions = share_across_sessions
        self.return_logits = return_logits
        self._sessions = SessionStore(max_sessions=max_cached_sessions)
        self._warned_eviction = False
        tokenizer = processor.tokenizer
        self._vision_token_ids = qi.vision_token_ids(tokenizer)
        self._video_token_id = int(model.config.video_token_id)
        self._merge_size = int(processor.video_processor.merge_size)
        eos = model.generation_config.eos_token_id
        eos_ids = eos if isinstance(eos, list) else [eos] if eos is not None else []
        if tokenizer.convert_tokens_to_ids("<|im_end|>") not in eos_ids:
            eos_ids = [*eos_ids, tokenizer.convert_tokens_to_ids("<|im_end|>")]
        self._eos_ids = [int(i) for i in eos_ids]
        pad = model.generation_config.pad_token_id
        self._pad_id = int(pad if pad is not None else tokenizer.pad_token_id)
        self._torch = torch

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_pretrained(
        cls,
        model_id_or_dir: str = DEFAULT_MODEL_ID,
        *,
        device: str = "auto",
        dtype: Any = "auto",
        attn_implementation: str | None = None,
        device_map: str | dict[str, Any] | None = None,
        revision: str | None = None,
        cache_dir: str | None = None,
        **backend_kwargs: Any,
    ) -> HFBackend:
        """Load a checkpoint (Hub id or local directory); the model class comes from ``config.model_type``.

        ``device="auto"`` picks ``cuda:0`` when available, else CPU; ``dtype="auto"`` is bfloat16 on
        GPU and float32 on CPU. ``device_map`` (e.g. ``"auto"``) shards over devices instead.
        """
        # the checkpoint is found (or not) before torch and transformers are imported: a missing
        # model fails in well under a second
        path = resolve_model_path(model_id_or_dir, revision=revision, cache_dir=cache_dir)
        check_position_rule(backend_kwargs.get("position_rule", DEFAULT_POSITION_RULE))
        transformers = require("transformers", extra="hf", purpose="the transformers backend")
        resolved_device = None if device_map is not None else _resolve_device(device)
        try:
            config = transformers.AutoConfig.from_pretrained(path)
        except (OSError, ValueError) as error:
            raise BackendError(f"cannot read the model config in {str(path)!r}: {error}") from error
        class_name = _MODEL_CLASSES.get(config.model_type)
        if class_name is None:
            raise BackendError(
                f"{str(path)!r} holds a {config.model_type!r} model; the hf backend supports {sorted(_MODEL_CLASSES)}"
            )
        dtype_device = resolved_device if resolved_device is not None else _resolve_device("auto")
        torch_dtype = _resolve_dtype(dtype, dtype_device)
        kwargs: dict[str, Any] = {"dtype": torch_dtype}
        if attn_implementation is not None:
            kwargs["attn_implementation"] = attn_implementation
        if device_map is not None:
            kwargs["device_map"] = device_map
        try:
            model = getattr(transformers, class_name).from_pretrained(path, config=config, **kwargs)
            processor = transformers.AutoProcessor.from_pretrained(path)
        except (OSError, ValueError) as error:
            raise BackendError(f"cannot load the checkpoint in {str(path)!r}: {error}") from error
        if resolved_device is not None:
            model = model.to(resolved_device)
        logger.info("loaded %s (%s) from %s", class_name, torch_dtype, path)
        return cls(model, processor, **backend_kwargs)

    # ------------------------------------------------------------------ sessions

    def close_session(self, session_id: str) -> bool:
        """Free a session's cached features and KV cache; True when it was held."""
        return self._sessions.close(session_id)

    def close(self) -> None:
        """Free every session."""
        self._sessions.clear()

    @property
    def num_cached_sessions(self) -> int:
        return len(self._sessions)

    # ------------------------------------------------------------------ generation

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        requests = list(requests)
        for i, request in enumerate(requests):
            if not isinstance(request, GenerationRequest):
                raise TypeError(f"requests[{i}] must be a GenerationRequest, got {type(request).__name__}")
        results: list[Generation | None] = [None] * len(requests)
        batched: list[int] = []
        for i, request in enumerate(requests):
            if self.reuse_cache and request.session_id is not None and request.sampling.num_return_sequences == 1:
                results[i] = self._generate_cached(request)
            else:
                batched.append(i)
        # one batch per distinct sampling setting (generate takes one setting per call)
        groups: dict[SamplingParams, list[int]] = {}
        for i in batched:
            groups.setdefault(requests[i].sampling, []).append(i)
        for sampling, indices in groups.items():
            for i, generation in zip(indices, self._generate_batch([requests[i] for i in indices], sampling),
                                     strict=True):
                results[i] = generation
        return [r for r in results if r is not None]

    def _generate_kwargs(self, sampling: SamplingParams, clock: _FirstTokenClock) -> dict[str, Any]:
        transformers = require("transformers", extra="hf")
        kwargs: dict[str, Any] = dict(
            max_new_tokens=sampling.max_new_tokens, eos_token_id=self._eos_ids, pad_token_id=self._pad_id,
            # a sampled <|video_pad|> would be read back as a placeholder; never emit vision tokens
            suppress_tokens=self._vision_token_ids, repetition_penalty=sampling.repetition_penalty,
            num_return_sequences=sampling.num_return_sequences, return_dict_in_generate=True,
            output_logits=self.return_logits, logits_processor=transformers.LogitsProcessorList([clock]),
        )
        if sampling.temperature == 0:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:
            kwargs.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p,
                          top_k=sampling.top_k if sampling.top_k > 0 else None)
        return kwargs

    def _run_generate(self, sampling: SamplingParams, clock: _FirstTokenClock, **inputs: Any) -> Any:
        torch = self._torch
        kwargs = {**inputs, **self._generate_kwargs(sampling, clock)}
        try:
            with torch.inference_mode():
                if sampling.seed is None:
                    return self.model.generate(**kwargs)
                devices = [self.model.device] if self.model.device.type == "cuda" else []
                with torch.random.fork_rng(devices=devices):
                    torch.manual_seed(sampling.seed)
                    return self.model.generate(**kwargs)
        except torch.cuda.OutOfMemoryError as error:
            raise BackendError(f"out of GPU memory while generating ({error}); use fewer frames or a shorter "
                               "max_new_tokens, or lower max_cached_sessions") from error

    def _completion(self, token_ids: list[int], sampling: SamplingParams) -> tuple[list[int], str]:
        for n, token in enumerate(token_ids):
            if token in self._eos_ids:
                return token_ids[: n + 1], "stop"
        return token_ids, "length" if len(token_ids) >= sampling.max_new_tokens else "stop"

    def _decode(self, token_ids: list[int], request: GenerationRequest) -> str:
        return self.processor.tokenizer.decode(token_ids, skip_special_tokens=request.skip_special_tokens)

    def _positions(self, input_ids: Any, *, attention_mask: Any = None, video_grid_thw: Any = None,
                   second_per_grid_ts: Any = None) -> Any:
        return qi.mrope_position_ids(input_ids, config=self.model.config, position_rule=self.position_rule,
                                     attention_mask=attention_mask, video_grid_thw=video_grid_thw,
                                     second_per_grid_ts=second_per_grid_ts)

    def _to_device(self, batch: Any) -> dict[str, Any]:
        device = self.model.device
        out = {}
        for key, value in batch.items():
            if hasattr(value, "to"):
                value = value.to(device)
                if key == "pixel_values_videos":
                    value = value.to(self.model.dtype)
            out[key] = value
        return out

    # ------------------------------------------------------------------ plain batched path

    def _generate_batch(self, requests: list[GenerationRequest], sampling: SamplingParams) -> list[Generation]:
        torch = self._torch
        started = time.perf_counter()
        batch = qi.build_generation_inputs(
            self.processor, [r.messages for r in requests], model_type=self.model_type,
            assistant_prefixes=[r.assistant_prefix for r in requests], padding_side="left",
        )
        batch["position_ids"] = self._positions(
            batch["input_ids"], attention_mask=batch["attention_mask"], video_grid_thw=batch.get("video_grid_thw"),
            second_per_grid_ts=batch.get("second_per_grid_ts"))
        inputs = self._to_device(batch)
        processed = time.perf_counter()
        clock = _FirstTokenClock()
        with _VisionTimer(self.model) as vision_timer:  # the ViT runs inside generate on this path
            out = self._run_generate(sampling, clock, **inputs)
        finished = time.perf_counter()
        prefill_seconds = (clock.first_seconds or finished) - processed - vision_timer.seconds
        generate_seconds = finished - (clock.first_seconds or finished)
        share = len(requests)
        prompt_length = inputs["input_ids"].shape[1]
        grids = batch.get("video_grid_thw")
        clip_counts = [len(qi.videos_of(r.messages)) for r in requests]
        per_video_tokens = qi.tokens_per_video(grids, merge_size=self._merge_size) if grids is not None else []
        results = []
        offset = 0
        n_return = sampling.num_return_sequences
        for row, request in enumerate(requests):
            clips = qi.videos_of(request.messages)
            vision_tokens = sum(per_video_tokens[offset:offset + clip_counts[row]])
            offset += clip_counts[row]
            texts, finishes, completions = [], [], []
            for k in range(n_return):
                seq = out.sequences[row * n_return + k, prompt_length:].tolist()
                tokens, finish = self._completion(seq, sampling)
                texts.append(self._decode(tokens, request))
                finishes.append(finish)
                completions.append(tokens)
            usage = TokenUsage(
                prompt_tokens=int(batch["attention_mask"][row].sum()), prompt_tokens_cached=0,
                completion_tokens=len(completions[0]), vision_tokens=vision_tokens,
                vision_frames_encoded=sum(c.num_frames for c in clips), vision_frames_cached=0,
                encode_seconds=(processed - started + vision_timer.seconds) / share,
                prefill_seconds=prefill_seconds / share,
                generate_seconds=generate_seconds / share,
            )
            raw: dict[str, Any] = {"token_ids": completions[0], "path": "batched"}
            if n_return > 1:
                raw.update(texts=texts, token_ids_all=completions, finish_reasons=finishes)
            if self.return_logits:
                raw["logits"] = torch.stack([step[row * n_return] for step in out.logits])[: len(completions[0])]
            results.append(Generation(text=texts[0], usage=usage, finish_reason=finishes[0], raw=raw))
        return results

    # ------------------------------------------------------------------ cached session path

    def _generate_cached(self, request: GenerationRequest) -> Generation:
        with self._torch.inference_mode():
            return self._generate_cached_impl(request)

    def _generate_cached_impl(self, request: GenerationRequest) -> Generation:
        """Prefix reuse, then encoding of the suffix's new clips, then generation of the suffix only."""
        started = time.perf_counter()
        session = self._session(request.session_id)
        others = self._sessions.others(request.session_id) if self.share_across_sessions else []
        prompt = self._prompt(request, session, others)
        cache, cached_length = self._reuse_prefix(session, others, prompt)
        suffix, encoded = self._encode_suffix(session, prompt, cached_length)
        encoded_at = time.perf_counter()
        out, clock = self._generate_suffix(request, prompt, cache, suffix)
        finished = time.perf_counter()

        prompt_length = len(prompt.identities)
        crop_cache(out.past_key_values, keep_tokens=prompt_length)  # the next prompt never holds this reply
        session.cache, session.token_identities = out.past_key_values, prompt.identities

        tokens, finish = self._completion(out.sequences[0, prompt_length:].tolist(), request.sampling)
        frames_encoded = sum(prompt.clips[i].num_frames for i in encoded)
        usage = TokenUsage(
            prompt_tokens=prompt_length, prompt_tokens_cached=cached_length, completion_tokens=len(tokens),
            vision_tokens=sum(prompt.tokens_per_video), vision_frames_encoded=frames_encoded,
            vision_frames_cached=sum(c.num_frames for c in prompt.clips) - frames_encoded,
            encode_seconds=encoded_at - started,
            prefill_seconds=(clock.first_seconds or finished) - encoded_at,
            generate_seconds=finished - (clock.first_seconds or finished),
        )
        raw: dict[str, Any] = {"token_ids": tokens, "path": "cached", "clips_encoded": len(encoded),
                               "clips_reused": len(prompt.clips) - len(encoded)}
        if self.return_logits:
            raw["logits"] = self._torch.stack([step[0] for step in out.logits])[: len(tokens)]
        return Generation(text=self._decode(tokens, request), usage=usage, finish_reason=finish, raw=raw)

    def _session(self, session_id: Any) -> Session:
        evicted_before = self._sessions.num_evicted
        session = self._sessions.get(session_id)
        if self._sessions.num_evicted > evicted_before and not self._warned_eviction:
            self._warned_eviction = True
            logger.warning("evicting cached sessions (max_cached_sessions=%d); set it to at least the number of "
                           "episodes in flight to keep cross-step reuse", self._sessions.max_sessions)
        return session

    def _prompt(self, request: GenerationRequest, session: Session, others: list[Session]) -> _Prompt:
        """Token ids, clip inputs and positions of the prompt; the processor runs once per clip and session."""
        clips = qi.videos_of(request.messages)
        for clip in clips:  # what other sessions computed for a clip is shared, not copied
            if clip.key is None:
                continue
            for store in ("clips", "inputs"):
                mine = getattr(session, store)
                if clip.key not in mine:
                    shared = next((getattr(o, store)[clip.key] for o in others if clip.key in getattr(o, store)), None)
                    if shared is not None:
                        mine[clip.key] = shared
        clip_inputs = []
        for clip in clips:
            entry = session.inputs.get(clip.key) if clip.key is not None else None
            if entry is None:
                entry = qi.process_clip(self.processor, clip, model_type=self.model_type)
                if clip.key is not None:
                    session.inputs[clip.key] = entry
            clip_inputs.append(entry)
        torch = self._torch
        input_ids = torch.tensor([qi.assemble_prompt_ids(self.processor, request.messages, clip_inputs=clip_inputs,
                                                         assistant_prefix=request.assistant_prefix)])
        grids = torch.stack([c.grid_thw for c in clip_inputs]) if clip_inputs else None
        seconds = torch.cat([c.second_per_grid_ts for c in clip_inputs]) \
            if clip_inputs and clip_inputs[0].second_per_grid_ts is not None else None
        per_video = qi.tokens_per_video(grids, merge_size=self._merge_size) if grids is not None else []
        spans = qi.video_token_spans(input_ids[0].numpy(), video_token_id=self._video_token_id,
                                     tokens_per_video=per_video) if per_video else []
        return _Prompt(
            input_ids=input_ids, clips=clips, clip_inputs=clip_inputs, tokens_per_video=per_video,
            spans=spans, identities=token_identities(input_ids[0].tolist(), video_spans=spans,
                                                     clip_keys=[c.key for c in clips]),
            position_ids=self._positions(input_ids, video_grid_thw=grids, second_per_grid_ts=seconds),
        )

    def _reuse_prefix(self, session: Session, others: list[Session], prompt: _Prompt) -> tuple[Any, int]:
        """The KV cache to continue from and how many prompt tokens it holds (0: none).

        The session's own cache is cropped to the common prefix; another session holding a longer
        prefix (same video, another question) lends a copy of it. Positions depend only on the
        tokens before them, so a cached prefix's keys equal those of a full recomputation.
        """
        cached_length = reusable_prefix_length(session.token_identities, prompt.identities, video_spans=prompt.spans) \
            if session.cache is not None else 0
        cache = session.cache if cached_length > 0 else None
        donor, donor_length = None, cached_length
        for other in others:
            if other.cache is not None:
                length = reusable_prefix_length(other.token_identities, prompt.identities, video_spans=prompt.spans)
                if length > donor_length:
                    donor, donor_length = other, length
        if donor is not None:
            cache, cached_length = copy_cache_prefix(donor.cache, keep_tokens=donor_length), donor_length
        elif cache is not None:
            crop_cache(cache, keep_tokens=cached_length)
        session.cache, session.token_identities = None, []  # being modified: forgotten until this call succeeds
        return cache, cached_length

    def _encode_suffix(self, session: Session, prompt: _Prompt, cached_length: int) -> tuple[list[ClipFeatures], list[int]]:
        """Features of the clips after the cached prefix, in order, and which of them went through the ViT."""
        clips, clip_inputs = prompt.clips, prompt.clip_inputs
        in_suffix = [i for i, (start, _) in enumerate(prompt.spans) if start >= cached_length]
        to_encode = [i for i in in_suffix if clips[i].key is None or clips[i].key not in session.clips]
        encoded: dict[int, ClipFeatures] = {}
        if to_encode:
            for i in to_encode:  # pixels are dropped once features exist; re-process if features went missing
                if clip_inputs[i].pixel_values is None:
                    clip_inputs[i] = qi.process_clip(self.processor, clips[i], model_type=self.model_type)
            features = self._encode_clips([clip_inputs[i] for i in to_encode])
            encoded = dict(zip(to_encode, features, strict=True))
            for i, feature in encoded.items():
                if clips[i].key is not None:
                    session.clips[clips[i].key] = feature
                    clip_inputs[i].pixel_values = None  # features are kept; the pixels are not needed again
        return [encoded[i] if i in encoded else session.clips[clips[i].key] for i in in_suffix], to_encode

    def _generate_suffix(self, request: GenerationRequest, prompt: _Prompt, cache: Any,
                         suffix: list[ClipFeatures]) -> tuple[Any, _FirstTokenClock]:
        """Prefill the uncached tokens (their clips' features given) and decode, positions passed explicitly."""
        device = self.model.device
        input_ids = prompt.input_ids.to(device)
        inputs: dict[str, Any] = {
            "input_ids": input_ids, "attention_mask": self._torch.ones_like(input_ids),
            "mm_token_type_ids": qi.mm_token_type_ids(input_ids, self.model.config),
            "position_ids": prompt.position_ids.to(device),
        }
        if cache is not None:
            inputs["past_key_values"] = cache
        if suffix:
            inputs["mm_encoder_outputs"] = {"video": self._features_output(suffix)}
        clock = _FirstTokenClock()
        return self._run_generate(request.sampling, clock, **inputs), clock

    def _encode_clips(self, clip_inputs: list[qi.ClipInputs]) -> list[ClipFeatures]:
        """Run the vision tower on these clips together; per-clip features."""
        torch = self._torch
        device, dtype = self.model.device, self.model.dtype
        pixels = torch.cat([c.pixel_values for c in clip_inputs]).to(device, dtype)
        grids = torch.stack([c.grid_thw for c in clip_inputs]).to(device)
        with torch.inference_mode():
            output = self.model.model.get_video_features(pixels, grids, return_dict=True)
        embeddings = list(output.pooler_output)
        deepstack = getattr(output, "deepstack_features", None)
        features = []
        for j, clip in enumerate(clip_inputs):
            layers = tuple(layer[j] for layer in deepstack) if deepstack is not None else None
            num_frames = int(clip.grid_thw[0]) * int(self.processor.video_processor.temporal_patch_size)
            features.append(ClipFeatures(embeddings=embeddings[j], deepstack=layers, num_frames=num_frames))
        return features

    def _features_output(self, features: list[ClipFeatures]) -> Any:
        """The ``mm_encoder_outputs["video"]`` object the model's forward reads for the suffix clips."""
        if features[0].deepstack is None:
            output_cls = require("transformers.modeling_outputs", extra="hf").BaseModelOutputWithPooling
        else:
            module = require(f"transformers.models.{self.model_type}.modeling_{self.model_type}", extra="hf")
            output_cls = module.BaseModelOutputWithDeepstackFeatures
        kwargs: dict[str, Any] = {"pooler_output": tuple(f.embeddings for f in features)}
        if features[0].deepstack is not None:
            kwargs["deepstack_features"] = [
                tuple(f.deepstack[layer] for f in features) for layer in range(len(features[0].deepstack))
            ]
        return output_cls(**kwargs)


__all__ = ["HFBackend"]
