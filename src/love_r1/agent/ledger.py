"""The per-episode cost ledger: what an episode cost in frames, tokens, seconds and calls.

Frames are counted apart by where they came from: ``frames_decoded`` were decoded for the
episode, ``frames_cached`` were served from a shared frame cache (another question on the same
video decoded them first, or the eval runner's prefetch did). Twelve questions on two videos
therefore report the fast view decoded twice in total, not twelve times.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from love_r1.backends import TokenUsage


@dataclass
class Ledger:
    """Running totals for one episode.

    Attributes:
        frames_decoded: video frames decoded for this episode (fast view plus every zoom clip, once each),
            not counting frames served from the frame cache.
        frames_cached: frames of the fast view and zoom clips served from the frame cache instead.
        vision_tokens: vision tokens in all prompts (summed over calls, cached or not).
        prompt_tokens: prompt tokens over all calls; ``prompt_tokens_cached`` of them were reused
            from a cache (``prompt_tokens - prompt_tokens_cached`` were computed).
        completion_tokens: generated tokens over all calls.
        decode_seconds: wall time decoding and resizing frames for this episode.
        encode_seconds, prefill_seconds, generate_seconds: what the backend reported (vision
            encoder, prompt prefill, token generation); 0 when a backend does not measure them.
        total_seconds: wall time from the start of the episode to its end. Episodes of one batch
            share model calls, so their totals overlap.
        num_model_calls: ``generate`` requests made for this episode.
    """

    frames_decoded: int = 0
    frames_cached: int = 0
    vision_tokens: int = 0
    prompt_tokens: int = 0
    prompt_tokens_cached: int = 0
    completion_tokens: int = 0
    decode_seconds: float = 0.0
    encode_seconds: float = 0.0
    prefill_seconds: float = 0.0
    generate_seconds: float = 0.0
    total_seconds: float = 0.0
    num_model_calls: int = 0

    @property
    def prompt_tokens_computed(self) -> int:
        return self.prompt_tokens - self.prompt_tokens_cached

    def add_usage(self, usage: TokenUsage) -> None:
        """Add one model call's usage."""
        self.vision_tokens += usage.vision_tokens
        self.prompt_tokens += usage.prompt_tokens
        self.prompt_tokens_cached += usage.prompt_tokens_cached
        self.completion_tokens += usage.completion_tokens
        self.encode_seconds += usage.encode_seconds
        self.prefill_seconds += usage.prefill_seconds
        self.generate_seconds += usage.generate_seconds
        self.num_model_calls += 1

    def add_decode(self, *, num_frames: int, seconds: float, num_cached: int = 0) -> None:
        """Add ``num_frames`` frames obtained for the episode, ``num_cached`` of them from the frame cache."""
        num_cached = max(0, min(int(num_cached), int(num_frames)))
        self.frames_decoded += int(num_frames) - num_cached
        self.frames_cached += num_cached
        self.decode_seconds += seconds

    def __add__(self, other: Ledger) -> Ledger:
        """Field-wise sum (for totals over many episodes)."""
        return Ledger(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in dataclasses.fields(self)})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ledger:
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})


def frames_from_cache(reader: Any) -> int:
    """A video reader's running count of frames it served from its frame cache (0 for readers without one).

    Read it before and after sampling; the difference is what :meth:`Ledger.add_decode` takes as
    ``num_cached``. Readers are duck-typed (tests inject fakes), hence the lenient lookup.
    """
    return int(getattr(getattr(reader, "stats", None), "frames_cached", 0) or 0)
