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


@dataclass(frozen=True)
class Sample:
    """One multiple-choice question about one video.

    Attributes:
        qid: unique question id within the benchmark.
        video_id: id of the video (questions on the same video share it).
        video_path: absolute path of the video file.
        question: the question text as the benchmark stores it (options not included, except for
            benchmarks that embed them, see ``question_text``).
        options: the options as shown, ``"A. ..."``.
        answer_letter: the correct letter (``"A"``..).
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
    """

    qid: str
    video_id: str
    video_path: Path
    question: str
    options: tuple[str, ...]
    answer_letter: str
    duration_seconds: float | None = None
    duration_bucket: str = ""
    categories: Mapping[str, CategoryValue] = field(default_factory=dict)
    question_text: str = ""
    subtitle_path: Path | None = None
    evidence: tuple[tuple[float, float], ...] = ()
    subtitle_offset_seconds: float = 0.0
    window: Interval | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.qid, str) or not self.qid:
            raise ValueError(f"Sample.qid must be a non-empty string, got {self.qid!r}")
        if isinstance(self.options, str):
            raise TypeError(f"Sample.options must be a sequence of strings, got the string {self.options!r}")
        object.__setattr__(self, "options", tuple(self.options))
        object.__setattr__(self, "video_path", Path(self.video_path))
        if self.answer_letter not in LETTERS[: max(len(self.options), 1)]:
            raise ValueError(
                f"question {self.qid!r}: answer letter {self.answer_letter!r} is not one of the "
                f"{len(self.options)} option letters {list(LETTERS[:len(self.options)])}")
        object.__setattr__(self, "evidence", tuple((float(s), float(e)) for s, e in self.evidence))
        cats = {k: (tuple(v) if isinstance(v, list | tuple) else str(v)) for k, v in dict(self.categories).items()}
        object.__setattr__(self, "categories", cats)
        if self.window is not None and not isinstance(self.window, Interval):
            object.__setattr__(self, "window", Interval(float(self.window[0]), float(self.window[1])))

    @property
    def answer_index(self) -> int:
        return LETTERS.index(self.answer_letter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "qid": self.qid, "video_id": self.video_id, "video_path": str(self.video_path),
            "question": self.question, "options": list(self.options), "answer_letter": self.answer_letter,
            "answer_index": self.answer_index, "duration_seconds": self.duration_seconds,
            "duration_bucket": self.duration_bucket,
            "categories": {k: list(v) if isinstance(v, tuple) else v for k, v in self.categories.items()},
            "question_text": self.question_text,
            "subtitle_path": str(self.subtitle_path) if self.subtitle_path else None,
            "evidence": [list(e) for e in self.evidence],
            **({"subtitle_offset_seconds": self.subtitle_offset_seconds} if self.subtitle_offset_seconds else {}),
            **({"window": self.window.as_list()} if self.window is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sample:
        return cls(
            qid=data["qid"], video_id=data["video_id"], video_path=Path(data["video_path"]),
            question=data["question"], options=tuple(data["options"]), answer_letter=data["answer_letter"],
            duration_seconds=data.get("duration_seconds"), duration_bucket=data.get("duration_bucket", ""),
            categories=data.get("categories", {}), question_text=data.get("question_text", ""),
            subtitle_path=Path(data["subtitle_path"]) if data.get("subtitle_path") else None,
            evidence=tuple(tuple(e) for e in data.get("evidence", ())),
            subtitle_offset_seconds=float(data.get("subtitle_offset_seconds") or 0.0),
            window=Interval(*map(float, data["window"])) if data.get("window") else None,
        )


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
