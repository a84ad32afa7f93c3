"""Subtitles: parse ``.srt`` (Video-MME) and LongVideoBench JSON files, pick the lines a prompt shows.

Parsers are pure (text or JSON object in, :class:`SubtitleLine` list out) and tolerant: a byte-order
mark, CRLF line ends, missing blank lines between cues, ``<font ...>``/``<i>`` tags, ASS override
tags (``{\\an8}``), HTML entities, comma or dot milliseconds and hours above 99 are all accepted.
A block that cannot be read (a broken timing line, an end before its start, text without a timing
line) is skipped and reported in :attr:`ParsedSubtitles.skipped` with its line number. Only a file
that cannot be read at all (not UTF-8/UTF-16, not JSON, not a list) raises :class:`SubtitleError`,
naming the file and line.

Selection (``benchmarks.md`` §2.1): both public harnesses keep only the subtitle lines **active at
the sampled frame times**, so the text shown depends on the frames. :func:`lines_at` is that rule
(a line is active at ``t`` when ``start <= t < end``); ``dedupe=True`` keeps each line once (as
lmms-eval's set of line indices), ``dedupe=False`` repeats a line once per frame time it covers (as
VLMEvalKit's one line per sampled frame). :func:`lines_in` gives the lines overlapping an interval
(used for zoom clips, an extension: the released LOVE-R1 checkpoints never saw subtitles).

Prompt text (:func:`subtitle_context`), put before the question text::

    Subtitles:
    [00:01] Hello there
    [01:02:03] a line after the first hour
    Subtitles of zoom-in clip [60, 90]:
    [01:01] a line inside the clip

Each line shows its start time (``mm:ss``, ``h:mm:ss`` from one hour on; negative starts show
``00:00``). The zoom-clip label truncates the endpoints to integers like the clip's own label.
Sections with no lines are left out; with no lines at all the context is ``""``.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from love_r1.errors import DataError
from love_r1.interval import Interval

logger = logging.getLogger(__name__)

SubtitleMode = Literal["fast", "fast+clips"]
SUBTITLE_MODES: tuple[str, ...] = get_args(SubtitleMode)
FAST_VIEW_HEADER = "Subtitles:"
CLIP_HEADER = "Subtitles of zoom-in clip [%d, %d]:"


class SubtitleError(DataError):
    """A subtitle file cannot be read at all (the message names the file, the line and a hint)."""


@dataclass(frozen=True)
class SubtitleLine:
    """One subtitle cue: shown from ``start_seconds`` (inclusive) to ``end_seconds`` (exclusive)."""

    start_seconds: float
    end_seconds: float
    text: str


@dataclass(frozen=True)
class SkippedBlock:
    """A cue or entry that was not read: 1-based ``line_number`` (SRT) or entry index (JSON), and why."""

    line_number: int
    reason: str


@dataclass(frozen=True)
class ParsedSubtitles:
    """The readable lines of a file (in file order) and the skipped blocks."""

    lines: tuple[SubtitleLine, ...]
    skipped: tuple[SkippedBlock, ...] = ()


# -- text clean-up -----------------------------------------------------------------------------------
_TAG = re.compile(r"<[^<>]*>")
_ASS_TAG = re.compile(r"\{\\[^{}]*\}")
_SPACE = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """Strip markup tags (``<font ...>``, ``<i>``, ``{\\an8}``), decode HTML entities, collapse whitespace."""
    text = _ASS_TAG.sub("", _TAG.sub("", text)).replace("\\N", " ").replace("\\n", " ")
    return _SPACE.sub(" ", html.unescape(text).replace("\xa0", " ")).strip()


# -- SRT ---------------------------------------------------------------------------------------------
_CLOCK = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:[,.](\d+))?"
_TIMING = re.compile(rf"^\s*{_CLOCK}\s*-->\s*{_CLOCK}")


def _clock_seconds(hours: str | None, minutes: str, seconds: str, fraction: str | None) -> float:
    value = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    return value + (float("0." + fraction) if fraction else 0.0)


def parse_srt_detailed(text: str, *, source: str = "<srt>") -> ParsedSubtitles:
    """Every readable cue of SRT ``text`` and the skipped blocks (see the module docstring).

    A cue is a timing line ``HH:MM:SS,mmm --> HH:MM:SS,mmm`` followed by text lines up to a blank
    line or the next timing line; a bare number right before a timing line is that cue's index.
    """
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cues: list[SubtitleLine] = []
    skipped: list[SkippedBlock] = []
    current: tuple[int, float, float] | None = None  # (line number, start, end) of the open cue
    body: list[str] = []
    swallow = False  # inside the text of a skipped cue, or of a stray block already reported

    def close() -> None:
        nonlocal current, body
        if current is not None:
            number, start, end = current
            cleaned = clean_text(" ".join(body))
            if cleaned:
                cues.append(SubtitleLine(start, end, cleaned))
            else:
                skipped.append(SkippedBlock(number, "no text"))
        current, body = None, []

    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if "-->" in stripped:
            if body and body[-1].isdigit():
                body.pop()  # the next cue's index, written without a blank line before it
            close()
            swallow = False
            match = _TIMING.match(stripped)
            if match is None:
                skipped.append(SkippedBlock(number, f"unreadable timing line {stripped[:60]!r}"))
                swallow = True
                continue
            groups = match.groups()
            start, end = _clock_seconds(*groups[:4]), _clock_seconds(*groups[4:])
            if end < start:
                skipped.append(SkippedBlock(number, f"ends ({end:.3f} s) before it starts ({start:.3f} s)"))
                swallow = True
                continue
            current = (number, start, end)
        elif not stripped:
            close()
            swallow = False
        elif current is not None:
            body.append(stripped)
        elif swallow or stripped.isdigit():
            continue  # the text of a skipped cue, or a cue index
        else:
            skipped.append(SkippedBlock(number, f"text outside a cue {stripped[:60]!r}"))
            swallow = True
    close()
    if skipped:
        logger.debug("%s: skipped %d unreadable subtitle block(s), first at line %d (%s)", source, len(skipped),
                     skipped[0].line_number, skipped[0].reason)
    return ParsedSubtitles(tuple(cues), tuple(skipped))


def parse_srt(text: str, *, source: str = "<srt>") -> list[SubtitleLine]:
    """The readable cues of SRT ``text`` (:func:`parse_srt_detailed` without the skip report)."""
    return list(parse_srt_detailed(text, source=source).lines)


# -- LongVideoBench JSON -----------------------------------------------------------------------------
_HMS = re.compile(r"^\s*(?:(\d+):)?(\d+):(\d+(?:[.,]\d+)?)\s*$")


def _seconds(value: Any) -> float:
    """A number, a numeric string or ``"HH:MM:SS.ms"`` / ``"MM:SS"`` -> seconds; ``ValueError`` otherwise."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _HMS.match(str(value))
        if match:
            hours, minutes, rest = match.groups()
            seconds = int(hours or 0) * 3600 + int(minutes) * 60 + float(rest.replace(",", "."))
        else:
            seconds = float(str(value))
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        raise ValueError(f"not a finite time: {value!r}")
    return seconds


def parse_lvb_detailed(obj: Any, *, offset_seconds: float = 0.0, source: str = "<json>",
                       video_duration_seconds: float | None = None) -> ParsedSubtitles:
    """Lines of a LongVideoBench subtitle JSON object, times shifted by ``-offset_seconds``.

    Entries are ``{"timestamp": [start, end], "text": ...}`` (seconds) or ``{"start": "HH:MM:SS.ms",
    "end": ..., "line": ...}``; anything else is skipped (``line_number`` = the entry's 0-based index).
    A ``timestamp`` entry whose end is ``null`` (the last line of a file, typically) ends at
    ``video_duration_seconds`` (the record's ``duration``), taken in the file's time base and then
    shifted like every time, as LongVideoBench's official loader and lmms-eval do; without a
    duration it is skipped.

    Raises:
        SubtitleError: ``obj`` is not a list of entries.
    """
    if not isinstance(obj, list):
        raise SubtitleError(f"a LongVideoBench subtitle file must hold a JSON list of entries; got {type(obj).__name__}",
                            path=source, hint="entries look like {'timestamp': [s, e], 'text': ...}")
    lines: list[SubtitleLine] = []
    skipped: list[SkippedBlock] = []
    for index, entry in enumerate(obj):
        try:
            if not isinstance(entry, dict):
                raise ValueError(f"not an object: {entry!r:.60}")
            if "timestamp" in entry:
                span = entry["timestamp"]
                if not isinstance(span, list | tuple) or len(span) != 2:
                    raise ValueError(f"timestamp must be [start, end], got {span!r:.60}")
                if span[1] is None and video_duration_seconds is not None:
                    span = (span[0], video_duration_seconds)
                elif span[1] is None:
                    raise ValueError("its end is null and the video's duration is unknown")
                start, end = _seconds(span[0]), _seconds(span[1])
                raw = entry.get("text", entry.get("line", ""))
            elif "start" in entry and "end" in entry:
                start, end = _seconds(entry["start"]), _seconds(entry["end"])
                raw = entry.get("line", entry.get("text", ""))
            else:
                raise ValueError(f"neither 'timestamp' nor 'start'/'end' (keys {sorted(entry)})")
            if end < start:
                raise ValueError(f"ends ({end} s) before it starts ({start} s)")
            text = clean_text(str(raw or ""))
            if not text:
                raise ValueError("no text")
        except ValueError as error:
            skipped.append(SkippedBlock(index, str(error)))
            continue
        lines.append(SubtitleLine(start - offset_seconds, end - offset_seconds, text))
    if skipped:
        logger.debug("%s: skipped %d subtitle entries, first #%d (%s)", source, len(skipped),
                     skipped[0].line_number, skipped[0].reason)
    return ParsedSubtitles(tuple(lines), tuple(skipped))


def parse_lvb_subtitles(obj: Any, *, offset_seconds: float = 0.0, source: str = "<json>",
                        video_duration_seconds: float | None = None) -> list[SubtitleLine]:
    """The readable lines of a LongVideoBench subtitle object (:func:`parse_lvb_detailed` without the report)."""
    return list(parse_lvb_detailed(obj, offset_seconds=offset_seconds, source=source,
                                   video_duration_seconds=video_duration_seconds).lines)


# -- files -------------------------------------------------------------------------------------------
def decode_subtitle_bytes(data: bytes, *, source: str) -> str:
    """UTF-8 (with or without a BOM) or BOM-marked UTF-16 text.

    Raises:
        SubtitleError: naming ``source`` and the line of the first undecodable byte.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise SubtitleError(f"not valid {encoding.upper().replace('-SIG', '')} text (byte {error.start}: {error.reason})",
                            path=source, line=line,
                            hint="re-encode the file as UTF-8, e.g. iconv -f cp1252 -t utf-8") from error


def read_subtitle_file(path: str | Path, *, offset_seconds: float = 0.0,
                       video_duration_seconds: float | None = None) -> ParsedSubtitles:
    """Read a ``.srt`` file or a LongVideoBench ``.json`` file (format chosen by the suffix).

    ``offset_seconds`` is subtracted from the JSON entries' times (LongVideoBench's
    ``starting_timestamp_for_subtitles``); SRT times are used as written. ``video_duration_seconds``
    ends a JSON entry whose end is null (:func:`parse_lvb_detailed`).

    Raises:
        SubtitleError: the file cannot be opened, decoded or parsed, or has another suffix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".srt", ".json"):
        raise SubtitleError("subtitle format must be one of ['.srt', '.json']", path=path, value=suffix)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SubtitleError(f"cannot read subtitle file: {error}", path=path) from error
    text = decode_subtitle_bytes(data, source=str(path))
    if suffix == ".srt":
        return parse_srt_detailed(text, source=str(path))
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as error:
        raise SubtitleError(f"not valid JSON (column {error.colno}: {error.msg})", path=path,
                            line=error.lineno) from error
    return parse_lvb_detailed(obj, offset_seconds=offset_seconds, source=str(path),
                              video_duration_seconds=video_duration_seconds)


# -- selection ---------------------------------------------------------------------------------------
def lines_at(lines: Sequence[SubtitleLine], timestamps_seconds: Iterable[float], *,
             dedupe: bool = True) -> list[SubtitleLine]:
    """Lines active at the given times (``start <= t < end``), in time order.

    ``dedupe=True``: each line once, ordered by start (ties: file order). ``dedupe=False``: for each
    time in ascending order, every line active then (by start), so a line repeats once per frame time.
    """
    times = sorted(float(t) for t in timestamps_seconds)
    order = sorted(range(len(lines)), key=lambda i: (lines[i].start_seconds, i))
    if dedupe:
        return [lines[i] for i in order if any(lines[i].start_seconds <= t < lines[i].end_seconds for t in times)]
    return [lines[i] for t in times for i in order if lines[i].start_seconds <= t < lines[i].end_seconds]


def lines_in(lines: Sequence[SubtitleLine], interval: Interval | tuple[float, float]) -> list[SubtitleLine]:
    """Lines that overlap the half-open ``interval`` (``start < interval end`` and ``end > interval start``),
    ordered by start; a zero-length line counts when its time lies in the interval."""
    begin, end = (interval.start_seconds, interval.end_seconds) if isinstance(interval, Interval) else interval
    order = sorted(range(len(lines)), key=lambda i: (lines[i].start_seconds, i))
    chosen = []
    for i in order:
        line = lines[i]
        if line.start_seconds < end and (line.end_seconds > begin or begin <= line.start_seconds == line.end_seconds):
            chosen.append(line)
    return chosen


# -- prompt text -------------------------------------------------------------------------------------
def format_clock(seconds: float) -> str:
    """``75.9`` -> ``"01:15"``; ``3723`` -> ``"1:02:03"`` (truncated to whole seconds, negatives as 0)."""
    whole = max(int(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def render_lines(lines: Sequence[SubtitleLine]) -> str:
    """``"[mm:ss] text"`` per line, joined by newlines."""
    return "\n".join(f"[{format_clock(line.start_seconds)}] {line.text}" for line in lines)


def subtitle_context(lines: Sequence[SubtitleLine], *, fast_view_seconds: Sequence[float],
                     clips: Sequence[Interval] = (), mode: str = "fast") -> str:
    """The subtitle text put before the question of one prompt (format in the module docstring).

    Args:
        lines: the video's subtitle lines.
        fast_view_seconds: timestamps of the fast view's frames: its lines are :func:`lines_at` them.
        clips: the step's zoom clips; with ``mode="fast+clips"`` each adds :func:`lines_in` its interval.
        mode: ``"fast"`` or ``"fast+clips"``.

    Returns ``""`` when no line is selected, else the sections, each ending with ``"\\n"``.
    """
    if mode not in SUBTITLE_MODES:
        raise ValueError(f"subtitle mode must be one of {SUBTITLE_MODES}, got {mode!r}")
    sections: list[str] = []
    fast = lines_at(lines, fast_view_seconds)
    if fast:
        sections.append(f"{FAST_VIEW_HEADER}\n{render_lines(fast)}\n")
    if mode == "fast+clips":
        for clip in sorted(clips, key=lambda c: c.start_seconds):
            inside = lines_in(lines, clip)
            if inside:
                label = CLIP_HEADER % (int(clip.start_seconds), int(clip.end_seconds))
                sections.append(f"{label}\n{render_lines(inside)}\n")
    return "".join(sections)


# -- per-run provider --------------------------------------------------------------------------------
ContextText = Callable[[Sequence[float], Sequence[Interval]], str]


class SubtitleProvider:
    """Hands out the per-question ``context_text`` hooks of a run and records what each item was shown.

    Owns the parsed lines of the most recent file (questions run grouped by video, so each file is
    read once). ``items[item_id]`` is the record stored with the item: ``mode``, ``path``, ``status``
    (``"ok"``, ``"missing"`` or ``"unreadable"`` with ``detail``), and for ``"ok"``: ``num_lines``,
    ``num_skipped`` (unreadable blocks), ``fast_view_lines`` (lines shown for the fast view) and, in
    ``"fast+clips"`` mode, ``clip_lines`` (lines shown for the zoom clips, one count per step).
    """

    def __init__(self, *, mode: str = "fast") -> None:
        if mode not in SUBTITLE_MODES:
            raise ValueError(f"subtitle mode must be one of {SUBTITLE_MODES}, got {mode!r}")
        self.mode = mode
        self.items: dict[str, dict[str, Any]] = {}
        self._last: tuple[tuple[str, float, float | None], ParsedSubtitles | SubtitleError] | None = None

    def _read(self, path: Path, offset_seconds: float, duration_seconds: float | None) -> ParsedSubtitles | SubtitleError:
        key = (str(path), offset_seconds, duration_seconds)
        if self._last is None or self._last[0] != key:
            try:
                result: ParsedSubtitles | SubtitleError = read_subtitle_file(
                    path, offset_seconds=offset_seconds, video_duration_seconds=duration_seconds)
            except SubtitleError as error:
                logger.warning("subtitles not used: %s", error)
                result = error
            self._last = (key, result)
        return self._last[1]

    def hook(self, *, item_id: str, path: str | Path | None, offset_seconds: float = 0.0,
             duration_seconds: float | None = None) -> ContextText | None:
        """The item's hook ``(fast_view_seconds, zoom_clips) -> text``, or ``None`` when the file is
        missing or unreadable (no subtitles for the item; the status is recorded, nothing raised).
        ``duration_seconds`` (the annotated video length) ends LongVideoBench entries whose end is null."""
        info: dict[str, Any] = {"mode": self.mode, "path": str(path) if path else None, "status": "missing"}
        self.items[item_id] = info
        if path is None or not Path(path).is_file():
            return None
        parsed = self._read(Path(path), float(offset_seconds), duration_seconds)
        if isinstance(parsed, SubtitleError):
            info.update(status="unreadable", detail=str(parsed))
            return None
        lines = parsed.lines
        info.update(status="ok", num_lines=len(lines), num_skipped=len(parsed.skipped), fast_view_lines=0)
        mode = self.mode

        def context(fast_view_seconds: Sequence[float], clips: Sequence[Interval]) -> str:
            info["fast_view_lines"] = len(lines_at(lines, fast_view_seconds))
            if mode == "fast+clips":
                info.setdefault("clip_lines", []).append(sum(len(lines_in(lines, c)) for c in clips))
            return subtitle_context(lines, fast_view_seconds=fast_view_seconds, clips=clips, mode=mode)

        return context


__all__ = [
    "CLIP_HEADER", "FAST_VIEW_HEADER", "SUBTITLE_MODES", "ParsedSubtitles", "SkippedBlock", "SubtitleError",
    "SubtitleLine", "SubtitleMode", "SubtitleProvider", "clean_text", "decode_subtitle_bytes", "format_clock", "lines_at", "lines_in",
    "parse_lvb_detailed", "parse_lvb_subtitles", "parse_srt", "parse_srt_detailed", "read_subtitle_file",
    "render_lines", "subtitle_context",
]
