"""Backend construction from command-line flags, shared by ``ask``, ``eval`` and the ``data`` steps.

``make_backend(kind, model=..., ...)`` is the only place where the CLI turns a backend name into
an object; each backend module is imported only when chosen (extras: ``hf``, ``vllm``,
``openai``). Library code never calls this: it takes a backend object.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, get_args

from love_r1.backends import DEFAULT_MODEL_ID, Backend
from love_r1.backends.qwen_inputs import PositionRule

BackendKind = Literal["hf", "openai", "vllm", "scripted"]
BACKEND_KINDS: tuple[str, ...] = get_args(BackendKind)
BACKEND_HELP = ("model backend: hf (transformers, local GPU/CPU), vllm (offline vLLM engine), openai (any "
                "OpenAI-compatible server: vllm serve, SGLang, OpenAI), scripted (deterministic fake, no model)")
POSITION_RULE_HELP = ("M-RoPE positions for --backend hf (vllm: max_plus_one only): max_plus_one = how Qwen2.5-VL and "
                      "the LOVE-R1 checkpoints were trained (text after a video starts after its last time id, as in "
                      "transformers 4.49 and vLLM); spatial_extent = transformers 5's Qwen2.5-VL rule, for "
                      "checkpoints fine-tuned with it; Qwen3-VL gets the same positions under both "
                      "(default: max_plus_one)")


def make_backend(
    kind: str,
    *,
    model: str = DEFAULT_MODEL_ID,
    base_url: str | None = None,
    device: str | None = None,
    dtype: str | None = "auto",
    script_path: str | Path | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    timeout_seconds: float = 120.0,
    max_retries: int = 4,
    max_concurrency: int = 16,
    video_mode: str = "frames_as_images",
    assistant_prefix_mode: str = "continue_final_message",
    attn_implementation: str | None = None,
    position_rule: PositionRule | None = None,
    **backend_kwargs: Any,
) -> Backend:
    """Build the backend named ``kind``.

    Args:
        kind: ``"hf"``, ``"openai"``, ``"vllm"`` or ``"scripted"``.
        model: checkpoint (Hub id or local directory) for ``hf``/``vllm``; the served model name for
            ``openai`` (``vllm serve``'s model path or ``--served-model-name``).
        base_url: endpoint of an OpenAI-compatible server (``openai`` only), e.g. ``http://127.0.0.1:8000/v1``.
        device, dtype: placement for ``hf`` (``None``/``"auto"``: GPU when available).
        script_path: replies for ``scripted``: a ``.json`` list of strings, or a text file whose replies
            are separated by lines holding only ``---`` (blank ones dropped). ``None``: the built-in dummy policy.
        api_key_env, timeout_seconds, max_retries, max_concurrency, video_mode, assistant_prefix_mode:
            ``openai`` settings (see ``love_r1.backends.openai_http.OpenAIBackend``).
        attn_implementation: ``hf`` attention kernel (e.g. ``"flash_attention_2"``, ``"sdpa"``).
        position_rule: M-RoPE rule for ``hf`` and ``vllm`` (``None``: the backend's default, the trained rule).
        backend_kwargs: passed on to the backend's constructor.

    Raises:
        ValueError: unknown ``kind``, or options that do not apply to it.
        BackendError: the model cannot be found/loaded (the message says how to use a local directory).
        ImportError: the backend's extra is not installed (the message names it).
    """
    if kind not in BACKEND_KINDS:
        raise ValueError(f"backend {kind!r} is not one of {BACKEND_KINDS}")
    if base_url is not None and kind != "openai":
        raise ValueError(f"--base-url is only used by --backend openai, got --backend {kind}")
    if position_rule is not None:
        if kind not in ("hf", "vllm"):
            raise ValueError(f"--position-rule is used by --backend hf and vllm only, got --backend {kind} (a "
                             "served model is positioned by its server)")
        backend_kwargs["position_rule"] = position_rule
    if kind == "scripted":
        from love_r1.backends.scripted import ScriptedBackend

        return ScriptedBackend(load_script(script_path) if script_path is not None else None, **backend_kwargs)
    if kind == "openai":
        from love_r1.backends.openai_http import OpenAIBackend

        return OpenAIBackend(
            model, base_url=base_url, api_key_env=api_key_env, timeout_seconds=timeout_seconds,
            max_retries=max_retries, max_concurrency=max_concurrency, video_mode=video_mode,  # type: ignore[arg-type]
            assistant_prefix_mode=assistant_prefix_mode, **backend_kwargs,  # type: ignore[arg-type]
        )
    if kind == "hf":
        from love_r1.backends.hf import HFBackend

        kwargs: dict[str, Any] = dict(backend_kwargs)
        if attn_implementation is not None:
            kwargs["attn_implementation"] = attn_implementation
        return HFBackend.from_pretrained(model, device=device or "auto", dtype=dtype or "auto", **kwargs)
    from love_r1.backends.vllm import VLLMBackend  # kind == "vllm"

    return VLLMBackend.from_pretrained(model, dtype=dtype or "auto", **backend_kwargs)


def backend_settings(backend: Backend) -> dict[str, Any]:
    """Settings of a built backend that change its outputs, for run configs and episode files.

    ``{"position_rule": ...}`` for the hf and vLLM backends; ``{}`` for backends without one.
    """
    rule = getattr(backend, "position_rule", None)
    return {} if rule is None else {"position_rule": rule}


def load_script(path: str | Path) -> list[str]:
    """Replies for the scripted backend from ``path`` (a JSON list of strings, or ``---``-separated text)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"--script {str(path)!r} does not exist; give a .json list of replies or a text file "
                         "with replies separated by lines holding only ---")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            replies = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"--script {str(path)!r} is not valid JSON: {error}") from None
        if not isinstance(replies, list) or not all(isinstance(r, str) for r in replies):
            raise ValueError(f"--script {str(path)!r} must hold a JSON list of strings (one reply each)")
        return replies
    segments, current = [], []
    for line in text.splitlines():
        if line.strip() == "---":
            segments.append(current)
            current = []
        else:
            current.append(line)
    segments.append(current)
    # blank segments are dropped (write a JSON list for an empty reply)
    replies = ["\n".join(lines).strip("\n") for lines in segments if any(line.strip() for line in lines)]
    if not replies:
        raise ValueError(f"--script {str(path)!r} holds no replies")
    return replies


__all__ = ["BACKEND_HELP", "BACKEND_KINDS", "DEFAULT_MODEL_ID", "POSITION_RULE_HELP", "BackendKind", "backend_settings",
           "load_script", "make_backend"]
