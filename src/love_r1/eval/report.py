"""Run summaries: official aggregation, breakdowns, zoom statistics, cost ledger; Markdown and CSV.

:func:`summarize` is pure over a :class:`~love_r1.eval.store.RunData`; it re-extracts every
answer with the chosen extractor, so ``love-r1 rescore`` and ``love-r1 report`` agree.
:func:`item_rows` / :func:`render_csv` give the per-item table (one row per question);
:func:`compare_rows` matches two runs' items and names each item's flip. The HTML page is
:func:`love_r1.eval.explorer.render_explorer`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from statistics import mean
from typing import Any, Literal

from love_r1.eval.benchmarks import benchmark_class
from love_r1.eval.extract import ExtractorMode, extract_choice
from love_r1.eval.records import stored_gold
from love_r1.eval.runner import final_text
from love_r1.eval.scoring import ScoredItem, aggregate
from love_r1.eval.store import RunData

_LEDGER_KEYS = ("prompt_tokens", "prompt_tokens_cached", "completion_tokens", "vision_tokens", "frames_decoded",
                "frames_cached", "num_model_calls", "total_seconds")


def score_run(run: RunData, *, extractor: ExtractorMode = "default") -> list[ScoredItem]:
    """One :class:`ScoredItem` per stored item, answers re-extracted with ``extractor``."""
    items = []
    for row in run.items:
        sample = row.sample
        predicted = None
        if row.error is None and row.episode is not None:
            text = final_text(row.episode)
            if extractor == "classic" and row.episode.get("answer"):
                text = row.episode["answer"]
            predicted = extract_choice(text, sample.get("options") or [], mode=extractor)
        # an item that failed before it ran (a bad record, a missing video) may carry a partial sample
        items.append(ScoredItem(qid=row.qid, gold=stored_gold(sample), predicted=predicted,
                                error=row.error, categories=sample.get("categories") or {}))
    return items


ITEM_COLUMNS: tuple[str, ...] = ("qid", "video", "gold", "pred", "correct", "steps", "zooms", "best_iou", "seconds",
                                  "error")


def _best_iou(clips: Sequence[Sequence[float]], evidence: Sequence[Sequence[float]]) -> float | None:
    """Best IoU of any zoom clip with any evidence interval; ``None`` without evidence, ``0.0`` without clips."""
    if not evidence:
        return None
    return max((_iou(c, e) for c in clips for e in evidence), default=0.0)


def item_rows(run: RunData, *, extractor: ExtractorMode = "default") -> list[dict[str, Any]]:
    """One dict per item with :data:`ITEM_COLUMNS`: the video file, gold and extracted letters, whether it
    is correct, model calls, zoom clips, best IoU of the zoom clips with the evidence (``None``: no
    evidence annotated), the item's seconds and its error."""
    rows = []
    for row, scored in zip(run.items, score_run(run, extractor=extractor), strict=True):
        episode = row.episode or {}
        clips = episode.get("clips") or []
        rows.append({
            "qid": row.qid, "video": row.sample.get("video_path", ""), "gold": scored.gold,
            "pred": scored.predicted or "", "correct": scored.correct, "steps": len(episode.get("steps") or []),
            "zooms": len(clips), "best_iou": _best_iou(clips, row.sample.get("evidence") or []),
            "seconds": round(float(row.seconds), 3), "error": row.error or "",
        })
    return rows


def item_status(row: dict[str, Any]) -> str:
    """``correct``, ``wrong`` (a letter that is not the gold), ``no_answer`` (extraction failed) or ``error``."""
    if row["error"]:
        return "error"
    if row["correct"]:
        return "correct"
    return "wrong" if row["pred"] else "no_answer"


FlipKind = Literal["right_to_wrong", "wrong_to_right", "both_right", "both_wrong", "only_a", "only_b"]
FLIP_NAMES: dict[FlipKind, str] = {"right_to_wrong": "A right → B wrong", "wrong_to_right": "A wrong → B right",
                              "both_right": "right in both", "both_wrong": "not right in either",
                              "only_a": "only in A", "only_b": "only in B"}


def flip_kind(a: dict[str, Any] | None, b: dict[str, Any] | None) -> FlipKind:
    """How an item changed from run A to run B (one of :data:`FlipKind`; an error or a failed extraction
    is not right)."""
    if a is None or b is None:
        return "only_b" if a is None else "only_a"
    return {(True, False): "right_to_wrong", (False, True): "wrong_to_right", (True, True): "both_right",
            (False, False): "both_wrong"}[(bool(a["correct"]), bool(b["correct"]))]


def compare_rows(rows_a: Sequence[dict[str, Any]], rows_b: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items of two runs matched by qid (A's order, then B-only items): ``qid``, ``video``, ``gold``, ``a``,
    ``b`` (the :func:`item_rows` dicts, ``None`` where a run lacks the item) and ``flip``."""
    by_b = {r["qid"]: r for r in rows_b}
    qids = [r["qid"] for r in rows_a] + [r["qid"] for r in rows_b if r["qid"] not in {x["qid"] for x in rows_a}]
    by_a = {r["qid"]: r for r in rows_a}
    out = []
    for qid in qids:
        a, b = by_a.get(qid), by_b.get(qid)
        first = a or b
        out.append({"qid": qid, "video": first["video"], "gold": first["gold"], "a": a, "b": b,
                    "flip": flip_kind(a, b)})
    return out


def _csv_cells(row: dict[str, Any] | None) -> dict[str, Any]:
    if row is None:
        return dict.fromkeys(ITEM_COLUMNS, "")
    return {**row, "correct": int(bool(row["correct"])),
            "best_iou": "" if row["best_iou"] is None else f"{row['best_iou']:.4f}"}


COMPARE_RUN_COLUMNS: tuple[str, ...] = ("pred", "correct", "steps", "zooms", "best_iou", "seconds", "error")


def render_csv(rows: Sequence[dict[str, Any]], other_rows: Sequence[dict[str, Any]] | None = None) -> str:
    """The per-item rows as CSV (header :data:`ITEM_COLUMNS`; ``correct`` as 1/0, no IoU as an empty cell).

    With ``other_rows`` (a second run): ``qid, video, gold``, then :data:`COMPARE_RUN_COLUMNS` suffixed
    ``_a`` and ``_b`` (empty where a run lacks the item), then ``flip`` (:data:`FlipKind`)."""
    buffer = io.StringIO()
    if other_rows is None:
        writer = csv.DictWriter(buffer, fieldnames=list(ITEM_COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(_csv_cells(row) for row in rows)
        return buffer.getvalue()
    fields = ["qid", "video", "gold", *(f"{c}_{t}" for t in "ab" for c in COMPARE_RUN_COLUMNS), "flip"]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for item in compare_rows(rows, other_rows):
        cells = {"qid": item["qid"], "video": item["video"], "gold": item["gold"], "flip": item["flip"]}
        for tag in "ab":
            run_cells = _csv_cells(item[tag])
            cells.update({f"{c}_{tag}": run_cells[c] for c in COMPARE_RUN_COLUMNS})
        writer.writerow(cells)
    return buffer.getvalue()


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def zoom_statistics(run: RunData) -> dict[str, Any]:
    """Steps and zooms per question, zoom lengths, IoU of zoom clips with annotated evidence, stop reasons."""
    steps, zooms, lengths, ious, forced, reasons = [], [], [], [], 0, {}
    for row in run.items:
        episode = row.episode
        if row.error is not None or not episode:
            continue
        steps.append(len(episode.get("steps", [])))
        clips = episode.get("clips") or []
        zooms.append(len(clips))
        lengths.extend(float(e) - float(s) for s, e in clips)
        forced += any(s.get("kind") == "forced_answer" for s in episode.get("steps", []))
        for step in episode.get("steps", []):
            reason = step.get("stop_reason")
            if reason:
                reasons[reason] = reasons.get(reason, 0) + 1
        evidence = row.sample.get("evidence") or []
        if evidence and clips:
            ious.append(_best_iou(clips, evidence))
    return {
        "num_episodes": len(steps), "steps_per_question": mean(steps) if steps else 0.0,
        "zooms_per_question": mean(zooms) if zooms else 0.0,
        "mean_zoom_seconds": mean(lengths) if lengths else 0.0, "forced_answer_rate": forced / len(steps) if steps else 0.0,
        "num_with_evidence": len(ious), "mean_best_iou_with_evidence": mean(ious) if ious else None,
        "evidence_hit_rate": sum(i > 0 for i in ious) / len(ious) if ious else None, "stop_reasons": reasons,
    }


def cost_statistics(run: RunData) -> dict[str, Any]:
    """Ledger totals and per-question means (tokens, frames, seconds)."""
    totals = dict.fromkeys(_LEDGER_KEYS, 0.0)
    count = 0
    for row in run.items:
        ledger = (row.episode or {}).get("ledger") or {}
        if not ledger:
            continue
        count += 1
        for key in _LEDGER_KEYS:
            totals[key] += float(ledger.get(key, 0) or 0)
    per = {f"{k}_per_question": (v / count if count else 0.0) for k, v in totals.items()}
    return {"num_with_ledger": count, "totals": totals, **per}


def summarize(run: RunData, *, extractor: ExtractorMode = "default") -> dict[str, Any]:
    """Everything the report shows, as one JSON-serialisable dict."""
    config = run.config
    name = config.get("benchmark", "")
    bench = benchmark_class(name)
    items = score_run(run, extractor=extractor)
    metrics = aggregate(items, breakdown_keys=bench.breakdown_keys, macro_key=bench.macro_key,
                        expected_groups=bench.expected_groups)
    errors: dict[str, int] = {}
    for row in run.items:
        if row.error:
            kind = row.error.split(":")[0]
            errors[kind] = errors.get(kind, 0) + 1
    policy = config.get("policy") or {}
    subtitles = None
    if config.get("subtitles"):
        statuses: dict[str, int] = {}
        for row in run.items:
            status = (row.sample.get("subtitles") or {}).get("status", "unknown")
            statuses[status] = statuses.get(status, 0) + 1
        subtitles = {"mode": config.get("subtitle_mode", "fast"), "status": dict(sorted(statuses.items()))}
    return {
        "benchmark": name, "run_dir": str(run.run_dir), "config_hash": run.config_hash, "model": config.get("model"),
        "method": config.get("method"), "policy_preset": policy.get("name", config.get("method")),
        "probe": config.get("probe", "none"), "probe_seed": config.get("probe_seed"),
        "prompt_preset": config.get("prompt_preset"), "data_revision": config.get("data_revision"),
        "subtitles": subtitles, "extractor": extractor, **metrics, "error_kinds": errors,
        "zoom": zoom_statistics(run), "cost": cost_statistics(run),
        "provenance": run.provenance[-1] if run.provenance else {},
        "failed_items": [{"qid": r.qid, "video": str(r.sample.get("video_path") or ""), "error": r.error}
                         for r in run.items if r.error][:50],
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


_NUMERIC_CELL = re.compile(r"^(?:-|[-+]?[\d.,]+%?(?: \(.*\))?|[\d,]+ / [\d,]+)$")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], *,
                   right: Sequence[bool] | None = None) -> list[str]:
    """A Markdown table padded to aligned columns (readable as plain text): a column whose cells are all
    numbers (``12.5``, ``61.0 (300)``, ``3 / 4``, ``-``) is right-aligned, any other left-aligned;
    the first column is always left-aligned. ``right`` overrides the choice per column."""
    columns = list(zip(header, *rows, strict=True))
    widths = [max(3, *(len(str(cell)) for cell in column)) for column in columns]
    if right is None:
        right = [i > 0 and bool(rows) and all(_NUMERIC_CELL.match(str(c)) for c in column[1:])
                 for i, column in enumerate(columns)]

    def line(cells: Sequence[str]) -> str:
        padded = [str(c).rjust(w) if r else str(c).ljust(w) for c, w, r in zip(cells, widths, right, strict=True)]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if r else ("-" * (w + 2)) for w, r in zip(widths, right,
                                                                                         strict=True)) + "|"
    return [line(header), rule, *(line(r) for r in rows)]


def run_label(summary: dict[str, Any]) -> str:
    """``model (method[, probe P], config-hash prefix)``: how a run is named in reports."""
    probe = summary.get("probe") or "none"
    return (f"{summary['model']} ({summary['method']}{'' if probe == 'none' else ', probe ' + probe}, "
            f"{summary['config_hash'][:8]})")


# (label, value getter, kind): kind "pct" (a fraction shown in percent; deltas in points), "int", or a
# format spec for floats. One list for the Markdown table and the HTML explorer.
HEADLINE: tuple[tuple[str, Any, str], ...] = (
    ("accuracy (official)", lambda r: r["accuracy"], "pct"),
    ("micro accuracy", lambda r: r["micro_accuracy"], "pct"),
    ("items", lambda r: r["num_items"], "int"),
    ("scored", lambda r: r["num_scored"], "int"),
    ("errors", lambda r: r["num_errors"], "int"),
    ("extraction failures", lambda r: r["num_extraction_failures"], "int"),
    ("steps per question", lambda r: r["zoom"]["steps_per_question"], ".2f"),
    ("zooms per question", lambda r: r["zoom"]["zooms_per_question"], ".2f"),
    ("forced-answer rate (%)", lambda r: r["zoom"]["forced_answer_rate"], "pct"),
    ("mean zoom length (s)", lambda r: r["zoom"]["mean_zoom_seconds"], ".1f"),
    ("best IoU with evidence", lambda r: r["zoom"]["mean_best_iou_with_evidence"], ".3f"),
    ("evidence hit rate (%)", lambda r: r["zoom"]["evidence_hit_rate"], "pct"),
    ("prompt tokens / question", lambda r: r["cost"]["prompt_tokens_per_question"], ",.0f"),
    ("completion tokens / question", lambda r: r["cost"]["completion_tokens_per_question"], ",.0f"),
    ("vision tokens / question", lambda r: r["cost"]["vision_tokens_per_question"], ",.0f"),
    ("frames decoded / question", lambda r: r["cost"]["frames_decoded_per_question"], ",.0f"),
    ("frames from cache / question", lambda r: r["cost"]["frames_cached_per_question"], ",.0f"),
    ("seconds / question", lambda r: r["cost"]["total_seconds_per_question"], ".2f"),
)


def format_value(value: float | None, kind: str) -> str:
    """A headline value as text (``-`` for none): ``pct`` in percent with one decimal, ``int`` with
    thousands separators, else the format spec."""
    if value is None:
        return "-"
    if kind == "pct":
        return f"{100 * value:.1f}"
    if kind == "int":
        return f"{int(value):,}"
    return format(float(value), kind)


def format_delta(a: float | None, b: float | None, kind: str) -> str:
    """``b - a`` with its sign (``pct``: in percentage points), ``-`` when either is missing."""
    if a is None or b is None:
        return "-"
    diff = (b - a) * (100 if kind == "pct" else 1)
    if kind == "int":
        return f"{int(diff):+,}"
    spec = ".1f" if kind == "pct" else kind.lstrip(",")
    return f"{diff:+{spec}}"


def _title(summary: dict[str, Any], other: dict[str, Any] | None) -> str:
    if other is None:
        title = f"# {summary['benchmark']}: {_pct(summary['accuracy'])} ({summary['aggregation']})"
    else:
        title = (f"# {summary['benchmark']}: A {_pct(summary['accuracy'])} vs B {_pct(other['accuracy'])} "
                 f"({format_delta(summary['accuracy'], other['accuracy'], 'pct')} points; {summary['aggregation']})")
    for r, tag in ((summary, "A"), (other, "B")):
        probe = (r or {}).get("probe") or "none"
        title += "" if probe == "none" else f" [probe{' ' + tag if other else ''}: {probe}]"
    if summary.get("subtitles"):
        title += f" [subtitles: {summary['subtitles']['mode']}]"
    return title


def breakdown_rows(key: str, runs: Sequence[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any] | None]]]:
    """Labels of breakdown ``key`` over all runs (first run's order, then new ones) with each run's cell."""
    labels: list[str] = []
    for r in runs:
        labels += [label for label in r["breakdowns"].get(key, {}) if label not in labels]
    return [(label, [r["breakdowns"].get(key, {}).get(label) for r in runs]) for label in labels]


def render_markdown(summary: dict[str, Any], other: dict[str, Any] | None = None) -> str:
    """A Markdown report with aligned columns; with ``other``, columns ``A``, ``B`` and ``Δ (B − A)``."""
    runs = [summary] + ([other] if other else [])
    lines = [_title(summary, other), ""]
    if other is not None:
        lines += [f"- A: {run_label(summary)}, {summary['run_dir']}", f"- B: {run_label(other)}, {other['run_dir']}",
                  ""]
        head = ["", "A", "B", "Δ (B − A)"]
    else:
        head = ["", run_label(summary)]
    body: list[list[str]] = [["probe", *((r.get("probe") or "none") + (
        f" (seed {r['probe_seed']})" if r.get("probe_seed") is not None else "") for r in runs)]]
    if any(r.get("subtitles") for r in runs):
        body.append(["subtitles", *("off" if not r.get("subtitles") else r["subtitles"]["mode"] + " (" + ", ".join(
            f"{count} {status}" for status, count in r["subtitles"]["status"].items()) + ")" for r in runs)])
    if other is not None:
        for row in body:
            row.append("")
    for label, getter, kind in HEADLINE:
        values = [getter(r) for r in runs]
        row = [label, *(format_value(v, kind) for v in values)]
        if label == "extraction failures":
            row[1:] = [f"{cell} ({_pct(r['extraction_failure_rate'])}%)" for cell, r in zip(row[1:], runs, strict=True)]
        if other is not None:
            row.append(format_delta(values[0], values[1], kind))
        body.append(row)
    lines += markdown_table(head, body, right=[False] + [True] * (len(head) - 1))
    for r, tag in ((summary, "A: "), (other, "B: ")):
        if r is not None and r.get("warning"):
            lines += ["", f"**Warning** ({tag if other else ''}{r['benchmark']}): {r['warning']}"]
    keys = list(summary["breakdowns"]) + [k for k in (other or {}).get("breakdowns", {}) if k not in summary["breakdowns"]]
    for key in keys:
        table_rows = []
        for label, cells in breakdown_rows(key, runs):
            row = [label, *("-" if c is None else f"{_pct(c['accuracy'])} ({c['total']})" for c in cells)]
            if other is not None:
                row.append(format_delta(*(None if c is None else c["accuracy"] for c in cells), "pct"))
            table_rows.append(row)
        header = [key, "acc (n)"] if other is None else [key, "A acc (n)", "B acc (n)", "Δ (B − A)"]
        lines += ["", f"## by {key}", ""] + markdown_table(header, table_rows)
    for r, tag in ((summary, " (A)"), (other, " (B)")):
        if r is None or not r["error_kinds"]:
            continue
        lines += ["", f"## errors{tag if other else ''}", ""]
        lines += [f"- {item['qid']}: {item['error']}" + ("" if not item["video"] or item["video"] in item["error"]
                                                          else f" (video {item['video']})") for item in r["failed_items"]]
        if r["num_errors"] > len(r["failed_items"]):
            lines.append(f"- ... {r['num_errors'] - len(r['failed_items'])} more (`--format csv` lists every item)")
    return "\n".join(lines) + "\n"
