"""Benchmark adapters: each owns a data root and normalises its annotations to ``Sample`` records."""

from love_r1.eval.benchmarks._base import PROMPT_PRESETS, Benchmark, DataError, PromptPreset
from love_r1.eval.benchmarks._registry import BENCHMARK_NAMES, BenchmarkName, benchmark_class, make_benchmark
from love_r1.eval.benchmarks.cgbench import CGBench
from love_r1.eval.benchmarks.longvideobench import LongVideoBench
from love_r1.eval.benchmarks.lvbench import LVBench
from love_r1.eval.benchmarks.mlvu import MLVU
from love_r1.eval.benchmarks.mvbench import MVBench
from love_r1.eval.benchmarks.needle import NeedleBench
from love_r1.eval.benchmarks.videomme import VideoMME

__all__ = [
    "BENCHMARK_NAMES", "MLVU", "PROMPT_PRESETS", "Benchmark", "BenchmarkName", "CGBench", "DataError", "LVBench",
    "LongVideoBench", "MVBench", "NeedleBench", "PromptPreset", "VideoMME", "benchmark_class", "make_benchmark",
]
