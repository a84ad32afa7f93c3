"""LongVideoBench validation split (``longvideobench/LongVideoBench``, gated).

Layout: ``lvb_val.json`` (``id``, ``video_id``, ``video_path``, ``subtitle_path``, ``question``,
``candidates``, ``correct_choice`` (int), ``question_category``, ``topic_category``, ``level``,
``duration_group``, ``duration``, ``starting_timestamp_for_subtitles``), videos ``videos/<video_path>``,
subtitles ``subtitles/<subtitle_path>`` (JSON).

Reference question text (everything after the video in VLMEvalKit's message):
``q + "\\n" + "A. c0\\nB. c1..." + "\\nAnswer with the option's letter from the given choices directly."``.
"""

from __future__ import annotations

import json

from love_r1.agent.messages import question_text as plain_question_text
from love_r1.eval.benchmarks._base import Benchmark, DataError, as_list, field, parse_clock, read_table, subtitle_block
from love_r1.eval.records import LETTERS, Sample, letter_options
from love_r1.prompts.constants import SINGLE_LETTER_INSTRUCTION

ANSWER_SUFFIX = "\nAnswer with the option's letter from the given choices directly."
SUBTITLE_HEADER = "This video's subtitles are listed below:\n"


def reference_question_text(question: str, candidates: list[str]) -> str:
    return question + "\n" + "\n".join(f"{LETTERS[i]}. {c}" for i, c in enumerate(candidates)) + ANSWER_SUFFIX


def read_subtitles(path, *, offset_seconds: float) -> list[tuple[float, float, str]]:
    """Cues of a LongVideoBench subtitle JSON, shifted by ``-offset_seconds``."""
    cues = []
    for entry in json.loads(path.read_text(encoding="utf-8")):
        if "timestamp" in entry:
            start, end = entry["timestamp"]
            text = entry.get("text", "")
        else:
            start, end, text = parse_clock(entry["start"]), parse_clock(entry["end"]), entry.get("line", "")
        cues.append((float(start) - offset_seconds, float(end) - offset_seconds, str(text).strip()))
    return cues


class LongVideoBench(Benchmark):
    name = "longvideobench"
    hub_repo = "longvideobench/LongVideoBench"
    hub_patterns = ("lvb_val.json", "*.md")
    expected_count = 1337
    breakdown_keys = ("duration", "question_category", "level", "topic_category")
    policy_preset = "longvideobench"
    has_subtitles = True

    def annotation_files(self):
        return [self.find_one(["lvb_val.json", "**/lvb_val.json"], what="lvb_val.json")]

    def load(self) -> list[Sample]:
        (path,) = self.annotation_files()
        samples = []
        for row in read_table(path):
            qid = str(field(row, ("id",), source=path))
            candidates = [str(c) for c in as_list(field(row, ("candidates",), source=path))]
            candidates = [c for c in candidates if c != "N/A"]
            choice = int(field(row, ("correct_choice",), source=path))
            if not 0 <= choice < len(candidates):
                raise DataError(f"{path}: question {qid!r}: correct_choice {choice} outside 0..{len(candidates) - 1}")
            question = str(field(row, ("question",), source=path))
            video_rel = str(field(row, ("video_path", "video_id"), source=path))
            sub_rel = row.get("subtitle_path")
            subtitle_path = self.data_root / "subtitles" / sub_rel if sub_rel else None
            text = (reference_question_text(question, candidates) if self.prompt_preset == "love_r1"
                    else plain_question_text(question, letter_options(candidates), SINGLE_LETTER_INSTRUCTION))
            if self.subtitles and subtitle_path is not None and subtitle_path.is_file():
                offset = float(row.get("starting_timestamp_for_subtitles") or 0.0)
                text = SUBTITLE_HEADER + subtitle_block(read_subtitles(subtitle_path, offset_seconds=offset)) + "\n" + text
            group = str(row.get("duration_group", ""))
            samples.append(Sample(
                qid=qid, video_id=str(row.get("video_id") or video_rel), video_path=self.find_video(
                    video_rel, ("videos", "video", "")), question=question, options=letter_options(candidates),
                answer_letter=LETTERS[choice], duration_seconds=float(row["duration"]) if row.get("duration") else None,
                duration_bucket=group,
                categories={"duration": group, "question_category": str(row.get("question_category", "")),
                            "level": str(row.get("level", "")), "topic_category": str(row.get("topic_category", ""))},
                question_text=text, subtitle_path=subtitle_path,
            ))
        return samples
