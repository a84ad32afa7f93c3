"""The only home for version shims. Each names the versions it is for and when it can go.

Pinned stack: torch 2.14.1 / torchvision 0.29.1, transformers 5.23.0, trl 1.16.0 (see pyproject.toml).
No monkey patches are applied anywhere in love_r1; the functions below are explicit calls.
"""

from __future__ import annotations

from typing import Any


def crop_cache(cache: Any, *, keep_tokens: int) -> None:
    """Cut a ``DynamicCache`` back to its first ``keep_tokens`` tokens, in place (no-op when shorter).

    transformers 5.23 ``DynamicCache.crop`` takes a *negative* count of tokens to drop for this
    (``crop(0)`` empties the cache, a positive length raises). Remove when: ``crop`` takes a length.
    """
    if keep_tokens < 0:
        raise ValueError(f"keep_tokens must be >= 0, got {keep_tokens}")
    held = cache.get_seq_length()
    if held > keep_tokens:
        cache.crop(-(held - keep_tokens))


def copy_cache_prefix(cache: Any, *, keep_tokens: int) -> Any:
    """A new ``DynamicCache`` holding a copy of the first ``keep_tokens`` tokens of ``cache``.

    Copies only the prefix (``copy.deepcopy`` + crop would copy everything first). Written against
    transformers 5.23 ``DynamicCache.layers[i].keys/values`` of full-attention layers (Qwen2.5-VL,
    Qwen3-VL). Remove when: transformers ships a prefix copy (``Cache.copy``/``slice``) of its own.
    """
    from transformers import DynamicCache

    if keep_tokens < 1:
        raise ValueError(f"keep_tokens must be >= 1, got {keep_tokens}")
    out = DynamicCache()
    for index, layer in enumerate(cache.layers):
        keys, values = layer.keys[..., :keep_tokens, :], layer.values[..., :keep_tokens, :]
        out.update(keys.clone(), values.clone(), layer_idx=index)
    return out


__all__ = ["copy_cache_prefix", "crop_cache"]
