"""love-r1: LOVE-R1-style long-video reasoning (see the whole video, zoom in, answer).

Importing the package does nothing but define names; heavy modules load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> module that defines it; resolved lazily so `import love_r1` stays cheap and side-effect free.
_LAZY = {
    "parse_reply": "love_r1.agent.grammar",
    "ParsedReply": "love_r1.agent.grammar",
    "ask": "love_r1.agent.api",
    "extract_choice": "love_r1.eval.extract",
    "Interval": "love_r1.interval",
    "open_video": "love_r1.video",
}

if TYPE_CHECKING:
    from love_r1.agent.api import ask
    from love_r1.agent.grammar import ParsedReply, parse_reply
    from love_r1.eval.extract import extract_choice
    from love_r1.interval import Interval
    from love_r1.video import open_video

__all__ = ["Interval", "ParsedReply", "__version__", "ask", "extract_choice", "open_video", "parse_reply"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'love_r1' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
