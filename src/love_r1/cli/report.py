"""``love-r1 report RUN_DIR [RUN_DIR_B]``: accuracy with the official aggregation, breakdowns, zoom and cost stats."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

HELP = "summarise an eval run (or compare two): official metric, breakdowns, zoom and cost statistics"
DESCRIPTION = """Summarise a run directory written by `love-r1 eval` (all shard files merged):
headline metric with the benchmark's official aggregation (MLVU: M-Avg over 7 tasks; MVBench: mean
over tasks; LVBench: per-ability, multi-label), breakdowns, extraction failures, errors, zoom statistics
(steps and zooms per question, zoom length, IoU with annotated evidence) and the cost ledger.

  love-r1 report runs/vmme                       (Markdown)
  love-r1 report runs/vmme runs/vmme-baseline    (side by side)
  love-r1 report runs/vmme --format html --output report.html
  love-r1 report runs/vmme --format json         (one JSON object)
  love-r1 report runs/vmme --format csv --output items.csv   (one row per question)
  love-r1 report runs/vmme --items 20            (Markdown plus a per-item table of 20 questions)

CSV columns: qid, video, gold, pred (extracted letter, empty on failure), correct (1/0), steps (model
calls), zooms (zoom clips), best_iou (best IoU of the zoom clips with the annotated evidence; empty
without evidence), seconds, error.
"""


@dataclass
class Options:
    run_dir: Path = field(metadata={"positional": True, "help": "run directory (--out of love-r1 eval)"})
    other_run_dir: Path | None = field(default=None, metadata={
        "positional": True, "help": "a second run directory to compare with (optional)"})
    format: Literal["md", "html", "json", "csv"] = field(default="md", metadata={
        "help": "output format: md (aligned Markdown tables), html, json (one object), csv (one row per item)"})
    items: int = field(default=0, metadata={
        "help": "with --format md: append a per-item table of the first N items (count; 0: none, -1: all)"})
    output: Path | None = field(default=None, metadata={"help": "write to this file instead of stdout"})
    extractor: Literal["default", "classic"] = field(default="default", metadata={
        "help": "answer extractor: default (priority rule, last occurrence) or classic (first capital letter)"})
    config_hash: str | None = field(default=None, metadata={
        "help": "which configuration of the run directory (default: the newest)"})


def run(options: Options) -> int:
    from love_r1.eval.report import item_rows, markdown_table, render_csv, render_html, render_markdown, summarize
    from love_r1.eval.store import read_run

    try:
        run_a = read_run(options.run_dir, config_hash_=options.config_hash)
        run_b = read_run(options.other_run_dir) if options.other_run_dir else None
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if options.format == "csv" and run_b is not None:
        print("error: --format csv takes one run directory (drop the second one)", file=sys.stderr)
        return 2
    summary = summarize(run_a, extractor=options.extractor)
    other = summarize(run_b, extractor=options.extractor) if run_b else None
    if options.format == "json":
        text = json.dumps(summary if other is None else {**summary, "compare": other}, sort_keys=True)
    elif options.format == "csv":
        text = render_csv(item_rows(run_a, extractor=options.extractor))
    elif options.format == "html":
        text = render_html(summary, run_a, other)
    else:
        text = render_markdown(summary, other)
        if options.items:
            rows = item_rows(run_a, extractor=options.extractor)
            rows = rows if options.items < 0 else rows[: options.items]
            table = [[r["qid"], Path(r["video"]).name, r["gold"], r["pred"] or "-", "yes" if r["correct"] else "no",
                      str(r["steps"]), str(r["zooms"]), "-" if r["best_iou"] is None else f"{r['best_iou']:.3f}",
                      f"{r['seconds']:.2f}", (r["error"][:40] or "-")] for r in rows]
            header = ["qid", "video", "gold", "pred", "correct", "steps", "zooms", "best IoU", "seconds", "error"]
            text += f"\n## items ({len(rows)} of {len(run_a.items)})\n\n" + "\n".join(markdown_table(
                header, table, right=[False] * 5 + [True] * 4 + [False])) + "\n"
    if options.output is not None:
        options.output.write_text(text, encoding="utf-8")
        print(f"wrote {options.output}")
    else:
        print(text)
    return 0
