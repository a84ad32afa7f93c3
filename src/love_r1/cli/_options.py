"""The option blocks every model-running command shares: one definition, one set of defaults.

* :class:`BackendOptions`: which model runs where (``--backend``, ``--model``, the hf placement, the
  M-RoPE ``--position-rule``, the OpenAI endpoint, its deadlines and retries). Used by ``ask``,
  ``serve``, ``eval`` and the ``data`` model steps.
* :class:`SamplingOptions`: the decoding settings of every model call (``--max-new-tokens``,
  ``--temperature``, ...). Unset means the command's own default, shown in its ``--help``.
* :class:`PolicyOptions`: the zoom loop (``--policy-preset``, ``--max-zoom-steps``, ``--time-base``,
  fast-view and zoom-clip frame budgets). Used by ``ask``, ``serve`` and ``eval``.

A setting given to a backend that does not use it is an error (``--device`` with ``--backend
openai``), never silently ignored. Choices are the library's own ``Literal`` types.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from love_r1.agent.policy import PresetName, ZoomPolicy
from love_r1.backends import DEFAULT_MODEL_ID, PrefixMode, SamplingParams, VideoMode
from love_r1.backends.qwen_inputs import PositionRule
from love_r1.time_base import DEFAULT_TIME_BASE, TimeBase

BackendKind = Literal["hf", "vllm", "openai", "scripted"]
BACKEND_KINDS: tuple[str, ...] = get_args(BackendKind)


@dataclass(kw_only=True)
class BackendOptions:
    """Which model runs, and where."""

    GROUP = "model backend"

    backend: BackendKind = field(default="hf", metadata={
        "help": "hf (transformers on this machine's GPU or CPU), vllm (offline vLLM engine), openai (any "
                "OpenAI-compatible server: vllm serve, SGLang, the OpenAI API) or scripted (a stand-in that replays "
                "canned replies; no model)"})
    model: str | None = field(default=None, metadata={
        "metavar": "ID_OR_DIR",
        "help": f"checkpoint: a Hub id or a local folder (hf, vllm); the served model name (openai); a label for "
                f"the run (scripted). Default: {DEFAULT_MODEL_ID}, the released stage-3 checkpoint (scripted: "
                "'scripted')"})
    script: Path | None = field(default=None, metadata={
        "metavar": "FILE",
        "help": "replies for --backend scripted: a .json list of strings, or text with replies separated by lines "
                "holding only '---' (unset: a dummy policy that zooms on the middle, then answers the first option)"})
    device: str | None = field(default=None, metadata={
        "help": "--backend hf: cuda, cuda:1 or cpu (unset: the first GPU when there is one, else cpu)"})
    dtype: str | None = field(default=None, metadata={
        "help": "weights dtype for --backend hf and vllm: auto, bfloat16, float16 or float32 (unset: auto = "
                "bfloat16 on a GPU, float32 on a CPU)"})
    position_rule: PositionRule | None = field(default=None, metadata={
        "help": "M-RoPE positions for --backend hf and vllm (vllm: max_plus_one only): max_plus_one = how Qwen2.5-VL "
                "and the LOVE-R1 checkpoints were trained (text after a video starts after its last time id, as in "
                "transformers 4.49 and vLLM); spatial_extent = transformers 5's Qwen2.5-VL rule, for checkpoints "
                "fine-tuned with it; Qwen3-VL gets the same positions under both (unset: max_plus_one)"})
    base_url: str | None = field(default=None, metadata={
        "metavar": "URL", "help": "--backend openai: the server's endpoint, e.g. http://127.0.0.1:8000/v1 (unset: "
                                  "$OPENAI_BASE_URL, else the OpenAI API)"})
    api_key_env: str | None = field(default=None, metadata={
        "metavar": "VAR", "help": "--backend openai: environment variable holding the API key (never printed; "
                                  "unset: OPENAI_API_KEY)"})
    video_mode: VideoMode | None = field(default=None, metadata={
        "help": "--backend openai: how clips are sent: every frame as an image (any vision server), or one "
                "data:video/jpeg part per clip (vLLM; the model sees a video) (unset: frames_as_images)"})
    assistant_prefix_mode: PrefixMode | None = field(default=None, metadata={
        "help": "--backend openai: how the forced answer's prefix 'I get the answer.' is given: continued by the "
                "server (vLLM, SGLang) or stripped from the reply (servers that cannot pre-fill, e.g. the OpenAI "
                "API) (unset: continue_final_message)"})
    timeout_seconds: float | None = field(default=None, metadata={
        "metavar": "SECONDS", "help": "--backend openai: wall-clock limit of one attempt of one request, reply "
                                      "included (seconds; unset: 120)"})
    total_timeout_seconds: float | None = field(default=None, metadata={
        "metavar": "SECONDS", "help": "--backend openai: limit of one request over all its attempts and the waits "
                                      "between them (seconds; unset: (max-retries + 1) x timeout-seconds)"})
    max_retries: int | None = field(default=None, metadata={
        "metavar": "N", "help": "--backend openai: retries of a request after a timeout, 429 or 5xx (count; unset: 4)"})
    max_concurrency: int | None = field(default=None, metadata={
        "metavar": "N", "help": "--backend openai: requests of one batch in flight at once (count; unset: all of "
                                "the batch)"})

    def recorded_model(self) -> str:
        """The model named in run configs and episode files (``"scripted"`` for the stand-in)."""
        if self.model is not None:
            return self.model
        return "scripted" if self.backend == "scripted" else DEFAULT_MODEL_ID


# backend -> the BackendOptions fields it reads (besides `backend`); anything else set is an error
_APPLIES: dict[str, frozenset[str]] = {
    "hf": frozenset({"model", "device", "dtype", "position_rule"}),
    "vllm": frozenset({"model", "dtype", "position_rule"}),
    "openai": frozenset({"model", "base_url", "api_key_env", "video_mode", "assistant_prefix_mode", "timeout_seconds",
                         "total_timeout_seconds", "max_retries", "max_concurrency"}),
    "scripted": frozenset({"model", "script"}),
}


def inapplicable_settings(options: BackendOptions) -> list[str]:
    """The flags set in ``options`` that ``options.backend`` does not use (``["--device"]``)."""
    used = _APPLIES[options.backend]
    return [f"--{f.name.replace('_', '-')}" for f in dataclasses.fields(BackendOptions)
            if f.name != "backend" and f.name not in used and getattr(options, f.name) is not None]


def backends_using(name: str) -> list[str]:
    return [kind for kind, names in _APPLIES.items() if name in names]


@dataclass(kw_only=True)
class SamplingOptions:
    """Decoding settings of every model call; unset = the command's default (shown in its --help)."""

    GROUP = "sampling (every model call)"

    max_new_tokens: int | None = field(default=None, metadata={
        "metavar": "TOKENS", "help": "longest reply of one model call (tokens)"})
    temperature: float | None = field(default=None, metadata={"help": "sampling temperature (0 = greedy)"})
    top_p: float | None = field(default=None, metadata={
        "help": "nucleus sampling: sample among the most likely tokens holding this probability mass (1 = off)"})
    top_k: int | None = field(default=None, metadata={
        "metavar": "K", "help": "sample among the K most likely tokens (count; 0 = off)"})
    repetition_penalty: float | None = field(default=None, metadata={
        "help": "penalty on tokens already in the text (1 = off; hf, vllm and servers that read it)"})
    seed: int | None = field(default=None, metadata={"help": "sampling seed (integer)"})

    def sampling(self, base: SamplingParams) -> SamplingParams:
        """``base`` with the settings given here."""
        changes = {f.name: getattr(self, f.name) for f in dataclasses.fields(SamplingOptions)
                   if getattr(self, f.name) is not None}
        return dataclasses.replace(base, **changes)


def sampling_defaults(base: SamplingParams) -> dict[str, str]:
    """What unset sampling options mean for a command whose default sampling is ``base`` (for ``--help``)."""
    return {f.name: "not seeded" if getattr(base, f.name) is None else str(getattr(base, f.name))
            for f in dataclasses.fields(SamplingOptions)}


@dataclass(kw_only=True)
class PolicyPresetOption:
    """The zoom policy preset alone (for commands that take nothing else of the policy)."""

    GROUP = "zoom policy"

    policy_preset: PresetName | None = field(default=None, metadata={
        "help": "zoom policy preset: reference (the released checkpoints' inference settings), mlvu (384 fast-view "
                "frames at 64*28*28 px), longvideobench (16 frames per zoom clip, no widening), budget (zoom clips "
                "planned under a token budget, docs/protocol.md)"})


@dataclass(kw_only=True)
class PolicyOptions(PolicyPresetOption):
    """The zoom loop: preset, step limit, clock and frame budgets (unset: the preset's)."""

    GROUP = "zoom policy"

    max_zoom_steps: int | None = field(default=None, metadata={
        "metavar": "N", "help": "model calls that may zoom before the answer is forced (count; unset: the preset's, "
                                "2)"})
    time_base: TimeBase = field(default=DEFAULT_TIME_BASE, metadata={
        "help": "clock of the duration D, frame selection, clip bounds, labels and the overlay: presentation (each "
                "frame's presentation time, seconds from the first frame) or index (the reference's frame_index / "
                "header fps); identical on constant-frame-rate files (docs/protocol.md, Time base)"})
    fast_max_frames: int | None = field(default=None, metadata={
        "metavar": "N", "help": "most fast-view frames (count; unset: the preset's, 768)"})
    fast_pixels_per_frame: int | None = field(default=None, metadata={
        "metavar": "PIXELS", "help": "fast-view pixel budget per frame (pixels; unset: the preset's, 32*28*28 = "
                                     "25088, doubled below 60 s)"})
    clip_max_frames: int | None = field(default=None, metadata={
        "metavar": "N", "help": "most frames per zoom clip (count; unset: the preset's, 32)"})
    clip_pixels_per_frame: int | None = field(default=None, metadata={
        "metavar": "PIXELS", "help": "zoom-clip pixel budget per frame (pixels; unset: the preset's, 256*28*28 = "
                                     "200704, doubled below 60 s)"})

    def frame_budgets(self) -> dict[str, int]:
        """The frame-budget flags given (``ZoomPolicy`` fields of the same names)."""
        names = ("fast_max_frames", "fast_pixels_per_frame", "clip_max_frames", "clip_pixels_per_frame")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}

    def policy(self, *, default_preset: str = "reference", sampling: SamplingOptions | None = None) -> ZoomPolicy:
        """The ``ZoomPolicy`` these options describe (``ValueError`` naming a bad value)."""
        policy = ZoomPolicy.preset(self.policy_preset or default_preset, time_base=self.time_base)
        changes: dict[str, Any] = dict(self.frame_budgets())
        if self.max_zoom_steps is not None:
            changes["max_free_steps"] = self.max_zoom_steps
        if sampling is not None:
            changes["sampling"] = sampling.sampling(policy.sampling)
        return policy.replace(**changes) if changes else policy


def describe_sampling(sampling: Any) -> str:
    """``greedy, <= 2048 new tokens`` / ``temperature 0.7, top-p 0.9, <= 512 new tokens, seed 3``."""
    parts = ["greedy" if sampling.temperature == 0 else f"temperature {sampling.temperature:g}"]
    if sampling.temperature and sampling.top_p < 1:
        parts.append(f"top-p {sampling.top_p:g}")
    if sampling.temperature and sampling.top_k:
        parts.append(f"top-k {sampling.top_k}")
    if sampling.repetition_penalty != 1:
        parts.append(f"repetition penalty {sampling.repetition_penalty:g}")
    parts.append(f"<= {sampling.max_new_tokens:,} new tokens")
    if sampling.seed is not None:
        parts.append(f"seed {sampling.seed}")
    return ", ".join(parts)


def describe_policy(policy: Any) -> str:
    """The policy line of the header: preset, step limit, frame caps and the time base."""
    steps = "step" if policy.max_free_steps == 1 else "steps"
    return (f"{policy.name}: up to {policy.max_free_steps} free {steps}, fast view <= {policy.fast_max_frames} frames, "
            f"zoom clips <= {policy.clip_max_frames} frames; time base {policy.time_base}")


POLICY_SAMPLING_DEFAULTS = sampling_defaults(ZoomPolicy().sampling)  # the reference's, every preset's

__all__ = ["BACKEND_KINDS", "POLICY_SAMPLING_DEFAULTS", "BackendKind", "BackendOptions", "PolicyOptions",
           "PolicyPresetOption", "SamplingOptions", "backends_using", "describe_policy", "describe_sampling",
           "inapplicable_settings", "sampling_defaults"]
