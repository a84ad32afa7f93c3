"""LVBench: the ``lmms-lab/LVBench`` parquet copy, or the upstream ``THUDM/LVBench`` ``video_info.meta.jsonl``.

Annotations (the first found): ``data/*.parquet`` / ``*.parquet`` (lmms-lab, one row per question:
``key``, ``uid``, ``question``, ``answer``, ``question_type``, ``time_reference``, ``type``, optionally
``video_path``), else ``data/video_info.meta.jsonl`` / ``video_info.meta.jsonl`` (upstream, one object
per video: ``key``, ``type``, ``video_info``, ``qa`` = list of ``uid``, ``question``, ``answer``,
``question_type``, ``time_reference``). Options are embedded in ``question`` as ``(A) ...`` lines;
``question_type`` lists the abilities (multi-label); ``time_reference`` (``"00:15-00:19"``) is the
evidence.

Videos (the first that exists, for the YouTube id ``key``):

1. the row's ``video_path`` (relative to the data root or ``video_chunks/``), when the parquet has it;
2. ``<key>.mp4`` in ``all_videos/``, ``videos/``, ``video/``, ``video_chunks/`` or the root;
3. ``<key>.mp4`` anywhere below ``video_chunks/`` (lmms-lab's ``video_chunks/videos_chunk_*.zip``
   unzipped in place, whatever folders the archives hold);
4. the shards written by the upstream download script (``scripts/download.sh`` runs video2dataset:
   ``scripts/videos/00000/00000000.mp4`` named by download order, each with a ``00000000.json``
   whose ``url`` holds the YouTube id), under ``scripts/videos/`` or ``videos/``.

A missing video's error lists the names and folders tried.

Reference question text: the last message ``"Question: {q}\\nAnswer: "`` cut between
``Question: `` and ``Answer:`` (= ``q + "\\n"``) then ``"Respond with only the letter (A, B, C, or D)
of the correct option."`` (no newline before it).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from love_r1.agent.messages import question_text as plain_question_text
from love_r1.eval.benchmarks._base import (
    VIDEO_EXTENSIONS,
    Benchmark,
    DataError,
    as_list,
    gold_letter_error,
    parse_clock,
    read_table,
    row_value,
)
from love_r1.eval.records import Sample, letter_options, option_body
from love_r1.prompts.constants import LVBENCH_LETTER_INSTRUCTION, SINGLE_LETTER_INSTRUCTION

logger = logging.getLogger(__name__)

ABILITIES = {
    "entity recognition": "ER", "event understanding": "EU", "key information retrieval": "KIR",
    "temporal grounding": "TG", "reasoning": "Rea", "summarization": "Sum",
}
_OPTION_LINE = re.compile(r"^\s*\(([A-Z])\)\s*(.*)$")
FLAT_FOLDERS = ("all_videos", "videos", "video", "video_chunks", "")
CHUNK_FOLDER = "video_chunks"
SHARD_FOLDERS = ("scripts/videos", "videos")  # where the upstream download script's video2dataset shards land


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


def youtube_id(url: str) -> str | None:
    """``https://www.youtube.com/watch?v=ID`` (or ``youtu.be/ID``) -> ``ID``."""
    parsed = urlparse(str(url))
    if parsed.netloc.endswith("youtu.be"):
        return parsed.path.strip("/") or None
    values = parse_qs(parsed.query).get("v")
    return values[0] if values else None


def _abilities(value: Any) -> tuple[str, ...]:
    out = []
    for item in as_list(value):
        for part in str(item).split(","):
            name = part.strip().lower()
            if name:
                out.append(ABILITIES.get(name, name))
    return tuple(dict.fromkeys(out))


def _evidence(value: Any) -> tuple[tuple[float, float], ...]:
    if not value or "-" not in str(value):
        return ()
    start, end = str(value).split("-", 1)
    try:
        return ((parse_clock(start), parse_clock(end)),)
    except ValueError:
        return ()


def _duration_seconds(video_info: Any) -> float | None:
    if isinstance(video_info, Mapping) and video_info.get("duration_minutes") is not None:
        return float(video_info["duration_minutes"]) * 60.0
    return None


class LVBench(Benchmark):
    name = "lvbench"
    hub_repo = "lmms-lab/LVBench"
    hub_patterns = ("*.parquet", "data/*.parquet", "*.jsonl", "*.md")
    expected_count = 1549
    breakdown_keys = ("ability", "video_type")
    video_fields = ("key", "video")

    def __init__(self, data_root: str | Path, **settings: Any) -> None:
        super().__init__(data_root, **settings)
        self._chunk_index: dict[str, Path] | None = None
        self._shard_index: dict[str, Path] | None = None

    def annotation_files(self) -> list[Path]:
        # never "**/*.parquet": the download script's video2dataset shards write videos/00000.parquet
        return [self.find_one(["data/*.parquet", "*.parquet", "data/video_info.meta.jsonl", "video_info.meta.jsonl",
                               "**/video_info.meta.jsonl"], what="LVBench parquet or video_info.meta.jsonl")]

    def _rows(self) -> tuple[Path, list[dict[str, Any]]]:
        (path,) = self.annotation_files()
        rows = read_table(path)
        if path.suffix == ".jsonl":  # upstream: one object per video with its qa list
            flat = []
            for number, video in enumerate(rows, start=1):
                qa = video.get("qa") if isinstance(video, dict) else None
                if not isinstance(qa, list):
                    raise DataError("must be a list of questions", path=path, line=number, field="'qa'",
                                    value=qa if isinstance(video, dict) else video)
                info = video.get("video_info")
                flat += [{**item, "key": video.get("key"), "type": video.get("type", ""), "video_info": info}
                         for item in qa]
            rows = flat
        return path, rows

    def _load(self) -> list[Sample]:
        self._chunk_index = self._shard_index = None
        path, rows = self._rows()
        return self.samples_from_rows(rows, source=path, qid_of=("uid", "question_id", "id"),
                                      build=lambda index, row, qid: self._sample(row, qid=qid, source=path))

    def _sample(self, row: Mapping[str, Any], *, qid: str, source: Path) -> Sample:
        key = str(row_value(row, ("key", "video"), source=source))
        full = str(row_value(row, ("question",), source=source))
        stem, options = split_embedded_options(full)
        if not options:
            raise DataError("must embed '(A) ...' options", path=source, field=f"question {qid!r}: question",
                            value=full)
        gold = str(row_value(row, ("answer",), source=source)).strip().strip("()")
        fields: dict[str, Any] = dict(
            qid=qid, video_id=key, video_path=self._video(key, row.get("video_path")), question=stem,
            duration_seconds=_duration_seconds(row.get("video_info")), evidence=_evidence(row.get("time_reference")),
            categories={"ability": _abilities(row.get("question_type")), "video_type": str(row.get("type", ""))})
        error = gold_letter_error(gold, options, source=source, qid=qid, field="answer")
        if error:
            return Sample(**fields, options=options, gold="", data_error=error)
        if self.shuffle_options_seed is not None:
            options, gold = self.arrange_labelled(qid, options, gold)
            full = stem + "\n" + "\n".join(f"({o[0]}) {option_body(o)}" for o in options)
        text = reference_question_text(full) if self.reference_text else plain_question_text(
            stem, options, SINGLE_LETTER_INSTRUCTION)
        return Sample(**fields, options=options, gold=gold, question_text=text)

    # -- videos ----------------------------------------------------------------------------------------
    def _video(self, key: str, video_path: Any) -> Path:
        listed = [self.data_root / str(video_path), self.data_root / CHUNK_FOLDER / str(video_path)] if video_path else []
        candidates = listed + self.video_candidates(key, FLAT_FOLDERS)
        for path in candidates:
            if path.is_file():
                return path
        for index in (self.chunk_index(), self.shard_index()):
            if key in index:
                return index[key]
        missing = candidates[0]
        self.video_lookups[str(missing)] = (
            *(str(path) for path in listed),
            *(f"{self.data_root / folder if folder else self.data_root}/{key}.*" for folder in FLAT_FOLDERS),
            f"{self.data_root / CHUNK_FOLDER}/**/{key}.*",
            *(f"{self.data_root / folder}/*/<n>.json (video2dataset) with url ...?v={key}" for folder in SHARD_FOLDERS),
        )
        return missing

    def chunk_index(self) -> dict[str, Path]:
        """Video stem -> file for every video anywhere below ``video_chunks/`` (scanned once per load)."""
        if self._chunk_index is None:
            self._chunk_index = {}
            folder = self.data_root / CHUNK_FOLDER
            if folder.is_dir():
                for path in sorted(folder.rglob("*")):
                    if path.suffix in VIDEO_EXTENSIONS and path.is_file():
                        self._chunk_index.setdefault(path.stem, path)
        return self._chunk_index

    def shard_index(self) -> dict[str, Path]:
        """YouTube id -> file of the upstream download script's video2dataset shards (from each
        sample's ``<n>.json`` sidecar: its ``url``), scanned once per load."""
        if self._shard_index is None:
            self._shard_index = {}
            for folder in SHARD_FOLDERS:
                for sidecar in sorted((self.data_root / folder).glob("*/*.json")):
                    video = next((v for v in (sidecar.with_suffix(e) for e in VIDEO_EXTENSIONS) if v.is_file()), None)
                    if video is None:
                        continue
                    try:
                        meta = json.loads(sidecar.read_text(encoding="utf-8"))
                    except (OSError, ValueError) as error:
                        logger.debug("skipping unreadable video2dataset sidecar %s: %s", sidecar, error)
                        continue
                    vid = youtube_id(meta.get("url", "")) if isinstance(meta, dict) else None
                    if vid:
                        self._shard_index.setdefault(vid, video)
        return self._shard_index
