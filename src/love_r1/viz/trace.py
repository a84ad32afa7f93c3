"""One episode as a self-contained HTML page: timeline, zoom windows, steps, answer and costs.

``write_trace_html(episode_dict, out_path)`` reads the stable ``Episode.to_dict()`` schema and
writes a single file with inline CSS, SVG and a few lines of JS; thumbnails are base64 JPEG
data URIs, so the page opens offline and can be mailed around. All episode text is escaped.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_STEP_COLOURS = ("#2563eb", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d")
_EVIDENCE_COLOUR = "#16a34a"
_THUMB_MAX_PIXELS = 160 * 90
_SVG_WIDTH = 1000.0
_LABEL_WIDTH = 150.0
_LANE_HEIGHT = 26.0
_RIGHT_PAD = 24.0
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


def _interval(value: Sequence[float] | None) -> str:
    """``[80, 90] s`` (plus ``1:20–1:30`` past the first minute)."""
    if not value:
        return "–"
    start, end = float(value[0]), float(value[1])
    text = f"[{start:g}, {end:g}] s"
    if end >= 60:
        text += f" ({_clock(start)}–{_clock(end)})"
    return text


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _duration(episode: dict[str, Any]) -> float:
    duration = float((episode.get("video") or {}).get("duration_seconds") or 0.0)
    if duration > 0:
        return duration
    ends = [iv[1] for step in episode.get("steps") or () for key in ("requested_interval", "applied_interval")
            for iv in [step.get(key)] if iv]
    ends += [iv[1] for iv in episode.get("evidence") or () if iv]
    return max([1.0, *[float(e) for e in ends]])


def thumbnails(video_path: str | Path, *, duration_seconds: float, num_thumbnails: int) -> list[tuple[float, str]]:
    """``num_thumbnails`` small keyframes spread over the video as ``(seconds, base64 JPEG)``;
    ``[]`` when the video cannot be read (the reason is logged)."""
    if num_thumbnails <= 0 or duration_seconds <= 0:
        return []
    try:
        from PIL import Image

        from love_r1.video import VideoError, open_video
    except ImportError as error:
        logger.warning("no thumbnails: %s", error)
        return []
    times = [(i + 0.5) * duration_seconds / num_thumbnails for i in range(num_thumbnails)]
    try:
        with open_video(video_path) as reader:
            end = float(reader.metadata.duration_seconds or duration_seconds)
            times = [min(t, max(end - 1e-3, 0.0)) for t in times]
            frames = reader.get_frames_played_at(times, max_pixels=_THUMB_MAX_PIXELS, mode="keyframe")
    except (VideoError, OSError, ValueError) as error:
        logger.warning("no thumbnails for %s: %s: %s", video_path, type(error).__name__, error)
        return []
    out = []
    for seconds, rgb in zip(frames.timestamps_seconds, frames.data, strict=True):
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, format="JPEG", quality=80)
        out.append((float(seconds), base64.b64encode(buffer.getvalue()).decode("ascii")))
    return out


def _ticks(duration: float) -> list[float]:
    raw = duration / 8
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if duration > 120:  # prefer minute-friendly steps
        step = next((s for s in (30, 60, 120, 300, 600, 900, 1800, 3600) if s >= raw), step)
    count = int(duration // step)
    return [i * step for i in range(count + 1)]


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


def _timeline_svg(episode: dict[str, Any], duration: float) -> str:
    lanes: list[str] = []
    y = 0.0
    parts: list[str] = []

    def label(text: str, colour: str = "#334155") -> None:
        parts.append(f'<text x="4" y="{y + _LANE_HEIGHT / 2 + 4:.1f}" class="lane" fill="{colour}">{_e(text)}</text>')

    fast = episode.get("fast_view") or {}
    stamps = fast.get("timestamps_seconds") or []
    if stamps:
        label(f"fast view · {len(stamps)} fr")
        step = max(1, len(stamps) // 400)
        for t in stamps[::step]:
            x = _x(t, duration)
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y + 7:.1f}" y2="{y + _LANE_HEIGHT - 7:.1f}" '
                         'stroke="#94a3b8" stroke-width="1"/>')
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
        label(f"step {index + 1} zoom", colour)
        href = f"#step-{index + 1}"
        if applied:
            parts.append(_band(applied, duration, y, colour, hollow=False, href=href,
                               title=f"step {index + 1}: applied {_interval(applied)}"))
        if requested:
            parts.append(_band(requested, duration, y, "#0f172a", hollow=True, href=href,
                               title=f"step {index + 1}: requested {_interval(requested)}"))
        y += _LANE_HEIGHT
    if y == 0:
        label("no zoom windows")
        y += _LANE_HEIGHT
    axis_y = y + 4
    parts.append(f'<line x1="{_LABEL_WIDTH}" x2="{_x(duration, duration):.1f}" y1="{axis_y}" y2="{axis_y}" '
                 'stroke="#475569"/>')
    for t in _ticks(duration):
        x = _x(t, duration)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{axis_y + 4}" stroke="#e2e8f0" '
                     'stroke-width="1" class="grid"/>')
        text = _clock(t) if duration >= 120 else f"{t:g}s"
        parts.append(f'<text x="{x:.1f}" y="{axis_y + 18}" text-anchor="middle" class="tick">{_e(text)}</text>')
    height = axis_y + 24
    grid = [p for p in parts if 'class="grid"' in p]
    rest = [p for p in parts if 'class="grid"' not in p]
    lanes.extend(grid + rest)  # grid lines under the bands
    return (f'<svg class="timeline" viewBox="0 0 {_SVG_WIDTH:.0f} {height:.0f}" width="100%" '
            f'preserveAspectRatio="xMinYMin meet" role="img" aria-label="zoom timeline">' + "".join(lanes) + "</svg>")


def _thumb_strip(thumbs: list[tuple[float, str]], duration: float) -> str:
    if not thumbs:
        return '<p class="muted">(video not available: timeline shown without thumbnails)</p>'
    left = _LABEL_WIDTH / _SVG_WIDTH * 100
    width = (_SVG_WIDTH - _LABEL_WIDTH - _RIGHT_PAD) / _SVG_WIDTH * 100
    cells = "".join(
        f'<figure><img alt="frame at {seconds:.1f} s" title="{seconds:.1f} s" '
        f'src="data:image/jpeg;base64,{data}"><figcaption>{_e(_short_time(seconds, duration))}</figcaption></figure>'
        for seconds, data in thumbs
    )
    return (f'<div class="thumbs" style="margin-left:{left:.2f}%;width:{width:.2f}%">{cells}</div>')


def _short_time(seconds: float, duration: float) -> str:
    return _clock(seconds) if duration >= 120 else f"{seconds:.1f}s"


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


def _step_card(step: dict[str, Any]) -> str:
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
    if step.get("requested_interval") or step.get("applied_interval"):
        lines.append(f'<p class="zoom">zoom requested <b>{_interval(step.get("requested_interval"))}</b> → applied '
                     f'<b>{_interval(step.get("applied_interval"))}</b></p>')
    if kind != "zoom" and parsed.get("answer") is not None:
        lines.append(f'<p class="zoom">answer <b>{_e(parsed.get("answer"))}</b></p>')
    plan = _clip_plan(step.get("clip_plan"))
    if plan:
        lines.append(plan)
    clips = step.get("clips_in_prompt") or []
    lines.append(f'<p class="muted">prompt showed {len(clips)} zoom clip(s)'
                 + (": " + ", ".join(_interval(c) for c in clips) if clips else "") + "</p>")
    prefix = step.get("assistant_prefix") or ""
    reply = (f'<span class="prefix" title="pre-filled assistant prefix">{_e(prefix)}</span>' if prefix else "") + _e(
        step.get("raw_text", ""))
    return (
        f'<section class="step" id="step-{index + 1}" style="border-left-color:{colour}">'
        f'<header><h3>Step {index + 1}</h3>{"".join(badges)}</header>'
        f'{"".join(lines)}<pre class="reply">{reply}</pre>'
        f'<div class="usage">{_usage_rows(step.get("usage") or {}, step.get("seconds"))}</div></section>'
    )


def _answer_block(episode: dict[str, Any]) -> str:
    answer = episode.get("answer") or ""
    gold = episode.get("gold")
    if gold is None:
        verdict, css = "no gold answer", "neutral"
    elif str(answer).strip().upper() == str(gold).strip().upper():
        verdict, css = "correct", "ok"
    else:
        verdict, css = "wrong", "bad"
    gold_html = f'<div><span>gold</span><b>{_e(gold)}</b></div>' if gold is not None else ""
    return (f'<div class="answer {css}"><div><span>answer</span><b>{_e(answer) or "(none)"}</b></div>'
            f'{gold_html}<div class="verdict">{_e(verdict)}</div></div>')


def _options_list(episode: dict[str, Any]) -> str:
    options = episode.get("options") or []
    if not options:
        return ""
    answer = str(episode.get("answer") or "").strip().upper()
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


_CSS = """
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;
margin:0;background:#f1f5f9;color:#0f172a}main{max-width:1200px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:22px 0 8px;text-transform:uppercase;letter-spacing:.06em;
color:#475569}h3{font-size:15px;margin:0 8px 0 0}.card{background:#fff;border-radius:10px;padding:14px 18px;
box-shadow:0 1px 2px rgba(15,23,42,.08)}.muted{color:#64748b;margin:4px 0}.meta{color:#475569;font-size:13px}
.question{font-size:16px;font-weight:600;white-space:pre-wrap;margin:8px 0}.options{margin:6px 0 0;padding-left:0;
list-style:none}.options li{padding:3px 8px;border-radius:6px;margin:2px 0;white-space:pre-wrap}
.options li.chosen{background:#dbeafe;outline:1px solid #2563eb}.options li.gold{background:#dcfce7}
.options li.chosen.gold{background:#bbf7d0;outline:1px solid #16a34a}
.thumbs{display:flex;gap:2px;margin-bottom:2px}.thumbs figure{flex:1 1 0;margin:0;min-width:0}
.thumbs img{width:100%;display:block;border-radius:2px}.thumbs figcaption{font-size:10px;color:#64748b;
text-align:center}.timeline{display:block;margin-top:4px}.timeline .lane{font-size:12px;font-weight:600}
.timeline .tick{font-size:11px;fill:#475569}.timeline a rect:hover{fill-opacity:.85;stroke-width:3}
.legend{display:flex;gap:16px;flex-wrap:wrap;font-size:12px;color:#475569;margin-top:6px}
.legend i{display:inline-block;width:22px;height:10px;margin-right:5px;vertical-align:middle;border-radius:2px}
.step{background:#fff;border-radius:10px;padding:12px 16px;margin:10px 0;border-left:6px solid #2563eb;
box-shadow:0 1px 2px rgba(15,23,42,.08)}.step.hl{box-shadow:0 0 0 3px #93c5fd}
.step header{display:flex;align-items:center;flex-wrap:wrap;gap:6px;margin-bottom:6px}
.badge{font-size:12px;padding:1px 8px;border-radius:999px;background:#e2e8f0}.kind-zoom{background:#dbeafe}
.kind-answer{background:#dcfce7}.kind-forced_answer{background:#fef3c7}.stop{background:#f1f5f9;
border:1px solid #cbd5e1}.warn{background:#fef3c7}.err{background:#fee2e2;color:#991b1b}.zoom,.plan{margin:4px 0}
pre.reply{white-space:pre-wrap;word-break:break-word;background:#f8fafc;border:1px solid #e2e8f0;border-radius:6px;
padding:8px 10px;margin:6px 0;font:13px/1.45 ui-monospace,'DejaVu Sans Mono',monospace;max-height:320px;overflow:auto}
.prefix{background:#fef9c3;color:#854d0e}.usage{display:flex;flex-wrap:wrap;gap:8px}.kv{background:#f1f5f9;
border-radius:6px;padding:3px 10px;font-size:12px}.kv span{color:#64748b;margin-right:6px}
.answer{display:flex;gap:24px;align-items:center;font-size:16px}.answer span{color:#64748b;margin-right:8px;
font-size:13px}.answer .verdict{margin-left:auto;font-weight:700;padding:4px 14px;border-radius:999px}
.answer.ok .verdict{background:#dcfce7;color:#166534}.answer.bad .verdict{background:#fee2e2;color:#991b1b}
.answer.neutral .verdict{background:#e2e8f0}.error{background:#fee2e2;color:#991b1b;border-radius:8px;
padding:10px 14px;margin:10px 0;white-space:pre-wrap}.cols{display:grid;grid-template-columns:1fr 1fr;gap:16px}
table.ledger{border-collapse:collapse;width:100%}table.ledger th{text-align:left;font-weight:500;color:#475569;
padding:3px 8px;white-space:pre}table.ledger td{text-align:right;font-variant-numeric:tabular-nums;padding:3px 8px}
table.ledger tr:nth-child(odd){background:#f8fafc}details pre{white-space:pre-wrap;word-break:break-word;
font-size:12px;max-height:400px;overflow:auto}
"""

_JS = """
document.querySelectorAll('svg.timeline a').forEach(function(a){
  var id=a.getAttribute('href').slice(1);var card=document.getElementById(id);if(!card)return;
  a.addEventListener('mouseenter',function(){card.classList.add('hl')});
  a.addEventListener('mouseleave',function(){card.classList.remove('hl')});
});
"""


def render_trace_html(episode: dict[str, Any], *, thumbs: Sequence[tuple[float, str]] = ()) -> str:
    """The trace page for ``episode`` (an ``Episode.to_dict()``) as a string; ``thumbs`` are
    ``(seconds, base64 JPEG)`` pairs (see :func:`thumbnails`)."""
    if not isinstance(episode, dict):
        raise TypeError(f"episode must be a dict from Episode.to_dict(), got {type(episode).__name__}")
    duration = _duration(episode)
    video = episode.get("video") or {}
    fast = episode.get("fast_view") or {}
    steps = episode.get("steps") or []
    meta = " · ".join(x for x in (
        f"episode {_e(episode.get('episode_id'))}",
        f"video {_e(video.get('path'))}",
        f"{_num(duration, 1)} s" + (f" @ {_num(float(video['fps']), 2)} fps" if video.get("fps") else ""),
        f"{_e(video.get('width'))}×{_e(video.get('height'))}" if video.get("width") else "",
        f"fast view {_e(fast.get('num_frames'))} frames at {_e(fast.get('width'))}×{_e(fast.get('height'))}"
        if fast else "",
        f"policy {_e((episode.get('policy') or {}).get('name'))}" if (episode.get("policy") or {}).get("name") else "",
    ) if x)
    error = f'<div class="error"><b>episode failed:</b> {_e(episode["error"])}</div>' if episode.get("error") else ""
    legend = (f'<div class="legend"><span><i style="background:{_STEP_COLOURS[0]};opacity:.6"></i>applied zoom clip'
              '</span><span><i style="border:2px dashed #0f172a"></i>requested interval</span>'
              f'<span><i style="background:{_EVIDENCE_COLOUR};opacity:.6"></i>ground-truth evidence</span>'
              '<span><i style="background:#94a3b8;height:2px"></i>fast-view frame times</span></div>')
    steps_html = "".join(_step_card(s) for s in steps) or '<p class="muted">no model calls</p>'
    raw_json = _e(json.dumps(episode, indent=1, ensure_ascii=False, default=str))
    instruction = episode.get("answer_instruction") or ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>LOVE-R1 trace · {_e(episode.get("episode_id"))}</title><style>{_CSS}</style></head>
<body><main>
<h1>LOVE-R1 trace</h1><div class="meta">{meta}</div>{error}
<h2>Question</h2><div class="card"><div class="question">{_e(episode.get("question"))}</div>{_options_list(episode)}
{f'<p class="muted">instruction: {_e(instruction.strip())}</p>' if instruction.strip() else ""}</div>
<h2>Timeline</h2><div class="card">{_thumb_strip(list(thumbs), duration)}{_timeline_svg(episode, duration)}{legend}</div>
<h2>Steps ({len(steps)})</h2>{steps_html}
<h2>Result</h2><div class="card">{_answer_block(episode)}</div>
<div class="cols"><div><h2>Cost ledger</h2><div class="card">{_ledger_table(episode.get("ledger") or {})}</div></div>
<div><h2>Raw record</h2><div class="card"><details><summary>episode JSON</summary><pre>{raw_json}</pre></details>
</div></div></div>
</main><script>{_JS}</script></body></html>
"""


def write_trace_html(
    episode_dict: dict[str, Any],
    out_path: str | Path,
    *,
    video_path: str | Path | None = None,
    num_thumbnails: int = 24,
) -> Path:
    """Write the trace page of one episode to ``out_path`` and return the path.

    Args:
        episode_dict: ``Episode.to_dict()`` (or the JSON written by ``love-r1 ask --json``).
        out_path: the ``.html`` file to write (parent folders are created).
        video_path: the video for thumbnails; ``None`` uses ``episode_dict["video"]["path"]``. When it
            cannot be read, the timeline is drawn without thumbnails.
        num_thumbnails: keyframe thumbnails across the video (count; 0 for none).
    """
    if num_thumbnails < 0:
        raise ValueError(f"num_thumbnails must be >= 0, got {num_thumbnails}")
    if not isinstance(episode_dict, dict):
        raise TypeError(f"episode_dict must be a dict from Episode.to_dict(), got {type(episode_dict).__name__}")
    source = video_path if video_path is not None else (episode_dict.get("video") or {}).get("path")
    thumbs: list[tuple[float, str]] = []
    if source and num_thumbnails:
        if Path(source).is_file():
            thumbs = thumbnails(source, duration_seconds=_duration(episode_dict), num_thumbnails=num_thumbnails)
        else:
            logger.warning("no thumbnails: video %s does not exist", source)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_trace_html(episode_dict, thumbs=thumbs), encoding="utf-8")
    return out


__all__ = ["render_trace_html", "thumbnails", "write_trace_html"]
