"""Visualisation: one episode as a self-contained HTML trace page."""

from love_r1.viz.trace import render_trace_html, thumbnails, write_trace_html

__all__ = ["render_trace_html", "thumbnails", "write_trace_html"]
