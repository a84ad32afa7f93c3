"""``love-r1 report RUN_DIR [RUN_DIR_B]``: accuracy with the official aggregation, breakdowns, zoom and cost stats;
``--format html`` writes the results explorer."""

from __future__ import annotations

import json
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from love_r1.cli._command import Leaf
from love_r1.cli._errors import CliError
from love_r1.eval.extract import ExtractorMode

ReportFormat = Literal["md", "html", "json", "csv"]

DESCRIPTION = """Summarise a run directory written by `love-r1 eval` (all shard files merged):
headline metric with the benchmark's official aggregation (MLVU: M-Avg over 7 tasks; MVBench: mean
over tasks; LVBench: per-ability, multi-label), breakdowns, extraction failures, errors, zoom statistics
(steps and zooms per question, zoom length, IoU with annotated evidence) and the cost ledger. With a
second run directory every number is shown for both runs (A, B) with the difference B - A.

  love-r1 report runs/vmme                       (Markdown)
  love-r1 report runs/vmme runs/vmme-baseline    (side by side: columns A, B, delta)
  love-r1 report runs/vmme --format html --output vmme.html    (the results explorer; see docs/eval.md)
  love-r1 report runs/vmme runs/vmme-baseline --format html --output compare.html   (flips included)
  love-r1 report runs/vmme --format json         (one JSON object)
  love-r1 report runs/vmme --format csv --output items.csv   (one row per question)
  love-r1 report runs/vmme --items 20            (Markdown plus a per-item table of 20 questions)

CSV columns: qid, video, gold, pred (extracted letter, empty on failure), correct (1/0), steps (model
calls), zooms (zoom clips), best_iou (best IoU of the zoom clips with the annotated evidence; empty
without evidence), seconds, error. With two runs: qid, video, gold, then pred/correct/steps/zooms/
best_iou/seconds/error suffixed _a and _b, then flip (right_to_wrong, wrong_to_right, both_right,
both_wrong, only_a, only_b).

The HTML explorer is one self-contained file (no network): summary, breakdowns with plots, a
filterable and sortable item table whose rows open each item's trace, plots of the filtered items,
errors with item, video and message, configurations and their differences. `love-r1 trace RUN QID`
writes one item's full trace page.
"""


@dataclass(kw_only=True)
class ScoringOptions:
    """How a stored run is read and scored (report, trace, rescore)."""

    extractor: ExtractorMode = field(default="default", metadata={
        "help": "answer extractor: default (priority rule, last occurrence) or classic (the first capital letter, "
                "as older harnesses score)"})
    config_hash: str | None = field(default=None, metadata={
        "metavar": "HASH", "help": "which configuration of the run directory (unset: the newest)"})


@dataclass(kw_only=True)
class Options(ScoringOptions):
    run_dir: Path = field(metadata={"positional": True, "help": "run directory (--out of love-r1 eval)"})
    other_run_dir: Path | None = field(default=None, metadata={
        "positional": True, "help": "a second run directory to compare with (optional; run B)"})
    format: ReportFormat = field(default="md", metadata={
        "help": "output format: md (aligned Markdown tables), html (the results explorer), json (one object), "
                "csv (one row per item)"})
    items: int | None = field(default=None, metadata={
        "help": "per-item rows to include (count; -1: all; default: none for md and json, all for csv and html): "
                "md appends a table, json an \"items\" list, csv and html keep the first N items"})
    output: Path | None = field(default=None, metadata={"help": "write to this file instead of stdout"})
    frame_items: int = field(default=40, metadata={
        "help": "with --format html: items whose traces carry pictures decoded from the videos (count; -1: all, "
                "0: none); flipped items first, then wrong ones"})


def read_runs(paths: list[Path], *, config_hash: str | None = None):
    """Read run directories for a command; a :class:`ValueError` names what is wrong with which folder."""
    from love_r1.eval.store import read_run

    runs = []
    for number, path in enumerate(paths):
        if not path.exists():
            raise ValueError(f"run directory {str(path)!r} does not exist")
        if not path.is_dir():
            raise ValueError(f"{str(path)!r} is a file, not a run directory (the --out folder of `love-r1 eval`)")
        try:
            runs.append(read_run(path, config_hash_=config_hash if number == 0 else None))
        except FileNotFoundError as error:
            raise ValueError(str(error)) from None
        except sqlite3.DatabaseError as error:
            raise ValueError(f"{str(path)!r}: a results*.sqlite file is not a readable run store ({error})") from None
    return runs


def emit(text: str, output: Path | None) -> None:
    """Write ``text`` to ``output`` (saying so) or to stdout."""
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        print(f"wrote {output} ({output.stat().st_size / 1e6:.2f} MB)" if output.stat().st_size > 1e5 else f"wrote {output}")
        return
    sys.stdout.write(text if text.endswith("\n") else text + "\n")  # a closed pipe: see love_r1.cli._command


def _items_markdown(rows, other_rows, total: int) -> str:
    from love_r1.eval.report import FLIP_NAMES, compare_rows, item_status, markdown_table

    def cells(r):
        if r is None:
            return ["-", "absent", "-", "-", "-"]
        failed = bool(r["error"])
        return [r["pred"] or "-", item_status(r).replace("_", " "), "-" if failed else str(r["zooms"]),
                "-" if failed or r["best_iou"] is None else f"{r['best_iou']:.3f}", f"{r['seconds']:.2f}"]

    if other_rows is None:
        table = [[r["qid"], Path(r["video"]).name, r["gold"], r["pred"] or "-", "yes" if r["correct"] else "no",
                  str(r["steps"]), str(r["zooms"]), "-" if r["best_iou"] is None else f"{r['best_iou']:.3f}",
                  f"{r['seconds']:.2f}", (r["error"][:60] or "-")] for r in rows]
        header = ["qid", "video", "gold", "pred", "correct", "steps", "zooms", "best IoU", "seconds", "error"]
        right = [False] * 5 + [True] * 4 + [False]
    else:
        table = [[c["qid"], c["gold"], *cells(c["a"]), *cells(c["b"]), FLIP_NAMES[c["flip"]]]
                 for c in compare_rows(rows, other_rows)]
        header = ["qid", "gold", *(f"{t} {n}" for t in "AB" for n in ("pred", "result", "zooms", "best IoU", "seconds")),
                  "A → B"]
        right = [False, False] + [False, False, True, True, True] * 2 + [False]
    return f"\n## items ({len(table)} of {total})\n\n" + "\n".join(markdown_table(header, table, right=right)) + "\n"


def run(options: Options) -> int:
    from love_r1.eval.report import compare_rows, item_rows, render_csv, render_markdown, summarize

    if options.items is not None and options.items < -1:
        raise CliError(f"--items must be -1 (all), 0 or a count; got {options.items}")
    paths = [options.run_dir] + ([options.other_run_dir] if options.other_run_dir else [])
    try:
        runs = read_runs(paths, config_hash=options.config_hash)
    except ValueError as error:
        raise CliError(str(error)) from None
    run_a, run_b = runs[0], (runs[1] if len(runs) > 1 else None)
    limit = None if options.items is None or options.items < 0 else options.items

    def rows_of(run):
        rows = item_rows(run, extractor=options.extractor)
        return rows if limit is None else rows[:limit]

    if options.format == "html":
        from love_r1.eval.explorer import render_explorer

        text = render_explorer(run_a, run_b, extractor=options.extractor, items=limit, frame_items=options.frame_items,
                               progress=_progress_bar())
        emit(text, options.output)
        return 0
    if options.format == "csv":
        text = render_csv(rows_of(run_a), rows_of(run_b) if run_b is not None else None)
        emit(text, options.output)
        return 0
    summary = summarize(run_a, extractor=options.extractor)
    other = summarize(run_b, extractor=options.extractor) if run_b else None
    if options.format == "json":
        payload = summary if other is None else {**summary, "compare": other}
        if options.items:
            rows_a = rows_of(run_a)
            payload["items"] = rows_a
            if run_b is not None:
                payload["compare"]["items"] = rows_of(run_b)
                payload["flips"] = {kind: [c["qid"] for c in compare_rows(rows_a, payload["compare"]["items"])
                                           if c["flip"] == kind] for kind in ("right_to_wrong", "wrong_to_right")}
        text = json.dumps(payload, sort_keys=True)
    else:
        text = render_markdown(summary, other)
        if options.items:
            text += _items_markdown(rows_of(run_a), rows_of(run_b) if run_b is not None else None,
                                    len(run_a.items) if run_b is None else len({r.qid for r in run_a.items}
                                                                               | {r.qid for r in run_b.items}))
    emit(text, options.output)
    return 0


def _progress_bar():
    """A ``progress(done, total)`` callable drawing a tqdm bar on stderr (created on the first call)."""
    state: dict = {}

    def progress(done: int, total: int) -> None:
        if "bar" not in state:
            from tqdm import tqdm

            state["bar"] = tqdm(total=total, desc="trace pictures", unit="item", file=sys.stderr,
                                disable=not sys.stderr.isatty())
        state["bar"].update(done - state["bar"].n)
        if done >= total:
            state["bar"].close()

    return progress


COMMAND = Leaf(
    name="report",
    help="summarise an eval run (or compare two): official metric, breakdowns, zoom and cost statistics, explorer",
    description=DESCRIPTION,
    options=Options,
    function=run,
)
