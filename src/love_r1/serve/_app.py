"""The HTTP routes on Starlette: JSON and Server-Sent-Event replies, the demo page, traces, videos.

Routes (see ``docs/serve.md``):

* ``GET /``: the demo page (one static HTML file using the routes below);
* ``POST /v1/episodes``: run one episode; JSON ``{"episode", "answer", "trace_url"}``, or with
  ``"stream": true`` Server-Sent Events: ``start``, one ``step`` per step, then ``done`` (or ``error``);
  ``GET /v1/episodes``: the queued, running and recent episodes, newest first;
* ``POST /v1/chat/completions``: an OpenAI-compatible chat completion whose content is the final reply,
  with the episode under ``"love_r1"``; ``"stream": true`` sends ``chat.completion.chunk`` events;
* ``GET /v1/episodes/<id>`` (JSON), ``GET /v1/episodes/<id>/trace.html`` (with thumbnails) and
  ``GET /v1/episodes/<id>/frames`` (preview frames of an interval) of recent episodes;
* ``GET /v1/videos`` (videos to pick, with durations) and ``POST /v1/videos`` (upload one);
* ``GET /healthz``, ``GET /v1/models``.

Errors are ``{"error": {"type", "message", "param"}}`` for every method and path.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.datastructures import Secret
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from love_r1.agent.steps import shown_reply
from love_r1.serve._errors import ApiError, bad_request
from love_r1.serve._models import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    ChunkChoice,
    Delta,
    EpisodeReply,
    LoveR1Extra,
    ModelCard,
    ModelList,
    PromptTokensDetails,
    Usage,
)
from love_r1.serve._requests import parse_chat_request, parse_episode_request
from love_r1.serve._security import Guard, HostPolicy
from love_r1.serve._videos import PARTIAL_SUFFIX, VideoCatalog, check_upload, preview_frames, upload_name
from love_r1.serve._worker import EpisodeWorker, Ticket

logger = logging.getLogger(__name__)

EPISODES_PREFIX = "/v1/episodes/"
KEEPALIVE_SECONDS = 15.0  # an SSE comment line this often while an episode is silent (proxies drop idle streams)
JSON_TYPES = ("application/json",)
UPLOAD_TYPE = re.compile(r"^(video/[\w.+-]+|application/octet-stream)$")
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
ROUTES_HELP = ("GET /, POST /v1/episodes, GET /v1/episodes, GET /v1/episodes/<id>[/trace.html|/frames], "
               "POST /v1/chat/completions, GET|POST /v1/videos, GET /v1/models, GET /healthz")


@dataclass
class AppSettings:
    """What the routes need besides the worker.

    Attributes:
        video_root: request paths are relative to it and may not leave it (``None``: any path).
        upload_dir: where uploads are stored (``None``: uploads are refused).
        model_name: reported by ``/v1/models`` and chat completions.
        max_body_bytes: largest JSON body (bytes).
        max_upload_bytes: largest uploaded video (bytes).
        max_upload_folder_bytes: all uploads together (bytes); beyond it uploads get 507.
        num_thumbnails: keyframe thumbnails on served traces (count).
        hosts, allow_origins, api_key: see :mod:`love_r1.serve._security` (the key is a ``Secret``: its
            repr is masked).
    """

    video_root: Path | None
    upload_dir: Path | None
    model_name: str
    max_body_bytes: int
    max_upload_bytes: int
    max_upload_folder_bytes: int
    hosts: HostPolicy
    allow_origins: tuple[str, ...] = ()
    api_key: Secret | None = None
    num_thumbnails: int = 24
    started_at: float = field(default_factory=time.time)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status_code=status, headers=headers,
                    media_type="application/json; charset=utf-8")


def _error_response(error: ApiError) -> Response:
    if error.status >= 500:
        logger.warning("-> %d %s: %s", error.status, error.type, error.message)
    return _json(error.to_dict(), error.status, error.headers)


def _sse(name: str | None, data: Any) -> str:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return (f"event: {name}\n" if name else "") + f"data: {text}\n\n"


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _content_length(request: Request) -> int | None:
    try:
        return int(request.headers["content-length"])
    except (KeyError, ValueError):
        return None


async def read_json_body(request: Request, *, limit: int) -> bytes:
    """The raw body of a JSON request: ``Content-Type: application/json`` (else 415), at most ``limit``
    bytes (else 413, without reading the rest)."""
    if _media_type(request) not in JSON_TYPES:
        raise ApiError(415, "invalid_request_error",
                       f"send the body as JSON with the header 'Content-Type: application/json' (got "
                       f"{request.headers.get('content-type')!r})", param="Content-Type")
    too_large = ApiError(413, "request_too_large", f"the request body is larger than {limit} bytes "
                         "(--max-body-bytes); send paths, not video data (upload videos with POST /v1/videos)")
    length = _content_length(request)
    if length is not None and length > limit:
        raise too_large
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def chat_completion(episode: dict[str, Any], *, model_name: str) -> dict[str, Any]:
    """An OpenAI chat completion for a finished episode: the final reply as content, usage from the ledger."""
    steps = episode.get("steps") or []
    content = shown_reply(steps[-1]["assistant_prefix"], steps[-1]["raw_text"]) if steps else ""
    return ChatCompletion(
        id=f"chatcmpl-{episode['episode_id']}", created=int(time.time()), model=model_name,
        choices=[Choice(message=AssistantMessage(content=content),
                        finish_reason=steps[-1].get("finish_reason", "stop") if steps else "stop")],
        usage=_usage(episode), love_r1=_extra(episode),
    ).model_dump(mode="json")


def _usage(episode: dict[str, Any]) -> Usage:
    ledger = episode.get("ledger") or {}
    prompt_tokens = int(ledger.get("prompt_tokens", 0))
    completion_tokens = int(ledger.get("completion_tokens", 0))
    return Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                 total_tokens=prompt_tokens + completion_tokens,
                 prompt_tokens_details=PromptTokensDetails(cached_tokens=int(ledger.get("prompt_tokens_cached", 0))))


def _trace_url(episode_id: str) -> str:
    return f"{EPISODES_PREFIX}{episode_id}/trace.html"


def _extra(episode: dict[str, Any]) -> LoveR1Extra:
    return LoveR1Extra(episode=episode, answer=episode.get("answer", ""), trace_url=_trace_url(episode["episode_id"]))


def _page() -> tuple[str, str]:
    """The demo page and its Content-Security-Policy (the inline script allowed by its hash)."""
    html = resources.files("love_r1.serve").joinpath("static/index.html").read_text(encoding="utf-8")
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in scripts)
    csp = (f"default-src 'self'; script-src {hashes}; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
           "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
    return html, csp


class Routes:
    """The endpoints; owns the worker handle, the video catalog and a small cache of rendered traces."""

    def __init__(self, worker: EpisodeWorker, settings: AppSettings, catalog: VideoCatalog) -> None:
        self.worker = worker
        self.settings = settings
        self.catalog = catalog
        self.page, self.page_csp = _page()
        self._traces: OrderedDict[str, str] = OrderedDict()
        self._decode_limiter = anyio.CapacityLimiter(2)  # traces, previews, listings: at most 2 decode threads

    # -- info ------------------------------------------------------------------------------
    async def index(self, request: Request) -> Response:
        return HTMLResponse(self.page, headers={"Content-Security-Policy": self.page_csp, "Cache-Control": "no-cache"})

    async def health(self, request: Request) -> Response:
        stats = self.worker.stats()
        return _json({"status": "stopping" if stats["stopping"] else "ok", "model": self.settings.model_name,
                      "policy": self.worker.policy.name, "api_key_required": self.settings.api_key is not None,
                      "uptime_seconds": round(time.time() - self.settings.started_at, 3), **stats})

    async def models(self, request: Request) -> Response:
        cards = [ModelCard(id=self.settings.model_name, created=int(self.settings.started_at))]
        return _json(ModelList(data=cards).model_dump(mode="json"))

    # -- episodes --------------------------------------------------------------------------
    async def episodes(self, request: Request) -> Response:
        return await (self.post_episode(request) if request.method == "POST" else self.list_episodes(request))

    async def post_episode(self, request: Request) -> Response:
        body = await read_json_body(request, limit=self.settings.max_body_bytes)
        episode_request = parse_episode_request(body, video_root=self.settings.video_root,
                                                upload_dir=self.settings.upload_dir)
        ticket = self.worker.submit(episode_request)
        if episode_request.stream:
            return StreamingResponse(self._episode_events(ticket), media_type="text/event-stream",
                                     headers=SSE_HEADERS)
        episode = await ticket.result()
        reply = EpisodeReply(episode=episode, answer=episode["answer"], trace_url=_trace_url(ticket.episode_id))
        return _json(reply.model_dump(mode="json"))

    async def _stream(self, ticket: Ticket, first: str, render: Callable[[str, Any], list[str]]) -> AsyncIterator[str]:
        """``first``, then ``render(kind, payload)`` of each outcome up to the last, and a comment line
        after every ``KEEPALIVE_SECONDS`` of silence."""
        yield first
        while True:
            event = await ticket.next(timeout_seconds=KEEPALIVE_SECONDS)
            if event is None:
                yield ": keep-alive\n\n"
                continue
            kind, payload = event
            for text in render(kind, payload):
                yield text
            if kind != "step":
                return

    def _episode_events(self, ticket: Ticket) -> AsyncIterator[str]:
        def render(kind: str, payload: Any) -> list[str]:
            if kind == "step":
                return [_sse("step", payload)]
            if kind == "done":
                reply = EpisodeReply(episode=payload, answer=payload["answer"], trace_url=_trace_url(ticket.episode_id))
                return [_sse("done", reply.model_dump(mode="json"))]
            return [_sse("error", {**payload.to_dict(), "status": payload.status})]

        start = {"episode_id": ticket.episode_id, "trace_url": _trace_url(ticket.episode_id)}
        return self._stream(ticket, _sse("start", start), render)

    async def list_episodes(self, request: Request) -> Response:
        limit = _int_param(request, "limit", default=50, low=1, high=1000)
        return _json({"object": "list", "data": self.worker.episodes(limit=limit)})

    def _stored(self, episode_id: str) -> dict[str, Any]:
        episode = self.worker.episode(episode_id)
        if episode is None:
            raise ApiError(404, "not_found_error", f"no finished episode {episode_id!r} in the last "
                           f"{self.worker.max_stored_episodes} kept by this server", param="episode_id")
        return episode

    async def get_episode(self, request: Request) -> Response:
        return _json(self._stored(request.path_params["episode_id"]))

    async def trace(self, request: Request) -> Response:
        episode_id = request.path_params["episode_id"]
        episode = self._stored(episode_id)
        html = self._traces.get(episode_id)
        if html is None:
            html = await anyio.to_thread.run_sync(self._render_trace, episode, limiter=self._decode_limiter)
            self._traces[episode_id] = html
            while len(self._traces) > 16:
                self._traces.popitem(last=False)
        return HTMLResponse(html)

    def _render_trace(self, episode: dict[str, Any]) -> str:
        from love_r1.viz import render_trace_html, trace_frames

        return render_trace_html(episode, frames=trace_frames(episode, num_thumbnails=self.settings.num_thumbnails))

    async def frames(self, request: Request) -> Response:
        episode_id = request.path_params["episode_id"]
        video = self.worker.video_of(episode_id)
        if video is None:
            raise ApiError(404, "not_found_error", f"no queued, running or recent episode {episode_id!r}",
                           param="episode_id")
        start = _float_param(request, "start_seconds", default=0.0)
        end = _float_param(request, "end_seconds", default=math.inf)
        num_frames = _int_param(request, "num_frames", default=8, low=1, high=32)

        def decode() -> dict[str, Any]:
            try:
                return preview_frames(video, start_seconds=start, end_seconds=end, num_frames=num_frames,
                                      open_video=self.catalog._open_video)
            except ApiError:
                raise
            except Exception as error:  # not swallowed: the client gets the reason (the video broke or vanished)
                raise ApiError(422, "episode_error", f"cannot decode frames of {video}: {type(error).__name__}: "
                               f"{error}", param="video") from None

        frames = await anyio.to_thread.run_sync(decode, limiter=self._decode_limiter)
        return _json({"episode_id": episode_id, **frames})

    # -- chat ------------------------------------------------------------------------------
    async def chat(self, request: Request) -> Response:
        body = await read_json_body(request, limit=self.settings.max_body_bytes)
        chat = parse_chat_request(body, video_root=self.settings.video_root, upload_dir=self.settings.upload_dir)
        ticket = self.worker.submit(chat.episode)
        if chat.stream:
            return StreamingResponse(self._chat_chunks(ticket, include_usage=chat.include_usage),
                                     media_type="text/event-stream", headers=SSE_HEADERS)
        return _json(chat_completion(await ticket.result(), model_name=self.settings.model_name))

    def _chat_chunks(self, ticket: Ticket, *, include_usage: bool) -> AsyncIterator[str]:
        """OpenAI streaming: a role chunk, each zoom step's text as ``reasoning_content``, the final reply as
        ``content``, a finish chunk (with ``love_r1``), the usage chunk when asked, then ``[DONE]``."""
        base = {"id": f"chatcmpl-{ticket.episode_id}", "created": int(time.time()), "model": self.settings.model_name}

        def chunk(delta: Delta, finish_reason: str | None = None, **extra: Any) -> str:
            data = ChatCompletionChunk(**base, choices=[ChunkChoice(delta=delta, finish_reason=finish_reason)],
                                       **extra)
            return _sse(None, data.model_dump(mode="json", exclude_none=True))

        def render(kind: str, payload: Any) -> list[str]:
            if kind == "step":
                if payload["kind"] != "zoom":
                    return []  # the final step's text is the content, sent with "done"
                reasoning = shown_reply(payload["assistant_prefix"], payload["raw_text"])
                return [chunk(Delta(reasoning_content=reasoning + "\n\n"))]
            if kind == "error":  # the OpenAI clients raise an APIError on an event holding "error"
                return [_sse(None, {**payload.to_dict(), "status": payload.status})]
            choice = chat_completion(payload, model_name=self.settings.model_name)["choices"][0]
            texts = [chunk(Delta(content=choice["message"]["content"])),
                     chunk(Delta(), finish_reason=choice["finish_reason"], love_r1=_extra(payload))]
            if include_usage:
                usage = ChatCompletionChunk(**base, choices=[], usage=_usage(payload))
                texts.append(_sse(None, usage.model_dump(mode="json", exclude_none=True)))
            return [*texts, _sse(None, "[DONE]")]

        return self._stream(ticket, chunk(Delta(role="assistant", content="")), render)

    # -- videos ----------------------------------------------------------------------------
    async def videos(self, request: Request) -> Response:
        return await (self.upload_video(request) if request.method == "POST" else self.list_videos(request))

    async def list_videos(self, request: Request) -> Response:
        listing = await anyio.to_thread.run_sync(self.catalog.listing, limiter=self._decode_limiter)
        return _json({**listing, "max_upload_bytes": self.settings.max_upload_bytes})

    async def upload_video(self, request: Request) -> Response:
        folder = self.settings.upload_dir
        if folder is None:
            raise ApiError(403, "permission_error", "uploads are off on this server: start it with --upload-dir DIR "
                           "to accept videos (stored there under server-chosen names)", param="file")
        if not UPLOAD_TYPE.match(_media_type(request)):
            raise ApiError(415, "invalid_request_error", "send the video file as the raw request body with "
                           "'Content-Type: video/mp4' (or another video/* type, or application/octet-stream); got "
                           f"{request.headers.get('content-type')!r}", param="Content-Type")
        limit = self.settings.max_upload_bytes
        too_large = ApiError(413, "request_too_large", f"the video is larger than {limit} bytes (--max-upload-bytes)",
                             param="file")
        length = _content_length(request)
        if length is not None and length > limit:
            raise too_large
        used = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
        if used + (length or 0) > self.settings.max_upload_folder_bytes:
            raise ApiError(507, "insufficient_storage_error", f"the upload folder holds {used} bytes; all uploads "
                           f"together may take {self.settings.max_upload_folder_bytes} bytes "
                           "(--max-upload-folder-bytes); delete old uploads", param="file")
        filename = request.query_params.get("filename")
        name = upload_name(filename)
        partial, final = folder / (name + PARTIAL_SUFFIX), folder / name
        total = 0
        try:
            async with await anyio.open_file(partial, "wb") as out:
                async for chunk in request.stream():
                    total += len(chunk)
                    if total > limit:
                        raise too_large
                    await out.write(chunk)
        except (ApiError, ClientDisconnect, OSError):
            partial.unlink(missing_ok=True)
            raise
        if total == 0:
            partial.unlink(missing_ok=True)
            raise bad_request("the upload is empty: send the video file as the request body", param="file")
        info = await anyio.to_thread.run_sync(lambda: check_upload(partial, final, catalog=self.catalog, filename=filename),
                                              limiter=self._decode_limiter)
        logger.info("stored an upload of %d bytes as %s", total, final)
        return _json(info, 201)


def _float_param(request: Request, name: str, *, default: float) -> float:
    text = request.query_params.get(name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise bad_request(f"{name} must be a number of seconds, got {text!r}", param=name) from None
    if math.isnan(value) or value < 0:
        raise bad_request(f"{name} must be >= 0, got {text!r}", param=name)
    return value


def _int_param(request: Request, name: str, *, default: int, low: int, high: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise bad_request(f"{name} must be an integer in [{low}, {high}], got {text!r}", param=name)
    return value


async def _api_error(request: Request, error: ApiError) -> Response:
    return _error_response(error)


async def _http_error(request: Request, error: HTTPException) -> Response:
    path, method = request.url.path, request.method
    if error.status_code == 405:
        allowed = (error.headers or {}).get("Allow", "")
        return _error_response(ApiError(405, "invalid_request_error", f"{path} takes {allowed}, not {method}",
                                        headers={"Allow": allowed}))
    if error.status_code == 404:
        return _error_response(ApiError(404, "not_found_error", f"no route {method} {path}; routes: {ROUTES_HELP}"))
    return _error_response(ApiError(error.status_code, "invalid_request_error", str(error.detail)))


async def _server_error(request: Request, error: Exception) -> Response:
    # Starlette's ServerErrorMiddleware re-raises after this reply, so the server logs the traceback
    return _error_response(ApiError(500, "server_error", f"{type(error).__name__}: {error}"))


def build_app(worker: EpisodeWorker, settings: AppSettings, catalog: VideoCatalog) -> Starlette:
    """The ASGI app: the routes behind the :class:`~love_r1.serve._security.Guard` (and CORS when
    origins are allowed)."""
    routes = Routes(worker, settings, catalog)
    table = [
        Route("/", routes.index, methods=["GET"]),
        Route("/healthz", routes.health, methods=["GET"]),
        Route("/v1/models", routes.models, methods=["GET"]),
        Route("/v1/episodes", routes.episodes, methods=["GET", "POST"]),
        Route("/v1/episodes/{episode_id}", routes.get_episode, methods=["GET"]),
        Route("/v1/episodes/{episode_id}/trace.html", routes.trace, methods=["GET"]),
        Route("/v1/episodes/{episode_id}/frames", routes.frames, methods=["GET"]),
        Route("/v1/chat/completions", routes.chat, methods=["POST"]),
        Route("/v1/videos", routes.videos, methods=["GET", "POST"]),
    ]
    middleware = [Middleware(Guard, hosts=settings.hosts, allow_origins=settings.allow_origins,
                             api_key=settings.api_key)]
    if settings.allow_origins:
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(settings.allow_origins),
                                     allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"],
                                     max_age=600))
    return Starlette(routes=table, middleware=middleware, exception_handlers={
        ApiError: _api_error, HTTPException: _http_error, Exception: _server_error})
