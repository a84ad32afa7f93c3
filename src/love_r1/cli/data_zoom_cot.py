"""``love-r1 data zoom-cot``: teacher zoom reasoning from timestamped captions, filtered."""

from __future__ import annotations

from dataclasses import dataclass, field

from love_r1.cli.data_shared import (
    BackendOptions,
    WorkOptions,
    format_table,
    load_work_items,
    make_backend_from,
    open_store,
    progress_bar,
    run_summary,
    sampling_from,
    usage_table,
)

HELP = "teacher zoom CoT ending in \\boxed{[s, e]}, kept when it overlaps the evidence (resumable)"
DESCRIPTION = """A text-only teacher (e.g. Gemini or GPT-4o behind an OpenAI-compatible endpoint) reads
the segment captions (step caption) and the question, and writes zoom reasoning ending in
\\boxed{[s, e]}. A reply is accepted when 0 < e - s < --max-interval-seconds and its IoU with some
evidence interval is above --min-iou. Up to --max-calls calls per item until --num-samples are
accepted. Writes W/zoom_cot.jsonl (every reply with its verdict)."""


@dataclass(kw_only=True)
class Options(BackendOptions, WorkOptions):
    captions_dir: str | None = field(default=None, metadata={
        "help": "folder of per-video caption JSONL files (None: W/captions)"})
    num_samples: int = field(default=1, metadata={"help": "accepted replies wanted per item (count)"})
    max_calls: int = field(default=5, metadata={"help": "most teacher calls per item (count, >= --num-samples)"})
    max_interval_seconds: float = field(default=60.0, metadata={"help": "accepted zooms are shorter (seconds)"})
    min_iou: float = field(default=0.0, metadata={
        "help": "accepted zooms have IoU above this with some evidence interval (0 = any overlap)"})


def run(options: Options) -> int:
    from love_r1.data import RunStats, StepInterrupted, ZoomCotConfig, export_cot, judge_zoom, run_zoom_cot

    items = load_work_items(options)
    config = ZoomCotConfig(num_samples=options.num_samples, max_calls=options.max_calls,
                           max_interval_seconds=options.max_interval_seconds, min_iou=options.min_iou,
                           sampling=sampling_from(options, ZoomCotConfig().sampling),
                           backend_label=options.backend_label())
    captions_dir = options.captions_dir or options.work_dir / "captions"
    backend = make_backend_from(options)
    status = 0
    with open_store(options) as store:
        digest = store.register_config("zoom-cot", config.call_config())
        try:
            with progress_bar(None, "zoom-cot") as update:
                digest, stats = run_zoom_cot(backend, items, captions_dir=captions_dir, store=store, config=config,
                                             workers=options.workers, batch_size=options.batch_size,
                                             progress=update)
        except StepInterrupted as error:
            print(f"interrupted: {error}")
            stats, status = error.stats or RunStats(), 3

        def judge(item, text):
            return judge_zoom(text, evidence=item.evidence, max_interval_seconds=config.max_interval_seconds,
                              min_iou=config.min_iou)

        counts = export_cot(store, step="zoom-cot", config_hash=digest, items=items, judge=judge,
                            out_path=options.work_dir / "zoom_cot.jsonl")
        print(run_summary(stats))
        print(format_table(("verdict", "replies"), sorted(counts.items())))
        print(usage_table("zoom-cot", stats, store.usage("zoom-cot", digest), options))
    return status
