"""Pure cross-step reuse helpers: token identities, reusable prefix length, LRU sessions, cache crop shim."""

from __future__ import annotations

import pytest
import torch

from love_r1._compat import crop_cache
from love_r1.backends._kv_cache import (
    SessionStore,
    common_prefix_length,
    reusable_prefix_length,
    token_identities,
)

PAD = 9  # stands for <|video_pad|>


def test_identities_tag_each_clip_span_with_its_key():
    ids = [1, 2, PAD, PAD, 3, PAD, PAD, 4]
    tags = token_identities(ids, video_spans=[(2, 4), (5, 7)], clip_keys=["fast", "clip"])
    assert tags[:2] == [1, 2] and tags[4] == 3 and tags[7] == 4
    assert tags[2] == tags[3] != tags[5]
    same_text_other_clip = token_identities(ids, video_spans=[(2, 4), (5, 7)], clip_keys=["fast", "other"])
    assert common_prefix_length(tags, same_text_other_clip) == 5  # stops at the first token of the new clip


def test_keyless_clips_never_match():
    ids = [1, PAD, PAD, 2]
    a = token_identities(ids, video_spans=[(1, 3)], clip_keys=[None])
    b = token_identities(ids, video_spans=[(1, 3)], clip_keys=[None])
    assert common_prefix_length(a, b) == 1
    assert common_prefix_length(a, a) == 4


@pytest.mark.parametrize(
    ("cached", "new", "spans", "expected"),
    [
        ([1, 2, 3], [1, 2, 3], [], 2),  # identical prompt: the last token is always computed
        ([1, 2, 3, 4, 5], [1, 2, 3], [], 2),  # a longer cache is cut back
        ([1, 2, 7], [1, 2, 3, 4], [], 2),
        ([1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 8, 9], [(3, 5)], 3),  # never stop inside a clip span
        ([], [1, 2], [], 0),
    ],
)
def test_reusable_prefix_length(cached, new, spans, expected):
    assert reusable_prefix_length(cached, new, video_spans=spans) == expected


def test_session_store_evicts_least_recently_used():
    store = SessionStore(max_sessions=2)
    a = store.get("a")
    store.get("b")
    assert store.get("a") is a  # touch a: b is now the oldest
    store.get("c")
    assert "a" in store and "c" in store and "b" not in store
    assert len(store) == 2 and store.num_evicted == 1
    assert store.close("a") and not store.close("a")
    with pytest.raises(ValueError, match="max_sessions"):
        SessionStore(max_sessions=0)


def test_crop_cache_keeps_the_first_tokens():
    from transformers import DynamicCache

    cache = DynamicCache()
    keys = torch.arange(10, dtype=torch.float32).view(1, 1, 10, 1)
    cache.update(keys, keys.clone(), layer_idx=0)
    crop_cache(cache, keep_tokens=10)
    assert cache.get_seq_length() == 10
    crop_cache(cache, keep_tokens=4)
    assert cache.get_seq_length() == 4
    assert cache.layers[0].keys.flatten().tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="keep_tokens"):
        crop_cache(cache, keep_tokens=-1)


def test_copy_cache_prefix_is_an_independent_prefix():
    from transformers import DynamicCache

    from love_r1._compat import copy_cache_prefix

    cache = DynamicCache()
    for layer in range(2):
        keys = torch.arange(6, dtype=torch.float32).view(1, 1, 6, 1) + 10 * layer
        cache.update(keys, -keys, layer_idx=layer)
    prefix = copy_cache_prefix(cache, keep_tokens=4)
    assert prefix.get_seq_length() == 4 and cache.get_seq_length() == 6
    assert prefix.layers[1].keys.flatten().tolist() == [10, 11, 12, 13]
    assert prefix.layers[1].values.flatten().tolist() == [-10, -11, -12, -13]
    prefix.layers[0].keys.zero_()
    assert cache.layers[0].keys.flatten().tolist() == [0, 1, 2, 3, 4, 5]
