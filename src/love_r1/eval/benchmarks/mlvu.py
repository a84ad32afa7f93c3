"""MLVU dev, multiple-choice tasks (upstream ``MLVU/MVLU`` json files, or ``sy1998/MLVU_dev`` parquet).

Upstream (the gated hub repo ``MLVU/MVLU``, the same annotations as GitHub ``JUNJIE99/MLVU``
``data/``): ``MLVU/json/{1_plotQA,2_needle,3_ego,4_count,5_order,6_anomaly_reco,7_topic_reasoning}.json``
with ``video``, ``duration``, ``question``, ``candidates``, ``answer`` (the option text),
``question_type``; videos ``MLVU/video/<n_task>/<video>``. Parquet copy (read only when there is no
``json/`` folder): ``video_name`` (or ``video``), ``task_type`` (or ``question_type``; task names or
the codes ``PQA``, ``NQA``, ...), ``question_id``, ``answer`` (text or letter); a question that
embeds ``(A) ...`` lines is cut to its stem, and those lines are the options when ``candidates`` is
missing. Headline **M-Avg** = mean of the 7 per-task accuracies (macro); ``overall`` = micro.

The gold letter (:func:`gold_index`) follows MLVU's own scorer (``choice_bench.py``) and VLMEvalKit
(``MLVU_MCQ.qa_template``): the **last** candidate equal to the answer. Both sides are compared
stripped (24 ``ego`` items carry a trailing space on the answer and its candidate). An answer that
is no candidate (two ``needle`` items upstream: the official scorers then have no gold at all) makes
that item a data error; the benchmark runs on.

Reference question text: ``"{q}\\nOptions:\\n(A) c1\\n...(D) c4"`` + the single-letter instruction
(VLMEvalKit's ``qa_template`` after ``Question: ``), candidates exactly as annotated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from love_r1.agent.messages import question_text as plain_question_text
from love_r1.eval.benchmarks._base import (
    Benchmark,
    DataError,
    as_list,
    generic_duration_bucket,
    optional_seconds,
    read_table,
    row_value,
)
from love_r1.eval.records import LETTERS, Sample, letter_options
from love_r1.prompts.constants import SINGLE_LETTER_INSTRUCTION

TASK_FILES = {
    "plotQA": "1_plotQA.json", "needle": "2_needle.json", "ego": "3_ego.json", "count": "4_count.json",
    "order": "5_order.json", "anomaly_reco": "6_anomaly_reco.json", "topic_reasoning": "7_topic_reasoning.json",
}
TASK_CODES = {"topic_reasoning": "TR", "anomaly_reco": "AR", "needle": "NQA", "ego": "ER", "plotQA": "PQA",
              "order": "AO", "count": "AC"}


def reference_question_text(question: str, candidates: Sequence[str]) -> str:
    message = f"Question: {question}\nOptions:\n"
    for index, candidate in enumerate(candidates):
        message += f"({LETTERS[index]}) {candidate}\n"
    return message.rstrip().split("Question: ")[-1] + SINGLE_LETTER_INSTRUCTION


def normalise_option(text: Any) -> str:
    """How an answer and a candidate are compared: the text with surrounding whitespace removed."""
    return str(text).strip()


def gold_index(answer: Any, candidates: Sequence[str]) -> int:
    """The gold position: the LAST candidate equal to ``answer`` (both :func:`normalise_option`-ed), as
    MLVU's ``choice_bench.py`` and VLMEvalKit do; else ``answer`` read as a letter (``"B"``, ``"(B)"``).

    Raises:
        DataError: the answer is neither a candidate nor one of the option letters.
    """
    text = normalise_option(answer)
    matches = [i for i, candidate in enumerate(candidates) if normalise_option(candidate) == text]
    if matches:
        return matches[-1]
    letter = text.strip("()").strip()
    if len(letter) == 1 and letter in LETTERS[: len(candidates)]:
        return LETTERS.index(letter)
    raise DataError(f"must be one of the candidates {list(candidates)} or an option letter", field="answer",
                    value=str(answer), hint="an annotation bug: the official scorer has no gold letter for it either")


_TASK_NAMES = {**{name.lower(): name for name in TASK_FILES}, **{code.lower(): name for name, code in TASK_CODES.items()},
               "plot_qa": "plotQA", "needleqa": "needle", "findneedle": "needle", "anomaly_recognition": "anomaly_reco",
               "action_order": "order", "action_count": "count", "ego_reasoning": "ego"}


def task_name(value: str) -> str:
    """A task label of either copy (``plotQA``, ``PQA``, ``anomaly_reco``, ...) -> the upstream task name."""
    return _TASK_NAMES.get(str(value).strip().lower(), str(value).strip())


class MLVU(Benchmark):
    name = "mlvu"
    hub_repo = "MLVU/MVLU"
    hub_patterns = ("MLVU/json/*.json", "*.md")
    breakdown_keys = ("task", "duration")
    macro_key = "task"
    expected_groups = tuple(TASK_FILES)
    policy_preset = "mlvu"
    video_fields = ("video", "video_name")

    def annotation_files(self) -> list[Path]:
        json_dir = next((d for d in (self.data_root / "MLVU" / "json", self.data_root / "json") if d.is_dir()), None)
        if json_dir is not None:
            files = [json_dir / name for name in TASK_FILES.values() if (json_dir / name).is_file()]
            if files:
                return files
        return [self.find_one(["*.parquet", "**/*.parquet"], what="MLVU json/ task files or a dev parquet")]

    def _load(self) -> list[Sample]:
        samples = []
        names = {v: k for k, v in TASK_FILES.items()}
        for path in self.annotation_files():
            task_from_file = names.get(path.name)

            def upstream_qid(index: int, row: Mapping[str, Any], task: str | None = task_from_file) -> str:
                return f"{task}_{index}"

            def build(index: int, row: Mapping[str, Any], qid: str, task: str | None = task_from_file,
                      source: Path = path) -> Sample:
                return self._sample(row, qid=qid, source=source, task_from_file=task)

            samples += self.samples_from_rows(read_table(path), source=path, build=build,
                                              qid_of=upstream_qid if task_from_file else ("question_id",))
        return samples

    def _sample(self, row: Mapping[str, Any], *, qid: str, source: Path, task_from_file: str | None) -> Sample:
        task = task_from_file or task_name(row_value(row, ("task_type", "question_type"), source=source))
        video = str(row_value(row, ("video", "video_name"), source=source))
        question = str(row_value(row, ("question",), source=source))
        embedded: list[str] = []
        if "\n(A)" in question:  # the parquet copy embeds the options: keep the stem only
            question, embedded = question[: question.index("\n(A)")].strip(), _embedded(question)
        candidates = [str(c) for c in as_list(row.get("candidates"))] or embedded
        if not candidates:
            raise DataError("are missing (and the question embeds no '(A) ...' options)", path=source,
                            field=f"question {qid!r}: candidates")
        number = next((n.split("_")[0] for t, n in TASK_FILES.items() if t == task), "")
        folders = [f"MLVU/video/{number}_{task}", f"video/{number}_{task}", "MLVU/video", "video", "videos", ""]
        duration = optional_seconds(row.get("duration"), name="duration")
        bucket = generic_duration_bucket(duration)
        common: dict[str, Any] = dict(
            qid=qid, video_id=video, video_path=self.find_video(video, folders), question=question,
            duration_seconds=duration, duration_bucket=bucket, categories={"task": task, "duration": bucket})
        try:
            gold = gold_index(row.get("answer"), candidates)
        except DataError as error:  # keep everything else: the report shows the item with its options
            return Sample(**common, options=letter_options([c.strip() for c in candidates]), gold="",
                          data_error=f"{source}: question {qid!r}: {error}")
        candidates, gold = self.arrange_options(qid, candidates, gold)
        shown = [c.strip() for c in candidates]
        text = (reference_question_text(question, candidates) if self.reference_text
                else plain_question_text(question, letter_options(shown), SINGLE_LETTER_INSTRUCTION))
        return Sample(**common, options=letter_options(shown), gold=LETTERS[gold], question_text=text)


def _embedded(question: str) -> list[str]:
    """Option texts of ``(A) ...`` lines in a question."""
    out = []
    for line in question.split("\n"):
        line = line.strip()
        if len(line) > 3 and line[0] == "(" and line[2] == ")" and line[1] in LETTERS:
            out.append(line[3:].strip())
    return out
