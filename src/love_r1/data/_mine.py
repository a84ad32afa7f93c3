"""Step ``mine-hard``: sample the current policy K times per item and keep mixed-success items.

The rollouts go through ``love_r1.agent.loop.run_episodes``, the same input builder and
loop as inference and training (fixing reference defect #16, whose mining script used a
different prompt and frame budget). Sampling temperature must be > 0, otherwise the K
samples are identical and no item is ever "mixed".

Success per episode (``criterion``):

* ``answer``: the episode's answer letter equals the gold one (MovieChat-style MCQ);
* ``zoom``: some zoom step's requested interval overlaps an evidence interval (IoU > 0;
  CG-Bench-style grounding).

Each finished episode is stored (one row per item and sample) so mining resumes.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from love_r1.backends import Backend, BackendError, SamplingParams
from love_r1.data._engine import RunStats, StepInterrupted
from love_r1.data._items import QAItem
from love_r1.data._store import CallRecord, CallStore, UsageTotals
from love_r1.interval import Interval
from love_r1.prompts.constants import TYPE_TEMPLATE

STEP = "mine-hard"
Criterion = Literal["answer", "zoom"]


@dataclass(frozen=True)
class MineConfig:
    """Settings of ``mine-hard``. ``criterion`` (applied on read) and ``num_samples`` (rollouts are
    indexed, so raising it only adds rollouts) are not part of the configuration hash."""

    num_samples: int = 4
    preset: str = "reference"
    temperature: float = 0.9
    top_k: int = 50
    top_p: float = 1.0
    max_new_tokens: int = 2048
    criterion: Criterion = "answer"
    backend_label: str = ""

    def __post_init__(self) -> None:
        if self.num_samples < 2:
            raise ValueError(f"num_samples must be >= 2 to see mixed success, got {self.num_samples}")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0 for mining (got {self.temperature}); greedy samples are "
                             "identical")
        if self.criterion not in get_args(Criterion):
            raise ValueError(f"criterion={self.criterion!r}; expected 'answer' or 'zoom'")

    def sampling(self) -> SamplingParams:
        return SamplingParams(max_new_tokens=self.max_new_tokens, temperature=self.temperature, top_k=self.top_k,
                              top_p=self.top_p)

    def call_config(self) -> dict[str, Any]:
        fields = dataclasses.asdict(self)
        fields.pop("criterion")
        fields.pop("num_samples")
        return fields


def episode_success(episode: dict[str, Any], *, item: QAItem, criterion: Criterion) -> bool:
    """Did one stored episode (``Episode.to_dict()``) succeed under ``criterion``?"""
    if criterion == "answer":
        return str(episode.get("answer", "")).strip().upper() == item.gold
    for step in episode.get("steps", []):
        interval = step.get("requested_interval")
        if step.get("kind") == "zoom" and interval:
            start, end = sorted(float(x) for x in interval)
            if any(Interval(start, end).intersection_seconds(e) > 0 for e in item.evidence):
                return True
    return False


def run_mine_hard(
    backend: Backend, items: Sequence[QAItem], *, video_root: str | Path, store: CallStore, config: MineConfig,
    policy: Any = None, progress: Callable[[int], None] | None = None, max_active_episodes: int | None = 16,
    **video_ops: Any,
) -> tuple[str, RunStats]:
    """Roll out the policy ``num_samples`` times per item (skipping stored rollouts); returns (hash, stats).

    ``video_ops`` (``open_video``, ``sample_fast_view``, ``sample_clip``, ``timeline``) are passed to
    ``run_episodes`` (default: the ``love_r1.video`` engine); ``max_active_episodes`` bounds
    the rollouts in flight, and with them the decoded frames held in memory.
    """
    from love_r1.agent.loop import EpisodeTask, run_episodes
    from love_r1.agent.policy import ZoomPolicy

    policy = policy if policy is not None else ZoomPolicy.preset(config.preset)
    policy = dataclasses.replace(policy, sampling=config.sampling())
    digest = store.register_config(STEP, {**config.call_config(), "policy": policy.to_dict()})
    stored = {(r.item_id, r.sample_index) for r in store.calls(STEP, digest)}
    stats = RunStats()
    tasks, keys = [], {}
    for item in items:
        for k in range(config.num_samples):
            if (item.qid, k) in stored:
                stats.skipped_calls += 1
                continue
            episode_id = f"{item.qid}#{k}"
            keys[episode_id] = (item.qid, k)
            tasks.append(EpisodeTask(
                episode_id=episode_id, video_path=str(Path(video_root) / item.video_path), question=item.question,
                options=tuple(item.options), answer_instruction=TYPE_TEMPLATE["multiple choice"],
                evidence=tuple(item.evidence) or None, gold=item.gold,
            ))
    if not tasks:
        return digest, stats
    try:
        for event in run_episodes(backend, tasks, policy, max_active_episodes=max_active_episodes, **video_ops):
            if not event.episode_done:
                continue
            episode = event.episode.to_dict()
            qid, k = keys[event.episode_id]
            if progress is not None:
                progress(1)
            if episode.get("error"):
                stats.failed_items[qid] = str(episode["error"])
                continue
            ledger = episode.get("ledger", {})
            record = CallRecord(STEP, digest, qid, k, json.dumps(episode), {"episode_id": event.episode_id},
                                prompt_tokens=int(ledger.get("prompt_tokens", 0)),
                                completion_tokens=int(ledger.get("completion_tokens", 0)))
            if store.add(record):
                stats.new_calls += 1
                stats.usage = stats.usage + UsageTotals(int(ledger.get("num_model_calls", 1)), record.prompt_tokens,
                                                        record.completion_tokens)
    except BackendError as error:
        raise StepInterrupted(f"mine-hard stopped after {stats.new_calls} stored rollouts: {error}; re-run the "
                              "same command to resume", stats=stats) from error
    return digest, stats


def hard_items(store: CallStore, config_hash: str, items: Sequence[QAItem], *, num_samples: int,
               criterion: Criterion) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Items with all ``num_samples`` rollouts stored and mixed success; plus counts by outcome."""
    by_qid = dict(store.iter_calls_by_item(STEP, config_hash))
    hard, counts = [], {"all_correct": 0, "all_wrong": 0, "mixed": 0, "incomplete": 0}
    for item in items:
        records = [r for r in by_qid.get(item.qid, []) if r.sample_index < num_samples]
        if len(records) < num_samples:
            counts["incomplete"] += 1
            continue
        outcomes = [episode_success(json.loads(r.text), item=item, criterion=criterion) for r in records]
        if all(outcomes):
            counts["all_correct"] += 1
        elif not any(outcomes):
            counts["all_wrong"] += 1
        else:
            counts["mixed"] += 1
            hard.append({**item.to_dict(), "correctness": [float(o) for o in outcomes], "criterion": criterion})
    return hard, counts
