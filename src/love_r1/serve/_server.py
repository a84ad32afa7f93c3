"""The server process side: bind the socket, run the ASGI app on uvicorn, stop gracefully.

``make_server`` binds at once (so ``port=0`` gives a real port and a taken port fails early) with a
deep listen backlog; ``serve_forever`` runs uvicorn on that socket; ``shutdown`` (or the first
SIGINT/SIGTERM while serving in the main thread) refuses new episodes with 503, drains the running
ones, then lets uvicorn close the connections. A second signal forces the exit.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from starlette.datastructures import Secret

from love_r1.agent.policy import ZoomPolicy
from love_r1.backends import Backend
from love_r1.serve._app import AppSettings, build_app
from love_r1.serve._security import HostPolicy
from love_r1.serve._videos import VideoCatalog
from love_r1.serve._worker import EpisodeWorker

logger = logging.getLogger(__name__)

CLOSE_SECONDS = 5.0  # after the drain, how long uvicorn waits for replies still being written


class _Uvicorn(uvicorn.Server):
    """uvicorn's server whose signal handling hands the first signal to the owner (a graceful stop
    with a drain) and forces the exit on the second."""

    def __init__(self, config: uvicorn.Config, *, on_signal: Callable[[int], None]) -> None:
        super().__init__(config)
        self._on_signal = on_signal
        self._signalled = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._signalled:
            logger.warning("second %s: stopping at once", signal.Signals(sig).name)
            self.force_exit = self.should_exit = True
            return
        self._signalled = True
        self._on_signal(sig)


class LoveR1Server:
    """The LOVE-R1 HTTP service on uvicorn; build it with :func:`make_server`.

    Attributes:
        url: ``http://host:port`` (the real port when bound to port 0).
        app: the ASGI application (Starlette).
        worker: the :class:`~love_r1.serve._worker.EpisodeWorker` owning the backend.
        on_signal: called with the signal number when SIGINT/SIGTERM arrives while serving in the
            main thread, before the graceful stop starts (the CLI prints a line).
    """

    def __init__(self, *, app: Any, worker: EpisodeWorker, sock: socket.socket, backlog: int,
                 drain_seconds: float) -> None:
        self.app = app
        self.worker = worker
        self.drain_seconds = drain_seconds
        self.on_signal: Callable[[int], None] | None = None
        self._sock = sock
        self._backlog = backlog
        self._lock = threading.Lock()
        self._uvicorn: _Uvicorn | None = None
        self._shutdown_started = False
        self._stopped = threading.Event()
        self._shut_down = threading.Event()

    @property
    def url(self) -> str:
        host, port = self._sock.getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def serve_forever(self) -> None:
        """Start the episode worker and serve until :meth:`shutdown` (or a signal, in the main thread)."""
        config = uvicorn.Config(self.app, log_config=None, access_log=False, lifespan="off", backlog=self._backlog,
                                timeout_graceful_shutdown=int(CLOSE_SECONDS), server_header=False,
                                proxy_headers=False)
        with self._lock:
            if self._shutdown_started:
                return
            self._uvicorn = _Uvicorn(config, on_signal=self._signal)
        self.worker.start()
        try:
            self._uvicorn.run(sockets=[self._sock])
        finally:
            self._stopped.set()

    def _signal(self, signum: int) -> None:
        if self.on_signal is not None:
            self.on_signal(signum)
        threading.Thread(target=self.shutdown, name="love-r1-shutdown", daemon=True).start()

    def shutdown(self) -> None:
        """Graceful stop (from another thread than ``serve_forever``'s): refuse new episodes (503),
        fail queued ones (503), let running episodes finish for up to ``drain_seconds``, then close
        the connections and the socket. A second call waits for the first to finish."""
        with self._lock:
            first = not self._shutdown_started
            self._shutdown_started = True
            server = self._uvicorn
        if not first:
            self._shut_down.wait()
            return
        try:
            logger.info("shutting down: draining running episodes for up to %.1f s", self.drain_seconds)
            self.worker.stop(drain_seconds=self.drain_seconds)
            if server is None:
                self._sock.close()
            else:
                server.should_exit = True
                if not self._stopped.wait(timeout=CLOSE_SECONDS + 5):
                    logger.warning("the server did not close within %.0f s", CLOSE_SECONDS + 5)
        finally:
            self._shut_down.set()


def _bind(host: str, port: int, backlog: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    dualstack = host == "::" and socket.has_dualstack_ipv6()
    return socket.create_server((host.strip("[]"), port), family=family, backlog=backlog, dualstack_ipv6=dualstack)


def make_server(
    backend: Backend,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    policy: ZoomPolicy | None = None,
    video_root: str | Path | None = None,
    upload_dir: str | Path | None = None,
    model_name: str = "love-r1",
    max_concurrent_episodes: int = 8,
    max_queued_episodes: int = 64,
    max_batch_wait_seconds: float = 0.02,
    max_stored_episodes: int = 256,
    max_body_bytes: int = 1 << 20,
    max_upload_bytes: int = 512 << 20,
    max_upload_folder_bytes: int = 8 << 30,
    drain_seconds: float = 30.0,
    allowed_hosts: tuple[str, ...] | list[str] = (),
    allow_origins: tuple[str, ...] | list[str] = (),
    api_key: str | None = None,
    backlog: int = 2048,
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
        upload_dir: folder for uploaded videos (created when missing); ``None`` refuses uploads.
        model_name: the model id reported by ``/v1/models`` and chat completions.
        max_concurrent_episodes: episodes running at once (one ``generate`` call per round holds them all;
            queued episodes join at the next round when a slot frees up).
        max_queued_episodes: episodes allowed to wait; beyond that requests get 429 with ``Retry-After``.
        max_batch_wait_seconds: when nothing runs, how long the first queued episode waits for company (seconds).
        max_stored_episodes: finished episodes kept for the trace and episode endpoints (count).
        max_body_bytes: larger JSON request bodies get 413 (bytes).
        max_upload_bytes: larger uploaded videos get 413 (bytes).
        max_upload_folder_bytes: all uploads together; beyond it uploads get 507 (bytes).
        drain_seconds: at shutdown, how long running episodes may take to finish (seconds).
        allowed_hosts: ``Host`` names accepted besides the bind address and ``localhost``
            (``*.example.com`` patterns; ``"*"`` accepts any).
        allow_origins: web origins (``https://app.example``) whose pages may call the API; ``"*"`` any.
        api_key: when given, requests need ``Authorization: Bearer <api_key>`` (``/`` and ``/healthz`` do not).
        backlog: the listen queue of the socket (connections waiting to be accepted; count).
        open_video: video opener override (tests).

    Raises:
        ValueError: a limit out of range, ``video_root`` is not a directory, a bad allowed host.
        OSError: the address cannot be bound (e.g. the port is taken) or ``upload_dir`` cannot be made.
    """
    root: Path | None = None
    if video_root is not None:
        root = Path(video_root)
        if not root.is_dir():
            raise ValueError(f"video_root {str(root)!r} is not a directory; give the folder the videos are in")
        root = root.resolve()
    uploads: Path | None = None
    if upload_dir is not None:
        uploads = Path(upload_dir)
        uploads.mkdir(parents=True, exist_ok=True)
        uploads = uploads.resolve()
    for name, value in (("max_body_bytes", max_body_bytes), ("max_upload_bytes", max_upload_bytes),
                        ("max_upload_folder_bytes", max_upload_folder_bytes), ("backlog", backlog)):
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    if drain_seconds < 0:
        raise ValueError(f"drain_seconds must be >= 0, got {drain_seconds}")
    if api_key is not None and not api_key.strip():
        raise ValueError("api_key is empty; give a key or None for no key")
    worker = EpisodeWorker(
        backend, policy=policy if policy is not None else ZoomPolicy(),
        max_concurrent_episodes=max_concurrent_episodes, max_queued_episodes=max_queued_episodes,
        max_batch_wait_seconds=max_batch_wait_seconds, max_stored_episodes=max_stored_episodes,
        open_video=open_video,
    )
    settings = AppSettings(
        video_root=root, upload_dir=uploads, model_name=model_name, max_body_bytes=max_body_bytes,
        max_upload_bytes=max_upload_bytes, max_upload_folder_bytes=max_upload_folder_bytes,
        hosts=HostPolicy(bind_host=host, allowed_hosts=tuple(allowed_hosts)),
        allow_origins=tuple(allow_origins), api_key=None if api_key is None else Secret(api_key),
    )
    app = build_app(worker, settings, VideoCatalog(video_root=root, upload_dir=uploads, open_video=open_video))
    sock = _bind(host, port, backlog)
    return LoveR1Server(app=app, worker=worker, sock=sock, backlog=backlog, drain_seconds=drain_seconds)
