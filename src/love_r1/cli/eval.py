"""``love-r1 eval --benchmark NAME --data-root DIR --out RUN_DIR``: run a benchmark, resumably, sharded."""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from love_r1.cli._args import Deprecated
from love_r1.cli._command import Leaf
from love_r1.cli._errors import CliError
from love_r1.cli._options import POLICY_SAMPLING_DEFAULTS, BackendOptions, PolicyOptions, SamplingOptions
from love_r1.eval.benchmarks import BenchmarkName, PromptPreset
from love_r1.eval.benchmarks.cgbench import Split as CGBenchSplit
from love_r1.eval.config import DEFAULT_UNIFORM_FRAMES, Method
from love_r1.eval.probes import Probe
from love_r1.eval.subtitles import SubtitleMode

DESCRIPTION = """Evaluate a model on a benchmark with the LOVE-R1 zoom loop (or the uniform-frames baseline).
Every item's full trajectory goes into an SQLite store in --out; running the same command again
resumes (finished items are skipped, never duplicated). Shards (--shard i/n, or RANK/WORLD_SIZE from
torchrun/accelerate) write separate files that `love-r1 report` merges.

  love-r1 eval --benchmark videomme --data-root /data/Video-MME --out runs/vmme --model /ckpt/love-r1
  love-r1 eval --benchmark mlvu --data-root /data/MLVU --out runs/mlvu --backend openai \\
      --base-url http://127.0.0.1:8000/v1 --model love-r1 --concurrency 32
  love-r1 eval --benchmark lvbench --data-root /data/LVBench --out runs/lvb-base --method uniform \\
      --num-frames 128 --model Qwen/Qwen2.5-VL-7B-Instruct
  love-r1 eval --benchmark needle --data-root needle/ --out runs/dry --backend scripted   (no model)
  love-r1 eval --benchmark mlvu --data-root /data/MLVU --out runs/mlvu-s1 --method stage1 --model /ckpt/stage1
  love-r1 eval --benchmark videomme --data-root /data/Video-MME --out runs/vmme-nv --probe no-visual
  love-r1 eval --benchmark videomme --data-root /data/Video-MME --out runs/vmme-sub --subtitles
  love-r1 eval --benchmark cgbench --data-root /data/CG-Bench --out runs/cg-full --cgbench-split full

Exit status: 0 done (item errors are counted, not fatal; an unusable annotation record is a "data
error" item listed in the report), 2 bad input or data (annotation files missing or unreadable; also a
damaged results store: see --rebuild-store; or this shard already being run by another process).
"""


@dataclass(kw_only=True)
class Options(SamplingOptions, PolicyOptions, BackendOptions):
    benchmark: BenchmarkName = field(metadata={"help": "benchmark to run"})
    data_root: Path = field(metadata={
        "metavar": "DIR", "help": "folder laid out as the benchmark's hub repo (annotations + videos)"})
    out: Path = field(metadata={
        "metavar": "RUN_DIR", "help": "run directory (SQLite results, JSONL export); reused to resume"})
    method: Method = field(default="zoom", metadata={
        "help": "zoom: the LOVE-R1 multi-step loop; stage1: the reference's stage-1 path (one pass: fast view + one "
                "32-frame zoom clip of the whole video, no decision instruction); uniform: one pass over "
                "--num-frames uniform frames (baseline)"})
    probe: Probe = field(default="none", metadata={
        "help": "robustness probe: no-visual (every clip a single black frame; --method uniform: no video at all) "
                "or shuffled-options (option texts permuted per question with --probe-seed, gold letter remapped)"})
    probe_seed: int = field(default=0, metadata={"help": "seed of --probe shuffled-options (integer)"})
    num_frames: int | None = field(default=None, metadata={
        "help": f"frames per video, --method uniform only (count; default: {DEFAULT_UNIFORM_FRAMES})"})
    pixels_per_frame: int | None = field(default=None, metadata={
        "help": "pixel budget per frame, --method uniform only (pixels; default: 256*28*28 = 200704, 256 visual "
                "tokens per 2 frames)"})
    prompt_preset: PromptPreset = field(default="love_r1", metadata={
        "help": "question-text preset: love_r1 (the reference's text + answer instruction; with --method stage1 "
                "the stage-1 script's variant, love_r1_stage1), love_r1_stage1, or plain"})
    subtitles: bool = field(default=False, metadata={
        "help": "show subtitles (Video-MME, LongVideoBench, CG-Bench): the lines active at the fast view's frame times, as "
                "'Subtitles:' + '[mm:ss] line' before the question; a video without a subtitle file gets none"})
    subtitle_mode: SubtitleMode = field(default="fast", metadata={
        "help": "with --subtitles: fast (only the fast view's lines) or fast+clips (also the lines inside each zoom "
                "clip, an extension: the released checkpoints never saw subtitles)"})
    cgbench_split: CGBenchSplit | None = field(default=None, metadata={
        "help": "CG-Bench question set: mini (cgbench_mini.json, 3,000 questions: what the paper's tables, lmms-eval "
                "and VLMEvalKit report) or full (cgbench.json, 12,129); recorded in the run config (default: mini)"})
    limit: int | None = field(default=None, metadata={
        "metavar": "N", "help": "only the first N items (count; unset: all)"})
    shard: str | None = field(default=None, metadata={
        "help": "this process's share as i/n (0-based), e.g. 0/8 (default: RANK/WORLD_SIZE env, else 0/1)"})
    concurrency: int = field(default=8, metadata={"help": "questions in flight per batched generate call (count)"})
    prefetch_workers: int = field(default=2, metadata={"help": "background video-decoding threads (count; 0: off)"})
    check_videos: bool = field(default=True, metadata={
        "help": "pre-flight: open every video before running (off: only check that files exist)"})
    download: bool = field(default=False, metadata={
        "help": "download the annotation files from the Hugging Face Hub into --data-root first (needs network)"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})
    rebuild_store: bool = field(default=False, metadata={
        "help": "if this shard's results store is damaged (or missing), move it to <name>.damaged-<time> and rebuild "
                "it from its readable rows and --out/results.jsonl before running; items not recovered run again"})


def parse_shard(text: str | None, env: dict[str, str] | None = None) -> tuple[int, int]:
    """``"2/8"`` -> ``(2, 8)``; ``None`` -> ``RANK``/``WORLD_SIZE`` from the environment, else ``(0, 1)``."""
    env = dict(os.environ) if env is None else env
    if text is None:
        if "RANK" in env and "WORLD_SIZE" in env:
            return int(env["RANK"]), int(env["WORLD_SIZE"])
        return 0, 1
    parts = text.split("/")
    try:
        index, count = int(parts[0]), int(parts[1])
    except (ValueError, IndexError):
        raise ValueError(f"--shard must look like i/n (e.g. 0/8), got {text!r}") from None
    if len(parts) != 2 or count < 1 or not 0 <= index < count:
        raise ValueError(f"--shard {text!r}: need 0 <= i < n")
    return index, count


def run(options: Options) -> int:
    from love_r1.cli._backends import backend_settings, check_backend_options, make_backend
    from love_r1.errors import DataError
    from love_r1.eval.benchmarks import make_benchmark
    from love_r1.eval.config import EvalConfig
    from love_r1.eval.report import render_markdown, summarize
    from love_r1.eval.runner import evaluate
    from love_r1.eval.store import StoreError, check_run_stores, export_jsonl, read_run

    try:
        shard_index, num_shards = parse_shard(options.shard)
        if options.subtitles and options.probe == "no-visual":
            raise ValueError("--subtitles cannot be combined with --probe no-visual (the subtitle lines shown "
                             "depend on the frames shown)")
        if options.cgbench_split is not None and options.benchmark != "cgbench":
            raise ValueError(f"--cgbench-split applies to --benchmark cgbench only, not {options.benchmark!r}")
        if options.method == "uniform" and (options.frame_budgets() or options.max_zoom_steps is not None):
            raise ValueError("--max-zoom-steps, --fast-max-frames, --fast-pixels-per-frame, --clip-max-frames and "
                             "--clip-pixels-per-frame apply to --method zoom and stage1; --method uniform takes "
                             "--num-frames and --pixels-per-frame")
        check_backend_options(options)
        adapter_options = {"split": options.cgbench_split} if options.cgbench_split is not None else {}
        bench = make_benchmark(options.benchmark, options.data_root, prompt_preset=options.prompt_preset,
                               subtitles=options.subtitles, subtitle_mode=options.subtitle_mode, **adapter_options)
        if options.download:
            bench.download(token=os.environ.get("HF_TOKEN"))
        default_preset = "reference" if options.method == "stage1" else bench.policy_preset
        policy = options.policy(default_preset=default_preset, sampling=options)
        settings = dict(
            run_dir=options.out, model=options.recorded_model(), method=options.method, policy=policy,
            num_frames=options.num_frames, pixels_per_frame=options.pixels_per_frame, limit=options.limit,
            shard_index=shard_index, num_shards=num_shards, concurrency=options.concurrency,
            prefetch_workers=options.prefetch_workers, check_videos=options.check_videos, probe=options.probe,
            probe_seed=options.probe_seed)
        EvalConfig(**settings)  # validate the settings before loading a model
        bench.load()  # validate the annotation files before loading a model
        rebuilt = check_run_stores(options.out, shard_index=shard_index, num_shards=num_shards,
                                   rebuild=options.rebuild_store)  # damaged store or a second writer: exit 2
        if rebuilt is not None and rebuilt.rebuilt:
            print(f"rebuilt {rebuilt.path}: {rebuilt.from_store} items from the damaged store, {rebuilt.from_jsonl} "
                  f"from results.jsonl (damaged file kept as {rebuilt.damaged_copy})", file=sys.stderr)
    except (DataError, ValueError) as error:  # StoreError is a ValueError
        raise CliError(str(error)) from None
    backend_options = options
    if options.device is None and options.backend == "hf" and options.shard is None and "LOCAL_RANK" in os.environ:
        # torchrun/accelerate: one GPU per rank
        backend_options = dataclasses.replace(options, device=f"cuda:{int(os.environ['LOCAL_RANK'])}")
    if options.backend == "scripted":
        print("note: --backend scripted is a stand-in: its replies are canned, not a model's", file=sys.stderr)
    backend = make_backend(backend_options, batch_size=options.concurrency)
    config = EvalConfig(**settings, backend={"backend": options.backend, **backend_settings(backend)})
    try:
        key, state = evaluate(bench, backend, config,
                              progress=options.progress and shard_index == 0)  # one bar, on the first shard
    except StoreError as error:
        raise CliError(str(error)) from None
    if state.count_warning:
        print(f"warning: {state.count_warning}", file=sys.stderr)
    report = state.preflight
    if report is not None and report.bad:
        print(f"pre-flight: {len(report.missing)} missing and {len(report.corrupt)} corrupt of {report.num_videos} "
              "videos (their items are recorded as errors):", file=sys.stderr)
        for path in list(report.bad)[:20]:
            print(f"  {report.item_error(path)}", file=sys.stderr)
    data_errors = f" ({state.data_errors} data errors: see the report)" if state.data_errors else ""
    print(f"{bench.name} shard {shard_index}/{num_shards}: {state.done} run, {state.skipped_finished} already done, "
          f"{state.errors} errors{data_errors}, {state.extraction_failures} extraction failures, "
          f"{state.seconds:.1f} s (config {key}) -> {options.out}")
    if state.subtitles:
        counts = ", ".join(f"{count} {status}" for status, count in sorted(state.subtitles.items()))
        print(f"subtitles ({options.subtitle_mode}): {counts}")
    try:
        data = read_run(options.out, config_hash_=key)
    except StoreError as error:
        raise CliError(str(error)) from None
    export_jsonl(data, Path(options.out) / "results.jsonl")
    print(render_markdown(summarize(data)).split("\n## ")[0].rstrip())
    return 0


COMMAND = Leaf(
    name="eval",
    help="run a benchmark (Video-MME, LVBench, MLVU, LongVideoBench, MVBench, CG-Bench, needle); resumable",
    description=DESCRIPTION, options=Options, function=run,
    deprecated=(Deprecated("--preset", "prompt_preset", "0.2.0"),),
    shown_defaults={**POLICY_SAMPLING_DEFAULTS,
                    "policy_preset": "the benchmark's: mlvu for MLVU, longvideobench for LongVideoBench, else "
                                     "reference; reference for --method stage1"},
)
