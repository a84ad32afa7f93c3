"""Video-MME (``lmms-lab/Video-MME``, config ``videomme``): 2,700 MCQs, short/medium/long.

Layout: ``videomme/test-*.parquet`` (fields ``video_id``, ``duration``, ``domain``,
``sub_category``, ``videoID``, ``question_id``, ``task_type``, ``question``, ``options``
(``"A. ..."``), ``answer``), videos ``data/<videoID>.mp4`` (also ``videos/``, ``video/``, the root),
subtitles ``subtitle/<videoID>.srt`` (``subtitle_path``; ``None`` when the video has none). With
``subtitles=True`` the runner shows the lines active at the fast view's frame times before the
question (:mod:`love_r1.eval.subtitles`).

Reference question text (``model_sample_frame.py``): VLMEvalKit's last message
``"Question: {q}\\n{options}\\nAnswer: "`` cut between ``Question: `` and ``Answer:``, then the
single-letter instruction, i.e. ``q + "\\n" + options + "\\n" + "\\nProvide only ..."``.
The stage-1 script (``model.py``, preset ``love_r1_stage1``) appends the instruction without its
leading newline: ``q + "\\n" + options + "\\n" + "Provide only ..."``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from love_r1.agent.messages import question_text as plain_question_text
from love_r1.eval.benchmarks._base import Benchmark, as_list, gold_letter_error, row_value
from love_r1.eval.records import Sample
from love_r1.prompts.constants import SINGLE_LETTER_INSTRUCTION


def reference_question_text(question: str, options: tuple[str, ...], *, stage1: bool = False) -> str:
    """The LOVE-R1 reference text for Video-MME (derived exactly as the reference does).

    ``stage1``: ``model.py``'s variant, whose instruction lacks the leading newline.
    """
    message = "Question: {}\nAnswer: ".format(question + "\n" + "\n".join(options))
    instruction = SINGLE_LETTER_INSTRUCTION[1:] if stage1 else SINGLE_LETTER_INSTRUCTION
    return message.split("Question: ")[-1].split("Answer:")[0] + instruction


class VideoMME(Benchmark):
    name = "videomme"
    hub_repo = "lmms-lab/Video-MME"
    hub_patterns = ("videomme/*.parquet", "*.md")
    expected_count = 2700
    breakdown_keys = ("duration", "domain", "sub_category", "task_type", "duration/task_type", "duration/domain")
    has_subtitles = True
    video_fields = ("videoID", "video_id")

    def annotation_files(self):
        return [self.find_one(["videomme/*.parquet", "**/videomme*.parquet", "*.parquet"],
                              what="Video-MME parquet (videomme/test-00000-of-00001.parquet)")]

    def _load(self) -> list[Sample]:
        return self.samples_of_one_file(qid_of=("question_id",), build=self._sample)

    def _sample(self, row: Mapping[str, Any], *, qid: str, source: Path) -> Sample:
        stem = str(row_value(row, ("videoID", "video_id"), source=source))
        options = tuple(str(o) for o in as_list(row_value(row, ("options", "candidates"), source=source)))
        gold = str(row_value(row, ("answer",), source=source)).strip()
        question = str(row_value(row, ("question",), source=source))
        duration = str(row_value(row, ("duration",), source=source, default=""))
        domain = str(row.get("domain", ""))
        task_type = str(row.get("task_type", ""))
        fields: dict[str, Any] = dict(
            qid=qid, video_id=stem, video_path=self.find_video(stem, ("data", "videos", "video", "")),
            question=question, duration_bucket=duration,
            categories={"duration": duration, "domain": domain, "sub_category": str(row.get("sub_category", "")),
                        "task_type": task_type, "duration/task_type": f"{duration}/{task_type}",
                        "duration/domain": f"{duration}/{domain}"})
        error = gold_letter_error(gold, options, source=source, qid=qid, field="answer")
        if error:
            return Sample(**fields, options=options, gold="", data_error=error)
        options, gold = self.arrange_labelled(qid, options, gold)
        subtitle_path = self.data_root / "subtitle" / f"{stem}.srt"
        if self.reference_text:
            text = reference_question_text(question, options, stage1=self.prompt_preset == "love_r1_stage1")
        else:
            text = plain_question_text(question, options, SINGLE_LETTER_INSTRUCTION)
        return Sample(**fields, options=options, gold=gold, question_text=text,
                      subtitle_path=subtitle_path if subtitle_path.is_file() else None)
