"""``love-r1 serve``: the LOVE-R1 zoom loop as an HTTP API (standard library only)."""

from love_r1.serve._app import LoveR1Server, chat_completion, make_server
from love_r1.serve._errors import ApiError
from love_r1.serve._requests import EpisodeRequest, parse_chat_request, parse_episode_request, split_options
from love_r1.serve._worker import EpisodeWorker, Ticket

__all__ = [
    "ApiError", "EpisodeRequest", "EpisodeWorker", "LoveR1Server", "Ticket", "chat_completion", "make_server",
    "parse_chat_request", "parse_episode_request", "split_options",
]
