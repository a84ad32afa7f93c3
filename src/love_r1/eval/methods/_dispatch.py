"""``run_method``: the closed set of method runners (``EvalConfig.method``), one private dict."""

from __future__ import annotations

from collections.abc import Callable

from love_r1.eval.config import METHODS
from love_r1.eval.methods._common import MethodRun
from love_r1.eval.methods.stage1 import run_stage1
from love_r1.eval.methods.uniform import run_uniform
from love_r1.eval.methods.zoom import run_zoom

_RUNNERS: dict[str, Callable[[MethodRun], None]] = {"zoom": run_zoom, "stage1": run_stage1, "uniform": run_uniform}


def run_method(method: str, run: MethodRun) -> None:
    """Run ``run.samples`` with ``method`` (one of :data:`love_r1.eval.config.METHODS`)."""
    if method not in _RUNNERS:
        raise ValueError(f"method must be one of {list(METHODS)}; got {method!r}")
    _RUNNERS[method](run)
