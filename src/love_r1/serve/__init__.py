"""``love-r1 serve``: the LOVE-R1 zoom loop as an HTTP API (Starlette on uvicorn) with a demo page.

``make_server(backend, ...)`` binds a :class:`LoveR1Server` (``serve_forever``, ``shutdown``, ``url``;
``server.app`` is the ASGI application). Request parsing, the episode worker, the guard and the error
bodies live in the private modules.
"""

from love_r1.serve._server import LoveR1Server, make_server

__all__ = ["LoveR1Server", "make_server"]
