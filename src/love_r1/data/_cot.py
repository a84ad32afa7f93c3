"""Steps ``zoom-cot`` and ``answer-cot``: teacher reasoning, filtered, N samples per item.

* ``zoom-cot``: a text-only teacher reads the timestamped segment captions and the question
  and writes zoom reasoning ending in ``\\boxed{[s, e]}``. Accepted when
  ``0 < e - s < max_interval_seconds`` and the IoU with some evidence interval is above
  ``min_iou`` (0 means "overlaps").
* ``answer-cot``: a vision teacher sees frames of the first evidence interval (± pad) and the
  question with the gold letter as a hint, and writes answer reasoning ending in
  ``\\boxed{X}``. Accepted when the boxed letter equals the gold one (strict parsing).

Calls are made in rounds: each round asks, per item, for as many samples as are still
missing (``num_samples`` accepted), never more than ``max_calls`` calls per item in total.
Acceptance is recomputed from the stored text, so changing a threshold reuses stored calls.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from love_r1.agent.grammar import find_box
from love_r1.backends import Backend, GenerationRequest, Message, SamplingParams, TextPart
from love_r1.data._captions import read_captions
from love_r1.data._clips import check_clip_settings, clip_request, default_open_video, evidence_clips
from love_r1.data._engine import CallJob, RunStats, run_jobs_into
from love_r1.data._items import QAItem
from love_r1.data._parse import parse_boxed_interval, parse_boxed_letter
from love_r1.data._store import CallRecord, CallStore
from love_r1.data._templates import render, template_digest
from love_r1.interval import Interval
from love_r1.prompts.constants import ANSWER_PHRASE, ZOOM_PHRASE

ZOOM_STEP = "zoom-cot"
ANSWER_STEP = "answer-cot"


@dataclass(frozen=True)
class ZoomCotConfig:
    """Settings of ``zoom-cot``. ``num_samples``, ``max_calls`` and ``min_iou`` are not hashed."""

    num_samples: int = 1
    max_calls: int = 5
    max_interval_seconds: float = 60.0
    min_iou: float = 0.0
    sampling: SamplingParams = field(default_factory=lambda: SamplingParams(max_new_tokens=2048, temperature=1.0))
    backend_label: str = ""

    def __post_init__(self) -> None:
        _check_counts(self.num_samples, self.max_calls)
        if not 0.0 <= self.min_iou < 1.0:
            raise ValueError(f"min_iou must be in [0, 1), got {self.min_iou}")

    def call_config(self) -> dict[str, Any]:
        return {"max_interval_seconds": self.max_interval_seconds, "sampling": dataclasses.asdict(self.sampling),
                "backend_label": self.backend_label, "template": template_digest("zoom_cot")}


@dataclass(frozen=True)
class AnswerCotConfig:
    """Settings of ``answer-cot``. ``num_samples`` and ``max_calls`` are not hashed."""

    num_samples: int = 1
    max_calls: int = 3
    pad_seconds: float = 5.0
    max_frames: int = 16
    frames_per_second: float = 2.0
    pixels_per_frame: int = 448 * 448
    sampling: SamplingParams = field(default_factory=lambda: SamplingParams(max_new_tokens=2048, temperature=0.7))
    backend_label: str = ""

    def __post_init__(self) -> None:
        _check_counts(self.num_samples, self.max_calls)
        check_clip_settings(pad_seconds=self.pad_seconds, max_frames=self.max_frames,
                            frames_per_second=self.frames_per_second, pixels_per_frame=self.pixels_per_frame)

    def call_config(self) -> dict[str, Any]:
        fields = dataclasses.asdict(self)
        for name in ("num_samples", "max_calls"):
            fields.pop(name)
        return {**fields, "template": template_digest("answer_cot")}


def _check_counts(num_samples: int, max_calls: int) -> None:
    if num_samples < 1 or max_calls < num_samples:
        raise ValueError(f"need 1 <= num_samples <= max_calls; got num_samples={num_samples}, max_calls={max_calls}")


@dataclass(frozen=True)
class Verdict:
    """Whether a teacher reply is accepted, why, and the reply rewritten in the LOVE-R1 grammar."""

    accepted: bool
    reason: str
    reply: str | None = None
    interval: tuple[int, int] | None = None
    letter: str | None = None
    best_iou: float = 0.0


def love_r1_reply(*, phrase: str, text: str, box_content: str) -> str:
    """``phrase`` + blank line + the teacher's reasoning + ``\\boxed{box_content}`` (trailing text dropped)."""
    box = find_box(text)
    reasoning = text[:box.start] if box is not None else text
    reasoning = reasoning.strip()
    for control in (ZOOM_PHRASE, ANSWER_PHRASE):
        if reasoning.startswith(control):
            reasoning = reasoning[len(control):].strip()
    box = "\\boxed{" + box_content + "}"
    return f"{phrase}\n\n{reasoning} {box}" if reasoning else f"{phrase}\n\n{box}"


def judge_zoom(text: str, *, evidence: Sequence[Interval], max_interval_seconds: float, min_iou: float) -> Verdict:
    """Accept a zoom reply when its interval is shorter than the cap and overlaps the evidence."""
    parsed = parse_boxed_interval(text)
    if parsed is None:
        return Verdict(False, "no_interval")
    start, end = parsed
    if not 0 < end - start < max_interval_seconds:
        return Verdict(False, "bad_length")
    interval = (int(math.floor(start)), int(math.ceil(end)))
    best = max((Interval(start, end).iou(e) for e in evidence), default=0.0)
    if best <= min_iou:
        return Verdict(False, "no_overlap", interval=interval, best_iou=best)
    reply = love_r1_reply(phrase=ZOOM_PHRASE, text=text, box_content=f"[{interval[0]}, {interval[1]}]")
    return Verdict(True, "accepted", reply=reply, interval=interval, best_iou=best)


def judge_answer(text: str, *, letters: Sequence[str], gold: str) -> Verdict:
    """Accept an answer reply when its boxed letter equals ``gold``."""
    letter = parse_boxed_letter(text, letters=tuple(letters))
    if letter is None:
        return Verdict(False, "no_letter")
    if letter != gold:
        return Verdict(False, "wrong_letter", letter=letter)
    return Verdict(True, "accepted", reply=love_r1_reply(phrase=ANSWER_PHRASE, text=text, box_content=letter),
                   letter=letter)


def _run_rounds(
    backend: Backend, items: Sequence[QAItem], *, store: CallStore, step: str, digest: str, num_samples: int,
    max_calls: int, make_job: Callable[[QAItem, int], CallJob], judge: Callable[[QAItem, CallRecord], Verdict],
    workers: int, batch_size: int, progress: Callable[[int], None] | None, stats: RunStats,
) -> None:
    wanted = {item.qid for item in items}
    stats.skipped_calls += sum(len(records) for qid, records in store.iter_calls_by_item(step, digest)
                               if qid in wanted)
    while True:
        stored: dict[str, list[CallRecord]] = dict(store.iter_calls_by_item(step, digest))
        jobs = []
        for item in items:
            if item.qid in stats.failed_items:
                continue
            records = stored.get(item.qid, [])
            accepted = sum(judge(item, r).accepted for r in records)
            need = min(num_samples - accepted, max_calls - len(records))
            used = {r.sample_index for r in records}
            free = [i for i in range(max_calls) if i not in used][:max(need, 0)]
            jobs.extend(make_job(item, i) for i in free)
        if not jobs:
            return
        round_stats = run_jobs_into(stats, backend, jobs, store=store, step=step, config_hash=digest,
                                    workers=workers, batch_size=batch_size, progress=progress)
        if round_stats.new_calls == 0:  # every call of the round failed: stop rather than loop
            return


def _question_vars(item: QAItem) -> dict[str, Any]:
    return {"question": item.question.strip(), "options": list(item.options)}


def run_zoom_cot(
    backend: Backend, items: Sequence[QAItem], *, captions_dir: str | Path, store: CallStore,
    config: ZoomCotConfig, workers: int = 4, batch_size: int = 1, progress: Callable[[int], None] | None = None,
) -> tuple[str, RunStats]:
    """Ask the teacher for zoom reasoning from the captions; returns (config hash, stats)."""
    digest = store.register_config(ZOOM_STEP, config.call_config())
    stats = RunStats()
    prompts: dict[str, str] = {}
    for item in items:
        segments = read_captions(captions_dir, item.video_path)
        if not segments:
            stats.failed_items[item.qid] = f"no captions for {item.video_path!r} in {str(captions_dir)!r}"
            continue
        if not item.evidence:
            stats.failed_items[item.qid] = "no evidence intervals to check the zoom against"
            continue
        duration = item.duration_seconds or max(float(s["end_seconds"]) for s in segments)
        prompts[item.qid] = render("zoom_cot", segments=segments, duration_seconds=duration,
                                   max_interval_seconds=config.max_interval_seconds, **_question_vars(item))

    def make_job(item: QAItem, index: int) -> CallJob:
        sampling = dataclasses.replace(config.sampling, seed=None if config.sampling.seed is None
                                       else config.sampling.seed + index)
        request = GenerationRequest(messages=(Message("user", (TextPart(prompts[item.qid]),)),), sampling=sampling)
        return CallJob(item.qid, index, build=lambda: request, payload={"video": item.video_path})

    def judge(item: QAItem, record: CallRecord) -> Verdict:
        return judge_zoom(record.text, evidence=item.evidence, max_interval_seconds=config.max_interval_seconds,
                          min_iou=config.min_iou)

    ready = [item for item in items if item.qid in prompts]
    _run_rounds(backend, ready, store=store, step=ZOOM_STEP, digest=digest, num_samples=config.num_samples,
                max_calls=config.max_calls, make_job=make_job, judge=judge, workers=workers,
                batch_size=batch_size, progress=progress, stats=stats)
    return digest, stats


def run_answer_cot(
    backend: Backend, items: Sequence[QAItem], *, video_root: str | Path, store: CallStore,
    config: AnswerCotConfig, workers: int = 4, batch_size: int = 1,
    open_video: Callable[[str], Any] = default_open_video, progress: Callable[[int], None] | None = None,
) -> tuple[str, RunStats]:
    """Ask the teacher for answer reasoning from frames of the evidence clip; returns (config hash, stats)."""
    digest = store.register_config(ANSWER_STEP, config.call_config())
    stats = RunStats()
    clips = evidence_clips(items, video_root=video_root, pad_seconds=config.pad_seconds, open_video=open_video,
                           stats=stats, no_evidence_reason="no evidence intervals: the answer CoT needs an evidence "
                                                           "clip")

    def make_job(item: QAItem, index: int) -> CallJob:
        start, end = clips[item.qid]
        text = render("answer_cot", start_seconds=start, end_seconds=end, answer=item.gold, **_question_vars(item))
        sampling = dataclasses.replace(config.sampling, seed=None if config.sampling.seed is None
                                       else config.sampling.seed + index)

        def build() -> GenerationRequest:
            return clip_request(open_video=open_video, path=str(Path(video_root) / item.video_path), start_seconds=start,
                                end_seconds=end, text=text, max_frames=config.max_frames,
                                frames_per_second=config.frames_per_second, pixels_per_frame=config.pixels_per_frame,
                                sampling=sampling)

        return CallJob(item.qid, index, build=build, payload={"video": item.video_path, "clip": [start, end]})

    def judge(item: QAItem, record: CallRecord) -> Verdict:
        return judge_answer(record.text, letters=item.letters, gold=item.gold)

    ready = [item for item in items if item.qid in clips]
    _run_rounds(backend, ready, store=store, step=ANSWER_STEP, digest=digest, num_samples=config.num_samples,
                max_calls=config.max_calls, make_job=make_job, judge=judge, workers=workers,
                batch_size=batch_size, progress=progress, stats=stats)
    return digest, stats


def export_cot(store: CallStore, *, step: str, config_hash: str, items: Sequence[QAItem],
               judge: Callable[[QAItem, str], Verdict], out_path: str | Path) -> dict[str, int]:
    """Write every stored reply of ``step`` as JSONL with its verdict; returns counts by verdict reason."""
    by_qid = {item.qid: item for item in items}
    counts: dict[str, int] = {}
    lines = []
    for qid, records in store.iter_calls_by_item(step, config_hash):
        item = by_qid.get(qid)
        if item is None:
            continue
        for record in records:
            verdict = judge(item, record.text)
            counts[verdict.reason] = counts.get(verdict.reason, 0) + 1
            lines.append(json.dumps({
                "qid": qid, "video": item.video_path, "sample_index": record.sample_index, "step": step,
                "accepted": verdict.accepted, "reason": verdict.reason, "reply": verdict.reply,
                "interval": list(verdict.interval) if verdict.interval else None, "letter": verdict.letter,
                "clip": record.payload.get("clip"), "best_iou": round(verdict.best_iou, 4), "raw": record.text,
            }, ensure_ascii=False))
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return counts
