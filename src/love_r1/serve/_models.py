"""Typed bodies of the HTTP API (pydantic): what the episode and OpenAI-compatible routes accept and return.

Request bodies are validated from the raw bytes (:func:`validate_body`): pydantic's JSON parser
refuses nesting deeper than 200 levels (a 100k-deep body is a 400, not a ``RecursionError``), and
every validation failure becomes one 400 :class:`~love_r1.serve._errors.ApiError` that names the
field, the value and what was expected.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from love_r1.serve._errors import ApiError, bad_request

# -- requests -------------------------------------------------------------------------------------


class EpisodeBody(BaseModel):
    """``POST /v1/episodes``. Unknown fields are refused, so a typo does not go unnoticed."""

    model_config = ConfigDict(extra="forbid", strict=True)

    video: str = Field(description="the video file on the server; relative paths are taken from --video-root")
    question: str = Field(description="the question (non-empty)")
    options: list[str] | None = Field(default=None, description='"A. text" strings; "A) x", "(A) x" or unlettered '
                                                                  "options are rewritten/lettered in order")
    evidence: list[list[float]] | None = Field(default=None, description="ground-truth [start_seconds, end_seconds] "
                                                                         "pairs (shown in the trace only)")
    gold: str | None = Field(default=None, description="the correct option letter, if known (trace only)")
    answer_instruction: str | None = Field(default=None, description="appended after the options; default: the "
                                                                     "policy's letter instruction with options, "
                                                                     "nothing without")
    stream: bool = Field(default=False, description="reply with Server-Sent Events, one per step")


class ImageOrVideoUrl(BaseModel):
    model_config = ConfigDict(extra="allow")

    url: str


class ContentPart(BaseModel):
    """One part of a chat message's content; only ``text``, ``video_url`` and ``video`` are read."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None
    video_url: ImageOrVideoUrl | str | None = None
    video: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[ContentPart] | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatRequestBody(BaseModel):
    """``POST /v1/chat/completions`` (the OpenAI format). Sampling fields (``temperature``, ...) are
    accepted and ignored: the zoom policy fixes decoding."""

    model_config = ConfigDict(extra="allow")

    messages: list[ChatMessage] = Field(min_length=1)
    model: str | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    video: str | None = Field(default=None, description="the video, when no message part names one")


# -- responses ------------------------------------------------------------------------------------


class EpisodeReply(BaseModel):
    """``POST /v1/episodes`` (not streamed); also the data of the ``done`` event of a stream."""

    episode: dict[str, Any] = Field(description="Episode.to_dict(): video, steps, clips, answer, ledger, ...")
    answer: str
    trace_url: str


class LoveR1Extra(BaseModel):
    episode: dict[str, Any]
    answer: str
    trace_url: str


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: str


class PromptTokensDetails(BaseModel):
    cached_tokens: int = 0


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: PromptTokensDetails


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    love_r1: LoveR1Extra


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None
    reasoning_content: str | None = Field(default=None, description="the text of each zoom step, as it happens")


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: str | None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    love_r1: LoveR1Extra | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "love-r1"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


# -- validation -----------------------------------------------------------------------------------

_HELP = {
    "video": "a non-empty string path to a video file",
    "question": "a non-empty string",
    "options": "a list of strings like ['A. red', 'B. blue']",
    "evidence": "a list of [start_seconds, end_seconds] pairs with 0 <= start < end, e.g. [[12, 20]]",
    "gold": "a string (the correct option letter)",
    "answer_instruction": "a string",
    "stream": "true or false",
    "messages": "a non-empty list of chat messages ({'role': ..., 'content': ...})",
    "model": "a string",
    "stream_options": "an object like {'include_usage': true}",
}
M = TypeVar("M", bound=BaseModel)


def validate_body(model: type[M], body: bytes | str | dict[str, Any] | Any) -> M:
    """``model`` validated from raw JSON bytes (or an already decoded value); a 400 ``ApiError`` on failure."""
    try:
        if isinstance(body, bytes | str):
            return model.model_validate_json(body)
        return model.model_validate(body)
    except ValidationError as error:
        raise _api_error(model, error) from None


def _path(loc: tuple[int | str, ...]) -> str:
    text = str(loc[0])
    for part in loc[1:]:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _api_error(model: type[BaseModel], error: ValidationError) -> ApiError:
    errors = error.errors(include_url=False)
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])  # a typo explains a "missing"
    kind, loc, given = first["type"], tuple(first["loc"]), first.get("input")
    if kind == "json_invalid":
        message = f"the request body is not valid UTF-8 JSON: {first['msg']}"
        if "recursion limit" in first["msg"]:
            message += " (JSON nested deeper than 200 levels is refused)"
        return bad_request(message)
    if not loc:
        return bad_request(f"the request body must be a JSON object, got {type(given).__name__}")
    name = str(loc[0])
    if kind == "extra_forbidden":
        unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden")
        return bad_request(f"unknown field(s) {unknown}; known fields: {list(model.model_fields)}", param=unknown[0])
    help_text = _HELP.get(name, "of the documented type")
    if kind == "missing" and len(loc) == 1:
        return bad_request(f"{name!r} is required: {help_text}", param=name)
    if len(loc) == 1:
        return bad_request(f"{name!r} must be {help_text}, got {given!r}", param=name)
    return bad_request(f"{_path(loc)}: {first['msg']} (got {given!r}); {name!r} must be {help_text}", param=name)
