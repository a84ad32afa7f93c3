"""``Sample``: one benchmark question normalised to a single schema shared by every adapter."""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from love_r1.interval import Interval

LETTERS = string.ascii_uppercase
CategoryValue = str | tuple[str, ...]


DATA_ERROR = "data error"  # the kind (error text prefix) of an item whose annotation is unusable


@dataclass(frozen=True)
class Sample:
    """One multiple-choice question about one video.

    Attributes:
        qid: unique question id within the benchmark.
        video_id: id of the video (questions on the same video share it).
        video_path: absolute path of the video file (or frame folder); ``None`` only for an item with a
            ``data_error`` whose video field could not be read.
        question: the question text as the benchmark stores it (options not included, except for
            benchmarks that embed them, see ``question_text``).
        options: the options as shown, ``"A. ..."``.
        gold: the correct letter (``"A"``..); ``""`` for an item with a ``data_error``.
        duration_seconds: video length from the annotations (``None`` when not annotated).
        duration_bucket: the benchmark's duration group (``"short"``, ``"600"``, ...), or ``""``.
        categories: breakdown keys -> value; a tuple value counts toward each label (LVBench abilities).
        question_text: the exact question text of the default prompt preset, including options and
            the answer instruction; the loop appends only the decision instruction to it.
        subtitle_path: the subtitle file, when the benchmark has one for this video.
        subtitle_offset_seconds: subtracted from the subtitle file's times (LongVideoBench's
            ``starting_timestamp_for_subtitles``; ``0.0`` elsewhere).
        evidence: ground-truth intervals ``(start_seconds, end_seconds)``, half-open, when annotated.
        window: the part of the video file the question is about (MVBench's ``start``/``end``): the
            episode sees only this window, as the reference's cut clip (times and ``D`` measured from
            its start); ``None`` = the whole file.
        data_error: why this item's annotation cannot be scored (e.g. an upstream answer that is not
            among the candidates), else ``None``. Such an item is stored as an error of kind
            :data:`DATA_ERROR` without a model call and scores 0; the rest of the benchmark runs.
    """

    qid: str
    video_id: str
    video_path: Path | None
    question: str
    options: tuple[str, ...]
    gold: str
    duration_seconds: float | None = None
    duration_bucket: str = ""
    categories: Mapping[str, CategoryValue] = field(default_factory=dict)
    question_text: str = ""
    subtitle_path: Path | None = None
    evidence: tuple[tuple[float, float], ...] = ()
    subtitle_offset_seconds: float = 0.0
    window: Interval | None = None
    data_error: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.qid, str) or not self.qid:
            raise ValueError(f"Sample.qid must be a non-empty string, got {self.qid!r}")
        if isinstance(self.options, str):
            raise TypeError(f"Sample.options must be a sequence of strings, got the string {self.options!r}")
        object.__setattr__(self, "options", tuple(self.options))
        if self.video_path is not None:
            object.__setattr__(self, "video_path", Path(self.video_path))
        elif self.data_error is None:
            raise ValueError(f"question {self.qid!r}: video_path is required (None only with a data_error)")
        if self.data_error is None and self.gold not in LETTERS[: max(len(self.options), 1)]:
            raise ValueError(
                f"question {self.qid!r}: gold letter {self.gold!r} is not one of the "
                f"{len(self.options)} option letters {list(LETTERS[:len(self.options)])}")
        if self.data_error is not None and self.gold:
            raise ValueError(f"question {self.qid!r} has a data error ({self.data_error}); its gold must be '', "
                             f"got {self.gold!r}")
        object.__setattr__(self, "evidence", tuple((float(s), float(e)) for s, e in self.evidence))
        cats = {k: (tuple(v) if isinstance(v, list | tuple) else str(v)) for k, v in dict(self.categories).items()}
        object.__setattr__(self, "categories", cats)
        if self.window is not None and not isinstance(self.window, Interval):
            object.__setattr__(self, "window", Interval(float(self.window[0]), float(self.window[1])))

    @property
    def gold_index(self) -> int | None:
        """The gold letter's 0-based index (``None`` for an item with a data error)."""
        return LETTERS.index(self.gold) if self.gold else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "qid": self.qid, "video_id": self.video_id,
            "video_path": None if self.video_path is None else str(self.video_path),
            "question": self.question, "options": list(self.options), "gold": self.gold,
            "gold_index": self.gold_index, "duration_seconds": self.duration_seconds,
            "duration_bucket": self.duration_bucket,
            "categories": {k: list(v) if isinstance(v, tuple) else v for k, v in self.categories.items()},
            "question_text": self.question_text,
            "subtitle_path": str(self.subtitle_path) if self.subtitle_path else None,
            "evidence": [list(e) for e in self.evidence],
            **({"subtitle_offset_seconds": self.subtitle_offset_seconds} if self.subtitle_offset_seconds else {}),
            **({"window": self.window.as_list()} if self.window is not None else {}),
            **({"data_error": self.data_error} if self.data_error is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sample:
        """The inverse of :meth:`to_dict` (also reads stores written before ``gold`` was named so)."""
        return cls(
            qid=data["qid"], video_id=data["video_id"],
            video_path=None if data.get("video_path") is None else Path(data["video_path"]),
            question=data["question"], options=tuple(data["options"]), gold=stored_gold(data),
            duration_seconds=data.get("duration_seconds"), duration_bucket=data.get("duration_bucket", ""),
            categories=data.get("categories", {}), question_text=data.get("question_text", ""),
            subtitle_path=Path(data["subtitle_path"]) if data.get("subtitle_path") else None,
            evidence=tuple(tuple(e) for e in data.get("evidence", ())),
            subtitle_offset_seconds=float(data.get("subtitle_offset_seconds") or 0.0),
            window=Interval(*map(float, data["window"])) if data.get("window") else None,
            data_error=data.get("data_error"),
        )


def stored_gold(sample: Mapping[str, Any]) -> str:
    """The gold letter of a stored sample dict (``"gold"``; runs stored before the rename: ``"answer_letter"``);
    ``""`` when it has none (a data-error item, a partial record)."""
    return str(sample.get("gold", sample.get("answer_letter")) or "")


def letter_options(texts: Sequence[str]) -> tuple[str, ...]:
    """``["red", "blue"]`` -> ``("A. red", "B. blue")``."""
    if len(texts) > len(LETTERS):
        raise ValueError(f"{len(texts)} options; at most {len(LETTERS)} are supported")
    return tuple(f"{LETTERS[i]}. {text}" for i, text in enumerate(texts))


def option_body(option: str) -> str:
    """``"A. red"`` -> ``"red"`` (the text after a leading letter label, else the option unchanged)."""
    stripped = option.strip()
    for pattern in ("{}. ", "({}) ", "{}) ", "{}: ", "{}:"):
        for letter in LETTERS:
            label = pattern.format(letter)
            if stripped.startswith(label):
                return stripped[len(label):].strip()
    return stripped


def order_by_video(samples: Sequence[Sample]) -> list[Sample]:
    """Samples grouped so questions on the same video run together (first-appearance order kept)."""
    first: dict[str, int] = {}
    for index, sample in enumerate(samples):
        first.setdefault(sample.video_id, index)
    return sorted(samples, key=lambda s: first[s.video_id])
