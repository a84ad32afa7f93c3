"""Request bodies -> validated :class:`EpisodeRequest` (pure functions; every failure is a 400 ``ApiError``).

Two request shapes are accepted (typed in :mod:`love_r1.serve._models`):

* ``POST /v1/episodes``: ``{"video", "question", "options"?, "evidence"?, "gold"?, "answer_instruction"?,
  "stream"?}`` (unknown fields are rejected, so a typo does not go unnoticed);
* ``POST /v1/chat/completions``: the OpenAI chat format; the last user message's text is the
  question (lines ``"A. ..."`` become the options), the video comes from a ``video_url`` part
  (``file://`` URL), a ``video`` part, or a top-level ``"video"`` field.

Video paths are resolved against the server's video root when it has one; a path that resolves
outside it (``..``, an absolute path elsewhere, a symlink out) is rejected, except inside the
upload folder (where uploaded videos are stored).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from love_r1 import agent
from love_r1.serve._errors import bad_request
from love_r1.serve._models import ChatRequestBody, EpisodeBody, ImageOrVideoUrl, validate_body

_OPTION_LINE = re.compile(r"^\s*\(?([A-Z])[.)]\s+\S")


@dataclass(frozen=True)
class EpisodeRequest:
    """One validated question about one video.

    Attributes:
        video_path: the resolved video file (exists; inside the video root or the upload folder when there is one).
        question: the question text, stripped.
        options: ``"A. text"`` strings (empty for an open question).
        answer_instruction: appended after the options; ``None`` = the policy's instruction when there
            are options, nothing for an open question.
        evidence: ground-truth intervals in seconds (shown in the trace only).
        gold: the correct answer if known (shown in the trace only).
        stream: reply with Server-Sent Events, one per step.
    """

    video_path: Path
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


@dataclass(frozen=True)
class ChatRequest:
    """A validated chat completion request: the episode to run and how to reply.

    Attributes:
        episode: the question and video.
        stream: reply with ``chat.completion.chunk`` events (Server-Sent Events, ending in ``[DONE]``).
        include_usage: with ``stream``, send a last chunk holding the usage (``stream_options``).
    """

    episode: EpisodeRequest
    stream: bool = False
    include_usage: bool = False


def _inside(path: Path, root: Path | None) -> bool:
    return root is not None and path.is_relative_to(root)


def resolve_video(value: Any, *, video_root: Path | None, upload_dir: Path | None = None,
                  param: str = "video") -> Path:
    """The video file named by ``value``: relative paths are taken under ``video_root`` (or the
    working directory when there is none); with a ``video_root``, the result must stay inside it
    or inside ``upload_dir``; it must exist."""
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"{param!r} must be a non-empty string path to a video file, got {value!r}", param=param)
    where = f"--video-root {video_root}" if video_root is not None else "the server's working directory"
    try:
        raw = Path(value)
        if video_root is not None:
            root = video_root.resolve()
            candidate = (raw if raw.is_absolute() else root / raw).resolve()
            uploads = upload_dir.resolve() if upload_dir is not None else None
            if not (_inside(candidate, root) or _inside(candidate, uploads)):
                also = f" (or the upload folder {uploads})" if uploads is not None else ""
                raise bad_request(
                    f"video {value!r} resolves outside {where}{also}; give a path inside it (relative paths are "
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
    """Options as ``"A. text"`` (:func:`love_r1.agent.normalize_options`, as ``love-r1 ask`` reads them);
    a bad value is a 400 naming ``param``."""
    if values is None:
        return ()
    try:
        options, _notes = agent.normalize_options(values, where=lambda index: f"{param}[{index}]")
    except ValueError as error:
        raise bad_request(str(error), param=param) from None
    return options


def _evidence(value: list[list[float]] | None) -> tuple[tuple[float, float], ...] | None:
    try:
        return agent.check_evidence(value, where=lambda index: f"evidence[{index}]")
    except ValueError as error:
        raise bad_request(f"{error}; give a list of [start_seconds, end_seconds] pairs with 0 <= start < end, "
                          "e.g. [[12, 20]]", param="evidence") from None


def parse_episode_request(body: bytes | str | dict[str, Any], *, video_root: Path | None,
                          upload_dir: Path | None = None) -> EpisodeRequest:
    """Validate a ``POST /v1/episodes`` body (raw JSON bytes or a decoded object)."""
    data = validate_body(EpisodeBody, body)
    if not data.question.strip():
        raise bad_request(f"'question' must be a non-empty string, got {data.question!r}", param="question")
    options = normalize_options(data.options)
    try:
        gold = agent.check_gold(data.gold, options)
    except ValueError as error:
        raise bad_request(f"'gold': {error}", param="gold") from None
    return EpisodeRequest(
        video_path=resolve_video(data.video, video_root=video_root, upload_dir=upload_dir),
        question=data.question.strip(), options=options, answer_instruction=data.answer_instruction,
        evidence=_evidence(data.evidence), gold=gold, stream=data.stream,
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


def parse_chat_request(body: bytes | str | dict[str, Any], *, video_root: Path | None,
                       upload_dir: Path | None = None) -> ChatRequest:
    """Validate a ``POST /v1/chat/completions`` body (see the module docstring)."""
    data = validate_body(ChatRequestBody, body)
    user = next((m for m in reversed(data.messages) if m.role == "user"), None)
    if user is None:
        raise bad_request("'messages' holds no user message; the last user message is the question",
                          param="messages")
    index = max(i for i, m in enumerate(data.messages) if m is user)
    texts: list[str] = []
    videos: list[str] = []
    if isinstance(user.content, str):
        texts.append(user.content)
    elif isinstance(user.content, list):
        for number, part in enumerate(user.content):
            param = f"messages[{index}].content[{number}]"
            if part.type == "text":
                texts.append(part.text or "")
            elif part.type == "video_url":
                url = part.video_url.url if isinstance(part.video_url, ImageOrVideoUrl) else part.video_url
                videos.append(_video_from_url(url, param=f"{param}.video_url.url"))
            elif part.type == "video":
                videos.append(_video_from_url(part.video, param=f"{param}.video"))
            else:
                raise bad_request(f"{param} has type {part.type!r}; supported part types: 'text', 'video_url' "
                                  "(file:// URL), 'video' (a path)", param="messages")
    else:
        raise bad_request("the user message's 'content' must be a string or a list of parts", param="messages")
    if data.video is not None:
        videos.append(_video_from_url(data.video, param="video"))
    if len(videos) != 1:
        raise bad_request(f"exactly one video is needed (a 'video_url' part with a file:// URL, or a top-level "
                          f"'video' field), got {len(videos)}", param="video")
    question, options, instruction = split_options("\n".join(texts))
    if not question:
        raise bad_request("the last user message has no question text", param="messages")
    episode = EpisodeRequest(
        video_path=resolve_video(videos[0], video_root=video_root, upload_dir=upload_dir), question=question,
        options=normalize_options(list(options)), answer_instruction=instruction, stream=data.stream,
    )
    include_usage = data.stream_options is not None and data.stream_options.include_usage
    return ChatRequest(episode=episode, stream=data.stream, include_usage=include_usage)
