"""Typed API errors: every failure the service reports is an :class:`ApiError` with a status code."""

from __future__ import annotations

from typing import Any, Literal

ErrorType = Literal[
    "invalid_request_error",  # 400/405/415: bad JSON, missing field, bad options, video outside the roots / not
    # found, a Host the server does not answer to, a wrong method, a body that is not JSON (or not a video)
    "authentication_error",  # 401: --server-api-key-env is set and the request has no or a wrong key
    "permission_error",  # 403: a cross-origin request from an origin not given with --allow-origin; uploads off
    "not_found_error",  # 404: unknown route or episode id
    "request_too_large",  # 413: body above the limit
    "rate_limit_error",  # 429: the episode queue is full
    "episode_error",  # 422: the episode itself failed (an unreadable video)
    "backend_error",  # 500: the model backend failed for this request (BackendError, a malformed reply, ...)
    "server_error",  # 500: an unexpected fault in the service
    "insufficient_storage_error",  # 507: the upload folder is full (--max-upload-folder-bytes)
    "unavailable_error",  # 503: the service is shutting down
]


class ApiError(Exception):
    """A failure reported to the client as ``{"error": {"type", "message", "param"}}``.

    Attributes:
        status: HTTP status code.
        type: one of :data:`ErrorType`.
        message: what went wrong, naming the field or file and a hint.
        param: the request field (or header) at fault (``None`` when no single one is).
        headers: extra response headers (``Retry-After`` on 429/503, ``Allow`` on 405).
        episode: the failed episode (``Episode.to_dict()``) when there is one.
    """

    def __init__(self, status: int, type: ErrorType, message: str, *, param: str | None = None,
                 headers: dict[str, str] | None = None, episode: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.type = type
        self.message = message
        self.param = param
        self.headers = dict(headers or {})
        self.episode = episode

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": {"type": self.type, "message": self.message, "param": self.param}}
        if self.episode is not None:
            body["episode"] = self.episode
        return body


def bad_request(message: str, *, param: str | None = None) -> ApiError:
    return ApiError(400, "invalid_request_error", message, param=param)
