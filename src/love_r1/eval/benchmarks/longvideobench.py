"""LongVideoBench validation split (``longvideobench/LongVideoBench``, gated).

Layout: ``lvb_val.json`` (``id``, ``video_id``, ``video_path``, ``subtitle_path``, ``question``,
``candidates``, ``correct_choice`` (int), ``position``, ``question_category``, ``topic_category``,
``level``, ``duration_group``, ``duration``, ``starting_timestamp_for_subtitles``), or the lmms-eval
parquet copy (``validation-*.parquet`` / ``lvb_val*.parquet``) whose options are ``option0..option4``
padded with ``"N/A"`` (dropped); videos ``videos/<video_path>``, subtitles ``subtitles/<subtitle_path>``
(JSON; optional). With ``subtitles=True`` the runner shows the lines active at the fast view's frame
times, entry times minus ``starting_timestamp_for_subtitles`` (``Sample.subtitle_offset_seconds``).

``position`` lists frame indices of the referred moment at the video's native frame rate. With a
frame rate, from a ``fps`` field of the record or else from the video's metadata (read once per
video when the file exists), each index ``p`` becomes ``[p / fps, (p + 1) / fps)`` and touching or
overlapping ones are merged: the evidence intervals of the zoom statistics. Without one, no evidence.

Reference question text (everything after the video in VLMEvalKit's message):
``q + "\\n" + "A. c0\\nB. c1..." + "\\nAnswer with the option's letter from the given choices directly."``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from love_r1.agent.messages import question_text as plain_question_text
from love_r1.eval.benchmarks._base import Benchmark, DataError, as_list, optional_seconds, read_table, row_value
from love_r1.eval.records import LETTERS, Sample, letter_options
from love_r1.prompts.constants import SINGLE_LETTER_INSTRUCTION

logger = logging.getLogger(__name__)

ANSWER_SUFFIX = "\nAnswer with the option's letter from the given choices directly."


def reference_question_text(question: str, candidates: list[str]) -> str:
    return question + "\n" + "\n".join(f"{LETTERS[i]}. {c}" for i, c in enumerate(candidates)) + ANSWER_SUFFIX


def position_evidence(position, *, fps: float) -> tuple[tuple[float, float], ...]:
    """Frame indices of the referred moment -> merged ``[p / fps, (p + 1) / fps)`` intervals (seconds)."""
    if not fps > 0:
        raise ValueError(f"fps must be > 0 frames per second, got {fps!r}")
    frames = sorted({int(float(p)) for p in _positions(position)})
    intervals: list[list[float]] = []
    for frame in frames:
        start, end = frame / fps, (frame + 1) / fps
        if intervals and start <= intervals[-1][1] + 1e-9:
            intervals[-1][1] = end
        else:
            intervals.append([start, end])
    return tuple((round(s, 6), round(e, 6)) for s, e in intervals)


def _positions(value) -> list[float]:
    """``position`` as a list of frame indices (an int, a list, an array or a string holding a list)."""
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [] if value != value else [float(value)]
    return [float(p) for p in as_list(value) if p is not None and str(p).strip() not in ("", "None", "nan")]


def _options(row: Mapping[str, Any], *, source: Path) -> list[str]:
    if row.get("candidates") is not None:
        values = as_list(row["candidates"])
    else:
        values = [row[f"option{i}"] for i in range(10) if f"option{i}" in row]
        if not values:
            raise DataError(f"are missing (and so is 'option0'..); fields present: {sorted(row)}", path=source,
                            field="'candidates'")
    return [str(v) for v in values if v is not None and str(v) != "N/A"]


class LongVideoBench(Benchmark):
    name = "longvideobench"
    hub_repo = "longvideobench/LongVideoBench"
    hub_patterns = ("lvb_val.json", "*.md")
    expected_count = 1337
    breakdown_keys = ("duration", "question_category", "level", "topic_category")
    policy_preset = "longvideobench"
    has_subtitles = True
    video_fields = ("video_path", "video_id")

    def annotation_files(self):
        return [self.find_one(["lvb_val.json", "**/lvb_val.json", "lvb_val*.parquet", "validation*.parquet",
                               "**/validation*.parquet", "**/lvb_val*.parquet"],
                              what="lvb_val.json (or the validation parquet)")]

    def _video_fps(self, path: Path, cache: dict[str, float | None]) -> float | None:
        key = str(path)
        if key not in cache:
            cache[key] = None
            if path.is_file():
                from love_r1.video import VideoError, open_video

                try:
                    with open_video(path) as reader:
                        cache[key] = float(reader.metadata.fps) or None
                except (OSError, ValueError, VideoError) as error:
                    logger.debug("no frame rate for %s (%s): position not used", path, error)
        return cache[key]

    def _load(self) -> list[Sample]:
        (path,) = self.annotation_files()
        fps_cache: dict[str, float | None] = {}
        return self.samples_from_rows(
            read_table(path), source=path,
            qid_of=("id",),
            build=lambda index, row, qid: self._sample(row, qid=qid, source=path, fps_cache=fps_cache))

    def _sample(self, row: Mapping[str, Any], *, qid: str, source: Path, fps_cache: dict[str, float | None]) -> Sample:
        candidates = _options(row, source=source)
        choice = int(row_value(row, ("correct_choice",), source=source))
        question = str(row_value(row, ("question",), source=source))
        video_rel = str(row_value(row, ("video_path", "video_id"), source=source))
        video_path = self.find_video(video_rel, ("videos", "video", ""))
        group = str(row.get("duration_group", ""))
        fields: dict[str, Any] = dict(
            qid=qid, video_id=str(row.get("video_id") or video_rel), video_path=video_path, question=question,
            duration_seconds=optional_seconds(row.get("duration"), name="duration"), duration_bucket=group,
            categories={"duration": group, "question_category": str(row.get("question_category", "")),
                        "level": str(row.get("level", "")), "topic_category": str(row.get("topic_category", ""))})
        if not 0 <= choice < len(candidates):
            return Sample(**fields, options=letter_options(candidates), gold="",
                          data_error=f"{source}: question {qid!r}: correct_choice {choice} outside "
                                     f"0..{len(candidates) - 1}")
        candidates, choice = self.arrange_options(qid, candidates, choice)
        sub_rel = row.get("subtitle_path")
        subtitle_path = self.data_root / "subtitles" / sub_rel if sub_rel else None
        text = (reference_question_text(question, candidates) if self.reference_text
                else plain_question_text(question, letter_options(candidates), SINGLE_LETTER_INSTRUCTION))
        evidence: tuple[tuple[float, float], ...] = ()
        if _positions(row.get("position")):
            fps = float(row.get("fps") or 0.0)
            if not fps > 0:  # no (or a NaN) fps field: the video's own frame rate
                fps = self._video_fps(video_path, fps_cache) or 0.0
            evidence = position_evidence(row["position"], fps=fps) if fps > 0 else ()
        return Sample(
            **fields, options=letter_options(candidates), gold=LETTERS[choice], question_text=text, subtitle_path=subtitle_path if subtitle_path and subtitle_path.is_file() else None,
            evidence=evidence,
            subtitle_offset_seconds=float(row.get("starting_timestamp_for_subtitles") or 0.0),
        )
