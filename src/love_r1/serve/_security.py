"""What every request passes before it reaches a route: the Host allow-list, the Origin check and the
API key (a pure ASGI middleware, so streamed replies are not buffered), plus an access log.

Order of the checks, each answered with the service's JSON error shape:

1. ``Host`` must name this server (DNS rebinding: a page on ``evil.example`` whose name now resolves
   to 127.0.0.1 sends ``Host: evil.example``): the bind address, ``localhost``, the names given with
   ``--allowed-host`` (``*.example.com`` patterns allowed; ``*`` turns the check off), and, when bound
   to all interfaces (``0.0.0.0``/``::``), this machine's host names and any IP literal (an IP
   cannot be rebound). Otherwise 400.
2. A request carrying an ``Origin`` that is not this server's own (same ``host:port`` as ``Host``)
   must come from an origin given with ``--allow-origin``; otherwise 403, before any work is done
   (Starlette's ``CORSMiddleware`` only withholds the CORS headers, the request itself would run).
3. With an API key, every route but ``GET /``, ``GET /healthz`` and CORS preflights needs
   ``Authorization: Bearer KEY``, compared in constant time (``hmac.compare_digest``); otherwise 401.
   The key is never logged or echoed.

Requests that pass are handed to the app, wrapped in Starlette's ``CORSMiddleware`` when origins
are allowed (it answers preflights and adds the ``Access-Control-*`` headers).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import socket
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Secret

from love_r1.serve._errors import ApiError

logger = logging.getLogger("love_r1.serve")

WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
OPEN_PATHS = frozenset({"/", "/healthz"})
SECURITY_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def split_host(value: str) -> str | None:
    """The host name of a ``Host`` header value (``name``, ``name:port``, ``[v6]:port``), lower-cased
    without a trailing dot; ``None`` when malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0 or (value[end + 1:] and not value[end + 1:].startswith(":")):
            return None
        host = value[1:end]
    else:
        host = value.rsplit(":", 1)[0] if value.count(":") == 1 else value
        if value.count(":") > 1:
            return None
    host = host.rstrip(".")
    return host or None


class HostPolicy:
    """Which ``Host`` names this server answers to (see the module docstring).

    Args:
        bind_host: the address the server binds.
        allowed_hosts: extra names (``--allowed-host``): exact names, ``*.example.com`` patterns, or ``*``.
    """

    def __init__(self, *, bind_host: str, allowed_hosts: Sequence[str] = ()) -> None:
        names = set(LOOPBACK_NAMES)
        patterns: list[str] = []
        self.allow_any = False
        for entry in allowed_hosts:
            entry = entry.strip().lower().rstrip(".")
            if entry == "*":
                self.allow_any = True
            elif entry.startswith("*."):
                patterns.append(entry[1:])
            elif "*" in entry or not entry:
                raise ValueError(f"allowed host {entry!r} is not a host name, a '*.example.com' pattern or '*'")
            else:
                names.add(entry.strip("[]"))
        self.any_ip = bind_host.strip("[]") in WILDCARD_HOSTS
        if self.any_ip:
            for name in (socket.gethostname(), socket.getfqdn()):
                names.add(name.lower())
        else:
            names.add(bind_host.strip("[]").lower())
        self.names = frozenset(names)
        self.patterns = tuple(patterns)

    def allows(self, host: str) -> bool:
        if self.allow_any or host in self.names or any(host.endswith(p) for p in self.patterns):
            return True
        return self.any_ip and _is_ip(host)

    def describe(self) -> str:
        if self.allow_any:
            return "any host"
        shown = sorted(self.names) + [f"*{p}" for p in self.patterns]
        return ", ".join(shown) + (" and any IP address" if self.any_ip else "")


class Guard:
    """Pure ASGI middleware: Host, Origin and API-key checks (see the module docstring), an access
    log line per request (method, path, status, seconds; never headers), and a few security headers."""

    def __init__(self, app: Any, *, hosts: HostPolicy, allow_origins: Sequence[str] = (),
                 api_key: Secret | None = None) -> None:
        self.app = app
        self.hosts = hosts
        self.allow_origins = frozenset(o.rstrip("/") for o in allow_origins)
        self._api_key = str(api_key).encode("utf-8") if api_key is not None else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status: list[int] = [0]

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                present = {name.lower() for name, _ in message.get("headers", ())}
                message["headers"] = [*message.get("headers", ()),
                                      *((k, v) for k, v in SECURITY_HEADERS if k not in present)]
            await send(message)

        try:
            refusal = self._refusal(scope)
            if refusal is not None:
                await send_error(send_with_headers, refusal)
            else:
                await self.app(scope, receive, send_with_headers)
        finally:
            client = scope.get("client")
            logger.info('%s - "%s %s HTTP/%s" %d %.3fs', f"{client[0]}:{client[1]}" if client else "-",
                        scope["method"], scope["path"], scope.get("http_version", "1.1"), status[0] or 500,
                        time.perf_counter() - began)

    def _refusal(self, scope: dict[str, Any]) -> ApiError | None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        host_value = headers.get("host", "")
        host = split_host(host_value)
        if host is None or not self.hosts.allows(host):
            return ApiError(400, "invalid_request_error",
                            f"the Host header {host_value!r} does not name this server (it answers to "
                            f"{self.hosts.describe()}); if clients reach it under that name, start it with "
                            "--allowed-host NAME", param="Host")
        origin = headers.get("origin")
        if origin is not None and not self._origin_allowed(origin.rstrip("/"), host_value):
            return ApiError(403, "permission_error",
                            f"cross-origin request from {origin!r} refused: pages from other origins may not call "
                            f"this API; to allow one, start the server with --allow-origin {origin}", param="Origin")
        preflight = scope["method"] == "OPTIONS" and "access-control-request-method" in headers
        if self._api_key is None or preflight or (scope["method"] in ("GET", "HEAD") and scope["path"] in OPEN_PATHS):
            return None
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return ApiError(401, "authentication_error", "this server needs an API key: send the header "
                            "'Authorization: Bearer KEY' (the key is in the environment variable named by the "
                            "server's --server-api-key-env)", param="Authorization",
                            headers={"WWW-Authenticate": "Bearer"})
        if not hmac.compare_digest(token.strip().encode("utf-8"), self._api_key):
            return ApiError(401, "authentication_error", "the API key is not valid", param="Authorization",
                            headers={"WWW-Authenticate": "Bearer"})
        return None

    def _origin_allowed(self, origin: str, host_value: str) -> bool:
        if "*" in self.allow_origins or origin in self.allow_origins:
            return True
        if origin == "null":
            return False
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc.lower() == host_value.strip().lower()


async def send_error(send: Any, error: ApiError) -> None:
    """Send ``error`` as a complete JSON response through a raw ASGI ``send``."""
    body = json.dumps(error.to_dict(), ensure_ascii=False).encode("utf-8")
    headers = [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in error.headers.items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
