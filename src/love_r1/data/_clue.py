"""Step ``clue-check``: does the evidence clip show what the answer rests on? (strict yes/no)

A vision teacher sees frames of the evidence clip (the same clip ``answer-cot`` shows), the
question and the correct answer, and replies Yes or No. Only a reply whose first word is
"yes" or "no" counts; anything else is ``unparsed`` (the reference stopped on any reply that
merely *contained* "no", so "I know..." or "not sure" counted as a verdict). ``assemble``
drops items with a "no" verdict.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from love_r1.backends import Backend, GenerationRequest, SamplingParams
from love_r1.data._clips import check_clip_settings, clip_request, default_open_video, evidence_clips
from love_r1.data._engine import CallJob, RunStats, run_jobs_into
from love_r1.data._items import QAItem
from love_r1.data._parse import parse_yes_no
from love_r1.data._store import CallStore
from love_r1.data._templates import render, template_digest

STEP = "clue-check"
ClueVerdict = Literal["yes", "no", "unparsed"]


@dataclass(frozen=True)
class ClueCheckConfig:
    pad_seconds: float = 5.0
    max_frames: int = 16
    frames_per_second: float = 2.0
    pixels_per_frame: int = 448 * 448
    sampling: SamplingParams = field(default_factory=lambda: SamplingParams(max_new_tokens=16))
    backend_label: str = ""

    def __post_init__(self) -> None:
        check_clip_settings(pad_seconds=self.pad_seconds, max_frames=self.max_frames,
                            frames_per_second=self.frames_per_second, pixels_per_frame=self.pixels_per_frame)

    def call_config(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "template": template_digest("clue_check")}


def clue_verdict(text: str) -> ClueVerdict:
    parsed = parse_yes_no(text)
    return "unparsed" if parsed is None else ("yes" if parsed else "no")


def _answer_text(item: QAItem) -> str:
    index = item.letters.index(item.gold)
    return item.options[index]


def run_clue_check(
    backend: Backend, items: Sequence[QAItem], *, video_root: str | Path, store: CallStore, config: ClueCheckConfig,
    workers: int = 4, batch_size: int = 1, open_video: Callable[[str], Any] = default_open_video,
    progress: Callable[[int], None] | None = None,
) -> tuple[str, RunStats]:
    """One yes/no call per item with evidence; returns (config hash, stats)."""
    digest = store.register_config(STEP, config.call_config())
    stats = RunStats()
    clips = evidence_clips(items, video_root=video_root, pad_seconds=config.pad_seconds, open_video=open_video,
                           stats=stats, no_evidence_reason="no evidence intervals to check")
    jobs = []
    for item in items:
        if item.qid not in clips:
            continue
        start, end = clips[item.qid]
        text = render("clue_check", start_seconds=start, end_seconds=end, question=item.question.strip(),
                      options=list(item.options), answer=_answer_text(item))

        def build(path=str(Path(video_root) / item.video_path), start=start, end=end, text=text) -> GenerationRequest:
            return clip_request(open_video=open_video, path=path, start_seconds=start, end_seconds=end, text=text,
                                max_frames=config.max_frames, frames_per_second=config.frames_per_second,
                                pixels_per_frame=config.pixels_per_frame, sampling=config.sampling)

        jobs.append(CallJob(item.qid, 0, build=build, payload={"video": item.video_path, "clip": [start, end]}))
    run_jobs_into(stats, backend, jobs, store=store, step=STEP, config_hash=digest, workers=workers,
                  batch_size=batch_size, progress=progress)
    return digest, stats


def export_clue_check(store: CallStore, config_hash: str, out_path: str | Path) -> dict[str, int]:
    """Write ``{qid, verdict, clip, raw}`` per stored reply; returns counts by verdict."""
    counts: dict[str, int] = {}
    lines = []
    for record in store.calls(STEP, config_hash):
        verdict = clue_verdict(record.text)
        counts[verdict] = counts.get(verdict, 0) + 1
        lines.append(json.dumps({"qid": record.item_id, "verdict": verdict, "clip": record.payload.get("clip"),
                                 "raw": record.text}, ensure_ascii=False))
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return counts
