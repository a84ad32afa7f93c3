"""Run model calls in parallel batches and store each reply the moment it arrives.

A *job* is one model call: an item id, a sample index and a request builder (built in the
worker thread, so video decoding runs in parallel too). Jobs whose key is already in the
store are never sent. An infrastructure fault (``BackendError``: server down, rate limit
exhausted with nothing answered) stops the step after the in-flight batches finish and are
stored; re-running the same step resumes from there. A request the backend gave up on while the
server answered others (an error reply: refused, malformed, too large, past its deadline) fails
that item only, with the reason in ``RunStats.failed_items``; the next run asks it again. A
failure to build one item's request (unreadable video, missing file) fails that item only.
Teacher calls cannot hang: the HTTP backend bounds every attempt and every request by wall-clock
deadlines (``timeout_seconds``, ``total_timeout_seconds``; ``--request-timeout-seconds`` on the CLI).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from love_r1.backends import Backend, BackendError, Generation, GenerationRequest
from love_r1.data._store import CallRecord, CallStore, UsageTotals

logger = logging.getLogger(__name__)


class StepInterrupted(RuntimeError):
    """The backend failed mid-step; finished calls are stored and a re-run resumes.

    ``stats`` holds what the step did before it stopped (new calls, usage, failed items).
    """

    def __init__(self, message: str, *, stats: RunStats | None = None) -> None:
        super().__init__(message)
        self.stats = stats


@dataclass(frozen=True)
class CallJob:
    """One model call to make. ``build`` returns the request; ``payload`` is stored with the reply."""

    item_id: str
    sample_index: int
    build: Callable[[], GenerationRequest]
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunStats:
    """What one run of a step did: new calls, calls found stored, items that failed and why."""

    new_calls: int = 0
    skipped_calls: int = 0
    error_replies: int = 0
    usage: UsageTotals = field(default_factory=UsageTotals)
    failed_items: dict[str, str] = field(default_factory=dict)

    def merge(self, other: RunStats) -> None:
        self.new_calls += other.new_calls
        self.skipped_calls += other.skipped_calls
        self.error_replies += other.error_replies
        self.usage = self.usage + other.usage
        self.failed_items.update(other.failed_items)


def item_errors() -> tuple[type[BaseException], ...]:
    """Errors that fail one item's request build (unreadable video, missing file), not the step."""
    from love_r1.video.errors import VideoError

    return (OSError, ValueError, LookupError, VideoError)


def _run_batch(backend: Backend, jobs: Sequence[CallJob]) -> tuple[list[CallJob], list[Generation], dict[str, str]]:
    built: list[CallJob] = []
    requests: list[GenerationRequest] = []
    failed: dict[str, str] = {}
    errors = item_errors()
    for job in jobs:
        try:
            requests.append(job.build())
        except errors as error:
            failed[job.item_id] = f"{type(error).__name__}: {error}"
            continue
        built.append(job)
    if not requests:
        return [], [], failed
    generations = backend.generate(requests)
    if len(generations) != len(requests):
        raise BackendError(f"backend returned {len(generations)} generations for {len(requests)} requests")
    return built, list(generations), failed


def run_jobs(
    backend: Backend,
    jobs: Iterable[CallJob],
    *,
    store: CallStore,
    step: str,
    config_hash: str,
    workers: int = 4,
    batch_size: int = 1,
    progress: Callable[[int], None] | None = None,
) -> RunStats:
    """Send every job not yet stored, ``batch_size`` requests per ``generate`` call, on ``workers`` threads."""
    if workers < 1 or batch_size < 1:
        raise ValueError(f"workers={workers} and batch_size={batch_size} must both be >= 1")
    stats = RunStats()
    stored = {(r.item_id, r.sample_index) for r in store.calls(step, config_hash)}
    pending: list[CallJob] = []
    for job in jobs:
        if (job.item_id, job.sample_index) in stored:
            stats.skipped_calls += 1
        else:
            pending.append(job)
    batches = [pending[i:i + batch_size] for i in range(0, len(pending), batch_size)]
    failure: BaseException | None = None

    def collect(future: Future) -> None:
        nonlocal failure
        try:
            built, generations, failed = future.result()
        except BackendError as error:
            failure = failure or error
            return
        stats.failed_items.update(failed)
        for job, generation in zip(built, generations, strict=True):
            _store_reply(store, step, config_hash, job, generation, stats)
        if progress is not None:
            progress(len(built) + len(failed))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        queue = list(reversed(batches))
        running: set[Future] = set()
        finished: set[Future] = set()  # done but not collected yet
        try:
            while (queue and failure is None) or running:
                while queue and failure is None and len(running) < workers:
                    batch = queue.pop()
                    running.add(pool.submit(_run_batch, backend, batch))
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                while finished:
                    collect(finished.pop())
        except BaseException:
            # Ctrl-C or a bug: keep the replies already paid for (finished beside the failing one, or still
            # running), then re-raise
            for future in finished | wait(running).done:
                with contextlib.suppress(BaseException):
                    collect(future)
            raise
    if failure is not None:
        raise StepInterrupted(
            f"step {step!r} stopped after {stats.new_calls} new calls: {failure}; every finished call is stored, "
            "re-run the same command to resume", stats=stats,
        ) from failure
    return stats


def run_jobs_into(stats: RunStats, backend: Backend, jobs: Iterable[CallJob], **kwargs: Any) -> RunStats:
    """:func:`run_jobs` (same keyword arguments) with its stats merged into ``stats``; returns its own stats.

    On :class:`StepInterrupted` the partial stats are merged too and the error carries ``stats``
    (everything the step did so far), so the caller can report it.
    """
    try:
        run = run_jobs(backend, jobs, **kwargs)
    except StepInterrupted as error:
        if error.stats is not None:
            stats.merge(error.stats)
        error.stats = stats
        raise
    stats.merge(run)
    return run


def _store_reply(store: CallStore, step: str, config_hash: str, job: CallJob, generation: Generation,
                 stats: RunStats) -> None:
    usage = generation.usage
    if generation.finish_reason == "error":
        stats.error_replies += 1
        reason = generation.raw.get("error") if isinstance(generation.raw, dict) else None
        stats.failed_items.setdefault(job.item_id, f"the backend returned an error reply: {reason}" if reason
                                      else "the backend returned an error reply")
        return
    record = CallRecord(step=step, config_hash=config_hash, item_id=job.item_id, sample_index=job.sample_index,
                        text=generation.text, payload=dict(job.payload), prompt_tokens=usage.prompt_tokens,
                        completion_tokens=usage.completion_tokens, finish_reason=generation.finish_reason)
    if store.add(record):
        stats.new_calls += 1
        stats.usage = stats.usage + UsageTotals(1, usage.prompt_tokens, usage.completion_tokens)
