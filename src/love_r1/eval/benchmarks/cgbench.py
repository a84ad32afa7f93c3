"""CG-Bench multiple-choice, long-acc (``CG-Bench/CG-Bench``, gated): MCQ on the full video.

Layout (the hub repo with its zips unpacked as the official ``unzip_hf_zip.py`` does):
``cgbench_mini.json`` (3,000 questions) and ``cgbench.json`` (12,129), each a list of ``qid``,
``video_uid``, ``question``, ``answer`` (text), ``choices``, ``right_answer`` (letter), ``duration``
(seconds), ``domain``, ``sub_category``, ``clue_intervals`` (``[[start, end], ...]`` seconds); videos
``cg_videos_720p/<video_uid>.mp4``, subtitles ``cg_subtitles/<video_uid>.srt``.

``split`` picks the question set: ``"mini"`` (default: what the official scripts, lmms-eval's
``cgbench`` task and VLMEvalKit's ``CG-Bench_MCQ_Grounding_Mini`` evaluate and the leaderboards
report) or ``"full"``. It is recorded in the run configuration. Duration groups are the official
scorer's (VLMEvalKit ``get_dimention_rating_mcq_grouding``): minutes binned right-closed into
``0 ~ 10``, ``10 ~ 20``, ..., ``50 ~ 60``, ``60+``.

LOVE-R1 trains on CG-Bench questions: it is **not** held out for LOVE-R1 checkpoints.
The reference never evaluated CG-Bench, so both presets use the plain question text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args

from love_r1.agent.messages import question_text as plain_question_text
from love_r1.eval.benchmarks._base import (
    Benchmark,
    as_list,
    gold_letter_error,
    optional_seconds,
    row_value,
)
from love_r1.eval.records import Sample, letter_options
from love_r1.prompts.constants import SINGLE_LETTER_INSTRUCTION

Split = Literal["mini", "full"]
SPLITS: tuple[str, ...] = get_args(Split)
_SPLIT_FILES = {"mini": "cgbench_mini.json", "full": "cgbench.json"}
# (upper bound in minutes, label), right-closed like pandas.cut(bins=[-inf, 10, 20, ..., 60, inf])
DURATION_GROUPS: tuple[tuple[float, str], ...] = (
    (10, "0 ~ 10"), (20, "10 ~ 20"), (30, "20 ~ 30"), (40, "30 ~ 40"), (50, "40 ~ 50"), (60, "50 ~ 60"),
    (math.inf, "60+"))


def duration_group(duration_seconds: float | None) -> str:
    """The official CG-Bench duration group of a video (``""`` when the duration is unknown)."""
    if duration_seconds is None:
        return ""
    minutes = duration_seconds / 60.0
    return next(label for limit, label in DURATION_GROUPS if minutes <= limit)


class CGBench(Benchmark):
    name = "cgbench"
    hub_repo = "CG-Bench/CG-Bench"
    hub_patterns = ("cgbench.json", "cgbench_mini.json", "*.md")
    breakdown_keys = ("duration", "domain", "sub_category")
    has_subtitles = True
    video_fields = ("video_uid",)

    def __init__(self, data_root: str | Path, *, split: str = "mini", **settings: Any) -> None:
        if split not in SPLITS:
            raise ValueError(f"CG-Bench split {split!r} is not one of {SPLITS}")
        super().__init__(data_root, **settings)
        self.split = split

    def adapter_options(self) -> dict[str, Any]:
        return {"split": self.split}

    def run_settings(self) -> dict[str, Any]:
        return {"split": self.split}

    def annotation_files(self) -> list[Path]:
        name = _SPLIT_FILES[self.split]
        return [self.find_one([name, f"**/{name}"], what=f"{name} (CG-Bench split {self.split!r})")]

    def _load(self) -> list[Sample]:
        return self.samples_of_one_file(qid_of=("qid",), build=self._sample)

    def _sample(self, row: Mapping[str, Any], *, qid: str, source: Path) -> Sample:
        uid = str(row_value(row, ("video_uid",), source=source))
        choices = [str(c) for c in as_list(row_value(row, ("choices",), source=source))]
        gold = str(row_value(row, ("right_answer",), source=source)).strip().upper()
        question = str(row_value(row, ("question",), source=source))
        duration = optional_seconds(row.get("duration"), name="duration")
        group = duration_group(duration)
        fields: dict[str, Any] = dict(
            qid=qid, video_id=uid, video_path=self.find_video(uid, ("cg_videos_720p", "videos", "")),
            question=question, duration_seconds=duration, duration_bucket=group,
            evidence=tuple((float(s), float(e)) for s, e in as_list(row.get("clue_intervals"))),
            categories={"duration": group, "domain": str(row.get("domain", "")),
                        "sub_category": str(row.get("sub_category", ""))})
        error = gold_letter_error(gold, choices, source=source, qid=qid, field="right_answer")
        if error:
            return Sample(**fields, options=letter_options(choices), gold="", data_error=error)
        options, gold = self.arrange_labelled(qid, letter_options(choices), gold)
        subtitle = self.data_root / "cg_subtitles" / f"{uid}.srt"
        return Sample(**fields, options=options, gold=gold, subtitle_path=subtitle if subtitle.is_file() else None,
                      question_text=plain_question_text(question, options, SINGLE_LETTER_INSTRUCTION))
