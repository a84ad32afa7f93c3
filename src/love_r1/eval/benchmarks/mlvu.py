"""MLVU dev, multiple-choice tasks (upstream ``MLVU/MVLU`` json files, or ``sy1998/MLVU_dev`` parquet).

Upstream: ``MLVU/json/{1_plotQA,2_needle,3_ego,4_count,5_order,6_anomaly_reco,7_topic_reasoning}.json``
with ``video``, ``duration``, ``question``, ``candidates``, ``answer`` (the option text); videos
``MLVU/video/<n_task>/<video>``. Parquet copy (read only when there is no ``json/`` folder):
``video_name`` (or ``video``), ``task_type`` (or ``question_type``; task names or the codes ``PQA``,
``NQA``, ...), ``question_id``, ``answer`` (text or letter); a question that embeds ``(A) ...`` lines
is cut to its stem, and those lines are the options when ``candidates`` is missing.
Headline **M-Avg** = mean of the 7 per-task accuracies (macro); ``overall`` = micro.

Reference question text: ``"{q}\\nOptions:\\n(A) c1\\n...(D) c4"`` + the single-letter instruction
(VLMEvalKit's ``qa_template`` after ``Question: ``).
"""

from __future__ import annotations

from love_r1.agent.messages import question_text as plain_question_text
from love_r1.eval.benchmarks._base import Benchmark, DataError, as_list, field, generic_duration_bucket, read_table
from love_r1.eval.records import LETTERS, Sample, letter_options
from love_r1.prompts.constants import SINGLE_LETTER_INSTRUCTION

TASK_FILES = {
    "plotQA": "1_plotQA.json", "needle": "2_needle.json", "ego": "3_ego.json", "count": "4_count.json",
    "order": "5_order.json", "anomaly_reco": "6_anomaly_reco.json", "topic_reasoning": "7_topic_reasoning.json",
}
TASK_CODES = {"topic_reasoning": "TR", "anomaly_reco": "AR", "needle": "NQA", "ego": "ER", "plotQA": "PQA",
              "order": "AO", "count": "AC"}


def reference_question_text(question: str, candidates: list[str]) -> str:
    message = f"Question: {question}\nOptions:\n"
    for index, candidate in enumerate(candidates):
        message += f"({LETTERS[index]}) {candidate}\n"
    return message.rstrip().split("Question: ")[-1] + SINGLE_LETTER_INSTRUCTION


def answer_letter(answer, candidates: list[str], *, source, qid) -> str:
    text = str(answer).strip()
    if text in candidates:
        return LETTERS[candidates.index(text)]
    stripped = text.strip("()").strip()
    if len(stripped) == 1 and stripped in LETTERS[: len(candidates)]:
        return stripped
    raise DataError(f"{source}: question {qid!r}: answer {answer!r} is neither a candidate nor a letter")


_TASK_NAMES = {**{name.lower(): name for name in TASK_FILES}, **{code.lower(): name for name, code in TASK_CODES.items()},
               "plot_qa": "plotQA", "needleqa": "needle", "anomaly_recognition": "anomaly_reco",
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

    def annotation_files(self):
        json_dir = next((d for d in (self.data_root / "MLVU" / "json", self.data_root / "json") if d.is_dir()), None)
        if json_dir is not None:
            files = [json_dir / name for name in TASK_FILES.values() if (json_dir / name).is_file()]
            if files:
                return files
        return [self.find_one(["*.parquet", "**/*.parquet"], what="MLVU json/ task files or a dev parquet")]

    def load(self) -> list[Sample]:
        samples = []
        names = {v: k for k, v in TASK_FILES.items()}
        for path in self.annotation_files():
            task_from_file = names.get(path.name)
            for index, row in enumerate(read_table(path)):
                samples.append(self._sample(row, index=index, path=path, task_from_file=task_from_file))
        return samples

    def _sample(self, row, *, index: int, path, task_from_file: str | None) -> Sample:
        task = task_from_file or task_name(field(row, ("task_type", "question_type"), source=path))
        video = str(field(row, ("video", "video_name"), source=path))
        question = str(field(row, ("question",), source=path))
        embedded: list[str] = []
        if "\n(A)" in question:  # the parquet copy embeds the options: keep the stem only
            question, embedded = question[: question.index("\n(A)")].strip(), _embedded(question)
        candidates = [str(c) for c in as_list(row.get("candidates"))] or embedded
        if not candidates:
            raise DataError(f"{path}: question {row.get('question_id', index)!r} has no 'candidates' and no embedded "
                            "'(A) ...' options")
        qid = str(row.get("question_id") or f"{task}_{index}")
        gold = LETTERS.index(answer_letter(row.get("answer"), candidates, source=path, qid=qid))
        candidates, gold = self.arrange_options(qid, candidates, gold)
        number = next((n.split("_")[0] for t, n in TASK_FILES.items() if t == task), "")
        folders = [f"MLVU/video/{number}_{task}", f"video/{number}_{task}", "MLVU/video", "video", "videos", ""]
        duration = row.get("duration")
        text = (reference_question_text(question, candidates) if self.reference_text
                else plain_question_text(question, letter_options(candidates), SINGLE_LETTER_INSTRUCTION))
        bucket = generic_duration_bucket(float(duration) if duration is not None else None)
        return Sample(
            qid=qid, video_id=video, video_path=self.find_video(video, folders), question=question,
            options=letter_options(candidates), answer_letter=LETTERS[gold],
            duration_seconds=float(duration) if duration is not None else None, duration_bucket=bucket,
            categories={"task": task, "duration": bucket}, question_text=text,
        )


def _embedded(question: str) -> list[str]:
    """Option texts of ``(A) ...`` lines in a question."""
    out = []
    for line in question.split("\n"):
        line = line.strip()
        if len(line) > 3 and line[0] == "(" and line[2] == ")" and line[1] in LETTERS:
            out.append(line[3:].strip())
    return out
