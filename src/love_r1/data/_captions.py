"""Step ``caption``: one caption per fixed-length segment of each video, by a local VLM.

Segments are ``[k·L, (k+1)·L)`` seconds; the last one is cut at the video end and dropped
when shorter than ``min_segment_seconds``. Each segment's frames are sampled at
``frames_per_second`` (at most ``max_frames_per_segment``) with a ``pixels_per_frame``
budget. Captions are stored per call in the store and exported per video as JSONL
(``{video, start_seconds, end_seconds, text}`` per line).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from love_r1.backends import Backend, GenerationRequest, SamplingParams
from love_r1.data._clips import clip_request, default_open_video
from love_r1.data._engine import CallJob, RunStats, item_errors, run_jobs_into
from love_r1.data._items import jsonl_rows
from love_r1.data._store import CallStore
from love_r1.data._templates import render, template_digest
from love_r1.errors import DataError
from love_r1.interval import Interval

STEP = "caption"


@dataclass(frozen=True)
class CaptionConfig:
    """Settings of the caption step (all but ``backend_label`` change what the model sees)."""

    segment_seconds: float = 10.0
    min_segment_seconds: float = 1.0
    frames_per_second: float = 2.0
    max_frames_per_segment: int = 32
    pixels_per_frame: int = 512 * 28 * 28
    sampling: SamplingParams = field(default_factory=lambda: SamplingParams(max_new_tokens=256))
    backend_label: str = ""

    def __post_init__(self) -> None:
        if self.segment_seconds <= 0:
            raise ValueError(f"segment_seconds must be > 0, got {self.segment_seconds}")
        if not 0 <= self.min_segment_seconds <= self.segment_seconds:
            raise ValueError(f"min_segment_seconds={self.min_segment_seconds} must be in [0, segment_seconds="
                             f"{self.segment_seconds}]")

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "template": template_digest("caption")}


def segments_of(*, duration_seconds: float, segment_seconds: float, min_segment_seconds: float) -> list[Interval]:
    """Fixed-length segments covering ``[0, duration_seconds)``; a tail shorter than the minimum is dropped."""
    count = math.ceil(duration_seconds / segment_seconds - 1e-9)
    out = []
    for k in range(count):
        start = k * segment_seconds
        end = min((k + 1) * segment_seconds, duration_seconds)
        if end - start >= min_segment_seconds and end > start:
            out.append(Interval(start, end))
    return out


def caption_file_name(video_path: str) -> str:
    """The JSONL file name of one video's captions (its relative path with ``/`` replaced)."""
    return video_path.replace("\\", "/").replace("/", "__") + ".jsonl"


def run_captions(
    backend: Backend,
    video_paths: Sequence[str],
    *,
    video_root: str | Path,
    store: CallStore,
    config: CaptionConfig,
    workers: int = 1,
    batch_size: int = 1,
    open_video: Callable[[str], Any] = default_open_video,
    progress: Callable[[int], None] | None = None,
) -> tuple[str, RunStats]:
    """Caption every segment of the videos (paths relative to ``video_root``); returns (config hash, stats)."""
    digest = store.register_config(STEP, config.to_dict())
    prompt = render("caption")
    jobs: list[CallJob] = []
    stats = RunStats()
    for video in dict.fromkeys(video_paths):
        path = str(Path(video_root) / video)
        try:
            with open_video(path) as reader:
                duration = float(reader.metadata.duration_seconds)
        except item_errors() as error:
            stats.failed_items[video] = f"{type(error).__name__}: {error}"
            continue
        segments = segments_of(duration_seconds=duration, segment_seconds=config.segment_seconds,
                               min_segment_seconds=config.min_segment_seconds)
        for index, segment in enumerate(segments):
            def build(path=path, segment=segment) -> GenerationRequest:
                return clip_request(open_video=open_video, path=path, start_seconds=segment.start_seconds,
                                    end_seconds=segment.end_seconds, text=prompt,
                                    max_frames=config.max_frames_per_segment,
                                    frames_per_second=config.frames_per_second,
                                    pixels_per_frame=config.pixels_per_frame, sampling=config.sampling)

            payload = {"video": video, "start_seconds": segment.start_seconds, "end_seconds": segment.end_seconds,
                       "num_segments": len(segments)}
            jobs.append(CallJob(item_id=video, sample_index=index, build=build, payload=payload))
    run_jobs_into(stats, backend, jobs, store=store, step=STEP, config_hash=digest, workers=workers,
                  batch_size=batch_size, progress=progress)
    return digest, stats


def export_captions(store: CallStore, config_hash: str, out_dir: str | Path) -> dict[str, int]:
    """Write one JSONL per fully captioned video; returns {video: number of segments written}."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for video, records in store.iter_calls_by_item(STEP, config_hash):
        expected = records[0].payload["num_segments"]
        if len(records) != expected:
            continue
        lines = [json.dumps({"video": video, "start_seconds": r.payload["start_seconds"],
                             "end_seconds": r.payload["end_seconds"], "text": r.text.strip()})
                 for r in sorted(records, key=lambda r: r.sample_index)]
        (out_dir / caption_file_name(video)).write_text("\n".join(lines) + "\n", encoding="utf-8")
        written[video] = len(lines)
    return written


def read_captions(captions_dir: str | Path, video_path: str) -> list[dict[str, Any]] | None:
    """The caption lines of the video at ``video_path`` from ``captions_dir``, or None when that file does not
    exist; a malformed file raises :class:`~love_r1.errors.DataError`."""
    path = Path(captions_dir) / caption_file_name(video_path)
    if not path.is_file():
        return None
    rows = []
    for number, row in jsonl_rows(path):
        missing = {"start_seconds", "end_seconds", "text"} - set(row) if isinstance(row, dict) else {"(an object)"}
        if missing:
            raise DataError(f"caption lines must have the fields ['end_seconds', 'start_seconds', 'text']; "
                            f"missing {sorted(missing)}", path=path, line=number,
                            hint="re-export the captions with `love-r1 data caption`")
        rows.append(row)
    return rows
