"""The results explorer: one self-contained HTML page per run (or per pair of runs) for finding failure modes.

``render_explorer(run, other)`` builds the page ``love-r1 report RUN [RUN_B] --format html`` writes:
headline numbers and the official breakdowns (per run, with deltas), a per-item table with faceted
filters (result, categories, duration group, zoom count, zoom-vs-evidence IoU, how the episode ended,
and in a comparison the flips), readable plots that follow the filter, the errors with item, file and
message, the configurations and their differences. Each row opens that item's trace
(:func:`love_r1.viz.render_trace_fragment`): the fragments are gzip-compressed in chunks and only
decompressed (``DecompressionStream``) and rendered when opened, so a 2,700-item run stays a few MB.
Pictures (fast-view thumbnails, zoom-clip frames) are decoded for a bounded number of items, the
failures first (``frame_items``); ``love-r1 trace RUN QID`` writes any item's full page.

The page needs no network: inline CSS, JS and data, no fonts or scripts fetched.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from love_r1.eval.extract import ExtractorMode
from love_r1.eval.records import stored_gold
from love_r1.eval.report import (
    FLIP_NAMES,
    HEADLINE,
    breakdown_rows,
    flip_kind,
    format_delta,
    format_value,
    item_rows,
    item_status,
    run_label,
    summarize,
)
from love_r1.eval.store import ItemRow, RunData

logger = logging.getLogger(__name__)

CHUNK_ITEMS = 32
STATUS_NAMES = {"correct": "correct", "wrong": "wrong", "no_answer": "no answer", "error": "error"}
IOU_BUCKETS = ("no evidence", "0 (missed)", "(0, 0.25)", "[0.25, 0.5)", "[0.5, 1]", "n/a (error)")
_STOP_NAMES = {"step_limit": "step limit", "no_box": "no box", "parse_error": "unparseable reply",
               "too_short": "zoom too short", "repeat_iou": "repeated zoom", "forced": "forced at once",
               "token_budget": "token budget", "short_video": "short video"}


def iou_bucket(row: dict[str, Any]) -> str:
    """The IoU facet value of an item row (:data:`IOU_BUCKETS`)."""
    if row["error"]:
        return IOU_BUCKETS[5]
    iou = row["best_iou"]
    if iou is None:
        return IOU_BUCKETS[0]
    if iou <= 0:
        return IOU_BUCKETS[1]
    return IOU_BUCKETS[2] if iou < 0.25 else IOU_BUCKETS[3] if iou < 0.5 else IOU_BUCKETS[4]


def ended_by(episode: dict[str, Any] | None, error: str | None) -> str:
    """How an episode ended: ``answered``, ``forced: <why>``, ``no model call`` or ``error``."""
    if error:
        return "error"
    steps = (episode or {}).get("steps") or []
    if not steps:
        return "no model call"
    last = steps[-1]
    if last.get("kind") == "forced_answer":
        reason = str(last.get("stop_reason") or "forced")
        return "forced: " + _STOP_NAMES.get(reason, reason.replace("_", " "))
    return "answered" if last.get("kind") == "answer" else str(last.get("kind"))


def zoom_count(row: dict[str, Any]) -> str:
    """The zoom-count facet value: the number of zoom clips, ``n/a`` for an errored item."""
    return "n/a" if row["error"] else str(row["zooms"])


def item_episode(row: ItemRow) -> dict[str, Any]:
    """The item's episode for a trace page, completed from the stored sample (options, evidence, gold),
    or a stand-in episode that carries the item's error when it never ran."""
    sample = row.sample
    episode = dict(row.episode) if row.episode else {  # top-level keys are replaced, never mutated
        "episode_id": row.qid, "video": {"path": str(sample.get("video_path") or "")},
        "question": sample.get("question_text") or sample.get("question", ""), "steps": []}
    if not episode.get("options"):
        episode["options"] = list(sample.get("options") or [])
    if episode.get("evidence") is None and sample.get("evidence"):
        episode["evidence"] = [list(e) for e in sample["evidence"]]
    if episode.get("gold") is None:
        episode["gold"] = stored_gold(sample) or None
    if row.error and not episode.get("error"):
        episode["error"] = row.error
    return episode


def item_frames(episode: dict[str, Any], *, probe: str | None, num_thumbnails: int,
                max_frames_per_clip: int | None, thumbs_by_video: dict[Any, Any] | None = None) -> Any:
    """:func:`love_r1.viz.trace_frames` for a stored item; under the ``no-visual`` probe the model saw black
    frames, so no zoom-clip frames are drawn and a note says so. ``thumbs_by_video`` (a dict the caller
    keeps) reuses the thumbnails another item decoded from the same part of the same video (its file, window,
    duration and time base: the thumbnails are spread over the window and timed on the episode's timeline)."""
    from love_r1.viz import TraceFrames, trace_frames

    info = episode.get("video") or {}
    window = info.get("window")
    video = (str(info.get("path") or ""), None if window is None else tuple(window), info.get("duration_seconds"),
             (episode.get("policy") or {}).get("time_base"))
    cached = None if thumbs_by_video is None else thumbs_by_video.get(video)
    frames = trace_frames(episode, num_thumbnails=0 if cached is not None else num_thumbnails,
                          max_frames_per_clip=0 if probe == "no-visual" else max_frames_per_clip)
    if cached is not None:
        frames = TraceFrames(cached, frames.clips, frames.notes)
    elif thumbs_by_video is not None and frames.thumbs:
        thumbs_by_video[video] = frames.thumbs
    if probe == "no-visual":
        note = "no-visual probe: the model saw one black frame per clip and no fast-view pictures"
        frames = TraceFrames(frames.thumbs, (), (*frames.notes, note))
    return frames


def _facets(categories: list[str], runs: int) -> list[dict[str, Any]]:
    facets = [{"id": "flip", "label": "A → B", "run": None, "names": FLIP_NAMES}] if runs == 2 else []
    for tag in ("A", "B")[:runs]:
        suffix = f" ({tag})" if runs == 2 else ""
        run = 0 if tag == "A" else 1
        facets += [
            {"id": f"result{tag}", "label": "result" + suffix, "run": run, "names": STATUS_NAMES},
            {"id": f"zooms{tag}", "label": "zoom clips" + suffix, "run": run},
            {"id": f"iou{tag}", "label": "best IoU with evidence" + suffix, "run": run},
            {"id": f"ended{tag}", "label": "ended by" + suffix, "run": run},
        ]
    facets += [{"id": f"cat:{key}", "label": key, "run": None, "multi": True} for key in categories]
    return facets


def _category_keys(runs: Sequence[RunData], summaries: Sequence[dict[str, Any]]) -> list[str]:
    keys: list[str] = []
    for summary in summaries:
        keys += [k for k in summary["breakdowns"] if "/" not in k and k not in keys]
    for run in runs:
        for row in run.items:
            keys += [k for k in row.sample.get("categories") or {} if "/" not in k and k not in keys]
    return keys


def _labels(value: Any) -> list[str]:
    values = value if isinstance(value, list | tuple) else [value]
    return [str(v) for v in values if v not in (None, "")]


def _fraction_intervals(intervals: Sequence[Sequence[float]] | None, duration: float) -> list[list[float]]:
    if not intervals or duration <= 0:
        return []
    return [[round(float(s) / duration, 4), round(float(e) / duration, 4)] for s, e in intervals]


def _gzip_b64(payload: Any) -> str:
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).decode("ascii")


def _frame_order(entries: list[dict[str, Any]]) -> list[int]:
    """Item indices in the order their pictures are decoded: flips first, then failures, then the rest."""
    def rank(entry: dict[str, Any]) -> int:
        flip = entry.get("flip")
        if flip in ("right_to_wrong", "wrong_to_right"):
            return 0
        statuses = [r["status"] for r in entry["rows"] if r is not None]
        return 1 if any(s in ("wrong", "no_answer") for s in statuses) else 2
    return sorted(range(len(entries)), key=lambda i: (rank(entries[i]), i))


def render_explorer(
    run: RunData,
    other: RunData | None = None,
    *,
    extractor: ExtractorMode = "default",
    items: int | None = None,
    frame_items: int = 40,
    num_thumbnails: int = 12,
    frames_per_clip: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> str:
    """The explorer page for ``run`` (and ``other``, the run B of a comparison) as a string.

    Args:
        extractor: answer extractor used for scoring (as ``love-r1 report --extractor``).
        items: embed only the first N items in the table (count; ``None`` or -1: all). Numbers and
            breakdowns always cover every item.
        frame_items: items whose traces carry pictures, decoded from the videos (count; -1: all; 0: none);
            flipped items first, then wrong ones, then the rest.
        num_thumbnails: fast-view thumbnails per trace with pictures (count).
        frames_per_clip: zoom-clip frames shown per clip (count; an even subset of what the model got).
        progress: called as ``progress(done, total)`` while the pictures are decoded.
    """
    from love_r1.viz import Score, TraceFrames, render_trace_fragment
    from love_r1.viz.trace import static_text

    runs = [run] + ([other] if other is not None else [])
    summaries = [summarize(r, extractor=extractor) for r in runs]
    rows = [item_rows(r, extractor=extractor) for r in runs]
    by_qid = [{row.qid: (row, item) for row, item in zip(r.items, rs, strict=True)} for r, rs in zip(runs, rows,
                                                                                                    strict=True)]
    qids = [row.qid for row in run.items]
    if other is not None:
        known = set(qids)
        qids += [row.qid for row in other.items if row.qid not in known]
    total_items = len(qids)
    if items is not None and items >= 0:
        qids = qids[:items]
    categories = _category_keys(runs, summaries)
    add_duration = not any(k == "duration" for k in categories)
    if add_duration:
        categories.append("duration group")
    facets = _facets(categories, len(runs))
    values: dict[str, list[str]] = {f["id"]: [] for f in facets}

    def index(facet: str, value: str) -> int:
        table = values[facet]
        if value not in table:
            table.append(value)
        return table.index(value)

    videos: list[str] = []
    entries: list[dict[str, Any]] = []
    for qid in qids:
        pairs = [m.get(qid) for m in by_qid]
        first = next(p for p in pairs if p is not None)[0]
        sample = first.sample
        video = str(sample.get("video_path") or "")
        if video not in videos:
            videos.append(video)
        duration = float(sample.get("duration_seconds") or 0.0)
        for pair in pairs:
            if pair is not None and pair[0].episode:
                duration = float((pair[0].episode.get("video") or {}).get("duration_seconds") or duration)
                break
        facet_values: dict[str, Any] = {}
        run_data: list[dict[str, Any] | None] = []
        for tag, pair in zip(("A", "B"), pairs, strict=False):
            if pair is None:
                run_data.append(None)
                continue
            row, item = pair
            status = item_status(item)
            episode = row.episode or {}
            ledger = episode.get("ledger") or {}
            facet_values[f"result{tag}"] = index(f"result{tag}", status)
            facet_values[f"zooms{tag}"] = index(f"zooms{tag}", zoom_count(item))
            facet_values[f"iou{tag}"] = index(f"iou{tag}", iou_bucket(item))
            facet_values[f"ended{tag}"] = index(f"ended{tag}", ended_by(row.episode, row.error))
            run_data.append({
                "p": item["pred"], "s": status, "z": item["zooms"], "i": item["best_iou"], "n": item["steps"],
                "k": int((ledger.get("prompt_tokens") or 0) + (ledger.get("completion_tokens") or 0)),
                "t": item["seconds"], "e": item["error"] or None,
                "w": _fraction_intervals(episode.get("clips"), duration),
            })
        if other is not None:
            flip = flip_kind(*(None if p is None else p[1] for p in pairs))
            facet_values["flip"] = index("flip", flip)
        cats = sample.get("categories") or {}
        for key in categories:
            raw = sample.get("duration_bucket") if key == "duration group" else cats.get(key)
            facet_values[f"cat:{key}"] = [index(f"cat:{key}", label) for label in _labels(raw)] or None
        entries.append({
            "q": qid, "v": videos.index(video), "g": stored_gold(sample), "d": round(duration, 3),
            "ev": _fraction_intervals(sample.get("evidence"), duration), "r": run_data,
            "f": [facet_values.get(f["id"]) for f in facets],
            "cat": [", ".join(_labels(sample.get("duration_bucket") if k == "duration group" else cats.get(k)))
                    for k in categories],
            "flip": flip if other is not None else None,
            "rows": [None if p is None else {"status": item_status(p[1])} for p in pairs],
        })
    _order_values(facets, values)
    for entry in entries:  # re-map value indices after ordering
        entry["f"] = [_remap(v, facet["_map"]) for v, facet in zip(entry["f"], facets, strict=True)]
    for facet in facets:
        facet["values"] = values[facet["id"]]
        facet.pop("_map")

    # pictures for a bounded number of items, failures first; traces for every item, gzip'ed in chunks
    limit = len(entries) if frame_items < 0 else min(frame_items, len(entries))
    with_frames = set(_frame_order(entries)[:limit])
    probes = [s.get("probe") for s in summaries]
    thumbs_by_video: dict[Any, Any] = {}
    fragments: list[list[str | None]] = []
    done = 0
    for number, entry in enumerate(entries):
        per_run: list[str | None] = []
        for k, (tag, pair) in enumerate(zip(("A", "B"), (m.get(entry["q"]) for m in by_qid), strict=False)):
            if pair is None:
                per_run.append(None)
                continue
            row, item = pair
            episode = item_episode(row)
            frames = None
            if number in with_frames and row.episode:
                frames = item_frames(episode, probe=probes[k], num_thumbnails=num_thumbnails,
                                     max_frames_per_clip=frames_per_clip, thumbs_by_video=thumbs_by_video)
                entry["r"][k]["fr"] = 1
            elif row.episode:
                frames = TraceFrames(notes=(f"pictures are embedded for {limit} items (--frame-items); "
                                            f"`love-r1 trace {runs[k].run_dir} {entry['q']}` writes this item's "
                                            "page with the fast-view thumbnails and every zoom-clip frame",))
            heading = f"{'run ' + tag + ' · ' if other is not None else ''}{entry['q']}"
            score = Score(item["pred"] or None, bool(item["correct"]), extractor) if not row.error else None
            per_run.append(render_trace_fragment(episode, frames=frames, score=score, raw_json=False,
                                                 id_prefix=f"i{number}{tag}-", heading=heading))
        if number in with_frames:
            done += 1
            if progress is not None:
                progress(done, limit)
        fragments.append(per_run)
        entry.pop("rows")
        entry.pop("flip")
    chunks = [_gzip_b64(fragments[i:i + CHUNK_ITEMS]) for i in range(0, len(fragments), CHUNK_ITEMS)]

    errors = [{"run": k, "qid": row.qid, "video": str(row.sample.get("video_path") or ""), "message": row.error}
              for k, r in enumerate(runs) for row in r.items if row.error]
    headline = []
    for label, getter, kind in HEADLINE:
        raw = [getter(s) for s in summaries]
        headline.append({"label": label, "values": [format_value(v, kind) for v in raw],
                         "delta": format_delta(raw[0], raw[1], kind) if other is not None else None,
                         "better": _better(label)})
    breakdowns = []
    for key in dict.fromkeys([k for s in summaries for k in s["breakdowns"]]):
        table = []
        for label, cells in breakdown_rows(key, summaries):
            table.append({"label": label, "cells": [None if c is None else [c["accuracy"], c["correct"], c["total"]]
                                                    for c in cells],
                          "delta": format_delta(*(None if c is None else c["accuracy"] for c in cells), "pct")
                          if other is not None else None})
        facet_key = f"cat:{key}" if f"cat:{key}" in values else None
        breakdowns.append({"key": key, "facet": facet_key, "rows": table})
    data = {
        "benchmark": summaries[0]["benchmark"], "extractor": extractor,
        "runs": [_run_info(s, r) for s, r in zip(summaries, runs, strict=True)],
        "headline": headline, "breakdowns": breakdowns, "facets": facets, "categories": categories,
        "videos": videos, "items": entries, "total_items": total_items, "errors": errors,
        "chunk_items": CHUNK_ITEMS, "frame_items": limit, "config_diff": _config_diff(runs),
    }
    return _page(data, chunks, static_text)


def _better(label: str) -> int:
    """+1 when a higher value is better, -1 when lower is better, 0 when neither (for delta colours)."""
    if label.startswith(("accuracy", "micro", "scored", "best IoU", "evidence hit")):
        return 1
    if label.startswith(("errors", "extraction failures", "forced", "seconds", "prompt tokens", "completion tokens",
                         "vision tokens", "frames decoded")):
        return -1
    return 0


def _order_values(facets: list[dict[str, Any]], values: dict[str, list[str]]) -> None:
    """Sort each facet's values into a reading order and record the index map in ``facet["_map"]``."""
    fixed = {"result": list(STATUS_NAMES), "iou": list(IOU_BUCKETS), "flip": list(FLIP_NAMES)}
    for facet in facets:
        old = values[facet["id"]]
        base = facet["id"].rstrip("AB") if not facet["id"].startswith("cat:") else "cat"
        if base in fixed:
            new = [v for v in fixed[base] if v in old]
        elif base == "zooms":
            new = sorted(old, key=lambda v: (v == "n/a", int(v) if v.isdigit() else 0))
        elif base == "ended":
            new = sorted(old, key=lambda v: (v != "answered", v.startswith("error"), v))
        else:
            new = sorted(old, key=_natural)
        facet["_map"] = [new.index(v) for v in old]
        values[facet["id"]] = new


def _natural(value: str) -> tuple:
    """Sort key: numbers by value (``<3min`` style buckets and ``600`` keep their order), then text."""
    digits = "".join(c for c in value if c.isdigit() or c == ".")
    try:
        return (0, float(digits), value)
    except ValueError:
        return (1, 0.0, value)


def _remap(value: Any, mapping: list[int]) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return sorted(mapping[v] for v in value)
    return mapping[value]


def _run_info(summary: dict[str, Any], run: RunData) -> dict[str, Any]:
    keep = ("benchmark", "model", "method", "policy_preset", "probe", "probe_seed", "prompt_preset", "config_hash",
            "aggregation", "accuracy", "warning", "num_items", "num_errors", "num_extraction_failures", "subtitles",
            "error_kinds", "zoom", "cost", "provenance", "data_revision")
    return {"label": run_label(summary), "run_dir": str(run.run_dir), "config": run.config,
            "other_configs": run.other_configs, **{k: summary.get(k) for k in keep}}


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(_flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def _config_diff(runs: Sequence[RunData]) -> list[list[Any]]:
    """``[key, value in A, value in B]`` for every configuration entry that differs (flattened keys)."""
    if len(runs) < 2:
        return []
    a, b = _flatten(runs[0].config), _flatten(runs[1].config)
    return [[key, a.get(key), b.get(key)] for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)]


def _script_json(payload: Any) -> str:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>`` or ``<!--`` can end it)."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _page(data: dict[str, Any], chunks: list[str], static_text: Callable[[str], str]) -> str:
    runs = data["runs"]
    title = f"{data['benchmark']} · " + " vs ".join(f"{'AB'[k]}: {r['label']}" for k, r in enumerate(runs))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{html.escape(title)}</title>
<style>{static_text("explorer.css")}{static_text("trace.css")}</style></head>
<body><div id="app"><p class="loading">Loading the explorer… (it needs JavaScript)</p></div>
<div id="panel" hidden></div>
<script type="application/json" id="data">{_script_json(data)}</script>
<script type="application/json" id="traces">{_script_json(chunks)}</script>
<script>{static_text("trace.js")}</script>
<script>{static_text("explorer.js")}</script>
</body></html>
"""


__all__ = ["IOU_BUCKETS", "STATUS_NAMES", "ended_by", "item_episode", "item_frames", "iou_bucket", "render_explorer",
           "zoom_count"]
