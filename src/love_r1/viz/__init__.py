"""Visualisation: one episode as a self-contained HTML trace page (also embedded by the results explorer)."""

from love_r1.viz._media import ClipFrames, Picture, TraceFrames, trace_frames
from love_r1.viz.trace import Score, render_trace_fragment, render_trace_html, write_trace_html

__all__ = ["ClipFrames", "Picture", "Score", "TraceFrames", "render_trace_fragment", "render_trace_html",
           "trace_frames", "write_trace_html"]
