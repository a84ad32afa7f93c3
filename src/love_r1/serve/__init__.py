"""``love-r1 serve``: the LOVE-R1 zoom loop as an HTTP API (Starlette on uvicorn) with a demo page."""

from love_r1.serve._app import AppSettings, build_app, chat_completion
from love_r1.serve._errors import ApiError
from love_r1.serve._requests import (
    ChatRequest,
    EpisodeRequest,
    parse_chat_request,
    parse_episode_request,
    split_options,
)
from love_r1.serve._server import LoveR1Server, make_server
from love_r1.serve._worker import EpisodeWorker, Ticket

__all__ = [
    "ApiError", "AppSettings", "ChatRequest", "EpisodeRequest", "EpisodeWorker", "LoveR1Server", "Ticket",
    "build_app", "chat_completion", "make_server", "parse_chat_request", "parse_episode_request", "split_options",
]
