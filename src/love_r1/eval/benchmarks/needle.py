"""The project's synthetic needle benchmark (``love-r1 synth needle``): ``annotations.jsonl`` + videos.

Each line: ``qid``, ``video`` (relative to the data root), ``question``, ``options`` (``"A. ..."``),
``answer`` (letter), ``duration_seconds``, ``evidence`` ([[start, end], ...]), ``category``.
Question text: question, options one per line, the single-letter instruction (both presets).
The adapter is ``NeedleBench`` (the synthetic data itself comes from ``love_r1.synth``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from love_r1.agent.messages import question_text as plain_question_text
from love_r1.eval.benchmarks._base import (
    Benchmark,
    as_list,
    generic_duration_bucket,
    gold_letter_error,
    optional_seconds,
    row_value,
)
from love_r1.eval.records import Sample
from love_r1.prompts.constants import SINGLE_LETTER_INSTRUCTION


class NeedleBench(Benchmark):
    name = "needle"
    breakdown_keys = ("category", "duration")

    def missing_data_hint(self) -> str:
        return f"write the data with `love-r1 synth needle --out {self.data_root}`"

    def annotation_files(self) -> list[Path]:
        return [self.find_one(["annotations.jsonl"], what="annotations.jsonl")]

    def _load(self) -> list[Sample]:
        return self.samples_of_one_file(qid_of=("qid",), build=self._sample)

    def _sample(self, row: Mapping[str, Any], *, qid: str, source: Path) -> Sample:
        video = str(row_value(row, ("video",), source=source))
        options = tuple(str(o) for o in as_list(row_value(row, ("options",), source=source)))
        gold = str(row_value(row, ("answer",), source=source)).strip()
        question = str(row_value(row, ("question",), source=source))
        duration = optional_seconds(row.get("duration_seconds"), name="duration_seconds")
        bucket = generic_duration_bucket(duration)
        fields: dict[str, Any] = dict(
            qid=qid, video_id=video, video_path=self.data_root / video, question=question,
            duration_seconds=duration, duration_bucket=bucket,
            categories={"category": str(row.get("category", "")), "duration": bucket},
            evidence=tuple((float(s), float(e)) for s, e in row.get("evidence", ())))
        error = gold_letter_error(gold, options, source=source, qid=qid, field="answer")
        if error:
            return Sample(**fields, options=options, gold="", data_error=error)
        options, gold = self.arrange_labelled(qid, options, gold)
        return Sample(**fields, options=options, gold=gold,
                      question_text=plain_question_text(question, options, SINGLE_LETTER_INSTRUCTION))
