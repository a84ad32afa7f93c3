"""Test doubles for the data chain: a counting fake backend (until/besides ScriptedBackend)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from love_r1.backends import BackendError, Generation, GenerationRequest, TokenUsage


class CountingBackend:
    """Replies with ``replies(request)``; counts requests; raises BackendError after ``fail_after`` requests."""

    def __init__(self, replies: Callable[[GenerationRequest], str], *, fail_after: int | None = None) -> None:
        self.replies = replies
        self.fail_after = fail_after
        self.requests: list[GenerationRequest] = []
        self._lock = threading.Lock()

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        out = []
        for request in requests:
            with self._lock:
                if self.fail_after is not None and len(self.requests) >= self.fail_after:
                    raise BackendError("HTTP 429: rate limit exceeded (fake)")
                self.requests.append(request)
            text = self.replies(request)
            out.append(Generation(text=text, usage=TokenUsage(prompt_tokens=100, completion_tokens=10)))
        return out


def prompt_text(request: GenerationRequest) -> str:
    return "".join(m.text for m in request.messages)
