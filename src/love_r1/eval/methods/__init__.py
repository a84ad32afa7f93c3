"""One runner per evaluation method (``EvalConfig.method``); each records every item it was given."""

from love_r1.eval.methods._common import MethodRun
from love_r1.eval.methods._dispatch import run_method
from love_r1.eval.methods.uniform import uniform_frames

__all__ = ["MethodRun", "run_method", "uniform_frames"]
