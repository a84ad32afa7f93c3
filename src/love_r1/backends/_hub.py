"""Model resolution: a local checkpoint directory, or a Hugging Face Hub id resolved to a local snapshot.

Released LOVE-R1 checkpoints (README of HumanMLLM/LOVE-R1): ``iSEE-Laboratory/love-r1-stage1``,
``iSEE-Laboratory/love-r1-stage2``, ``iSEE-Laboratory/love-r1-stage3`` (the default,
:data:`love_r1.backends.DEFAULT_MODEL_ID`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from love_r1._imports import require
from love_r1.backends import DEFAULT_MODEL_ID, BackendError

logger = logging.getLogger(__name__)

# Files a transformers checkpoint needs; weights in other formats (.bin, .pt, onnx) are not fetched.
_ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.jinja", "*.txt", "*.model", "*.tiktoken", "*.py"]


def resolve_model_path(
    model_id_or_dir: str | os.PathLike[str],
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """A local directory holding ``config.json`` for ``model_id_or_dir``.

    An existing directory is used as is. Anything else is a Hub repo id (``org/name``), looked up
    in the Hub cache (``cache_dir``, else ``$HF_HUB_CACHE``, else the huggingface_hub default) and
    downloaded when missing. With offline mode on (``HF_HUB_OFFLINE=1``) or no network and nothing
    cached, raises :class:`BackendError` saying which of the two it is and how to point ``--model`` at
    a local directory. Only ``huggingface_hub`` is imported here (no torch, no transformers).
    """
    text = os.fspath(model_id_or_dir)
    if not text:
        raise ValueError(f"model_id_or_dir is empty; pass a Hub id such as {DEFAULT_MODEL_ID!r} or a path")
    path = Path(text).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise BackendError(
                f"model directory {str(path)!r} has no config.json; point --model at a directory written by "
                "save_pretrained (config.json, *.safetensors, processor and tokenizer files)"
            )
        return path
    if text.startswith((".", "/", "~")) or text.count("/") > 1 or os.sep != "/" and os.sep in text:
        raise BackendError(f"model directory {text!r} does not exist; pass an existing directory or a Hub id 'org/name'")
    hub = require("huggingface_hub", extra="hf", purpose="downloading models from the Hugging Face Hub")
    errors = require("huggingface_hub.errors", extra="hf")
    if cache_dir is None:
        cache_dir = os.environ.get("HF_HUB_CACHE") or None  # read at call time, not at import time
    try:
        snapshot = hub.snapshot_download(
            repo_id=text, revision=revision, cache_dir=cache_dir, allow_patterns=_ALLOW_PATTERNS,
        )
    except (errors.OfflineModeIsEnabled, errors.LocalEntryNotFoundError) as error:
        where = f"the local Hub cache ({cache_dir or hub.constants.HF_HUB_CACHE})"
        local = ("or download it elsewhere and pass --model /path/to/local/checkpoint (a directory with "
                 "config.json and *.safetensors)")
        if hub.constants.is_offline_mode():
            names = [name for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE") if os.environ.get(name)]
            values = ", ".join(f"{name}={os.environ[name]}" for name in names)
            reason = (f"offline mode is on ({values or 'huggingface_hub.constants.HF_HUB_OFFLINE'}), so nothing is "
                      f"downloaded. Unset {' and '.join(names) or 'it'} to download it, ")
        else:
            reason = (f"the Hub could not be reached to download it ({error.__class__.__name__}: no network access?). "
                      "Check the connection, ")
        raise BackendError(
            f"model {text!r} (revision {revision or 'main'}) is not in {where}; {reason}{local}"
        ) from error
    except errors.RepositoryNotFoundError as error:
        raise BackendError(
            f"model {text!r} was not found on the Hub (or is private); check the id, log in with "
            "`hf auth login`, or pass --model /path/to/local/checkpoint"
        ) from error
    except (errors.HfHubHTTPError, errors.HFValidationError, OSError) as error:
        raise BackendError(
            f"could not fetch model {text!r} from the Hub ({error.__class__.__name__}: {error}); "
            "pass --model /path/to/local/checkpoint to load from disk"
        ) from error
    logger.info("resolved model %s to %s", text, snapshot)
    return Path(snapshot)


__all__ = ["resolve_model_path"]
