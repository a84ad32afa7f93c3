"""The fields of an OpenAI chat completion that love-r1 reads, as a pydantic schema.

A 200 reply is validated once, here, instead of through scattered ``.get`` calls: a reply whose
``usage`` is ``"lots"``, whose ``prompt_tokens`` is not a non-negative integer, whose
``finish_reason`` is a list, or whose first choice has no message raises
:class:`MalformedReplyError` naming the field. Unknown extra fields are allowed (servers add
their own, e.g. vLLM's ``stop_reason`` or ``reasoning_content``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from love_r1.backends import BackendError

_Count = Annotated[int, Field(ge=0, strict=True)]


class MalformedReplyError(BackendError):
    """A server answered 200 with JSON that is not a valid chat completion (the message names the field)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class ChatMessage(_Model):
    content: str | None = None


class Choice(_Model):
    message: ChatMessage
    finish_reason: str | None = None


class PromptTokensDetails(_Model):
    cached_tokens: _Count | None = None


class Usage(_Model):
    prompt_tokens: _Count = 0
    completion_tokens: _Count = 0
    prompt_tokens_details: PromptTokensDetails | None = None


class ChatCompletion(_Model):
    choices: Annotated[list[Choice], Field(min_length=1)]
    usage: Usage | None = None


def parse_completion(data: Any) -> ChatCompletion:
    """Validate a decoded chat completion; raises :class:`MalformedReplyError` naming the bad field."""
    try:
        return ChatCompletion.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']) or 'reply'}: {e['msg']} (got {_short(e.get('input'))})"
            for e in error.errors()[:3]
        )
        raise MalformedReplyError(f"not a chat completion: {problems}") from None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


__all__ = ["ChatCompletion", "MalformedReplyError", "parse_completion"]
