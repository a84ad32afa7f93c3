"""QA items: the input of the data chain, read from JSONL annotation files.

Two layouts are understood:

* ``needle`` (what ``love-r1 synth needle`` writes; the native layout):
  ``{qid, video, question, options: ["A. ...", ...], answer: "A", evidence: [[s, e], ...]}``
  with ``video`` relative to the video root and intervals in seconds.
* ``cgbench`` (CG-Bench annotations): ``{qid, video_uid, question, choices: ["...", ...],
  right_answer: "A", clue_intervals: [[s, e], ...], duration}``; the video is
  ``<video_uid>.mp4`` under the video root and the option letters are added.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from love_r1.errors import DataError
from love_r1.interval import Interval

AnnotationFormat = Literal["auto", "needle", "cgbench"]
Split = Literal["train", "val"]
_LETTERS = string.ascii_uppercase
_OPTION_RE = re.compile(r"^\s*([A-Z])\s*[.)]\s*")


class AnnotationError(DataError):
    """A malformed annotation line; the message names the file, line and field."""


@dataclass(frozen=True)
class QAItem:
    """One multiple-choice question about one video.

    Attributes:
        qid: unique question id (also the split and store key).
        video_path: the video file, relative to the video root.
        question: the question text (no options).
        options: option strings, each starting with its letter (``"A. ..."``).
        gold: the correct option letter.
        evidence: ground-truth intervals ``[start_seconds, end_seconds)`` that hold the answer.
        duration_seconds: video duration when the annotation gives it, else ``None``.
        source: a data-source tag (written to GRPO records as ``data_type``).
    """

    qid: str
    video_path: str
    question: str
    options: tuple[str, ...]
    gold: str
    evidence: tuple[Interval, ...] = ()
    duration_seconds: float | None = None
    source: str = "needle"

    def __post_init__(self) -> None:
        if not self.qid:
            raise ValueError("QAItem.qid is empty; every item needs a unique question id")
        if self.gold not in self.letters:
            raise ValueError(f"QAItem {self.qid!r}: gold must be one of the option letters {list(self.letters)}; "
                             f"got {self.gold!r}")

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(_LETTERS[i] for i in range(len(self.options)))

    @property
    def video_id(self) -> str:
        """The file stem of the video (the id used for contamination checks)."""
        return Path(self.video_path).stem

    def to_dict(self) -> dict[str, Any]:
        out = {
            "qid": self.qid, "video": self.video_path, "question": self.question, "options": list(self.options),
            "answer": self.gold, "evidence": [iv.as_list() for iv in self.evidence], "source": self.source,
        }
        if self.duration_seconds is not None:
            out["duration_seconds"] = self.duration_seconds
        return out


def jsonl_rows(path: str | Path, *, error: type[DataError] = DataError) -> Iterator[tuple[int, Any]]:
    """``(line number, decoded value)`` of every non-blank line of a JSONL file; a line that is not JSON
    raises ``error`` (a :class:`~love_r1.errors.DataError`) naming the file and line."""
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as decode_error:
            raise error(f"not valid JSON ({decode_error.msg}, column {decode_error.colno})", path=path,
                        line=number) from None


def _intervals(raw: Any, *, path: Path, line: int, name: str) -> tuple[Interval, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise AnnotationError("must be a list of [start_seconds, end_seconds] pairs", path=path, line=line,
                              field=name, value=raw)
    out = []
    for index, pair in enumerate(raw):
        try:
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise ValueError("not a pair")
            start, end = float(pair[0]), float(pair[1])
            out.append(Interval(min(start, end), max(start, end)))
        except (TypeError, ValueError):
            raise AnnotationError("must be [start_seconds, end_seconds]: two finite numbers >= 0", path=path,
                                  line=line, field=f"{name}[{index}]", value=pair) from None
    return tuple(out)


def _letter_options(options: Sequence[str]) -> tuple[str, ...]:
    """Prefix each option with its letter unless every option already has one."""
    if all(_OPTION_RE.match(o) for o in options):
        return tuple(options)
    return tuple(f"{_LETTERS[i]}. {str(o).strip()}" for i, o in enumerate(options))


def _require(row: dict, key: str, *, path: Path, line: int, fmt: str) -> Any:
    if key not in row:
        raise AnnotationError(f"is missing (format {fmt!r}); fields present: {sorted(row)}", path=path, line=line,
                              field=repr(key))
    return row[key]


def _options(row: dict, key: str, *, path: Path, line: int, fmt: str) -> tuple[str, ...]:
    options = _require(row, key, path=path, line=line, fmt=fmt)
    if not isinstance(options, list) or not options:
        raise AnnotationError("must be a non-empty list", path=path, line=line, field=key, value=options)
    return _letter_options(options)


def _gold(row: dict, key: str, options: Sequence[str], *, path: Path, line: int, fmt: str) -> str:
    gold = str(_require(row, key, path=path, line=line, fmt=fmt)).strip().upper()[:1]
    letters = list(_LETTERS[: len(options)])
    if gold not in letters:
        raise AnnotationError(f"must be one of the option letters {letters}", path=path, line=line, field=key,
                              value=row[key])
    return gold


def item_from_needle(row: dict, *, path: Path, line: int) -> QAItem:
    """Build an item from a ``needle``-layout row (the native layout)."""
    where = {"path": path, "line": line, "fmt": "needle"}
    options = _options(row, "options", **where)
    duration = row.get("duration_seconds")
    return QAItem(
        qid=str(_require(row, "qid", **where)), video_path=str(_require(row, "video", **where)),
        question=str(_require(row, "question", **where)), options=options,
        gold=_gold(row, "answer", options, **where),
        evidence=_intervals(row.get("evidence"), path=path, line=line, name="evidence"),
        duration_seconds=None if duration is None else float(duration), source=str(row.get("source", "needle")),
    )


def item_from_cgbench(row: dict, *, path: Path, line: int) -> QAItem:
    """Build an item from a CG-Bench row (``video_uid``, ``choices``, ``right_answer``, ``clue_intervals``)."""
    where = {"path": path, "line": line, "fmt": "cgbench"}
    video_uid = str(_require(row, "video_uid", **where))
    options = _options(row, "choices", **where)
    qid = row.get("qid", row.get("id"))
    if qid is None:
        raise AnnotationError("is missing (and so is 'id'; format 'cgbench')", path=path, line=line, field="'qid'")
    duration = row.get("duration", row.get("duration_seconds"))
    return QAItem(
        qid=str(qid), video_path=str(row.get("video", f"{video_uid}.mp4")),
        question=str(_require(row, "question", **where)), options=options,
        gold=_gold(row, "right_answer", options, **where),
        evidence=_intervals(row.get("clue_intervals"), path=path, line=line, name="clue_intervals"),
        duration_seconds=None if duration is None else float(duration), source="cgbench",
    )


_ADAPTERS = {"needle": item_from_needle, "cgbench": item_from_cgbench}


def _detect(row: dict) -> str:
    if "right_answer" in row or "clue_intervals" in row or "video_uid" in row:
        return "cgbench"
    return "needle"


def iter_items(path: str | Path, *, annotation_format: AnnotationFormat = "auto") -> Iterator[QAItem]:
    """Yield the items of a JSONL annotation file (a JSON list file is accepted too)."""
    path = Path(path)
    if annotation_format not in get_args(AnnotationFormat):
        raise ValueError(f"annotation_format must be one of {list(get_args(AnnotationFormat))}; "
                         f"got {annotation_format!r}")
    if not path.is_file():
        raise FileNotFoundError(f"annotation file {str(path)!r} does not exist; hint: pass --annotations")
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        try:
            rows = [(i + 1, r) for i, r in enumerate(json.loads(text))]
        except json.JSONDecodeError as error:
            raise AnnotationError(f"not valid JSON ({error.msg}, column {error.colno})", path=path,
                                  line=error.lineno) from error
    else:
        rows = jsonl_rows(path, error=AnnotationError)
    for number, row in rows:
        if not isinstance(row, dict):
            raise AnnotationError(f"must be a JSON object; got {type(row).__name__}", path=path, line=number)
        fmt = _detect(row) if annotation_format == "auto" else annotation_format
        yield _ADAPTERS[fmt](row, path=path, line=number)


def load_items(path: str | Path, *, annotation_format: AnnotationFormat = "auto") -> list[QAItem]:
    """All items of an annotation file; duplicate ``qid`` values are an error."""
    items = list(iter_items(path, annotation_format=annotation_format))
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.qid in seen:
            raise AnnotationError(f"must be unique; items {seen[item.qid]} and {index} share it", path=path,
                                  field="qid", value=item.qid)
        seen[item.qid] = index
    return items


def split_of(qid: str, *, val_fraction: float, salt: str = "") -> Split:
    """Deterministic split from a hash of ``qid``: the same id always lands in the same split."""
    if not 0.0 <= val_fraction <= 1.0:
        raise ValueError(f"val_fraction must be in [0, 1], got {val_fraction}")
    digest = hashlib.sha256(f"{salt}{qid}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    return "val" if u < val_fraction else "train"


def question_block(item: QAItem) -> str:
    """The question followed by ``Options:`` and one option per line (the stage-3 GRPO question text)."""
    from love_r1.agent.messages import grpo_question_text

    return grpo_question_text(item.question.rstrip() + "\n", item.options)
