"""OpenAI-compatible HTTP backend (``vllm serve``, SGLang, OpenAI, Gemini's OpenAI endpoint, ...).

``OpenAIBackend.generate(requests)`` sends every request of the batch concurrently (at most
``max_concurrency`` in flight) with the official ``openai`` client and returns the replies in
order. It is synchronous: it runs its own event loop, so it works from plain code and from
worker threads (when the calling thread already runs an event loop, the batch runs on a
helper thread).

**Video.** A ``VideoPart`` holds pre-decoded frames (timestamps are already burned in). Two
ways to send them, chosen by ``video_mode``:

* ``"frames_as_images"`` (default; any vision server): every frame becomes one base64
  ``image_url`` part, in time order, at the position of the clip in the message, so the clip
  labels (``Full video [0, 600]:``, ``Subset zoom-in video clip [10, 40]:``) stay between them.
* ``"video_url"`` (vLLM): one ``{"type": "video_url", "video_url": {"url":
  "data:video/jpeg;base64,<frame 1>,<frame 2>,..."}}`` part per clip. vLLM's media loader
  reads the ``video/jpeg`` media type as a comma-separated list of base64 JPEG frames (no
  re-decoding, no re-sampling), so the model sees a *video* (temporal patches, mRoPE time
  ids) like the ``hf`` backend. Start the server with enough frames per video and videos per
  prompt, e.g. ``vllm serve MODEL --media-io-kwargs '{"video": {"num_frames": -1}}'
  --limit-mm-per-prompt '{"video": 3}'``; vLLM assumes 2 frames per second for such videos.
  ``image_format`` must be ``"jpeg"`` in this mode.

**Assistant prefix** (the forced answer pre-fills ``"I get the answer.\\n\\n"``), chosen by
``assistant_prefix_mode``:

* ``"continue_final_message"`` (default; vLLM, SGLang): the prefix is sent as a final
  assistant message with ``extra_body={"continue_final_message": true,
  "add_generation_prompt": false}``, so the server continues it; the returned text excludes it.
* ``"strip"`` (servers that cannot pre-fill, e.g. the OpenAI API): the prefix is not sent;
  the model answers freely and, if its reply starts with the prefix, the prefix is removed, so
  ``assistant_prefix + text`` is still the whole reply. The model is then not *forced*; the
  agent's parser reads the last box either way.

**Deadlines.** ``timeout_seconds`` is a wall-clock limit on one attempt (connect, send, wait
and read the whole reply): a server that drips one byte every second cannot keep an attempt
alive past it. ``total_timeout_seconds`` bounds one request across all its attempts and the
waits between them (default: ``(max_retries + 1) * timeout_seconds``).

**Faults.** HTTP 429, 5xx, timeouts, dropped connections and unreadable or malformed replies are
retried up to ``max_retries`` times with exponential backoff plus jitter (a ``Retry-After``
header is respected, capped at ``max_backoff_seconds``; a non-finite one is ignored); a reply
larger than ``max_reply_bytes`` is refused without retry (and without reading it to the end).
Every field the backend uses is validated with a schema (pydantic): ``"usage": "lots"``, a
non-numeric ``prompt_tokens`` or a list ``finish_reason`` is a malformed reply, never an
``AttributeError``. Wrong key / model / route (401, 403, 404) raise ``BackendError`` at once.

One request failing does not fail the others of its batch: they are never cancelled or re-sent.
A request that still fails after its retries becomes ``Generation(text="", finish_reason="error")``
with ``raw = {"error": message, "error_type": kind, "status": status}`` when the server answered
other requests meanwhile (kinds: ``refused`` -- 400, 413, 422, always per request --,
``malformed_reply``, ``reply_too_large``, ``server_error``, ``rate_limited``, ``timeout``,
``connection``). A request the server keeps answering with HTTP 500 or a malformed reply while
it answers others is given up after two attempts. When no request of the batch succeeds and the
server answered nothing since the request started (server down, overloaded), ``generate``
raises ``BackendError`` (an infrastructure fault: the data steps stop and resume later).

**Secrets.** The API key is read from the environment variable named by ``api_key_env`` at each
``generate``; it is never stored on the object, logged, or put into errors or ``Generation.raw``
(any occurrence in a server message is masked). Credentials inside ``base_url``
(``https://user:pass@host/v1``, or ``?api_key=...``) are masked the same way in every message,
log line and ``repr``, so they reach no store, ``results.jsonl``, episode or stderr.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import math
import os
import random
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from love_r1._imports import require
from love_r1.backends import (
    BackendError,
    Generation,
    GenerationRequest,
    Message,
    PrefixMode,
    SamplingParams,
    TextPart,
    TokenUsage,
    VideoMode,
    VideoPart,
)
from love_r1.backends._openai_schema import MalformedReplyError, parse_completion

if TYPE_CHECKING:
    from love_r1.video import Frames

logger = logging.getLogger(__name__)

_VIDEO_MODES: tuple[str, ...] = get_args(VideoMode)
_PREFIX_MODES: tuple[str, ...] = get_args(PrefixMode)
_IMAGE_FORMATS = {"jpeg": ("JPEG", "image/jpeg"), "png": ("PNG", "image/png")}
_RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
_FATAL_STATUSES = frozenset({401, 403, 404})
_FINISH_REASONS = {
    "stop": "stop", "eos": "stop", "end_turn": "stop", "stop_sequence": "stop", "tool_calls": "stop",
    "function_call": "stop", None: "stop",
    "length": "length", "max_tokens": "length",
}
_KEY_PATTERN = re.compile(r"\bsk-[A-Za-z0-9_\-*.]{6,}")  # OpenAI-style keys echoed by a server
_SECRET_QUERY_NAMES = re.compile(r"key|token|secret|password|passwd|auth|sig", re.IGNORECASE)
_ENCODED_CACHE_ENTRIES = 8
_EARLY_GIVE_UP_KINDS = frozenset({"malformed_reply", "server_error_500"})  # request-specific while others succeed
_EARLY_GIVE_UP_ATTEMPTS = 2


def map_finish_reason(value: str | None) -> Literal["stop", "length", "error"]:
    """The server's ``finish_reason`` as one of ``"stop"``, ``"length"``, ``"error"``
    (``content_filter``, ``abort`` and unknown values are ``"error"``)."""
    return _FINISH_REASONS.get(value, "error")  # type: ignore[return-value]


def encode_frames(frames: Frames, *, image_format: str = "jpeg", jpeg_quality: int = 90) -> list[str]:
    """Each frame of ``frames`` as a base64 string (no data-URL prefix), in order."""
    from PIL import Image

    pil_format, _ = _IMAGE_FORMATS[image_format]
    out = []
    for rgb in frames.data:
        buffer = io.BytesIO()
        kwargs = {"quality": jpeg_quality} if pil_format == "JPEG" else {}
        Image.fromarray(rgb).save(buffer, format=pil_format, **kwargs)
        out.append(base64.b64encode(buffer.getvalue()).decode("ascii"))
    return out


@dataclass
class _Attempt:
    """Outcome of one failed HTTP attempt: whether to retry, what to say, how long the server asked to wait."""

    retry: bool
    message: str
    retry_after_seconds: float | None = None
    status: int | None = None
    kind: str = "server_error"


@dataclass
class _Failed:
    """A request that failed for good: its kind, messages, HTTP status and when it started (monotonic seconds)."""

    kind: str
    messages: list[str] = field(default_factory=list)
    status: int | None = None
    started: float = 0.0
    attempts: int = 0

    @property
    def message(self) -> str:
        return "; ".join(self.messages)


class _ReplyTooLarge(ValueError):
    """The reply body is larger than ``max_reply_bytes``."""


class OpenAIBackend:
    """Backend over an OpenAI-compatible ``/v1/chat/completions`` endpoint (see the module docstring).

    Args:
        model: the served model name (``vllm serve`` uses the checkpoint path or ``--served-model-name``).
        base_url: endpoint root, e.g. ``http://127.0.0.1:8000/v1``; ``None`` = the OpenAI API.
        api_key_env: name of the environment variable holding the key. When it is unset, a local
            server (``base_url`` given) gets the placeholder ``"EMPTY"``; the OpenAI API is an error.
        timeout_seconds: wall-clock limit on one attempt, whole reply read (seconds).
        total_timeout_seconds: wall-clock limit on one request across its attempts and the waits
            between them (seconds; ``None``: ``(max_retries + 1) * timeout_seconds``).
        max_retries: retries after the first attempt of one request (count).
        backoff_seconds: first retry delay; doubles each retry, plus up to 50% jitter (seconds).
        max_backoff_seconds: cap on one delay, also on a server's ``Retry-After`` (seconds).
        max_concurrency: requests in flight at once within one ``generate`` call (count).
        video_mode: ``"frames_as_images"`` or ``"video_url"`` (vLLM).
        image_format: ``"jpeg"`` or ``"png"`` for frames sent as images.
        jpeg_quality: JPEG quality, 1-100.
        assistant_prefix_mode: ``"continue_final_message"`` (vLLM, SGLang) or ``"strip"``.
        extra_body: extra JSON fields merged into every request (server-specific options).
        max_reply_bytes: largest reply body accepted (bytes); a larger one is refused unread.
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        timeout_seconds: float = 120.0,
        total_timeout_seconds: float | None = None,
        max_retries: int = 4,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 30.0,
        max_concurrency: int = 16,
        video_mode: VideoMode = "frames_as_images",
        image_format: Literal["jpeg", "png"] = "jpeg",
        jpeg_quality: int = 90,
        assistant_prefix_mode: PrefixMode = "continue_final_message",
        extra_body: dict[str, Any] | None = None,
        max_reply_bytes: int = 32 * 1024 * 1024,
    ) -> None:
        if not model:
            raise ValueError("OpenAIBackend: model is empty; give the served model name (see GET /v1/models)")
        if video_mode not in _VIDEO_MODES:
            raise ValueError(f"OpenAIBackend: video_mode={video_mode!r} is not one of {_VIDEO_MODES}")
        if image_format not in _IMAGE_FORMATS:
            raise ValueError(f"OpenAIBackend: image_format={image_format!r} is not one of {tuple(_IMAGE_FORMATS)}")
        if video_mode == "video_url" and image_format != "jpeg":
            raise ValueError("OpenAIBackend: video_mode='video_url' sends data:video/jpeg frames; "
                             f"image_format must be 'jpeg', got {image_format!r}")
        if assistant_prefix_mode not in _PREFIX_MODES:
            raise ValueError(f"OpenAIBackend: assistant_prefix_mode={assistant_prefix_mode!r} is not one of "
                             f"{_PREFIX_MODES}")
        if not 1 <= jpeg_quality <= 100:
            raise ValueError(f"OpenAIBackend: jpeg_quality must be in [1, 100], got {jpeg_quality}")
        if timeout_seconds <= 0:
            raise ValueError(f"OpenAIBackend: timeout_seconds must be > 0, got {timeout_seconds}")
        if max_retries < 0:
            raise ValueError(f"OpenAIBackend: max_retries must be >= 0, got {max_retries}")
        if total_timeout_seconds is not None and not total_timeout_seconds > 0:
            raise ValueError(f"OpenAIBackend: total_timeout_seconds must be > 0 or None, got {total_timeout_seconds}")
        if max_reply_bytes < 1024:
            raise ValueError(f"OpenAIBackend: max_reply_bytes must be >= 1024 bytes, got {max_reply_bytes}")
        if backoff_seconds < 0 or max_backoff_seconds < 0:
            raise ValueError(f"OpenAIBackend: backoff_seconds={backoff_seconds} and max_backoff_seconds="
                             f"{max_backoff_seconds} must be >= 0")
        if max_concurrency < 1:
            raise ValueError(f"OpenAIBackend: max_concurrency must be >= 1, got {max_concurrency}")
        if base_url is None and not os.environ.get(api_key_env):
            raise ValueError(f"OpenAIBackend: the environment variable {api_key_env} is not set; export your API "
                             "key there (or pass api_key_env=NAME, or base_url= for a local server)")
        require("openai", extra="openai", purpose="the OpenAI-compatible HTTP backend")
        self.model = model
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.timeout_seconds = float(timeout_seconds)
        self.max_retries = int(max_retries)
        self.total_timeout_seconds = (float(total_timeout_seconds) if total_timeout_seconds is not None
                                      else self.timeout_seconds * (self.max_retries + 1))
        self.max_reply_bytes = int(max_reply_bytes)
        self.backoff_seconds = float(backoff_seconds)
        self.max_backoff_seconds = float(max_backoff_seconds)
        self.max_concurrency = int(max_concurrency)
        self.video_mode = video_mode
        self.image_format = image_format
        self.jpeg_quality = int(jpeg_quality)
        self.assistant_prefix_mode = assistant_prefix_mode
        self.extra_body = dict(extra_body or {})
        self._encoded: OrderedDict[tuple[str, str, int], list[str]] = OrderedDict()
        self._encoded_lock = threading.Lock()
        self._url_secrets = url_secrets(base_url)
        self._where = mask_url(base_url) if base_url else "the OpenAI API"
        self._last_success = -math.inf  # monotonic time of the last good reply (any request, any batch)

    def __repr__(self) -> str:
        shown = mask_url(self.base_url) if self.base_url else None
        return (f"OpenAIBackend(model={self.model!r}, base_url={shown!r}, api_key_env={self.api_key_env!r}, "
                f"video_mode={self.video_mode!r}, max_concurrency={self.max_concurrency})")

    # -- public ------------------------------------------------------------------------------
    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        """Send all ``requests`` concurrently; replies in the same order. Raises ``BackendError``."""
        requests = list(requests)
        if not requests:
            return []
        for request in requests:
            if not isinstance(request, GenerationRequest):
                raise TypeError(f"OpenAIBackend.generate expects GenerationRequest items, got {type(request).__name__}")
            if request.sampling.num_return_sequences != 1:
                raise ValueError("OpenAIBackend: sampling.num_return_sequences must be 1 (one Generation per "
                                 f"request), got {request.sampling.num_return_sequences}; send k copies instead")
        payloads = [self.build_payload(r) for r in requests]
        api_key = self._api_key()
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self._generate_all(payloads, requests, api_key))
        # Called from inside a running event loop: run the batch on a helper thread.
        result: dict[str, Any] = {}

        def work() -> None:
            try:
                result["value"] = asyncio.run(self._generate_all(payloads, requests, api_key))
            except BaseException as error:  # re-raised in the calling thread below
                result["error"] = error

        thread = threading.Thread(target=work, name="openai-backend", daemon=True)
        thread.start()
        thread.join()
        if "error" in result:
            raise result["error"]
        return result["value"]

    def build_payload(self, request: GenerationRequest) -> dict[str, Any]:
        """The JSON body for ``request`` without ``model`` (useful to inspect what would be sent)."""
        messages = [self._message_json(m) for m in request.messages]
        body: dict[str, Any] = dict(self.extra_body)
        if request.assistant_prefix and self.assistant_prefix_mode == "continue_final_message":
            messages.append({"role": "assistant", "content": request.assistant_prefix})
            body.update(continue_final_message=True, add_generation_prompt=False)
        body.update(_sampling_json(request.sampling))
        body["messages"] = messages
        return body

    # -- message conversion -------------------------------------------------------------------
    def _message_json(self, message: Message) -> dict[str, Any]:
        if all(isinstance(p, TextPart) for p in message.content):
            return {"role": message.role, "content": message.text}
        parts: list[dict[str, Any]] = []
        for part in message.content:
            if isinstance(part, TextPart):
                parts.append({"type": "text", "text": part.text})
            elif isinstance(part, VideoPart):
                parts.extend(self._video_parts(part.frames))
            else:
                raise TypeError(f"OpenAIBackend: unsupported content part {type(part).__name__}")
        return {"role": message.role, "content": parts}

    def _video_parts(self, frames: Frames) -> list[dict[str, Any]]:
        encoded = self._encode(frames)
        if self.video_mode == "video_url":
            return [{"type": "video_url", "video_url": {"url": "data:video/jpeg;base64," + ",".join(encoded)}}]
        _, mime = _IMAGE_FORMATS[self.image_format]
        return [{"type": "image_url", "image_url": {"url": f"data:{mime};base64,{b64}"}} for b64 in encoded]

    def _encode(self, frames: Frames) -> list[str]:
        """Encoded frames, reused across calls for clips with the same ``Frames.key`` (a small LRU)."""
        if frames.key is None:
            return encode_frames(frames, image_format=self.image_format, jpeg_quality=self.jpeg_quality)
        cache_key = (frames.key, self.image_format, self.jpeg_quality)
        with self._encoded_lock:
            if cache_key in self._encoded:
                self._encoded.move_to_end(cache_key)
                return self._encoded[cache_key]
        encoded = encode_frames(frames, image_format=self.image_format, jpeg_quality=self.jpeg_quality)
        with self._encoded_lock:
            self._encoded[cache_key] = encoded
            while len(self._encoded) > _ENCODED_CACHE_ENTRIES:
                self._encoded.popitem(last=False)
        return encoded

    # -- HTTP ----------------------------------------------------------------------------------
    def _api_key(self) -> str:
        key = os.environ.get(self.api_key_env)
        if key:
            return key
        if self.base_url is None:
            raise BackendError(f"the environment variable {self.api_key_env} is not set; export your API key there")
        return "EMPTY"

    async def _generate_all(self, payloads: list[dict[str, Any]], requests: list[GenerationRequest],
                            api_key: str) -> list[Generation]:
        openai = require("openai", extra="openai", purpose="the OpenAI-compatible HTTP backend")
        client = openai.AsyncOpenAI(api_key=api_key, timeout=self.timeout_seconds, max_retries=0,
                                    **self._client_url_kwargs(openai))
        semaphore = asyncio.Semaphore(self.max_concurrency)

        async def one(index: int) -> Generation | _Failed:
            async with semaphore:
                return await self._generate_one(client, openai, payloads[index], requests[index], api_key)

        try:
            tasks = [asyncio.ensure_future(one(i)) for i in range(len(payloads))]
            try:
                results = list(await asyncio.gather(*tasks))
            except BaseException:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise
        finally:
            await client.close()
        return self._settle(results)

    def _client_url_kwargs(self, openai: Any) -> dict[str, Any]:
        """The base URL without credentials; ``user:pass@`` goes to HTTP basic auth, the query to ``default_query``.

        So no URL the HTTP library logs or puts into an exception carries the credentials.
        """
        if self.base_url is None:
            return {"base_url": None}
        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        netloc = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port is not None else "")
        kwargs: dict[str, Any] = {"base_url": urlunsplit((parts.scheme, netloc, parts.path, "", parts.fragment))}
        if parts.username is not None or parts.password is not None:
            kwargs["http_client"] = openai.DefaultAsyncHttpxClient(
                auth=(unquote(parts.username or ""), unquote(parts.password or "")))
        if parts.query:
            kwargs["default_query"] = dict(parse_qsl(parts.query, keep_blank_values=True))
        return kwargs

    def _settle(self, results: list[Generation | _Failed]) -> list[Generation]:
        """Failed requests become error generations, unless nothing suggests the server is up (then raise)."""
        failed = [r for r in results if isinstance(r, _Failed)]
        if not failed:
            return results  # type: ignore[return-value]
        batch_succeeded = len(failed) < len(results)
        out: list[Generation] = []
        for result in results:
            if not isinstance(result, _Failed):
                out.append(result)
                continue
            request_specific = (result.kind == "refused" or batch_succeeded or self._last_success > result.started)
            if not request_specific:  # nothing answered since this request started: an infrastructure fault
                error_class = MalformedReplyError if result.kind == "malformed_reply" else BackendError
                raise error_class(
                    f"{self._where} failed {result.attempts} time(s) for model {self.model!r}: {result.message}. "
                    "Likely causes: the server is down or still loading (check the URL and that it answers "
                    "GET /v1/models), it is overloaded (lower max_concurrency), or the timeout "
                    f"({self.timeout_seconds:g} s per attempt, {self.total_timeout_seconds:g} s per request) is too "
                    "short for this prompt.")
            logger.warning("request to %s failed (%s): %s", self._where, result.kind, result.message)
            out.append(Generation(text="", finish_reason="error", raw={
                "error": result.message, "error_type": result.kind, "status": result.status}))
        return out

    async def _generate_one(self, client: Any, openai: Any, payload: dict[str, Any], request: GenerationRequest,
                            api_key: str) -> Generation | _Failed:
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        deadline = loop.time() + self.total_timeout_seconds
        failed = _Failed(kind="server_error", started=started)
        body = dict(payload)
        messages = body.pop("messages")
        standard = {k: body.pop(k) for k in ("max_tokens", "temperature", "top_p", "seed") if k in body}
        for attempt in range(self.max_retries + 1):
            remaining = deadline - loop.time()
            if remaining <= 0:
                failed.messages.append(f"no time left of the {self.total_timeout_seconds:g} s per request")
                break
            limit = min(self.timeout_seconds, remaining)
            began = time.perf_counter()
            try:
                data = await asyncio.wait_for(self._send(client, messages, body, standard), timeout=limit)
                generation = self._to_generation(data, request, time.perf_counter() - began)
            except asyncio.TimeoutError:
                outcome = _Attempt(True, f"timed out after {limit:g} s (wall-clock limit per attempt)", kind="timeout")
            except Exception as error:  # classified below; anything unknown is re-raised
                outcome = self._classify(error, openai, api_key)
                if outcome is None:
                    raise
            else:
                self._last_success = time.monotonic()
                return generation
            if outcome.status in _FATAL_STATUSES:
                raise BackendError(f"{self._where} refused the request (HTTP {outcome.status}): {outcome.message}; "
                                   f"check the model name {self.model!r}, the URL and ${self.api_key_env}")
            failed.kind, failed.status, failed.attempts = outcome.kind, outcome.status, attempt + 1
            failed.messages.append(f"attempt {attempt + 1}: {outcome.message}")
            if not outcome.retry:
                break
            give_up_kind = "server_error_500" if outcome.status == 500 else outcome.kind
            if (give_up_kind in _EARLY_GIVE_UP_KINDS and attempt + 1 >= _EARLY_GIVE_UP_ATTEMPTS
                    and self._last_success > started):
                failed.messages.append("given up: the server answers other requests but keeps refusing this one")
                break
            if attempt == self.max_retries:
                break
            delay = self._delay_seconds(attempt, outcome.retry_after_seconds)
            if loop.time() + delay >= deadline:
                failed.messages.append(f"no time left of the {self.total_timeout_seconds:g} s per request")
                break
            logger.info("retrying %s in %.2f s after %s", self._where, delay, outcome.message)
            await asyncio.sleep(delay)
        if failed.kind == "refused":
            failed.messages = [m.split(": ", 1)[1] if m.startswith("attempt ") else m for m in failed.messages]
        return failed

    async def _send(self, client: Any, messages: Any, body: dict[str, Any], standard: dict[str, Any]) -> Any:
        """One HTTP attempt; the reply is read in chunks and refused once it passes ``max_reply_bytes``."""
        async with client.chat.completions.with_streaming_response.create(
                model=self.model, messages=messages, extra_body=body or None, **standard) as response:
            declared = response.http_response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_reply_bytes:
                raise _ReplyTooLarge(f"the server announced a reply of {int(declared):,} bytes")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.max_reply_bytes:
                    raise _ReplyTooLarge(f"the reply passed {self.max_reply_bytes:,} bytes")
                chunks.append(chunk)
        return json.loads(b"".join(chunks))

    def _delay_seconds(self, attempt: int, retry_after_seconds: float | None) -> float:
        if retry_after_seconds is not None:
            return min(max(retry_after_seconds, 0.0), self.max_backoff_seconds)
        base = self.backoff_seconds * (2 ** attempt)
        return min(base * (1.0 + 0.5 * random.random()), self.max_backoff_seconds)

    def _scrub(self, text: str, api_key: str) -> str:
        return _scrub(text, api_key, self._url_secrets)

    def _classify(self, error: Exception, openai: Any, api_key: str) -> _Attempt | None:
        def scrub(text: str) -> str:
            return self._scrub(text, api_key)

        if isinstance(error, openai.APITimeoutError):
            return _Attempt(True, f"timed out after {self.timeout_seconds:g} s", kind="timeout")
        if isinstance(error, openai.APIConnectionError):
            cause = error.__cause__ or error.__context__
            detail = f" ({type(cause).__name__}: {scrub(str(cause))})" if cause is not None else ""
            return _Attempt(True, f"connection error{detail}", kind="connection")
        if isinstance(error, openai.APIStatusError):
            status = int(error.status_code)
            message = scrub(_error_message(error))
            retry_after = _retry_after_seconds(error.response.headers)
            if status == 429:
                return _Attempt(True, f"HTTP {status}: {message}", retry_after, status, kind="rate_limited")
            if status in _RETRY_STATUSES or status >= 500:
                return _Attempt(True, f"HTTP {status}: {message}", retry_after, status, kind="server_error")
            return _Attempt(False, message, None, status, kind="refused")
        if isinstance(error, (json.JSONDecodeError, UnicodeDecodeError, RecursionError)):
            return _Attempt(True, f"unreadable reply (not JSON: {type(error).__name__})", kind="malformed_reply")
        if isinstance(error, MalformedReplyError):
            return _Attempt(True, f"malformed reply ({scrub(str(error))})", kind="malformed_reply")
        if isinstance(error, _ReplyTooLarge):
            return _Attempt(False, f"reply too large: {error} (max_reply_bytes={self.max_reply_bytes:,})",
                            kind="reply_too_large")
        return None

    def _to_generation(self, data: Any, request: GenerationRequest, seconds: float) -> Generation:
        completion = parse_completion(data)  # MalformedReplyError names the bad field
        choice = completion.choices[0]
        text = choice.message.content or ""
        prefix = request.assistant_prefix
        if prefix and self.assistant_prefix_mode == "strip" and text.startswith(prefix):
            text = text[len(prefix):]
        usage = completion.usage
        details = usage.prompt_tokens_details if usage is not None else None
        return Generation(
            text=text,
            usage=TokenUsage(
                prompt_tokens=usage.prompt_tokens if usage is not None else 0,
                prompt_tokens_cached=(details.cached_tokens or 0) if details is not None else 0,
                completion_tokens=usage.completion_tokens if usage is not None else 0,
                generate_seconds=seconds,
            ),
            finish_reason=map_finish_reason(choice.finish_reason),
            raw=data,
        )


def _sampling_json(sampling: SamplingParams) -> dict[str, Any]:
    out: dict[str, Any] = {"max_tokens": sampling.max_new_tokens, "temperature": sampling.temperature}
    if sampling.top_p != 1.0:
        out["top_p"] = sampling.top_p
    if sampling.seed is not None:
        out["seed"] = sampling.seed
    # Not in the OpenAI schema; vLLM and SGLang read them from the body. Sent only when set.
    if sampling.top_k > 0:
        out["top_k"] = sampling.top_k
    if sampling.repetition_penalty != 1.0:
        out["repetition_penalty"] = sampling.repetition_penalty
    return out


def _error_message(error: Any) -> str:
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:500]
        if isinstance(inner, str):
            return inner[:500]
    try:
        return error.response.text[:500] or type(error).__name__
    except (AttributeError, RuntimeError, UnicodeDecodeError):  # a streamed/closed response has no text
        return type(error).__name__


def _retry_after_seconds(headers: Any) -> float | None:
    for name in ("retry-after-ms", "retry-after"):
        value = headers.get(name) if headers is not None else None
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            continue  # an HTTP date: fall back to our own backoff
        if not math.isfinite(seconds) or seconds < 0:
            continue  # "nan", "inf", "-3": no usable wait; treated as absent
        return seconds / 1000.0 if name.endswith("-ms") else seconds
    return None


def _scrub(text: str, api_key: str, secrets: Sequence[str] = ()) -> str:
    """``text`` with the API key, the credentials of the base URL (and anything that looks like a key) masked."""
    if api_key and api_key != "EMPTY":
        text = text.replace(api_key, "***")
        if len(api_key) >= 12:  # servers echo keys partly, e.g. "sk-abc...wxyz"
            text = text.replace(api_key[:8], "***").replace(api_key[-4:], "***")
    for secret in secrets:
        text = text.replace(secret, "***")
    return _KEY_PATTERN.sub("sk-***", text)


def mask_url(url: str) -> str:
    """``url`` with its user name, password and secret-looking query values replaced by ``***``.

    >>> mask_url("https://alice:s3cret@llm.example.com:8443/v1?api_key=abc&x=1")
    'https://***:***@llm.example.com:8443/v1?api_key=%2A%2A%2A&x=1'
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparsable base URL>"
    netloc = parts.netloc
    if parts.username is not None or parts.password is not None:
        user = "***" if parts.username else ""
        password = ":***" if parts.password is not None else ""
        netloc = f"{user}{password}@{host}" + (f":{port}" if port is not None else "")
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if _SECRET_QUERY_NAMES.search(k) else v) for k, v in pairs])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


_URL_IN_TEXT = re.compile(r"""\b[a-z][a-z0-9+.\-]*://[^\s"'<>]+""", re.IGNORECASE)


def mask_secrets(text: str) -> str:
    """``text`` with every URL in it passed through :func:`mask_url` and OpenAI-style keys masked (for log lines:
    HTTP libraries log each request's full URL).

    >>> mask_secrets('HTTP Request: POST http://h:8000/v1/chat/completions?api_key=abc "HTTP/1.1 200 OK"')
    'HTTP Request: POST http://h:8000/v1/chat/completions?api_key=%2A%2A%2A "HTTP/1.1 200 OK"'
    """
    return _KEY_PATTERN.sub("sk-***", _URL_IN_TEXT.sub(lambda match: mask_url(match.group(0)), text))


def url_secrets(url: str | None) -> tuple[str, ...]:
    """The credential strings inside ``url`` (user, password, secret query values), longest first."""
    if not url:
        return ()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ()
    found = [parts.password or "", parts.username or ""]
    if parts.username is not None and parts.password is not None:
        found.append(f"{parts.username}:{parts.password}")
    found += [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if _SECRET_QUERY_NAMES.search(k)]
    found += [unquote(f) for f in found]
    return tuple(sorted({f for f in found if len(f) >= 3}, key=len, reverse=True))


__all__ = ["MalformedReplyError", "OpenAIBackend", "PrefixMode", "VideoMode", "encode_frames", "map_finish_reason", "mask_secrets",
           "mask_url"]
