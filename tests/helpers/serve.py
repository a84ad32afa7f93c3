"""Serve test helpers: a server on 127.0.0.1:0 in a thread, HTTP calls, Server-Sent-Events parsing, a gate."""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from love_r1.backends import GenerationRequest
from love_r1.backends.scripted import dummy_reply
from love_r1.serve import make_server


@contextlib.contextmanager
def serving(backend, **kwargs):
    """A ``make_server(backend, host="127.0.0.1", port=0, ...)`` serving in a thread; shut down at exit."""
    server = make_server(backend, host="127.0.0.1", port=0, **kwargs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(timeout=10)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


def call(url: str, body: Any = None, *, method: str | None = None, raw: bytes | None = None,
         headers: dict[str, str] | None = None, timeout: float = 30.0) -> Response:
    """One HTTP request (``Content-Type: application/json`` unless ``headers`` say otherwise);
    non-2xx replies are returned, not raised."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode("utf-8"))
    request = urllib.request.Request(url, data=data, method=method or ("POST" if data is not None else "GET"),
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return Response(reply.status, {k.lower(): v for k, v in reply.headers.items()}, reply.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


def parse_sse(body: bytes) -> list[tuple[str, Any]]:
    """``[(event name, decoded data), ...]`` of a Server-Sent-Events body."""
    events = []
    for block in body.decode("utf-8").split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


class Gate:
    """A scripted reply function that blocks every call until :meth:`open` (then the dummy policy)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self._open = threading.Event()

    def __call__(self, request: GenerationRequest) -> str:
        self.entered.set()
        if not self._open.wait(timeout=20):
            raise RuntimeError("the test never opened the gate")
        return dummy_reply(request)

    def open(self) -> None:
        self._open.set()
