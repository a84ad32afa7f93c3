"""LVBench (``lmms-lab/LVBench`` parquet, or upstream ``THUDM/LVBench`` ``video_info.meta.jsonl``).

Options are embedded in ``question`` as ``(A) ...`` lines; ``question_type`` lists the abilities
(multi-label); ``time_reference`` (``"00:15-00:19"``) is the evidence. Videos:
``all_videos/<key>.mp4`` (also ``videos/``, ``video/``, the root).

Reference question text: the last message ``"Question: {q}\\nAnswer: "`` cut between
``Question: `` and ``Answer:`` (= ``q + "\\n"``) then ``"Respond with only the letter (A, B, C, or D)
of the correct option."`` (no newline before it).
"""

from __future__ import annotations

import re

from love_r1.agent.messages import question_text as plain_question_text
from love_r1.eval.benchmarks._base import Benchmark, DataError, as_list, field, parse_clock, read_table
from love_r1.eval.records import LETTERS, Sample, letter_options, option_body
from love_r1.prompts.constants import LVBENCH_LETTER_INSTRUCTION, SINGLE_LETTER_INSTRUCTION

ABILITIES = {
    "entity recognition": "ER", "event understanding": "EU", "key information retrieval": "KIR",
    "temporal grounding": "TG", "reasoning": "Rea", "summarization": "Sum",
}
_OPTION_LINE = re.compile(r"^\s*\(([A-Z])\)\s*(.*)$")


def reference_question_text(question: str) -> str:
    message = f"Question: {question}\nAnswer: "
    return message.split("Question: ")[-1].split("Answer:")[0] + LVBENCH_LETTER_INSTRUCTION


def split_embedded_options(question: str) -> tuple[str, tuple[str, ...]]:
    """``"Q?\\n(A) x\\n(B) y"`` -> ``("Q?", ("A. x", "B. y"))``."""
    stem, options = [], []
    for line in question.split("\n"):
        match = _OPTION_LINE.match(line)
        if match:
            options.append(match.group(2).strip())
        elif not options:
            stem.append(line)
    return "\n".join(stem).strip(), letter_options(options)


def _abilities(value) -> tuple[str, ...]:
    items = as_list(value)
    out = []
    for item in items:
        for part in str(item).split(","):
            name = part.strip().lower()
            if name:
                out.append(ABILITIES.get(name, name))
    return tuple(dict.fromkeys(out))


def _evidence(value) -> tuple[tuple[float, float], ...]:
    if not value or "-" not in str(value):
        return ()
    start, end = str(value).split("-", 1)
    try:
        return ((parse_clock(start), parse_clock(end)),)
    except ValueError:
        return ()


class LVBench(Benchmark):
    name = "lvbench"
    hub_repo = "lmms-lab/LVBench"
    hub_patterns = ("*.parquet", "data/*.parquet", "*.jsonl", "*.md")
    expected_count = 1549
    breakdown_keys = ("ability", "video_type")

    def annotation_files(self):
        return [self.find_one(["data/*.parquet", "*.parquet", "**/*.parquet", "video_info.meta.jsonl",
                               "**/video_info.meta.jsonl"], what="LVBench parquet or video_info.meta.jsonl")]

    def _rows(self):
        (path,) = self.annotation_files()
        rows = read_table(path)
        if path.suffix == ".jsonl":  # upstream: one object per video with its qa list
            flat = []
            for video in rows:
                for qa in field(video, ("qa",), source=path):
                    flat.append({**qa, "key": video.get("key"), "type": video.get("type", "")})
            rows = flat
        return path, rows

    def load(self) -> list[Sample]:
        path, rows = self._rows()
        samples = []
        for row in rows:
            key = str(field(row, ("key", "video"), source=path))
            full = str(field(row, ("question",), source=path))
            stem, options = split_embedded_options(full)
            if not options:
                raise DataError(f"{path}: question {row.get('uid')!r} has no embedded '(A) ...' options")
            answer = str(field(row, ("answer",), source=path)).strip().strip("()")
            qid = str(field(row, ("uid", "question_id", "id"), source=path))
            if self.shuffle_options_seed is not None and answer in LETTERS[: len(options)]:
                options, answer = self.arrange_labelled(qid, options, answer)
                full = stem + "\n" + "\n".join(f"({o[0]}) {option_body(o)}" for o in options)
            text = reference_question_text(full) if self.reference_text else plain_question_text(
                stem, options, SINGLE_LETTER_INSTRUCTION)
            samples.append(Sample(
                qid=qid, video_id=key,
                video_path=self.find_video(key, ("all_videos", "videos", "video", "")), question=stem,
                options=options, answer_letter=answer,
                categories={"ability": _abilities(row.get("question_type")), "video_type": str(row.get("type", ""))},
                question_text=text, evidence=_evidence(row.get("time_reference")),
            ))
        return samples
