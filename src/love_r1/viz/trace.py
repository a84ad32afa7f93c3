"""One episode as a self-contained HTML page: timeline, zoom windows, the frames the model saw, steps, costs.

``write_trace_html(episode_dict, out_path)`` reads the stable ``Episode.to_dict()`` schema and writes a
single file with inline CSS, SVG and a few lines of JS; pictures are base64 JPEG data URIs, so the
page opens offline and can be mailed around. All episode text is escaped.
:func:`render_trace_fragment` is the same content without the page around it (the results explorer
embeds one per item).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from love_r1.agent.steps import shown_reply
from love_r1.viz._media import ClipFrames, Picture, TraceFrames, shown_clips, trace_frames

_STEP_COLOURS = ("#2563eb", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d")
_EVIDENCE_COLOUR = "#16a34a"
_REJECTED_COLOUR = "#dc2626"
_SVG_WIDTH = 1000.0
_LABEL_WIDTH = 190.0
_LANE_HEIGHT = 28.0
_RIGHT_PAD = 28.0
# readable badge text for ``Step.stop_reason`` (the code itself goes in the badge's tooltip)
_STOP_LABELS = {
    "answered": "answered",
    "no_box": "no box in the reply",
    "parse_error": "unparseable reply",
    "too_short": "zoom too short",
    "repeat_iou": "repeated zoom",
    "step_limit": "step limit reached",
    "forced": "answer forced",
    "token_budget": "token budget spent",
    "short_video": "short video, no zoom needed",
}


@dataclass(frozen=True)
class Score:
    """How a run scored the episode (shown in the result block instead of comparing the raw answer).

    Attributes:
        predicted: the letter the extractor read from the answer, ``None`` when it read none.
        correct: whether the item counts as correct.
        extractor: the extractor's name (``default``, ``classic``).
    """

    predicted: str | None
    correct: bool
    extractor: str = "default"


def static_text(name: str) -> str:
    """A file of ``love_r1/viz/static`` (the pages' CSS and JS) as text."""
    return resources.files("love_r1.viz").joinpath("static", name).read_text(encoding="utf-8")


def _e(value: Any) -> str:
    """Escaped text (``None`` -> ``""``)."""
    return "" if value is None else html.escape(str(value), quote=True)


def _num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not math.isfinite(value):
        return _e(value)
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return _e(value)


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _interval(value: Sequence[float] | None) -> str:
    """``[80, 90] s`` (plus ``1:20–1:30`` past the first minute)."""
    if not value:
        return "–"
    start, end = float(value[0]), float(value[1])
    text = f"[{start:g}, {end:g}] s"
    if end >= 60:
        text += f" ({_clock(start)}–{_clock(end)})"
    return text


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    inter = max(0.0, min(float(a[1]), float(b[1])) - max(float(a[0]), float(b[0])))
    union = max(float(a[1]), float(b[1])) - min(float(a[0]), float(b[0]))
    return inter / union if union > 0 else 0.0


def best_iou(interval: Sequence[float], evidence: Sequence[Sequence[float]]) -> float | None:
    """Best IoU of ``interval`` with any evidence interval (``None`` without evidence)."""
    evidence = [e for e in evidence if e]
    return max(_iou(interval, e) for e in evidence) if evidence else None


def _duration(episode: dict[str, Any]) -> float:
    duration = float((episode.get("video") or {}).get("duration_seconds") or 0.0)
    if duration > 0:
        return duration
    ends = [iv[1] for step in episode.get("steps") or () for key in ("requested_interval", "applied_interval")
            for iv in [step.get(key)] if iv]
    ends += [iv[1] for iv in episode.get("evidence") or () if iv]
    return max([1.0, *[float(e) for e in ends]])


def _ticks(duration: float) -> tuple[list[float], bool]:
    """Tick times and whether they read as ``m:ss`` (videos of 2 minutes and more)."""
    raw = duration / 8
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    clock = duration >= 120
    if clock:  # minute-friendly steps
        step = next((s for s in (30, 60, 120, 300, 600, 900, 1800, 3600) if s >= raw), step)
    return [i * step for i in range(int(duration // step) + 1)], clock


def _x(seconds: float, duration: float) -> float:
    span = _SVG_WIDTH - _LABEL_WIDTH - _RIGHT_PAD
    return _LABEL_WIDTH + max(0.0, min(float(seconds), duration)) / duration * span


def _band(interval: Sequence[float], duration: float, y: float, colour: str, *, hollow: bool, title: str,
          href: str | None = None) -> str:
    x0, x1 = _x(interval[0], duration), _x(interval[1], duration)
    width = max(x1 - x0, 2.0)
    style = (f'fill="none" stroke="{colour}" stroke-width="2" stroke-dasharray="5 3"' if hollow
             else f'fill="{colour}" fill-opacity="0.55" stroke="{colour}"')
    rect = (f'<rect x="{x0:.1f}" y="{y + 4:.1f}" width="{width:.1f}" height="{_LANE_HEIGHT - 8:.1f}" rx="3" '
            f'{style}><title>{_e(title)}</title></rect>')
    return f'<a href="{_e(href)}">{rect}</a>' if href else rect


def _timeline_svg(episode: dict[str, Any], duration: float, prefix: str) -> str:
    parts: list[str] = []
    grid: list[str] = []
    y = 0.0

    def label(text: str, colour: str = "#334155") -> None:
        parts.append(f'<text x="4" y="{y + _LANE_HEIGHT / 2 + 5:.1f}" class="lane" fill="{colour}">{_e(text)}</text>')

    stamps = (episode.get("fast_view") or {}).get("timestamps_seconds") or []
    if stamps:
        label(f"fast view · {len(stamps)} frames")
        scale, top, tick = (_SVG_WIDTH - _LABEL_WIDTH - _RIGHT_PAD) / duration, f"{y + 7:.0f}", f"{_LANE_HEIGHT - 14:.0f}"
        path = "".join(f"M{_LABEL_WIDTH + scale * min(max(float(t), 0.0), duration):.1f} {top}v{tick}" for t in stamps)
        parts.append(f'<path d="{path}" stroke="#94a3b8" stroke-width="1" class="fast-ticks"/>')
        y += _LANE_HEIGHT
    evidence = [iv for iv in episode.get("evidence") or () if iv]
    if evidence:
        label("evidence (gold)", _EVIDENCE_COLOUR)
        for iv in evidence:
            parts.append(_band(iv, duration, y, _EVIDENCE_COLOUR, hollow=False, title=f"evidence {_interval(iv)}"))
        y += _LANE_HEIGHT
    for step in episode.get("steps") or ():
        requested, applied = step.get("requested_interval"), step.get("applied_interval")
        if not requested and not applied:
            continue
        index = int(step.get("index", 0))
        colour = _STEP_COLOURS[index % len(_STEP_COLOURS)]
        href = f"#{prefix}step-{index + 1}"
        if applied:
            label(f"step {index + 1} zoom", colour)
            parts.append(_band(applied, duration, y, colour, hollow=False, href=href,
                               title=f"step {index + 1}: applied {_interval(applied)}"))
        else:
            label(f"step {index + 1} rejected", _REJECTED_COLOUR)
        if requested:
            outline = "#0f172a" if applied else _REJECTED_COLOUR
            parts.append(_band(requested, duration, y, outline, hollow=True, href=href,
                               title=f"step {index + 1}: requested {_interval(requested)}"))
        y += _LANE_HEIGHT
    if y == 0:
        label("no zoom windows")
        y += _LANE_HEIGHT
    axis_y = y + 4
    parts.append(f'<line x1="{_LABEL_WIDTH}" x2="{_x(duration, duration):.1f}" y1="{axis_y}" y2="{axis_y}" '
                 'stroke="#475569"/>')
    ticks, clock = _ticks(duration)
    for t in ticks:
        x = _x(t, duration)
        grid.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{axis_y + 5}" stroke="#e2e8f0" stroke-width="1"/>')
        text = _clock(t) if clock else f"{t:g}"
        parts.append(f'<text x="{x:.1f}" y="{axis_y + 20}" text-anchor="middle" class="tick">{_e(text)}</text>')
    unit = "m:ss" if clock else "seconds"
    parts.append(f'<text x="{(_LABEL_WIDTH + _x(duration, duration)) / 2:.1f}" y="{axis_y + 40}" '
                 f'text-anchor="middle" class="axis-title">time in the video ({unit}; video length '
                 f'{_e(_clock(duration) if clock else f"{duration:g} s")})</text>')
    height = axis_y + 48
    return (f'<svg class="timeline" viewBox="0 0 {_SVG_WIDTH:.0f} {height:.0f}" width="100%" '
            f'preserveAspectRatio="xMinYMin meet" role="img" aria-label="zoom timeline">'
            + "".join(grid + parts) + "</svg>")


def _short_time(seconds: float, duration: float, *, unit: bool = True) -> str:
    """``1:05`` (videos of 2 minutes and more) or ``12.5 s`` (``12.5`` without ``unit``)."""
    if duration >= 120:
        return _clock(seconds)
    return f"{seconds:.1f} s" if unit else f"{seconds:.1f}"


def _precise_time(seconds: float, duration: float) -> str:
    """``1:05.5`` (videos of 2 minutes and more) or ``12.5 s``: a zoom clip's frames are often < 1 s apart."""
    if duration < 120:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(max(0.0, seconds), 60)
    hours, minutes = divmod(int(minutes), 60)
    return (f"{hours}:{minutes:02d}:" if hours else f"{minutes}:") + f"{rest:04.1f}"


def _img(picture: Picture, alt: str) -> str:
    return (f'<img alt="{_e(alt)}" title="{picture.seconds:.2f} s" loading="lazy" '
            f'src="data:image/jpeg;base64,{picture.jpeg_base64}">')


def _thumb_strip(thumbs: Sequence[Picture], duration: float) -> str:
    if not thumbs:
        return ""
    left = _LABEL_WIDTH / _SVG_WIDTH * 100
    width = (_SVG_WIDTH - _LABEL_WIDTH - _RIGHT_PAD) / _SVG_WIDTH * 100
    cells = "".join(f'<figure>{_img(p, f"keyframe at {p.seconds:.1f} s")}'
                    f'<figcaption>{_e(_short_time(p.seconds, duration, unit=False))}</figcaption></figure>' for p in thumbs)
    return f'<div class="thumbs" style="margin-left:{left:.2f}%;width:{width:.2f}%">{cells}</div>'


def _clips_section(episode: dict[str, Any], clips: Sequence[ClipFrames], duration: float, prefix: str) -> str:
    shown = shown_clips(episode)
    if not shown:
        return ""
    by_interval = {c.interval: c for c in clips}
    evidence = [iv for iv in episode.get("evidence") or () if iv]
    blocks = []
    for number, (interval, steps) in enumerate(shown, start=1):
        frames = by_interval.get(interval)
        iou = best_iou(interval, evidence)
        facts = [f"shown to the model at step{'s' if len(steps) > 1 else ''} {', '.join(map(str, steps))}"]
        if iou is not None:
            facts.append(f"IoU with evidence {iou:.2f}")
        body = '<p class="muted">frames not decoded</p>'
        if frames is not None:
            facts.insert(0, f"{frames.num_frames} frames at {frames.width}×{frames.height} px")
            if len(frames.pictures) < frames.num_frames:
                facts.append(f"showing {len(frames.pictures)} of them")
            figures = []
            for picture in frames.pictures:
                inside = any(float(e[0]) <= picture.seconds < float(e[1]) for e in evidence)
                css = ' class="in-evidence"' if inside else ""
                figures.append(f'<figure{css}>{_img(picture, f"zoom-clip frame at {picture.seconds:.2f} s")}'
                               f'<figcaption>{_e(_precise_time(picture.seconds, duration))}'
                               f'{" · evidence" if inside else ""}</figcaption></figure>')
            body = f'<div class="frames">{"".join(figures)}</div>'
        blocks.append(f'<div class="clip" id="{prefix}clip-{number}"><header><b>clip {number}: '
                      f'{_e(_interval(interval))}</b><span class="muted">{_e(" · ".join(facts))}</span></header>'
                      f'{body}</div>')
    note = ('<p class="muted">Frames with a green border lie inside the evidence. The frames are sampled '
            "again from the video with the episode's settings, shrunk for display.</p>" if clips else "")
    return f'<h2>Zoom clips the model saw ({len(shown)})</h2><div class="card">{note}{"".join(blocks)}</div>'


def _usage_rows(usage: dict[str, Any], seconds: Any) -> str:
    prompt = int(usage.get("prompt_tokens") or 0)
    cached = int(usage.get("prompt_tokens_cached") or 0)
    cells = [
        ("prompt computed", _num(prompt - cached)), ("prompt cached", _num(cached)),
        ("completion", _num(int(usage.get("completion_tokens") or 0))),
        ("vision", _num(int(usage.get("vision_tokens") or 0))),
        ("time", f"{_num(float(seconds or 0.0), 2)} s"),
    ]
    return "".join(f'<div class="kv"><span>{_e(k)}</span><b>{v}</b></div>' for k, v in cells)


def _clip_plan(plan: Any) -> str:
    """``clip plan: 24 frames at 588×448 px, 4,032 tokens`` for a step's token-budgeted clip plan."""
    if not isinstance(plan, dict):
        return ""
    frames, tokens = plan.get("num_frames"), plan.get("tokens")
    width, height = plan.get("resized_width"), plan.get("resized_height")
    parts = [f"{_num(frames, 0)} frames" if frames is not None else "? frames"]
    if width is not None and height is not None:
        parts[0] += f" at {_e(width)}×{_e(height)} px"
    if tokens is not None:
        parts.append(f"{_num(tokens, 0)} tokens")
    pixels = plan.get("pixels_per_frame")
    title = f' title="pixel budget {_num(pixels, 0)} px per frame"' if pixels is not None else ""
    return f'<p class="plan"{title}>clip plan: <b>{", ".join(parts)}</b></p>'


def _step_card(step: dict[str, Any], evidence: Sequence[Sequence[float]], prefix: str) -> str:
    index = int(step.get("index", 0))
    kind = str(step.get("kind", "?"))
    colour = _STEP_COLOURS[index % len(_STEP_COLOURS)]
    parsed = step.get("parsed") or {}
    badges = [f'<span class="badge kind-{_e(kind)}">{_e(kind.replace("_", " "))}</span>']
    if step.get("stop_reason"):
        reason = str(step["stop_reason"])
        label = _STOP_LABELS.get(reason, reason.replace("_", " "))
        badges.append(f'<span class="badge stop" title="stop_reason={_e(reason)}">stop: {_e(label)}</span>')
    if step.get("finish_reason") and step.get("finish_reason") != "stop":
        badges.append(f'<span class="badge warn">finish: {_e(step["finish_reason"])}</span>')
    if parsed.get("error"):
        badges.append(f'<span class="badge err">parse error: {_e(parsed["error"])}</span>')
    lines = []
    requested, applied = step.get("requested_interval"), step.get("applied_interval")
    if requested or applied:
        ious = [f"{name} {value:.2f}" for name, iv in (("requested", requested), ("applied", applied)) if iv
                for value in [best_iou(iv, evidence)] if value is not None]
        iou_text = f' <span class="muted">(IoU with evidence: {", ".join(ious)})</span>' if ious else ""
        lines.append(f'<p class="zoom">zoom requested <b>{_interval(requested)}</b> → applied '
                     f'<b>{_interval(applied) if applied else "none (rejected)"}</b>{iou_text}</p>')
    if kind != "zoom" and parsed.get("answer") is not None:
        lines.append(f'<p class="zoom">answer <b>{_e(parsed.get("answer"))}</b></p>')
    plan = _clip_plan(step.get("clip_plan"))
    if plan:
        lines.append(plan)
    clips = step.get("clips_in_prompt") or []
    lines.append(f'<p class="muted">prompt showed {len(clips)} zoom clip(s)'
                 + (": " + ", ".join(_interval(c) for c in clips) if clips else "") + "</p>")
    prefix_text = step.get("assistant_prefix") or ""
    reply = (f'<span class="prefix" title="pre-filled assistant prefix">{_e(prefix_text)}</span>'
             if prefix_text else "") + _e(shown_reply("", step.get("raw_text", "")))
    return (
        f'<section class="step" id="{prefix}step-{index + 1}" style="border-left-color:{colour}">'
        f'<header><h3>Step {index + 1}</h3>{"".join(badges)}</header>'
        f'{"".join(lines)}<pre class="reply">{reply}</pre>'
        f'<div class="usage">{_usage_rows(step.get("usage") or {}, step.get("seconds"))}</div></section>'
    )


def _answer_block(episode: dict[str, Any], score: Score | None) -> str:
    answer = episode.get("answer") or ""
    gold = episode.get("gold")
    cells = [f'<div><span>answer</span><b>{_e(answer) or "(none)"}</b></div>']
    if score is not None:
        cells.append(f'<div><span>extracted ({_e(score.extractor)})</span><b>{_e(score.predicted) or "(none)"}</b></div>')
        verdict, css = ("correct", "ok") if score.correct else ("wrong", "bad")
    elif gold is None:
        verdict, css = "no gold answer", "neutral"
    elif str(answer).strip().upper() == str(gold).strip().upper():
        verdict, css = "correct", "ok"
    else:
        verdict, css = "wrong", "bad"
    if gold is not None:
        cells.append(f'<div><span>gold</span><b>{_e(gold)}</b></div>')
    return f'<div class="answer {css}">{"".join(cells)}<div class="verdict">{_e(verdict)}</div></div>'


def _options_list(episode: dict[str, Any], score: Score | None) -> str:
    options = episode.get("options") or []
    if not options:
        return ""
    chosen = score.predicted if score is not None else episode.get("answer")
    answer = str(chosen or "").strip().upper()
    gold = str(episode.get("gold") or "").strip().upper()
    items = []
    for option in options:
        letter = str(option).strip()[:1].upper()
        css = " ".join(c for c, on in (("chosen", letter == answer and answer), ("gold", letter == gold and gold)) if on)
        items.append(f'<li class="{css}">{_e(option)}</li>')
    return f'<ol class="options">{"".join(items)}</ol>'


_LEDGER_LABELS = (
    ("num_model_calls", "model calls", ""), ("frames_decoded", "frames decoded", ""),
    ("vision_tokens", "vision tokens", ""), ("prompt_tokens", "prompt tokens", ""),
    ("prompt_tokens_cached", "  of which cached", ""), ("completion_tokens", "completion tokens", ""),
    ("decode_seconds", "decode", "s"), ("encode_seconds", "vision encode", "s"),
    ("prefill_seconds", "prefill", "s"), ("generate_seconds", "generate", "s"), ("total_seconds", "total", "s"),
)


def _ledger_table(ledger: dict[str, Any]) -> str:
    rows = []
    for key, name, unit in _LEDGER_LABELS:
        if key not in ledger:
            continue
        value = ledger[key]
        shown = f"{_num(float(value), 2)} {unit}" if unit else _num(value)
        rows.append(f"<tr><th>{_e(name)}</th><td>{shown}</td></tr>")
    extra = sorted(set(ledger) - {k for k, _, _ in _LEDGER_LABELS})
    rows += [f"<tr><th>{_e(k)}</th><td>{_num(ledger[k])}</td></tr>" for k in extra]
    return f'<table class="ledger">{"".join(rows)}</table>' if rows else '<p class="muted">no ledger</p>'


def render_trace_fragment(
    episode: dict[str, Any],
    *,
    frames: TraceFrames | None = None,
    score: Score | None = None,
    id_prefix: str = "",
    raw_json: bool = True,
    heading: str = "LOVE-R1 trace",
) -> str:
    """The trace of ``episode`` (an ``Episode.to_dict()``) as one ``<div class="trace">``, styled by
    ``static_text("trace.css")``; ``id_prefix`` keeps element ids unique when a page holds several."""
    if not isinstance(episode, dict):
        raise TypeError(f"episode must be a dict from Episode.to_dict(), got {type(episode).__name__}")
    pictures = frames or TraceFrames()
    duration = _duration(episode)
    video = episode.get("video") or {}
    fast = episode.get("fast_view") or {}
    steps = episode.get("steps") or []
    evidence = [iv for iv in episode.get("evidence") or () if iv]
    meta = " · ".join(x for x in (
        f"episode {_e(episode.get('episode_id'))}",
        f"video {_e(video.get('path'))}",
        f"{_num(duration, 1)} s" + (f" @ {_num(float(video['fps']), 2)} fps" if video.get("fps") else ""),
        f"{_e(video.get('width'))}×{_e(video.get('height'))} px" if video.get("width") else "",
        f"fast view {_e(fast.get('num_frames'))} frames at {_e(fast.get('width'))}×{_e(fast.get('height'))} px"
        if fast else "",
        f"policy {_e((episode.get('policy') or {}).get('name'))}" if (episode.get("policy") or {}).get("name") else "",
    ) if x)
    error = f'<div class="error"><b>episode failed:</b> {_e(episode["error"])}</div>' if episode.get("error") else ""
    notes = "".join(f'<p class="note">{_e(n)}</p>' for n in pictures.notes)
    if not pictures.thumbs and not pictures.notes:
        notes += '<p class="muted">(no thumbnails: the timeline is drawn without frames)</p>'
    legend = (f'<div class="legend"><span><i style="background:{_STEP_COLOURS[0]};opacity:.6"></i>applied zoom clip'
              '</span><span><i style="border:2px dashed #0f172a"></i>requested interval</span>'
              f'<span><i style="border:2px dashed {_REJECTED_COLOUR}"></i>rejected request</span>'
              f'<span><i style="background:{_EVIDENCE_COLOUR};opacity:.6"></i>ground-truth evidence</span>'
              '<span><i style="background:#94a3b8;height:2px"></i>fast-view frame times</span></div>')
    steps_html = "".join(_step_card(s, evidence, id_prefix) for s in steps) or '<p class="muted">no model calls</p>'
    instruction = episode.get("answer_instruction") or ""
    raw = ""
    if raw_json:
        text = _e(json.dumps(episode, indent=1, ensure_ascii=False, default=str))
        raw = (f'<div><h2>Raw record</h2><div class="card"><details><summary>episode JSON</summary><pre>{text}</pre>'
               "</details></div></div>")
    return f"""<div class="trace">
<h1>{_e(heading)}</h1><div class="meta">{meta}</div>{error}
<h2>Question</h2><div class="card"><div class="question">{_e(episode.get("question"))}</div>
{_options_list(episode, score)}
{f'<p class="muted">instruction: {_e(instruction.strip())}</p>' if instruction.strip() else ""}</div>
<h2>Timeline</h2><div class="card">{notes}<div class="scroll"><div class="tl-plot">{_thumb_strip(pictures.thumbs, duration)}
{_timeline_svg(episode, duration, id_prefix)}</div></div>{legend}</div>
{_clips_section(episode, pictures.clips, duration, id_prefix)}
<h2>Steps ({len(steps)})</h2>{steps_html}
<h2>Result</h2><div class="card">{_answer_block(episode, score)}</div>
<div class="cols"><div><h2>Cost ledger</h2><div class="card">{_ledger_table(episode.get("ledger") or {})}</div></div>
{raw}</div>
</div>"""


_PAGE_CSS = ("*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',"
             "sans-serif;margin:0;background:#f1f5f9;color:#0f172a}main{max-width:1200px;margin:0 auto;"
             "padding:20px 24px 40px}")


def render_trace_html(
    episode: dict[str, Any],
    *,
    frames: TraceFrames | None = None,
    score: Score | None = None,
) -> str:
    """The trace page for ``episode`` (an ``Episode.to_dict()``) as a string.

    Args:
        frames: thumbnails, zoom-clip frames and notes from :func:`trace_frames`; ``None`` draws the
            timeline without pictures.
        score: how a run scored the answer (the eval explorer passes it); ``None`` compares the raw
            answer with ``episode["gold"]``.
    """
    if frames is not None and not isinstance(frames, TraceFrames):
        raise TypeError(f"frames must be a TraceFrames (see trace_frames()), got {type(frames).__name__}")
    body = render_trace_fragment(episode, frames=frames or TraceFrames(), score=score)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>LOVE-R1 trace · {_e(episode.get("episode_id"))}</title>
<style>{_PAGE_CSS}{static_text("trace.css")}</style></head>
<body><main>{body}</main><script>{static_text("trace.js")}</script></body></html>
"""


def write_trace_html(
    episode_dict: dict[str, Any],
    out_path: str | Path,
    *,
    video_path: str | Path | None = None,
    num_thumbnails: int = 24,
    max_frames_per_clip: int | None = None,
    score: Score | None = None,
) -> Path:
    """Write the trace page of one episode to ``out_path`` and return the path.

    Args:
        episode_dict: ``Episode.to_dict()`` (or the JSON written by ``love-r1 ask --json``).
        out_path: the ``.html`` file to write (parent folders are created).
        video_path: the video for the pictures; ``None`` uses ``episode_dict["video"]["path"]``. When it
            cannot be read, the page says why and draws the timeline without pictures.
        num_thumbnails: keyframe thumbnails across the video (count; 0 for none).
        max_frames_per_clip: zoom-clip frames shown per clip (count; ``None``: all the model got; 0: none).
        score: see :func:`render_trace_html`.
    """
    if not isinstance(episode_dict, dict):
        raise TypeError(f"episode_dict must be a dict from Episode.to_dict(), got {type(episode_dict).__name__}")
    frames = trace_frames(episode_dict, video_path=video_path, num_thumbnails=num_thumbnails,
                          max_frames_per_clip=max_frames_per_clip)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_trace_html(episode_dict, frames=frames, score=score), encoding="utf-8")
    return out


__all__ = ["Score", "render_trace_fragment", "render_trace_html", "static_text", "trace_frames",
           "write_trace_html"]
