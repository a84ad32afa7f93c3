"""Training records: read the published annotation formats and our own trajectories, and check them.

Formats (``docs/protocol.md`` §5), one JSON object per line (``.jsonl``) or a JSON list (``.json``):

* **SFT** (stages 1-2): ``video`` (relative to the video root), ``messages``: a user turn holding the
  question text, then the assistant reply; further user/assistant pairs make a multi-turn record,
  trained whole as the reference does (the video is in the first user turn; every assistant turn is
  labelled). ``cot_data`` marks a stage-2 CoT record (its ``zoomin_intervals`` are the clips of the
  prompt); ``tgt`` (``[[s, e], ...]``) marks a stage-1 grounding record; neither: stage-1 plain QA.
* **GRPO** (stage 3): ``path``, ``problem``, ``options`` (``"A. ..."``), ``problem_type``, ``solution``
  (``<answer>A</answer>`` or a bare letter), ``zoomin_intervals``, optional ``tgt`` (a grounding
  record) and optional ``evidence`` (where a QA record's answer is shown; read by the zoom reward).
* **Trajectory**: an ``Episode.to_dict()`` from ``love-r1 eval`` / ``ask`` (keys ``episode_id`` and
  ``steps``): one single-step record per model call (decoupled), with the clips that call saw.

:func:`load_records` never stops at a bad line: it returns the records it could read plus one
:class:`RecordIssue` per problem; :func:`check_records` adds video checks (missing or unreadable
file, intervals outside the video, bad answers). Training runs on the checked records only
(a pre-flight manifest), so it never dies mid-epoch on a bad record (reference defect #10).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from love_r1.errors import DataError
from love_r1.interval import Interval
from love_r1.prompts import constants
from love_r1.time_base import TIME_BASES, TimeBase

logger = logging.getLogger(__name__)

RecordKind = Literal["qa", "grounding", "cot", "grpo", "step"]
# Interval endpoints may exceed the duration by this much (the reference's GRPO rule allows D + 1).
END_TOLERANCE_SECONDS = 1.0
_ANSWER_TAG = re.compile(r"<answer>\s*(.*?)\s*</answer>", re.DOTALL)
_OPTION_LETTER = re.compile(r"^\s*\(?([A-Za-z])[.):]")


@dataclass(frozen=True)
class TrainRecord:
    """One single-step training sample, before any video is decoded.

    ``question_text`` is the text of the prompt's last item without the decision instruction
    (which is appended when ``decision_instruction`` is true, as at inference). ``target`` is the
    assistant reply (SFT) and starts with ``assistant_prefix`` when one is pre-filled.
    ``later_turns`` holds the ``(user text, assistant text)`` pairs that follow ``target`` in a
    multi-turn SFT record. ``clips`` are the zoom clips of the prompt (a stage-2 record's
    ``zoomin_intervals``, a trajectory step's ``clips_in_prompt``). ``evidence`` holds the ground-truth
    intervals (a grounding record's ``tgt`` moments, else a QA record's ``evidence``: the zoom reward's
    target; no effect on the prompt); ``grounding`` marks a record whose file has ``tgt`` (its task is
    to locate them). A trajectory step (``kind="step"``) also keeps its episode's ``window`` (the part of
    the file the item was restricted to, e.g. an MVBench bound) and ``time_base``, so its prompt is
    re-rendered on the clock the episode ran on; ``None`` elsewhere (the whole file; the config's clock).
    """

    line: int
    kind: RecordKind
    video_path: str
    question_text: str
    target: str | None = None
    assistant_prefix: str = ""
    decision_instruction: bool = True
    clips: tuple[Interval, ...] = ()
    options: tuple[str, ...] = ()
    gold: str | None = None
    source_id: str = ""
    later_turns: tuple[tuple[str, str], ...] = ()
    evidence: tuple[Interval, ...] = ()
    grounding: bool = False
    window: Interval | None = None
    time_base: TimeBase | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line, "kind": self.kind, "video_path": self.video_path, "question_text": self.question_text,
            "target": self.target, "assistant_prefix": self.assistant_prefix,
            "decision_instruction": self.decision_instruction,
            "clips": [i.as_list() for i in self.clips], "options": list(self.options), "gold": self.gold,
            "source_id": self.source_id, "later_turns": [list(turn) for turn in self.later_turns],
            "evidence": [i.as_list() for i in self.evidence], "grounding": self.grounding,
            "window": None if self.window is None else self.window.as_list(), "time_base": self.time_base,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainRecord:
        return cls(
            line=int(data["line"]), kind=data["kind"], video_path=data["video_path"], question_text=data["question_text"],
            target=data.get("target"), assistant_prefix=data.get("assistant_prefix", ""),
            decision_instruction=bool(data.get("decision_instruction", True)),
            clips=tuple(Interval(*map(float, i)) for i in data.get("clips", ())),
            options=tuple(data.get("options", ())), gold=data.get("gold"), source_id=data.get("source_id", ""),
            later_turns=tuple((str(u), str(a)) for u, a in data.get("later_turns", ())),
            evidence=tuple(Interval(*map(float, i)) for i in data.get("evidence", ())),
            grounding=bool(data.get("grounding", False)),
            window=None if data.get("window") is None else Interval(*map(float, data["window"])),
            time_base=data.get("time_base"),
        )


@dataclass(frozen=True)
class RecordIssue:
    """A problem with one record: its line (1-based; item number in a JSON list), field and message."""

    line: int
    field: str
    message: str
    video_path: str = ""

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


class RecordError(DataError):
    """A record cannot be read; ``field`` names the offending key (:func:`load_records` turns it into a
    :class:`RecordIssue` of its line)."""


@dataclass
class Manifest:
    """The pre-flight result: usable records, their video durations (per video path, window and time
    base) and every skipped item's issue."""

    records: list[TrainRecord] = field(default_factory=list)
    issues: list[RecordIssue] = field(default_factory=list)
    durations_seconds: dict[tuple[str, Interval | None, str], float] = field(default_factory=dict)
    num_read: int = 0

    @property
    def num_videos(self) -> int:
        """Distinct video files probed."""
        return len({path for path, _, _ in self.durations_seconds})

    @property
    def num_skipped(self) -> int:
        return len({issue.line for issue in self.issues})


# --------------------------------------------------------------------------- parsing


def _intervals(value: Any, name: str) -> tuple[Interval, ...]:
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        raise RecordError("must be a list of [start_seconds, end_seconds]", field=name, value=value)
    out = []
    for i, pair in enumerate(value):
        try:
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise ValueError("not a pair")
            out.append(Interval(float(pair[0]), float(pair[1])))
        except (TypeError, ValueError):
            raise RecordError("must be [start_seconds, end_seconds] with 0 <= start <= end", field=f"{name}[{i}]",
                              value=pair) from None
    return tuple(out)


def _text_of(content: Any, name: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [item.get("text", "") for item in content if isinstance(item, dict) and item.get("type") == "text"]
        if texts:
            return "".join(texts)
    raise RecordError("must be a string or a list of {'type': 'text', 'text': ...} items", field=name, value=content)


def _source_id(data: dict[str, Any], keys: Sequence[str]) -> str:
    """The value of the first of ``keys`` present in ``data``, as text ("" when none is)."""
    for key in keys:
        if key in data:
            return str(data[key])
    return ""


def gold_letter(solution: str) -> str:
    """The gold answer of a GRPO ``solution``: the text inside ``<answer>...</answer>``, else the stripped text."""
    match = _ANSWER_TAG.search(solution)
    return (match.group(1) if match else solution).strip()


def option_letters(options: Sequence[str]) -> list[str]:
    """``["A", "B", ...]`` read from ``"A. ..."`` options (uppercase)."""
    letters = []
    for option in options:
        match = _OPTION_LETTER.match(option)
        letters.append(match.group(1).upper() if match else "")
    return letters


def _turns(messages: Any) -> list[tuple[str, str]]:
    """``messages`` as ``[(user text, assistant text), ...]``: strictly alternating, user first, assistant last."""
    if not isinstance(messages, list) or len(messages) < 2:
        raise RecordError("must be a list [user turn, assistant turn, (user turn, assistant turn) ...]",
                          field="messages", value=messages)
    roles = []
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ("user", "assistant"):
            hint = "love-r1 writes the system message itself; remove it" if role == "system" else None
            raise RecordError("must be one of ['user', 'assistant']", field=f"messages[{i}].role", value=role,
                              hint=hint)
        roles.append(role)
    expected = ["user", "assistant"] * (len(messages) // 2)
    if roles != expected or len(messages) % 2:
        raise RecordError("roles must alternate user, assistant, ... and end with an assistant turn (one reply per "
                          "user turn)", field="messages", value=roles)
    texts = [_text_of(m.get("content"), f"messages[{i}].content") for i, m in enumerate(messages)]
    for i in range(1, len(texts), 2):
        if not texts[i].strip():
            raise RecordError("must be a non-empty assistant reply", field=f"messages[{i}].content", value=texts[i])
    return [(texts[i], texts[i + 1]) for i in range(0, len(texts), 2)]


def parse_sft_record(data: dict[str, Any], *, line: int) -> TrainRecord:
    if not isinstance(data.get("video"), str) or not data["video"]:
        raise RecordError("must be a video file path (relative to --video-root)", field="video",
                          value=data.get("video"))
    (question, target), *later = _turns(data.get("messages"))
    if "cot_data" in data:
        kind: RecordKind = "cot"
    elif "tgt" in data:
        kind = "grounding"
    else:
        kind = "qa"
    return TrainRecord(
        line=line, kind=kind, video_path=data["video"], question_text=question, target=target,
        decision_instruction=kind == "cot", clips=_intervals(data.get("zoomin_intervals"), "zoomin_intervals"),
        evidence=_intervals(data.get("tgt"), "tgt"), grounding=kind == "grounding",
        source_id=_source_id(data, ("id", "qid")), later_turns=tuple(later),
    )


def parse_grpo_record(data: dict[str, Any], *, line: int) -> TrainRecord:
    from love_r1.agent.messages import grpo_question_text

    video = data.get("path", data.get("video"))
    if not isinstance(video, str) or not video:
        raise RecordError("must be a video file path (relative to --video-root)", field="path", value=video)
    problem = data.get("problem")
    if not isinstance(problem, str):
        raise RecordError("must be a string", field="problem", value=problem)
    problem_type = data.get("problem_type", "multiple choice")
    if problem_type not in constants.TYPE_TEMPLATE:
        raise RecordError(f"must be one of {sorted(constants.TYPE_TEMPLATE)}", field="problem_type", value=problem_type)
    options = data.get("options") or []
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise RecordError("must be a list of strings like 'A. ...'", field="options", value=options)
    solution = data.get("solution")
    if not isinstance(solution, str) or not gold_letter(solution):
        raise RecordError("must be '<answer>X</answer>' or a letter", field="solution", value=solution)
    with_options = options if problem_type == "multiple choice" else []
    text = grpo_question_text(problem, with_options) + constants.TYPE_TEMPLATE[problem_type]
    return TrainRecord(
        line=line, kind="grpo", video_path=video, question_text=text, options=tuple(options),
        gold=gold_letter(solution), clips=_intervals(data.get("zoomin_intervals"), "zoomin_intervals"),
        evidence=_intervals(data["tgt"], "tgt") if "tgt" in data else _intervals(data.get("evidence"), "evidence"),
        grounding="tgt" in data,
        source_id=_source_id(data, ("id", "problem_id", "qid")),
    )


def records_from_episode(data: dict[str, Any], *, line: int) -> list[TrainRecord]:
    """One single-step record per model call of an ``Episode.to_dict()`` (decoupled steps)."""
    from love_r1.agent.messages import question_text

    if data.get("error"):
        raise RecordError("must be empty: a failed episode is no training data", field="error", value=data["error"])
    video = (data.get("video") or {}).get("path")
    if not isinstance(video, str) or not video:
        raise RecordError("must be the video file", field="video.path", value=video)
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise RecordError("must be a non-empty list of steps", field="steps", value=steps)
    text = question_text(data.get("question", ""), data.get("options") or (), data.get("answer_instruction", ""))
    evidence = _intervals(data.get("evidence"), "evidence")
    window = _intervals([data["video"]["window"]], "video.window")[0] if data["video"].get("window") else None
    time_base = (data.get("policy") or {}).get("time_base")  # absent in episodes older than the setting
    if time_base is not None and time_base not in TIME_BASES:
        raise RecordError(f"must be one of {list(TIME_BASES)}", field="policy.time_base", value=time_base)
    out = []
    for i, step in enumerate(steps):
        prefix = step.get("assistant_prefix", "") or ""
        raw = step.get("raw_text", "")
        if not isinstance(raw, str):
            raise RecordError("must be a string", field=f"steps[{i}].raw_text", value=raw)
        target = raw if raw.startswith(prefix) else prefix + raw
        out.append(TrainRecord(
            line=line, kind="step", video_path=video, question_text=text, target=target, assistant_prefix=prefix,
            clips=_intervals(step.get("clips_in_prompt"), f"steps[{i}].clips_in_prompt"),
            evidence=evidence, options=tuple(data.get("options") or ()), gold=data.get("gold"),
            source_id=f"{data.get('episode_id', '')}#{step.get('index', i)}", window=window, time_base=time_base,
        ))
    return out


def parse_record(data: Any, *, line: int) -> list[TrainRecord]:
    """Dispatch on the keys: trajectory (``steps``), GRPO (``problem``), SFT (``messages``)."""
    if not isinstance(data, dict):
        raise RecordError(f"must be a JSON object; got {type(data).__name__}", field="record")
    if "steps" in data and "episode_id" in data:
        return records_from_episode(data, line=line)
    if "problem" in data:
        return [parse_grpo_record(data, line=line)]
    if "messages" in data:
        return [parse_sft_record(data, line=line)]
    raise RecordError("must have 'messages' (SFT), 'problem' (GRPO) or 'steps' (a trajectory)", field="record",
                      hint=f"its keys are {sorted(data)[:10]}")


def _raw_items(path: Path) -> Iterator[tuple[int, Any, str | None]]:
    text = path.read_text(encoding="utf-8")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as error:
            yield error.lineno, None, f"invalid JSON list: {error.msg}"
            return
        for i, item in enumerate(items, start=1):
            yield i, item, None
        return
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            yield number, json.loads(raw), None
        except json.JSONDecodeError as error:
            yield number, None, f"invalid JSON: {error.msg} (column {error.colno})"


def load_records(path: str | Path) -> tuple[list[TrainRecord], list[RecordIssue]]:
    """Read every record of ``path`` (JSONL or a JSON list); bad items become issues, never exceptions."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"records file {str(path)!r} does not exist")
    records: list[TrainRecord] = []
    issues: list[RecordIssue] = []
    for line, item, error in _raw_items(path):
        if error is not None:
            issues.append(RecordIssue(line, "json", error))
            continue
        try:
            records.extend(parse_record(item, line=line))
        except RecordError as err:
            issues.append(RecordIssue(line, err.field or "record", err.reason))
    return records, issues


# --------------------------------------------------------------------------- checks


def record_video_path(video_path: str, video_root: str | Path | None) -> Path:
    """A record's ``video_path`` as a path: relative paths are taken against ``video_root``."""
    path = Path(video_path)
    if not path.is_absolute() and video_root is not None:
        path = Path(video_root) / path
    return path


def _check_answer(record: TrainRecord) -> str | None:
    from love_r1.agent.grammar import parse_reply

    if record.kind == "grpo":
        letters = [letter for letter in option_letters(record.options) if letter]
        if record.options and record.gold and record.gold.upper() not in letters:
            return f"gold answer {record.gold!r} is not one of the option letters {letters}"
        return None
    if record.kind in ("cot", "step") and record.target is not None:
        parsed = parse_reply(record.target)
        if parsed.kind == "invalid":
            return f"the reply has no readable \\boxed{{}} answer or interval ({parsed.error}): {record.target[-80:]!r}"
    return None


def check_record(record: TrainRecord, *, duration_seconds: float) -> list[RecordIssue]:
    """Intervals inside ``[0, D + 1]`` with positive length; a readable answer (pure)."""
    issues = []
    limit = duration_seconds + END_TOLERANCE_SECONDS
    clips_field = "clips_in_prompt" if record.kind == "step" else "zoomin_intervals"
    evidence_field = "tgt" if record.grounding else "evidence"  # the names in the records file
    for name, intervals in ((clips_field, record.clips), (evidence_field, record.evidence)):
        for i, interval in enumerate(intervals):
            if interval.end_seconds > limit or interval.start_seconds >= duration_seconds:
                issues.append(RecordIssue(record.line, f"{name}[{i}]",
                                          f"{interval} lies outside the video [0, {duration_seconds:.2f}] s",
                                          record.video_path))
            elif interval.length_seconds <= 0:
                issues.append(RecordIssue(record.line, f"{name}[{i}]", f"{interval} is empty", record.video_path))
    if record.kind == "grounding" and not record.evidence:
        issues.append(RecordIssue(record.line, "tgt", "a grounding record needs at least one moment",
                                  record.video_path))
    problem = _check_answer(record)
    if problem:
        issues.append(RecordIssue(record.line, "answer" if record.kind == "grpo" else "target", problem, record.video_path))
    return issues


def probe_durations(path: Path, clocks: Sequence[tuple[Interval | None, str]], *,
                    open_video: Any = None) -> dict[tuple[Interval | None, str], float | Exception]:
    """The duration ``D`` in seconds of the video (or of a ``window`` of it) on a time base (as the input builder
    computes it), for every ``(window, time_base)`` of ``clocks``, from ONE open of the video. A clock whose
    ``D`` cannot be measured maps to its ``love_r1.video.VideoError`` (an unreadable video: every clock)."""
    from love_r1.video import VideoError, timeline

    if open_video is None:
        from love_r1.video import open_video
    try:
        with open_video(path) as reader:
            reader.check_complete()
            out: dict[tuple[Interval | None, str], float | Exception] = {}
            for window, time_base in clocks:
                try:
                    out[(window, time_base)] = float(timeline(reader, time_base=time_base,
                                                              window=window).duration_seconds)
                except VideoError as error:
                    out[(window, time_base)] = error
            return out
    except VideoError as error:
        return dict.fromkeys(clocks, error)


def build_manifest(
    records: Sequence[TrainRecord], *, video_root: str | Path | None, issues: Sequence[RecordIssue] = (),
    probe_videos: bool = True, open_video: Any = None, time_base: str = "presentation",
) -> Manifest:
    """Check every record up front: the video exists and opens, intervals fit, the answer is readable.

    A record with any issue is left out of ``Manifest.records``; each video is opened once, whatever the
    windows and clocks its records need. Intervals are checked against ``D`` on ``time_base`` (the training
    config's, the clock the input builder uses; a trajectory step's own clock and window where it has them).
    """
    manifest = Manifest(issues=list(issues), num_read=len({r.line for r in records} | {i.line for i in issues}))
    # D depends on the clock and the window: one value per (video, window, time base), all of a video's
    # measured on one open of it
    keys = [(str(record_video_path(record.video_path, video_root)), record.window, record.time_base or time_base)
            for record in records]
    clocks: dict[str, dict[tuple[Interval | None, str], None]] = {}
    for name, window, base in keys:
        clocks.setdefault(name, {})[(window, base)] = None
    probes: dict[tuple[str, Interval | None, str], float | Exception] = {}
    for name, needed in clocks.items():
        if probe_videos and Path(name).is_file():
            measured = probe_durations(Path(name), list(needed), open_video=open_video)
            probes.update({(name, *clock): value for clock, value in measured.items()})
    video_failures: dict[str, str] = {}
    for record, key in zip(records, keys, strict=True):
        name = key[0]
        if key not in manifest.durations_seconds and name not in video_failures:
            if not Path(name).is_file():
                video_failures[name] = f"missing video {name!r} (check --video-root)"
            elif probe_videos:
                probed = probes[key]
                if isinstance(probed, Exception):
                    video_failures[name] = f"unreadable video {name!r}: {probed}"
                else:
                    manifest.durations_seconds[key] = probed
            else:
                manifest.durations_seconds[key] = float("inf")
        if name in video_failures:
            manifest.issues.append(RecordIssue(record.line, "video", video_failures[name], record.video_path))
            continue
        problems = check_record(record, duration_seconds=manifest.durations_seconds[key])
        if problems:
            manifest.issues.extend(problems)
            continue
        manifest.records.append(record)
    manifest.issues.sort(key=lambda issue: issue.line)
    for issue in manifest.issues:
        logger.info("skipping record: %s", issue)
    return manifest


def check_records(path: str | Path, *, video_root: str | Path | None, probe_videos: bool = True,
                  time_base: str = "presentation") -> Manifest:
    """:func:`load_records` then :func:`build_manifest` (intervals checked against ``D`` on ``time_base``)."""
    records, issues = load_records(path)
    return build_manifest(records, video_root=video_root, issues=issues, probe_videos=probe_videos,
                          time_base=time_base)


__all__ = [
    "END_TOLERANCE_SECONDS", "Manifest", "RecordError", "RecordIssue", "TrainRecord", "build_manifest",
    "check_record", "check_records", "gold_letter", "load_records", "option_letters", "parse_record",
    "probe_durations", "record_video_path", "records_from_episode",
]
