"""The closed set of benchmark names (a private dict; exact names only, no substring matching)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

from love_r1.eval.benchmarks._base import Benchmark
from love_r1.eval.benchmarks.cgbench import CGBench
from love_r1.eval.benchmarks.longvideobench import LongVideoBench
from love_r1.eval.benchmarks.lvbench import LVBench
from love_r1.eval.benchmarks.mlvu import MLVU
from love_r1.eval.benchmarks.mvbench import MVBench
from love_r1.eval.benchmarks.needle import NeedleBench
from love_r1.eval.benchmarks.videomme import VideoMME

BenchmarkName = Literal["videomme", "lvbench", "mlvu", "longvideobench", "mvbench", "cgbench", "needle"]
BENCHMARK_NAMES: tuple[str, ...] = get_args(BenchmarkName)
_BENCHMARKS: dict[str, type[Benchmark]] = {
    "videomme": VideoMME, "lvbench": LVBench, "mlvu": MLVU, "longvideobench": LongVideoBench,
    "mvbench": MVBench, "cgbench": CGBench, "needle": NeedleBench,
}


def benchmark_class(name: str) -> type[Benchmark]:
    if name not in _BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; choose one of {list(_BENCHMARKS)}")
    return _BENCHMARKS[name]


def make_benchmark(name: str, data_root: str | Path, *, prompt_preset: str = "love_r1",
                   subtitles: bool = False, subtitle_mode: str = "fast",
                   shuffle_options_seed: int | None = None, **adapter_options: Any) -> Benchmark:
    """The adapter for benchmark ``name`` reading ``data_root`` (see :class:`Benchmark` for the options).

    ``adapter_options`` are the adapter's own (``split="mini" | "full"`` for ``cgbench``); another
    adapter rejects them with a ``TypeError``.
    """
    return benchmark_class(name)(data_root, prompt_preset=prompt_preset, subtitles=subtitles,
                                 subtitle_mode=subtitle_mode, shuffle_options_seed=shuffle_options_seed,
                                 **adapter_options)
