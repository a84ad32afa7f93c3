"""Benchmark adapters: each owns a data root and normalises its annotations to ``Sample`` records.

``make_benchmark(name, data_root, ...)`` builds one by name; the adapter classes live in their modules
(``love_r1.eval.benchmarks.videomme``, ...). A new adapter subclasses :class:`Benchmark` and is added to
the closed set in ``_registry.py`` (see CONTRIBUTING.md). Bad annotation files raise
:class:`love_r1.errors.DataError`.
"""

from love_r1.eval.benchmarks._base import PROMPT_PRESETS, Benchmark, PromptPreset
from love_r1.eval.benchmarks._registry import BENCHMARK_NAMES, BenchmarkName, benchmark_class, make_benchmark

__all__ = [
    "BENCHMARK_NAMES", "PROMPT_PRESETS", "Benchmark", "BenchmarkName", "PromptPreset", "benchmark_class",
    "make_benchmark",
]
