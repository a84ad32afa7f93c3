"""The HTTP service: routes, JSON and Server-Sent-Event responses, lifecycle (standard library only).

Routes (see ``docs/serve.md``):

* ``POST /v1/episodes``: run one episode; JSON ``{"episode", "answer", "trace_url"}``, or with
  ``"stream": true`` Server-Sent Events: ``start``, one ``step`` per step, then ``done`` (or ``error``);
* ``POST /v1/chat/completions``: an OpenAI-compatible chat completion whose content is the final reply,
  with the episode under ``"love_r1"``;
* ``GET /v1/episodes/<id>`` (JSON) and ``GET /v1/episodes/<id>/trace.html`` of recent episodes;
* ``GET /healthz``, ``GET /v1/models``.

Errors are ``{"error": {"type", "message", "param"}}`` with 400/404/405/413/422/429/500/503.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from love_r1.agent.policy import ZoomPolicy
from love_r1.backends import Backend
from love_r1.serve._errors import ApiError, bad_request
from love_r1.serve._requests import EpisodeRequest, parse_chat_request, parse_episode_request
from love_r1.serve._worker import EpisodeWorker, Ticket

logger = logging.getLogger(__name__)

_EPISODES_PREFIX = "/v1/episodes/"
_POST_ROUTES = ("/v1/episodes", "/v1/chat/completions")
_GET_ROUTES = ("/healthz", "/v1/models")
_MAX_DRAIN_BYTES = 8 << 20  # an oversized body up to this much larger is read and dropped before the 413


class LoveR1Server(ThreadingHTTPServer):
    """A ``ThreadingHTTPServer`` that runs LOVE-R1 episodes; build it with :func:`make_server`.

    Attributes:
        url: ``http://host:port`` (the real port when bound to port 0).
        worker: the :class:`~love_r1.serve._worker.EpisodeWorker` owning the backend.
        model_name: the name reported by ``/v1/models`` and in chat completions.
    """

    daemon_threads = False  # server_close() joins handler threads, so replies finish before exit

    def __init__(self, address: tuple[str, int], *, worker: EpisodeWorker, video_root: Path | None,
                 model_name: str, max_body_bytes: int, drain_seconds: float) -> None:
        self.worker = worker
        self.video_root = video_root
        self.model_name = model_name
        self.max_body_bytes = max_body_bytes
        self.drain_seconds = drain_seconds
        self.started_at = time.time()
        self._serving = threading.Event()
        self._shutdown_lock = threading.Lock()
        self._shutdown_started = False
        self._shut_down = threading.Event()
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Start the episode worker and serve until :meth:`shutdown`."""
        self.worker.start()
        self._serving.set()
        try:
            super().serve_forever(poll_interval)
        finally:
            self._serving.clear()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log a handler failure (the base class prints it to stderr)."""
        error = sys.exc_info()[1]
        if isinstance(error, (BrokenPipeError, ConnectionResetError, TimeoutError)):
            logger.info("client %s went away: %s", client_address, error)
        else:
            logger.exception("unhandled error while serving %s", client_address)

    def shutdown(self) -> None:
        """Graceful stop (call from another thread than ``serve_forever``'s): refuse new episodes
        (503), fail queued ones (503), let running episodes finish for up to ``drain_seconds``,
        then stop the HTTP loop and close the socket (waiting for replies being written). A second
        call waits for the first to finish."""
        with self._shutdown_lock:
            first = not self._shutdown_started
            self._shutdown_started = True
        if not first:
            self._shut_down.wait()
            return
        try:
            logger.info("shutting down: draining running episodes for up to %.1f s", self.drain_seconds)
            self.worker.stop(drain_seconds=self.drain_seconds)
            if self._serving.is_set():
                super().shutdown()
            self.server_close()
        finally:
            self._shut_down.set()


def make_server(
    backend: Backend,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    policy: ZoomPolicy | None = None,
    video_root: str | Path | None = None,
    model_name: str = "love-r1",
    max_concurrent_episodes: int = 8,
    max_queued_episodes: int = 64,
    max_batch_wait_seconds: float = 0.02,
    max_stored_episodes: int = 256,
    max_body_bytes: int = 1 << 20,
    drain_seconds: float = 30.0,
    open_video: Callable[..., Any] | None = None,
) -> LoveR1Server:
    """Bind the LOVE-R1 HTTP service to ``host:port`` (``port=0``: a free port; see ``server.url``).

    Call ``server.serve_forever()`` (for instance in a thread) to serve and ``server.shutdown()``
    from another thread to stop. Only the worker's model thread calls ``backend``.

    Args:
        backend: the model (``ScriptedBackend``, ``HFBackend``, ``OpenAIBackend``, ...).
        host: interface to bind; the default serves this machine only.
        port: TCP port (0 picks a free one).
        policy: zoom-loop settings (default: ``ZoomPolicy()``, the reference settings).
        video_root: when given, request paths are taken relative to it and must stay inside it.
        model_name: the model id reported by ``/v1/models`` and chat completions.
        max_concurrent_episodes: episodes running at once (one ``generate`` call per round holds them all;
            queued episodes join at the next round when a slot frees up).
        max_queued_episodes: episodes allowed to wait; beyond that requests get 429 with ``Retry-After``.
        max_batch_wait_seconds: when nothing runs, how long the first queued episode waits for company (seconds).
        max_stored_episodes: finished episodes kept for the trace and episode endpoints (count).
        max_body_bytes: larger request bodies get 413 (bytes).
        drain_seconds: at shutdown, how long running episodes may take to finish (seconds).
        open_video: video opener override (tests).

    Raises:
        ValueError: a limit out of range, or ``video_root`` is not a directory.
        OSError: the address cannot be bound (e.g. the port is taken).
    """
    root: Path | None = None
    if video_root is not None:
        root = Path(video_root)
        if not root.is_dir():
            raise ValueError(f"video_root {str(root)!r} is not a directory; give the folder the videos are in")
        root = root.resolve()
    if max_body_bytes < 1:
        raise ValueError(f"max_body_bytes must be >= 1, got {max_body_bytes}")
    if drain_seconds < 0:
        raise ValueError(f"drain_seconds must be >= 0, got {drain_seconds}")
    worker = EpisodeWorker(
        backend, policy=policy if policy is not None else ZoomPolicy(),
        max_concurrent_episodes=max_concurrent_episodes, max_queued_episodes=max_queued_episodes,
        max_batch_wait_seconds=max_batch_wait_seconds, max_stored_episodes=max_stored_episodes,
        open_video=open_video,
    )
    return LoveR1Server((host, port), worker=worker, video_root=root, model_name=model_name,
                        max_body_bytes=max_body_bytes, drain_seconds=drain_seconds)


def chat_completion(episode: dict[str, Any], *, model_name: str) -> dict[str, Any]:
    """An OpenAI chat completion for a finished episode: the final reply as content, usage from the ledger."""
    steps = episode.get("steps") or []
    content = (steps[-1]["assistant_prefix"] + steps[-1]["raw_text"]) if steps else ""
    ledger = episode.get("ledger") or {}
    prompt_tokens = int(ledger.get("prompt_tokens", 0))
    completion_tokens = int(ledger.get("completion_tokens", 0))
    return {
        "id": f"chatcmpl-{episode['episode_id']}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model_name,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": steps[-1].get("finish_reason", "stop") if steps else "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens,
                  "prompt_tokens_details": {"cached_tokens": int(ledger.get("prompt_tokens_cached", 0))}},
        "love_r1": {"episode": episode, "answer": episode.get("answer", ""),
                    "trace_url": f"{_EPISODES_PREFIX}{episode['episode_id']}/trace.html"},
    }


class _Handler(BaseHTTPRequestHandler):
    server: LoveR1Server
    server_version = "love-r1-serve"
    timeout = 60.0  # seconds a client may take to send its request

    # -- plumbing --------------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's signature
        logger.info("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8", headers)

    def _error(self, error: ApiError) -> None:
        if error.status >= 500:
            logger.warning("%s %s -> %d %s: %s", self.command, self.path, error.status, error.type, error.message)
        self._json(error.status, error.to_dict(), error.headers)

    def _body(self) -> Any:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise bad_request("chunked request bodies are not supported; send a Content-Length")
        length_text = self.headers.get("Content-Length")
        try:
            length = int(length_text) if length_text is not None else -1
        except ValueError:
            length = -1
        if length < 0:
            raise bad_request(f"a JSON body with a valid Content-Length is required, got {length_text!r}")
        if length > self.server.max_body_bytes:
            self.close_connection = True
            if length <= self.server.max_body_bytes + _MAX_DRAIN_BYTES:
                self.rfile.read(length)  # read it, so closing does not reset the connection before the reply
            raise ApiError(413, "request_too_large", f"the request body is {length} bytes; the limit is "
                           f"{self.server.max_body_bytes} bytes (--max-body-bytes); send paths, not video data")
        raw = self.rfile.read(length)
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise bad_request(f"the request body is not valid UTF-8 JSON: {error}") from None

    # -- routing ---------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - the base class's naming
        try:
            self._route_get(self.path.split("?", 1)[0])
        except ApiError as error:
            self._error(error)

    def do_POST(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0]
        try:
            if path not in _POST_ROUTES:
                self._not_found(path, "POST")
            body = self._body()
            if path == "/v1/episodes":
                request = parse_episode_request(body, video_root=self.server.video_root)
                self._episode(request)
            else:
                request = parse_chat_request(body, video_root=self.server.video_root)
                self._chat(request)
        except ApiError as error:
            self._error(error)

    def _not_found(self, path: str, method: str) -> None:
        known_get = path in _GET_ROUTES or path.startswith(_EPISODES_PREFIX)
        if method == "POST" and known_get:
            raise ApiError(405, "invalid_request_error", f"{path} takes GET, not POST", headers={"Allow": "GET"})
        if method == "GET" and path in _POST_ROUTES:
            raise ApiError(405, "invalid_request_error", f"{path} takes POST, not GET", headers={"Allow": "POST"})
        raise ApiError(404, "not_found_error", f"no route {method} {path}; routes: POST /v1/episodes, "
                       "POST /v1/chat/completions, GET /v1/episodes/<id>[/trace.html], GET /v1/models, GET /healthz")

    def _route_get(self, path: str) -> None:
        server = self.server
        if path == "/healthz":
            self._json(200, {"status": "stopping" if server.worker.stats()["stopping"] else "ok",
                             "model": server.model_name, "policy": server.worker.policy.name,
                             "uptime_seconds": round(time.time() - server.started_at, 3), **server.worker.stats()})
            return
        if path == "/v1/models":
            self._json(200, {"object": "list", "data": [{"id": server.model_name, "object": "model",
                                                         "created": int(server.started_at), "owned_by": "love-r1"}]})
            return
        if path.startswith(_EPISODES_PREFIX):
            rest = path[len(_EPISODES_PREFIX):]
            episode_id, _, tail = rest.partition("/")
            if tail in ("", "trace.html") and episode_id:
                episode = server.worker.episode(episode_id)
                if episode is None:
                    raise ApiError(404, "not_found_error", f"no finished episode {episode_id!r} in the last "
                                   f"{server.worker.max_stored_episodes} kept by this server", param="episode_id")
                if tail == "":
                    self._json(200, episode)
                else:
                    from love_r1.viz import render_trace_html

                    self._send(200, render_trace_html(episode).encode("utf-8"), "text/html; charset=utf-8")
                return
        self._not_found(path, "GET")

    # -- episodes --------------------------------------------------------------------------
    def _episode(self, request: EpisodeRequest) -> None:
        ticket = self.server.worker.submit(request)
        if request.stream:
            self._stream(ticket)
            return
        episode = _wait(ticket)
        self._json(200, {"episode": episode, "answer": episode["answer"],
                         "trace_url": f"{_EPISODES_PREFIX}{ticket.episode_id}/trace.html"})

    def _chat(self, request: EpisodeRequest) -> None:
        ticket = self.server.worker.submit(request)
        self._json(200, chat_completion(_wait(ticket), model_name=self.server.model_name))

    def _stream(self, ticket: Ticket) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Accel-Buffering", "no")
        self.end_headers()
        self.close_connection = True
        self._event("start", {"episode_id": ticket.episode_id,
                              "trace_url": f"{_EPISODES_PREFIX}{ticket.episode_id}/trace.html"})
        while True:
            kind, payload = ticket.events.get()
            try:
                if kind == "step":
                    self._event("step", payload)
                elif kind == "done":
                    self._event("done", {"episode": payload, "answer": payload["answer"]})
                    return
                else:
                    self._event("error", {**payload.to_dict(), "status": payload.status})
                    return
            except (BrokenPipeError, ConnectionResetError):
                logger.info("client of episode %s went away; the episode runs on", ticket.episode_id)
                return

    def _event(self, name: str, data: Any) -> None:
        self.wfile.write(f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode())
        self.wfile.flush()


def _wait(ticket: Ticket) -> dict[str, Any]:
    """Block until the episode of ``ticket`` ends; its dict, or raise its ``ApiError``."""
    while True:
        kind, payload = ticket.events.get()
        if kind == "done":
            return payload
        if kind == "error":
            raise payload
