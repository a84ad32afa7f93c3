"""Cross-step reuse state for the hf backend: per-session KV cache of a token prefix and per-clip features.

A *session* is one episode (``GenerationRequest.session_id``). Successive LOVE-R1 prompts of an
episode share their start — system message, ``Full video [0, D]:``, the fast view — and often
earlier zoom clips. Two things are kept per session:

* **clip features**: the vision-encoder output for every clip with a ``Frames.key``; a clip is sent
  through the ViT once per session, whatever its position in later prompts;
* **the KV cache of the previous prompt** and the *identity* of each of its tokens. Token identity
  is the token id, except for video placeholders, which carry their clip's key: two prompts can
  hold the same run of ``<|video_pad|>`` tokens for different clips. The next prompt reuses the
  longest common identity prefix; the cache is cropped back to it (``DynamicCache.crop(-n)``).

The pure helpers here compute identities and prefix lengths; :class:`SessionStore` owns the
tensors and evicts whole sessions least-recently-used.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ClipFeatures:
    """Vision-encoder output of one clip: merged tokens ``[n, hidden]`` and, for Qwen3-VL, the
    deepstack features (one ``[n, hidden]`` tensor per deepstack layer)."""

    embeddings: Any
    deepstack: tuple[Any, ...] | None
    num_frames: int


@dataclass
class Session:
    cache: Any = None  # transformers DynamicCache holding exactly len(token_identities) tokens
    token_identities: list[Hashable] = field(default_factory=list)
    clips: OrderedDict[str, ClipFeatures] = field(default_factory=OrderedDict)
    inputs: dict[str, Any] = field(default_factory=dict)  # Frames.key -> _qwen_inputs.ClipInputs


class _Unmatched:
    """Identity of a placeholder whose clip has no key: equal to nothing but itself."""

    __slots__ = ()


def token_identities(
    input_ids: Sequence[int], *, video_spans: Sequence[tuple[int, int]], clip_keys: Sequence[str | None]
) -> list[Hashable]:
    """Token ids, with each video's placeholder positions replaced by ``("video", key, token_id)``.

    ``video_spans[i]`` is ``(first, last + 1)`` of clip ``i``'s placeholders; everything inside the
    span (Qwen3-VL timestamps and frame separators included) takes the clip's identity, so a prompt
    prefix never ends inside a clip. Clips without a key never match anything.
    """
    if len(video_spans) != len(clip_keys):
        raise ValueError(f"{len(video_spans)} video spans for {len(clip_keys)} clip keys")
    identities: list[Hashable] = [int(t) for t in input_ids]
    for (start, end), key in zip(video_spans, clip_keys, strict=True):
        tag = ("video", key) if key is not None else ("video", _Unmatched())
        for position in range(start, end):
            identities[position] = (tag, identities[position])
    return identities


def common_prefix_length(cached: Sequence[Hashable], new: Sequence[Hashable]) -> int:
    """Length of the longest common prefix of two identity sequences."""
    n = min(len(cached), len(new))
    for i in range(n):
        if cached[i] != new[i]:
            return i
    return n


def reusable_prefix_length(
    cached: Sequence[Hashable], new: Sequence[Hashable], *, video_spans: Sequence[tuple[int, int]]
) -> int:
    """How many leading tokens of ``new`` can come from the cache.

    At most ``len(new) - 1`` (the last prompt token must be computed to get logits) and never
    inside a clip's span (a clip's features are either all cached or all fed anew).
    """
    length = min(common_prefix_length(cached, new), max(len(new) - 1, 0))
    for start, end in video_spans:
        if start < length < end:
            length = start
    return length


class SessionStore:
    """Sessions by id, least recently used evicted first once more than ``max_sessions`` are held."""

    def __init__(self, *, max_sessions: int) -> None:
        if max_sessions < 1:
            raise ValueError(f"max_sessions must be >= 1, got {max_sessions}")
        self.max_sessions = max_sessions
        self.num_evicted = 0
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def get(self, session_id: str) -> Session:
        """The session (created when new), marked most recently used; evicts the oldest beyond the bound."""
        session = self._sessions.get(session_id)
        if session is None:
            session = self._sessions[session_id] = Session()
        self._sessions.move_to_end(session_id)
        while len(self._sessions) > self.max_sessions:
            self._sessions.popitem(last=False)
            self.num_evicted += 1
        return session

    def others(self, session_id: str) -> list[Session]:
        """Every held session except ``session_id`` (their LRU order is not touched)."""
        return [s for sid, s in self._sessions.items() if sid != session_id]

    def close(self, session_id: str) -> bool:
        """Drop a session's tensors; True when it existed."""
        return self._sessions.pop(session_id, None) is not None

    def clear(self) -> None:
        self._sessions.clear()

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._sessions

    def __len__(self) -> int:
        return len(self._sessions)


__all__ = ["ClipFeatures", "Session", "SessionStore", "common_prefix_length", "reusable_prefix_length",
           "token_identities"]
