"""CG-Bench multiple-choice, long-acc (``CG-Bench/CG-Bench``, gated): MCQ on the full video.

Layout: ``cgbench.json`` (or ``cgbench_mini.json`` with ``--mini``-style data roots) with ``qid``,
``video_uid``, ``question``, ``choices``, ``right_answer`` (letter), ``duration``, ``domain``,
``sub_category``, ``clue_intervals``; videos ``cg_videos_720p/<video_uid>.mp4``.
LOVE-R1 trains on CG-Bench questions: it is **not** held out for LOVE-R1 checkpoints.
The reference never evaluated CG-Bench, so both presets use the plain question text.
"""

from __future__ import annotations

from love_r1.agent.messages import question_text as plain_question_text
from love_r1.eval.benchmarks._base import Benchmark, as_list, field, generic_duration_bucket, read_table
from love_r1.eval.records import Sample, letter_options
from love_r1.prompts.constants import SINGLE_LETTER_INSTRUCTION


class CGBench(Benchmark):
    name = "cgbench"
    hub_repo = "CG-Bench/CG-Bench"
    hub_patterns = ("cgbench.json", "cgbench_mini.json", "*.md")
    breakdown_keys = ("duration", "domain", "sub_category")

    def annotation_files(self):
        return [self.find_one(["cgbench.json", "cgbench_mini.json", "**/cgbench*.json"], what="cgbench.json")]

    def load(self) -> list[Sample]:
        (path,) = self.annotation_files()
        samples = []
        for row in read_table(path):
            uid = str(field(row, ("video_uid",), source=path))
            qid = str(field(row, ("qid",), source=path))
            options, answer = self.arrange_labelled(
                qid, letter_options([str(c) for c in as_list(field(row, ("choices",), source=path))]),
                str(field(row, ("right_answer", "answer"), source=path)).strip())
            question = str(field(row, ("question",), source=path))
            duration = row.get("duration")
            bucket = generic_duration_bucket(float(duration) if duration is not None else None)
            clues = tuple((float(s), float(e)) for s, e in as_list(row.get("clue_intervals")))
            samples.append(Sample(
                qid=qid, video_id=uid,
                video_path=self.find_video(uid, ("cg_videos_720p", "videos", "")), question=question, options=options,
                answer_letter=answer,
                duration_seconds=float(duration) if duration is not None else None, duration_bucket=bucket,
                categories={"duration": bucket, "domain": str(row.get("domain", "")),
                            "sub_category": str(row.get("sub_category", ""))},
                question_text=plain_question_text(question, options, SINGLE_LETTER_INSTRUCTION), evidence=clues,
            ))
        return samples
