"""Request bodies -> validated :class:`EpisodeRequest` (pure functions; every failure is a 400 ``ApiError``).

Two request shapes are accepted:

* ``POST /v1/episodes``: ``{"video", "question", "options"?, "evidence"?, "gold"?, "answer_instruction"?,
  "stream"?}`` (unknown fields are rejected, so a typo does not go unnoticed);
* ``POST /v1/chat/completions``: the OpenAI chat format; the last user message's text is the
  question (lines ``"A. ..."`` become the options), the video comes from a ``video_url`` part
  (``file://`` URL), a ``video`` part, or a top-level ``"video"`` field.

Video paths are resolved against the server's video root when it has one; a path that resolves
outside it (``..``, an absolute path elsewhere, a symlink out) is rejected.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from love_r1.serve._errors import bad_request

_LETTERED = re.compile(r"^\s*[(\[]?([A-Za-z])[)\].:]\s+(.*\S)\s*$", re.DOTALL)
_OPTION_LINE = re.compile(r"^\s*\(?([A-Z])[.)]\s+\S")
_EPISODE_FIELDS = ("video", "question", "options", "evidence", "gold", "answer_instruction", "stream")
MAX_OPTIONS = 26


@dataclass(frozen=True)
class EpisodeRequest:
    """One validated question about one video.

    Attributes:
        video: the resolved video file (exists; inside the video root when there is one).
        question: the question text, stripped.
        options: ``"A. text"`` strings (empty for an open question).
        answer_instruction: appended after the options; ``None`` = the policy's instruction when there
            are options, nothing for an open question.
        evidence: ground-truth intervals in seconds (shown in the trace only).
        gold: the correct answer if known (shown in the trace only).
        stream: reply with Server-Sent Events, one per step.
    """

    video: Path
    question: str
    options: tuple[str, ...] = ()
    answer_instruction: str | None = None
    evidence: tuple[tuple[float, float], ...] | None = None
    gold: str | None = None
    stream: bool = False

    @property
    def resolved_instruction(self) -> str | None:
        """The instruction for ``EpisodeTask`` (``None`` = the policy's)."""
        if self.answer_instruction is not None:
            return self.answer_instruction
        return None if self.options else ""


def resolve_video(value: Any, *, video_root: Path | None, param: str = "video") -> Path:
    """The video file named by ``value``: relative paths are taken under ``video_root`` (or the
    working directory when there is none); the result must exist and stay inside ``video_root``."""
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"{param!r} must be a non-empty string path to a video file, got {value!r}", param=param)
    where = f"--video-root {video_root}" if video_root is not None else "the server's working directory"
    try:
        raw = Path(value)
        if video_root is not None:
            root = video_root.resolve()
            candidate = (raw if raw.is_absolute() else root / raw).resolve()
            if not candidate.is_relative_to(root):
                raise bad_request(
                    f"video {value!r} resolves outside {where}; give a path inside it (relative paths are "
                    "taken from the video root; '..' and symlinks out of it are refused)", param=param)
        else:
            candidate = raw.resolve()
        exists = candidate.is_file()
    except (OSError, ValueError) as error:  # e.g. an embedded NUL byte, a name too long
        raise bad_request(f"video {value!r} is not a usable path: {error}", param=param) from None
    if not exists:
        raise bad_request(
            f"video {value!r} not found (looked for {candidate}); relative paths are taken from {where}",
            param=param)
    return candidate


def normalize_options(values: Any, *, param: str = "options") -> tuple[str, ...]:
    """Options as ``"A. text"``: ``"A) x"``/``"(A) x"``/``"a: x"`` are rewritten; when any option has no
    letter (or letters repeat), all are lettered by position."""
    if values is None:
        return ()
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise bad_request(f"{param!r} must be a list of strings like ['A. red', 'B. blue'], got {values!r}",
                          param=param)
    cleaned: list[str] = []
    for index, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            raise bad_request(f"{param}[{index}] must be a non-empty string, got {value!r}", param=param)
        cleaned.append(value.strip())
    if len(cleaned) > MAX_OPTIONS:
        raise bad_request(f"{len(cleaned)} options given; at most {MAX_OPTIONS} (A-Z) are supported", param=param)
    matches = [_LETTERED.match(text) for text in cleaned]
    letters = [m.group(1).upper() for m in matches if m]
    if all(matches) and len(set(letters)) == len(letters):
        return tuple(f"{m.group(1).upper()}. {m.group(2)}" for m in matches if m)
    return tuple(f"{chr(ord('A') + i)}. {m.group(2) if m else text}"
                 for i, (m, text) in enumerate(zip(matches, cleaned, strict=True)))


def _evidence(value: Any) -> tuple[tuple[float, float], ...] | None:
    if value is None:
        return None
    hint = "give a list of [start_seconds, end_seconds] pairs with 0 <= start < end, e.g. [[12, 20]]"
    if not isinstance(value, list):
        raise bad_request(f"'evidence' must be a list; {hint}; got {value!r}", param="evidence")
    pairs = []
    for index, pair in enumerate(value):
        ok = (isinstance(pair, list | tuple) and len(pair) == 2
              and all(isinstance(x, int | float) and not isinstance(x, bool) for x in pair))
        if not ok or not 0 <= pair[0] < pair[1]:
            raise bad_request(f"evidence[{index}] = {pair!r} is not an interval; {hint}", param="evidence")
        pairs.append((float(pair[0]), float(pair[1])))
    return tuple(pairs)


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise bad_request(f"{name!r} must be a string, got {value!r}", param=name)
    return value


def _stream_flag(body: dict[str, Any]) -> bool:
    value = body.get("stream", False)
    if not isinstance(value, bool):
        raise bad_request(f"'stream' must be true or false, got {value!r}", param="stream")
    return value


def _require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request(f"the request body must be a JSON object, got {type(body).__name__}")
    return body


def parse_episode_request(body: Any, *, video_root: Path | None) -> EpisodeRequest:
    """Validate a ``POST /v1/episodes`` body."""
    body = _require_object(body)
    unknown = sorted(set(body) - set(_EPISODE_FIELDS))
    if unknown:
        raise bad_request(f"unknown field(s) {unknown}; known fields: {list(_EPISODE_FIELDS)}", param=unknown[0])
    question = body.get("question")
    if not isinstance(question, str) or not question.strip():
        raise bad_request(f"'question' must be a non-empty string, got {question!r}", param="question")
    if "video" not in body:
        raise bad_request("'video' is required: a path to the video file", param="video")
    return EpisodeRequest(
        video=resolve_video(body["video"], video_root=video_root), question=question.strip(),
        options=normalize_options(body.get("options")), answer_instruction=_optional_str(body, "answer_instruction"),
        evidence=_evidence(body.get("evidence")), gold=_optional_str(body, "gold"), stream=_stream_flag(body),
    )


def split_options(text: str) -> tuple[str, tuple[str, ...], str | None]:
    """Split a chat message into ``(question, options, instruction)``.

    The first run of lines that start with ``"A."``/``"A)"``/``"(A)"`` (capital letters; blank lines
    inside are skipped) are the options; the lines before are the question; any lines after become
    the answer instruction (prefixed with a newline, as the protocol's instructions are). Without
    option lines: ``(text, (), None)``.
    """
    lines = text.strip().splitlines()
    first = next((i for i, line in enumerate(lines) if _OPTION_LINE.match(line)), None)
    if first is None or first == 0:
        return text.strip(), (), None
    options: list[str] = []
    end = first
    while end < len(lines) and (_OPTION_LINE.match(lines[end]) or not lines[end].strip()):
        if lines[end].strip():
            options.append(lines[end].strip())
        end += 1
    trailing = "\n".join(lines[end:]).strip()
    question = "\n".join(lines[:first]).strip()
    return question, tuple(options), ("\n" + trailing) if trailing else None


def _video_from_url(url: Any, *, param: str) -> str:
    if not isinstance(url, str) or not url:
        raise bad_request(f"{param} must be a non-empty string, got {url!r}", param=param)
    if url.startswith("file://"):
        parsed = urlparse(url)
        if parsed.netloc not in ("", "localhost"):
            raise bad_request(f"{param} {url!r} names a remote host; use file:///absolute/path.mp4", param=param)
        return unquote(parsed.path)
    if "://" in url or url.startswith("data:"):
        raise bad_request(f"{param} {url!r}: only file:// URLs and plain paths of videos on the server are "
                          "supported (no downloads, no data: URLs)", param=param)
    return url


def parse_chat_request(body: Any, *, video_root: Path | None) -> EpisodeRequest:
    """Validate a ``POST /v1/chat/completions`` body (see the module docstring)."""
    body = _require_object(body)
    if _stream_flag(body):
        raise bad_request("'stream': true is not supported on /v1/chat/completions; use POST /v1/episodes with "
                          "\"stream\": true for a step-by-step event stream", param="stream")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("'messages' must be a non-empty list of chat messages", param="messages")
    user = next((m for m in reversed(messages) if isinstance(m, dict) and m.get("role") == "user"), None)
    if user is None:
        raise bad_request("'messages' holds no user message; the last user message is the question",
                          param="messages")
    content = user.get("content")
    texts: list[str] = []
    videos: list[str] = []
    if isinstance(content, str):
        texts.append(content)
    elif isinstance(content, list):
        for index, part in enumerate(content):
            param = f"messages[-1].content[{index}]"
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text":
                texts.append(str(part.get("text", "")))
            elif kind == "video_url":
                video_url = part.get("video_url")
                url = video_url.get("url") if isinstance(video_url, dict) else video_url
                videos.append(_video_from_url(url, param=f"{param}.video_url.url"))
            elif kind == "video":
                videos.append(_video_from_url(part.get("video"), param=f"{param}.video"))
            else:
                raise bad_request(f"{param} has type {kind!r}; supported part types: 'text', 'video_url' "
                                  "(file:// URL), 'video' (a path)", param="messages")
    else:
        raise bad_request("the user message's 'content' must be a string or a list of parts", param="messages")
    if body.get("video") is not None:
        videos.append(_video_from_url(body["video"], param="video"))
    if len(videos) != 1:
        raise bad_request(f"exactly one video is needed (a 'video_url' part with a file:// URL, or a top-level "
                          f"'video' field), got {len(videos)}", param="video")
    question, options, instruction = split_options("\n".join(texts))
    if not question:
        raise bad_request("the last user message has no question text", param="messages")
    return EpisodeRequest(
        video=resolve_video(videos[0], video_root=video_root), question=question,
        options=normalize_options(list(options)), answer_instruction=instruction,
    )
