"""Backend construction from :class:`~love_r1.cli._options.BackendOptions`, for every command that runs a model.

``make_backend(options)`` is the only place where the CLI turns a backend name into an object; each
backend module is imported only when chosen (extras: ``hf``, ``vllm``, ``openai``), so the scripted
stand-in needs no torch. Library code never calls this: it takes a backend object.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from love_r1.backends import DEFAULT_MODEL_ID, Backend
from love_r1.cli._errors import CliError
from love_r1.cli._options import BackendOptions, backends_using, inapplicable_settings

LOAD_HINT = ("hint: pass --model /path/to/local/checkpoint (a folder with config.json and *.safetensors), "
             "--backend openai --base-url URL for a running server, or --backend scripted for a dry run")


def check_backend_options(options: BackendOptions) -> None:
    """Raise ``CliError`` for settings the chosen backend would ignore (before any model is loaded)."""
    unused = inapplicable_settings(options)
    if unused:
        where = "; ".join(f"{flag} is read by --backend {' and '.join(backends_using(flag[2:].replace('-', '_')))}"
                          for flag in unused)
        raise CliError(f"{', '.join(unused)} not used by --backend {options.backend} ({where}); remove "
                       f"{'it' if len(unused) == 1 else 'them'} or pick that backend")


def make_backend(options: BackendOptions, *, batch_size: int = 1, **backend_kwargs: Any) -> Backend:
    """Build the backend ``options`` name.

    Args:
        options: the shared backend options (checked with :func:`check_backend_options` first).
        batch_size: requests a generate call holds at most (``--backend openai`` sends them all at once
            unless ``--max-concurrency`` is set).
        backend_kwargs: passed on to the backend's constructor.

    Raises:
        CliError: a setting the backend does not use, or an unreadable ``--script``.
        BackendError: the model cannot be found/loaded (the message says how to use a local directory).
        ImportError: the backend's extra is not installed (the message names it).
    """
    check_backend_options(options)
    kind = options.backend
    model = options.model or DEFAULT_MODEL_ID
    if options.position_rule is not None:
        backend_kwargs["position_rule"] = options.position_rule
    if kind == "scripted":
        from love_r1.backends.scripted import ScriptedBackend

        return ScriptedBackend(load_script(options.script) if options.script is not None else None, **backend_kwargs)
    if kind == "openai":
        from love_r1.backends.openai_http import OpenAIBackend

        settings: dict[str, Any] = {
            "base_url": options.base_url, "api_key_env": options.api_key_env,
            "timeout_seconds": options.timeout_seconds, "total_timeout_seconds": options.total_timeout_seconds,
            "max_retries": options.max_retries,
            "video_mode": options.video_mode, "assistant_prefix_mode": options.assistant_prefix_mode,
        }
        settings = {name: value for name, value in settings.items() if value is not None}
        settings["max_concurrency"] = options.max_concurrency or max(1, batch_size)
        return OpenAIBackend(model, **settings, **backend_kwargs)
    if kind == "hf":
        from love_r1.backends.hf import HFBackend

        return HFBackend.from_pretrained(model, device=options.device or "auto", dtype=options.dtype or "auto",
                                         **backend_kwargs)
    from love_r1.backends.vllm import VLLMBackend  # kind == "vllm"

    return VLLMBackend.from_pretrained(model, dtype=options.dtype or "auto", **backend_kwargs)


def start_backend(options: BackendOptions, *, batch_size: int = 1) -> Backend:
    """:func:`make_backend` for a command: a backend that cannot start (a missing checkpoint or extra, a bad
    setting) is a ``CliError`` saying which backend, why, and :data:`LOAD_HINT`."""
    from love_r1.backends import BackendError

    try:
        return make_backend(options, batch_size=batch_size)
    except (BackendError, ImportError, ValueError, OSError) as error:
        raise CliError(f"cannot start the {options.backend} backend: {error}\n{LOAD_HINT}") from None


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
        raise CliError(f"--script {str(path)!r} does not exist; give a .json list of replies or a text file with "
                       "replies separated by lines holding only ---")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            replies = json.loads(text)
        except json.JSONDecodeError as error:
            raise CliError(f"--script {str(path)!r} is not valid JSON: {error}") from None
        if not isinstance(replies, list) or not all(isinstance(r, str) for r in replies):
            raise CliError(f"--script {str(path)!r} must hold a JSON list of strings (one reply each)")
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
        raise CliError(f"--script {str(path)!r} holds no replies")
    return replies


def describe_backend(options: BackendOptions, backend: Backend) -> str:
    """One line naming what answers: ``scripted stand-in (canned replies, not a model)`` or
    ``hf iSEE-Laboratory/love-r1-stage3 (position rule max_plus_one)``."""
    if options.backend == "scripted":
        source = f"replies from {options.script}" if options.script is not None else "a dummy policy"
        return f"scripted stand-in ({source}; no model runs)"
    details = []
    rule = backend_settings(backend).get("position_rule")
    if rule is not None:
        details.append(f"position rule {rule}")
    device = getattr(getattr(backend, "model", None), "device", None)
    if options.backend == "hf" and device is not None:
        details.append(f"device {device}")
    if options.backend == "openai":
        from love_r1.backends.openai_http import mask_url

        details.append(f"server {mask_url(options.base_url) if options.base_url else 'OpenAI API'}")
    return f"{options.backend} {options.recorded_model()}" + (f" ({', '.join(details)})" if details else "")


__all__ = ["LOAD_HINT", "backend_settings", "check_backend_options", "describe_backend", "load_script",
           "make_backend", "start_backend"]
