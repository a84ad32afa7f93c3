"""Run summaries: official aggregation, breakdowns, zoom statistics, cost ledger; Markdown / HTML / JSON / CSV.

:func:`summarize` is pure over a :class:`~love_r1.eval.store.RunData`; it re-extracts every
answer with the chosen extractor, so ``love-r1 rescore`` and ``love-r1 report`` agree.
:func:`item_rows` / :func:`render_csv` give the per-item table (one row per question).
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Sequence
from statistics import mean
from typing import Any

from love_r1.eval.benchmarks import benchmark_class
from love_r1.eval.extract import ExtractorMode, extract_choice
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
            predicted = extract_choice(text, sample["options"], mode=extractor)
        items.append(ScoredItem(qid=row.qid, gold=sample["answer_letter"], predicted=predicted, error=row.error,
                                categories=sample.get("categories", {})))
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


def render_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The per-item rows as CSV (header :data:`ITEM_COLUMNS`; ``correct`` as 1/0, no IoU as an empty cell)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(ITEM_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "correct": int(bool(row["correct"])),
                         "best_iou": "" if row["best_iou"] is None else f"{row['best_iou']:.4f}"})
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
        "failed_items": [{"qid": r.qid, "error": r.error} for r in run.items if r.error][:50],
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


def _run_label(r: dict[str, Any]) -> str:
    probe = r.get("probe") or "none"
    return f"{r['model']} ({r['method']}{'' if probe == 'none' else ', probe ' + probe}, {r['config_hash'][:8]})"


def render_markdown(summary: dict[str, Any], other: dict[str, Any] | None = None) -> str:
    """A Markdown report with aligned columns (two columns of numbers when ``other`` is given)."""
    runs = [summary] + ([other] if other else [])
    probe = summary.get("probe") or "none"
    title = f"# {summary['benchmark']}: {_pct(summary['accuracy'])} ({summary['aggregation']})"
    title += "" if probe == "none" else f" [probe: {probe}]"
    if summary.get("subtitles"):
        title += f" [subtitles: {summary['subtitles']['mode']}]"
    lines = [title, ""]
    head = ["", *(_run_label(r) for r in runs)]
    body: list[list[str]] = []

    def row(label: str, getter) -> None:
        body.append([label, *(getter(r) for r in runs)])

    row("probe", lambda r: (r.get("probe") or "none") + (f" (seed {r['probe_seed']})" if r.get("probe_seed")
                                                          is not None else ""))
    if any(r.get("subtitles") for r in runs):
        row("subtitles", lambda r: "off" if not r.get("subtitles") else r["subtitles"]["mode"] + " (" + ", ".join(
            f"{count} {status}" for status, count in r["subtitles"]["status"].items()) + ")")
    row("accuracy (official)", lambda r: _pct(r["accuracy"]))
    row("micro accuracy", lambda r: _pct(r["micro_accuracy"]))
    row("items / scored", lambda r: f"{r['num_items']} / {r['num_scored']}")
    row("errors", lambda r: str(r["num_errors"]))
    row("extraction failures", lambda r: f"{r['num_extraction_failures']} ({_pct(r['extraction_failure_rate'])}%)")
    row("steps per question", lambda r: f"{r['zoom']['steps_per_question']:.2f}")
    row("zooms per question", lambda r: f"{r['zoom']['zooms_per_question']:.2f}")
    row("mean zoom length (s)", lambda r: f"{r['zoom']['mean_zoom_seconds']:.1f}")
    row("best IoU with evidence", lambda r: "-" if r["zoom"]["mean_best_iou_with_evidence"] is None
        else f"{r['zoom']['mean_best_iou_with_evidence']:.3f}")
    row("prompt tokens / question", lambda r: f"{r['cost']['prompt_tokens_per_question']:,.0f}")
    row("completion tokens / question", lambda r: f"{r['cost']['completion_tokens_per_question']:,.0f}")
    row("frames decoded / question", lambda r: f"{r['cost']['frames_decoded_per_question']:,.0f}")
    row("frames from cache / question", lambda r: f"{r['cost']['frames_cached_per_question']:,.0f}")
    row("seconds / question", lambda r: f"{r['cost']['total_seconds_per_question']:.2f}")
    lines += markdown_table(head, body, right=[False] + [True] * len(runs))
    if summary.get("warning"):
        lines += ["", f"**Warning:** {summary['warning']}"]
    for key, table in summary["breakdowns"].items():
        labels = list(table) + [k for k in (other or {}).get("breakdowns", {}).get(key, {}) if k not in table]
        table_rows = []
        for label in labels:
            cells = [label]
            for r in runs:
                cell = r["breakdowns"].get(key, {}).get(label)
                cells.append("-" if cell is None else f"{_pct(cell['accuracy'])} ({cell['total']})")
            table_rows.append(cells)
        lines += ["", f"## by {key}", ""] + markdown_table([key, *("acc (n)" for _ in runs)], table_rows)
    if summary["error_kinds"]:
        lines += ["", "## errors", ""] + [f"- {k}: {v}" for k, v in summary["error_kinds"].items()]
    return "\n".join(lines) + "\n"


def _svg_bars(table: dict[str, dict[str, Any]], *, title: str) -> str:
    width, bar_h, gap, left = 520, 18, 6, 120
    labels = list(table)
    height = 30 + len(labels) * (bar_h + gap)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">',
             f'<text x="4" y="16" font-size="13" font-weight="bold">{html.escape(title)}</text>']
    for index, label in enumerate(labels):
        y = 26 + index * (bar_h + gap)
        acc = float(table[label]["accuracy"])
        w = (width - left - 70) * acc
        parts.append(f'<text x="4" y="{y + 13}" font-size="12">{html.escape(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="#4a7bd0"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 13}" font-size="12">{100 * acc:.1f}% '
                     f'(n={table[label]["total"]})</text>')
    return "".join(parts) + "</svg>"


def _svg_zooms(run: RunData, *, max_rows: int = 40) -> str:
    rows = [r for r in run.items if r.episode and r.episode.get("video", {}).get("duration_seconds")][:max_rows]
    if not rows:
        return ""
    width, row_h, left = 640, 12, 150
    height = 34 + len(rows) * row_h
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">',
             '<text x="4" y="14" font-size="13" font-weight="bold">zoom clips (blue) vs evidence (green), '
             'time normalised to the video length</text>']
    span = width - left - 10
    for index, row in enumerate(rows):
        y = 24 + index * row_h
        duration = float(row.episode["video"]["duration_seconds"])
        parts.append(f'<text x="4" y="{y + 9}" font-size="9">{html.escape(row.qid[:24])}</text>')
        parts.append(f'<rect x="{left}" y="{y + 4}" width="{span}" height="2" fill="#ccc"/>')
        for s, e in row.sample.get("evidence") or []:
            parts.append(f'<rect x="{left + span * s / duration:.1f}" y="{y}" width="{max(span * (e - s) / duration, 1):.1f}" '
                         f'height="10" fill="#3a3" opacity="0.5"/>')
        for s, e in row.episode.get("clips") or []:
            parts.append(f'<rect x="{left + span * s / duration:.1f}" y="{y + 2}" width="{max(span * (e - s) / duration, 1):.1f}" '
                         f'height="6" fill="#36c"/>')
    return "".join(parts) + "</svg>"


def render_html(summary: dict[str, Any], run: RunData, other: dict[str, Any] | None = None) -> str:
    """A self-contained HTML page: the Markdown tables as HTML plus inline SVG plots."""
    body = []
    for line in render_markdown(summary, other).splitlines():
        if line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("|---"):
            continue
        elif line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            body.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
        elif line.strip():
            body.append(f"<p>{html.escape(line)}</p>")
    out, table_open = [], False
    for part in body:
        if part.startswith("<tr>") and not table_open:
            out.append("<table>")
            table_open = True
        if not part.startswith("<tr>") and table_open:
            out.append("</table>")
            table_open = False
        out.append(part)
    if table_open:
        out.append("</table>")
    plots = []
    duration = summary["breakdowns"].get("duration")
    if duration:
        plots.append(_svg_bars(duration, title="accuracy by duration"))
    plots.append(_svg_zooms(run))
    style = ("body{font-family:sans-serif;max-width:960px;margin:2em auto}table{border-collapse:collapse;margin:1em 0}"
             "td{border:1px solid #ddd;padding:3px 8px}tr:first-child td{font-weight:bold;background:#f4f4f4}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(summary['benchmark'])} report</title>"
            f"<style>{style}</style></head><body>{''.join(out)}<h2>plots</h2>{''.join(plots)}"
            f"<h2>configuration</h2><pre>{html.escape(json.dumps(run.config, indent=2, sort_keys=True))}</pre>"
            "</body></html>")
