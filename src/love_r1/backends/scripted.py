"""A deterministic fake backend that replays canned replies (tests, demos, dry runs).

``ScriptedBackend(replies)``:

* ``replies=None``: the dummy policy :func:`dummy_reply` (zoom on the middle of the video while
  the prompt has no zoom clip, then answer the first option letter);
* a list of strings: replies handed out in call order across all requests (a batch takes the
  next ``len(requests)`` replies in request order); running out raises ``BackendError``. With
  ``per_session=True`` every session (episode) replays the list from its start instead;
* a callable ``request -> str``: called once per request.

Usage is synthetic but deterministic: one vision token per frame, one prompt token per
whitespace-separated word of text plus the vision tokens, one completion token per word of
the reply; a video whose ``Frames.key`` was already seen in the same session counts as cached.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from love_r1.backends import (
    BackendError,
    Generation,
    GenerationRequest,
    TextPart,
    TokenUsage,
    VideoPart,
)
from love_r1.prompts.constants import ANSWER_PHRASE, ZOOM_PHRASE

_FULL_VIDEO = re.compile(r"Full video \[(\d+), (\d+)\]:")
_ZOOM_LABEL = "Subset zoom-in video clip ["
_OPTION = re.compile(r"^\s*\(?([A-Z])[.):]", re.MULTILINE)


def dummy_reply(request: GenerationRequest) -> str:
    """The default scripted policy (used by ``love-r1 eval --backend scripted`` without a script).

    * With a pre-filled assistant prefix (the forced answer): the reasoning and ``\\boxed{X}``.
    * While the prompt shows no zoom clip: zoom on ``[D/2 - 5, D/2 + 5]`` (integer seconds),
      where ``D`` is read from the ``Full video [0, D]:`` label.
    * Otherwise: answer the first option letter found at the start of a line (``A`` if none).
    """
    text = "".join(part.text for message in request.messages for part in message.content
                   if isinstance(part, TextPart))
    letter_match = _OPTION.search(_question_part(text))
    letter = letter_match.group(1) if letter_match else "A"
    answer = f"The zoomed clip shows enough to choose an option.\\boxed{{{letter}}}"
    if request.assistant_prefix:
        return answer
    full = _FULL_VIDEO.search(text)
    if full is not None and _ZOOM_LABEL not in text:
        duration = int(full.group(2))
        middle = duration // 2
        start, end = max(0, middle - 5), min(duration, middle + 5)
        return f"{ZOOM_PHRASE}\n\nThe middle of the video may hold the answer.\\boxed{{[{start}, {end}]}}"
    return f"{ANSWER_PHRASE}\n\n{answer}"


def _question_part(text: str) -> str:
    """The text after the last clip label (the question and its options)."""
    index = text.rfind("]:")
    return text[index + 2:] if index >= 0 else text


class ScriptedBackend:
    """Deterministic fake backend; see the module docstring.

    Attributes:
        calls: every ``generate`` call's requests, in order (tests check batching with it).
    """

    def __init__(
        self, replies: Sequence[str] | Callable[[GenerationRequest], str] | None = None, *, per_session: bool = False
    ) -> None:
        if replies is not None and not callable(replies):
            if isinstance(replies, str):
                raise TypeError("ScriptedBackend(replies=...) takes a list of replies, not one string; wrap it: [reply]")
            replies = list(replies)
            for index, reply in enumerate(replies):
                if not isinstance(reply, str):
                    raise TypeError(f"ScriptedBackend replies[{index}] must be a str, got {type(reply).__name__}")
        self._replies = replies
        self._per_session = per_session
        self._next: dict[str | None, int] = {}
        self._seen_keys: dict[str | None, set[str]] = {}
        self.calls: list[list[GenerationRequest]] = []

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        requests = list(requests)
        self.calls.append(requests)
        return [self._one(request) for request in requests]

    def _one(self, request: GenerationRequest) -> Generation:
        if self._replies is None:
            text = dummy_reply(request)
        elif callable(self._replies):
            text = self._replies(request)
            if not isinstance(text, str):
                raise BackendError(f"scripted reply function returned {type(text).__name__}, not str")
        else:
            counter = request.session_id if self._per_session else None
            position = self._next.get(counter, 0)
            if position >= len(self._replies):
                where = f" in session {counter!r}" if self._per_session else ""
                raise BackendError(
                    f"ScriptedBackend ran out of replies after {len(self._replies)}{where}; "
                    "give more replies or a function"
                )
            text = self._replies[position]
            self._next[counter] = position + 1
        return Generation(text=text, usage=self._usage(request, text), finish_reason="stop")

    def _usage(self, request: GenerationRequest, text: str) -> TokenUsage:
        seen = self._seen_keys.setdefault(request.session_id, set())
        vision = cached = frames_cached = frames = 0
        words = 0
        for message in request.messages:
            for part in message.content:
                if isinstance(part, VideoPart):
                    n = part.frames.num_frames
                    vision += n
                    frames += n
                    key = part.frames.key
                    if key is not None and request.session_id is not None and key in seen:
                        cached += n
                        frames_cached += n
                    elif key is not None:
                        seen.add(key)
                else:
                    words += len(part.text.split())
        words += len(request.assistant_prefix.split())
        return TokenUsage(
            prompt_tokens=words + vision, prompt_tokens_cached=cached, completion_tokens=len(text.split()),
            vision_tokens=vision, vision_frames_encoded=frames - frames_cached, vision_frames_cached=frames_cached,
        )
