"""Evaluation harness: benchmark adapters, answer extraction, scoring, the run store, runner and reports."""

from love_r1.eval.benchmarks import BENCHMARK_NAMES, Benchmark, make_benchmark
from love_r1.eval.config import METHODS, EvalConfig
from love_r1.eval.explorer import render_explorer
from love_r1.eval.extract import extract_choice
from love_r1.eval.preflight import PreflightReport, preflight
from love_r1.eval.probes import PROBES, option_permutation
from love_r1.eval.records import Sample
from love_r1.eval.report import item_rows, render_csv, summarize
from love_r1.eval.runner import evaluate
from love_r1.eval.scoring import ScoredItem, aggregate
from love_r1.eval.store import RunStore, read_run

__all__ = [
    "BENCHMARK_NAMES", "METHODS", "PROBES", "Benchmark", "EvalConfig", "PreflightReport", "RunStore",
    "Sample", "ScoredItem", "aggregate", "evaluate", "extract_choice", "item_rows", "make_benchmark",
    "option_permutation", "preflight", "read_run", "render_csv", "render_explorer", "summarize",
]
