"""The project's synthetic needle benchmark (``love-r1 synth needle``): ``annotations.jsonl`` + videos.

Each line: ``qid``, ``video`` (relative to the data root), ``question``, ``options`` (``"A. ..."``),
``answer`` (letter), ``duration_seconds``, ``evidence`` ([[start, end], ...]), ``category``.
Question text: question, options one per line, the single-letter instruction (both presets).
"""

from __future__ import annotations

from love_r1.agent.messages import question_text as plain_question_text
from love_r1.eval.benchmarks._base import Benchmark, field, generic_duration_bucket, read_table
from love_r1.eval.records import Sample
from love_r1.prompts.constants import SINGLE_LETTER_INSTRUCTION


class Needle(Benchmark):
    name = "needle"
    breakdown_keys = ("category", "duration")

    def annotation_files(self):
        return [self.find_one(["annotations.jsonl"], what="annotations.jsonl (write one with `love-r1 synth needle`)")]

    def load(self) -> list[Sample]:
        (path,) = self.annotation_files()
        samples = []
        for row in read_table(path):
            video = str(field(row, ("video",), source=path))
            qid = str(field(row, ("qid",), source=path))
            options, answer = self.arrange_labelled(qid, tuple(str(o) for o in field(row, ("options",), source=path)),
                                                    str(field(row, ("answer",), source=path)))
            question = str(field(row, ("question",), source=path))
            duration = row.get("duration_seconds")
            bucket = generic_duration_bucket(float(duration) if duration is not None else None)
            samples.append(Sample(
                qid=qid, video_id=video, video_path=self.data_root / video,
                question=question, options=options, answer_letter=answer,
                duration_seconds=float(duration) if duration is not None else None, duration_bucket=bucket,
                categories={"category": str(row.get("category", "")), "duration": bucket},
                question_text=plain_question_text(question, options, SINGLE_LETTER_INSTRUCTION),
                evidence=tuple((float(s), float(e)) for s, e in row.get("evidence", ())),
            ))
        return samples
