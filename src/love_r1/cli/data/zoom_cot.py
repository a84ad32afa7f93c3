"""``love-r1 data zoom-cot``: teacher zoom reasoning from timestamped captions, filtered."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from love_r1.cli.data._shared import (
    ModelStepOptions,
    cot_report,
    load_work_items,
    make_backend_from,
    option_errors,
    run_model_step,
    step_command,
)
from love_r1.data import ZoomCotConfig

DESCRIPTION = """A text-only teacher (e.g. Gemini or GPT-4o behind an OpenAI-compatible endpoint) reads
the segment captions (step caption) and the question, and writes zoom reasoning ending in
\\boxed{[s, e]}. A reply is accepted when 0 < e - s < --max-interval-seconds and its IoU with some
evidence interval is above --min-iou. Up to --max-calls calls per item until --num-samples are
accepted. Writes W/zoom_cot.jsonl (every reply with its verdict)."""


@dataclass(kw_only=True)
class Options(ModelStepOptions):
    captions_dir: Path | None = field(default=None, metadata={
        "metavar": "DIR", "help": "folder of per-video caption JSONL files (unset: W/captions)"})
    num_samples: int = field(default=1, metadata={"help": "accepted replies wanted per item (count)"})
    max_calls: int = field(default=5, metadata={"help": "most teacher calls per item (count, >= --num-samples)"})
    max_interval_seconds: float = field(default=60.0, metadata={
        "help": "accepted zooms are shorter than this (seconds)"})
    min_iou: float = field(default=0.0, metadata={
        "help": "accepted zooms have IoU above this with some evidence interval (0 = any overlap)"})


def run(options: Options) -> int:
    from love_r1.data import ZoomCotConfig, judge_zoom, run_zoom_cot

    items = load_work_items(options)
    with option_errors():
        config = ZoomCotConfig(num_samples=options.num_samples, max_calls=options.max_calls,
                               max_interval_seconds=options.max_interval_seconds, min_iou=options.min_iou,
                               sampling=options.sampling(ZoomCotConfig().sampling),
                               backend_label=options.backend_label())
    captions_dir = options.captions_dir or options.work_dir / "captions"

    def judge(item, text):
        return judge_zoom(text, evidence=item.evidence, max_interval_seconds=config.max_interval_seconds,
                          min_iou=config.min_iou)

    report = cot_report(step="zoom-cot", items=items, judge=judge, out_path=options.work_dir / "zoom_cot.jsonl")
    run_step = functools.partial(run_zoom_cot, items=items, captions_dir=captions_dir, config=config)
    return run_model_step(options, backend=make_backend_from(options), step="zoom-cot",
                          call_config=config.call_config(), total=None, run_step=run_step, report=report)


COMMAND = step_command(
    name="zoom-cot",
    help="teacher zoom CoT ending in \\boxed{[s, e]}, kept when it overlaps the evidence (resumable)",
    description=DESCRIPTION,
    options=Options,
    function=run,
    sampling=ZoomCotConfig().sampling,
)
