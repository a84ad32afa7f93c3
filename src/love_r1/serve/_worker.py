"""The episode worker: one model thread owns the backend; batched rounds with admission between rounds.

Request handlers (on the server's event loop) :meth:`EpisodeWorker.submit` a request and await
its :class:`Ticket`.

* Queued episodes are admitted in **groups** while fewer than ``max_concurrent_episodes`` run.
  When nothing runs, the first queued episode waits at most ``max_batch_wait_seconds`` for company.
  Each group runs :func:`love_r1.agent.run_episodes` in its own thread (video decoding, parsing).
* The **model thread** is the only caller of the backend. A group's ``generate`` call parks its
  requests; once every running group has parked, the model thread sends them all as ONE
  ``backend.generate`` call and hands each group its share. So every round is one call over all
  running episodes, and an episode that arrives mid-way joins at the next round instead of
  waiting for the running ones to finish.
* A merged call that raises (or returns the wrong number of replies) is retried one request at a
  time, so a request the backend cannot answer (a malformed reply, a refused input) fails only
  its own episode (500 ``backend_error``); the others go on.

Outcomes put on a ticket, in order: ``("step", step_dict)`` per step, then exactly one of
``("done", episode_dict)`` or ``("error", ApiError)`` (422 for a broken video, 500 for a backend
fault, 503 at shutdown). Every outcome is counted in :meth:`EpisodeWorker.stats`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from love_r1.agent.loop import EpisodeTask, run_episodes
from love_r1.agent.policy import ZoomPolicy
from love_r1.agent.steps import Episode, shown_reply
from love_r1.backends import Backend, BackendError, Generation, GenerationRequest
from love_r1.serve._errors import ApiError
from love_r1.serve._requests import EpisodeRequest

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class Ticket:
    """One submitted episode: its handler awaits :meth:`next` until ``"done"`` or ``"error"``.

    Outcomes are put from the worker's threads and delivered on ``loop`` (the server's event loop).
    """

    episode_id: str
    request: EpisodeRequest
    loop: asyncio.AbstractEventLoop
    events: asyncio.Queue = field(default_factory=asyncio.Queue)
    submitted_at: float = field(default_factory=time.monotonic)
    closed: bool = False

    def put(self, kind: str, payload: Any) -> None:
        """Deliver one outcome (any thread)."""
        try:
            self.loop.call_soon_threadsafe(self.events.put_nowait, (kind, payload))
        except RuntimeError:  # the event loop is closed: the server stopped and nobody is listening
            logger.debug("episode %s: %s not delivered, the event loop is closed", self.episode_id, kind)

    async def next(self, *, timeout_seconds: float | None = None) -> tuple[str, Any] | None:
        """The next outcome, or ``None`` when ``timeout_seconds`` pass first (for keep-alive comments)."""
        try:
            return await asyncio.wait_for(self.events.get(), timeout_seconds)
        except asyncio.TimeoutError:
            return None

    async def result(self) -> dict[str, Any]:
        """Wait for the end of the episode: its dict, or raise its ``ApiError`` (steps are skipped)."""
        while True:
            kind, payload = await self.events.get()
            if kind == "done":
                return payload
            if kind == "error":
                raise payload


@dataclass
class _Group:
    """Episodes admitted together; ``requests`` holds its parked ``generate`` call, if any."""

    group_id: int
    tickets: dict[str, Ticket]
    requests: list[GenerationRequest] | None = None
    result: list[Generation] | BaseException | None = None
    faults: dict[str | None, str] = field(default_factory=dict)  # session -> backend fault message


class _GroupBackend:
    """The backend as one group sees it: ``generate`` parks the requests for the model thread.

    A request the model thread could not get a reply for comes back as a ``finish_reason="error"``
    generation (its episode fails alone); the fault is remembered to answer 500 ``backend_error``.
    """

    def __init__(self, worker: EpisodeWorker, group: _Group) -> None:
        self._worker = worker
        self._group = group

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        requests = list(requests)
        result = self._worker._round_trip(self._group, requests)
        if isinstance(result, BaseException):  # only at shutdown (a BackendError)
            raise result
        for request, generation in zip(requests, result, strict=True):
            if generation.finish_reason == "error":
                self._group.faults[request.session_id] = generation.text or "finish_reason='error'"
        return result


class EpisodeWorker:
    """Owns the backend, the queue of submitted episodes and the store of recent finished ones.

    Args:
        backend: the model (only the model thread calls it).
        policy: the zoom-loop settings of every episode.
        max_concurrent_episodes: episodes running at once (and at most this many requests per ``generate``).
        max_queued_episodes: episodes waiting to be admitted; beyond it ``submit`` raises a 429.
        max_batch_wait_seconds: when nothing runs, how long the first queued episode waits for
            others to start with it (seconds; 0 starts at once).
        max_stored_episodes: finished episodes kept for ``GET /v1/episodes/<id>`` (least recently
            used are dropped).
        open_video: video opener override for ``run_episodes`` (tests).
    """

    def __init__(
        self,
        backend: Backend,
        *,
        policy: ZoomPolicy,
        max_concurrent_episodes: int = 8,
        max_queued_episodes: int = 64,
        max_batch_wait_seconds: float = 0.02,
        max_stored_episodes: int = 256,
        open_video: Callable[..., Any] | None = None,
    ) -> None:
        for name, value, low in (("max_concurrent_episodes", max_concurrent_episodes, 1),
                                 ("max_queued_episodes", max_queued_episodes, 1),
                                 ("max_stored_episodes", max_stored_episodes, 1)):
            if not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        if max_batch_wait_seconds < 0:
            raise ValueError(f"max_batch_wait_seconds must be >= 0, got {max_batch_wait_seconds}")
        self._backend = backend
        self.policy = policy
        self.max_concurrent_episodes = max_concurrent_episodes
        self.max_queued_episodes = max_queued_episodes
        self.max_batch_wait_seconds = float(max_batch_wait_seconds)
        self.max_stored_episodes = max_stored_episodes
        self._open_video = open_video
        self._cond = threading.Condition()
        self._pending: list[Ticket] = []
        self._groups: dict[int, _Group] = {}
        self._group_ids = itertools.count()
        self._stored: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._finished_at: dict[str, float] = {}
        self._stopping = False
        self._abort = False
        self._thread: threading.Thread | None = None
        self._episode_seconds: float | None = None  # moving average of submit -> end, for Retry-After
        self.num_completed = 0
        self.num_failed = 0
        self.num_rejected = 0
        self.failed_by_type: dict[str, int] = {}
        self.num_groups = 0
        self.num_model_calls = 0
        self.num_isolation_calls = 0

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the model thread (once)."""
        with self._cond:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._model_loop, name="love-r1-model", daemon=True)
            self._thread.start()

    def stop(self, *, drain_seconds: float = 30.0) -> None:
        """Refuse new episodes, fail queued ones with 503, let running ones finish for up to
        ``drain_seconds`` and then fail what is left with 503."""
        with self._cond:
            self._stopping = True
            pending, self._pending = self._pending, []
            self._cond.notify_all()
        for ticket in pending:
            self._close(ticket, "error", _unavailable("the server is shutting down; the episode was not started"))
        thread = self._thread
        if thread is None:
            return
        thread.join(timeout=max(drain_seconds, 0.0))
        if thread.is_alive():
            logger.warning("episodes still running after %.1f s; failing them", drain_seconds)
            with self._cond:
                self._abort = True
                running = [t for g in self._groups.values() for t in g.tickets.values()]
                self._cond.notify_all()
            for ticket in running:
                self._close(ticket, "error", _unavailable("the server shut down before the episode finished"))
            thread.join(timeout=1.0)

    # -- handler side ----------------------------------------------------------------------
    def submit(self, request: EpisodeRequest, *, loop: asyncio.AbstractEventLoop | None = None) -> Ticket:
        """Queue one episode; its outcomes are delivered on ``loop`` (default: the running event loop).

        Raises:
            ApiError: 429 with ``Retry-After`` when the queue is full, 503 when stopping.
        """
        ticket = Ticket(episode_id=uuid.uuid4().hex[:12], request=request, loop=loop or asyncio.get_running_loop())
        with self._cond:
            if self._stopping:
                raise _unavailable("the server is shutting down; retry on another instance")
            if len(self._pending) >= self.max_queued_episodes:
                self.num_rejected += 1
                retry = self._retry_after_seconds()
                raise ApiError(
                    429, "rate_limit_error",
                    f"the episode queue is full ({len(self._pending)} waiting, {self._num_running()} running; "
                    f"--max-queued-episodes {self.max_queued_episodes}); retry after {retry} s",
                    headers={"Retry-After": str(retry)})
            self._pending.append(ticket)
            self._cond.notify_all()
        return ticket

    def _retry_after_seconds(self) -> int:
        """About when a queue slot frees: one running episode's share of the mean episode time (1-60 s)."""
        if self._episode_seconds is None:
            return 1
        return int(min(60, max(1, math.ceil(self._episode_seconds / self.max_concurrent_episodes))))

    def episode(self, episode_id: str) -> dict[str, Any] | None:
        """A recently finished episode (``Episode.to_dict()``), or ``None``."""
        with self._cond:
            data = self._stored.get(episode_id)
            if data is not None:
                self._stored.move_to_end(episode_id)
            return data

    def video_of(self, episode_id: str) -> Path | None:
        """The video of a queued, running or stored episode, or ``None`` for an unknown id."""
        with self._cond:
            for ticket in self._tickets():
                if ticket.episode_id == episode_id:
                    return ticket.request.video_path
            data = self._stored.get(episode_id)
        return Path(data["video"]["path"]) if data is not None else None

    def episodes(self, *, limit: int = 50) -> list[dict[str, Any]]:
        """Summaries of the queued, running and stored episodes, newest first (at most ``limit``)."""
        with self._cond:
            live = [_summary_of_ticket(t, "running" if t in self._running_tickets() else "queued")
                    for t in self._tickets()]
            stored = [_summary_of_episode(data, self._finished_at.get(episode_id, 0.0))
                      for episode_id, data in reversed(self._stored.items())]
        stored.sort(key=lambda s: s["finished_at"], reverse=True)
        return (live[::-1] + stored)[:limit]

    def _tickets(self) -> list[Ticket]:
        return [*self._running_tickets(), *self._pending]

    def _running_tickets(self) -> list[Ticket]:
        return [t for g in self._groups.values() for t in g.tickets.values()]

    def stats(self) -> dict[str, Any]:
        with self._cond:
            return {
                "queued": len(self._pending), "running": self._num_running(), "completed": self.num_completed,
                "failed": self.num_failed, "failed_by_type": dict(self.failed_by_type),
                "rejected": self.num_rejected, "episode_groups": self.num_groups,
                "model_calls": self.num_model_calls, "isolation_calls": self.num_isolation_calls,
                "stored": len(self._stored), "stopping": self._stopping,
            }

    def _num_running(self) -> int:
        return sum(len(g.tickets) for g in self._groups.values())

    # -- model thread ----------------------------------------------------------------------
    def _model_loop(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._abort:
                        for group in self._groups.values():  # release parked groups so their threads end
                            if group.requests is not None:
                                group.result, group.requests = _unavailable_backend(), None
                        self._cond.notify_all()
                        return
                    if self._stopping and not self._groups:
                        return
                    timeout = self._admit()
                    parked = list(self._groups.values())
                    if parked and all(g.requests is not None for g in parked):
                        break
                    self._cond.wait(timeout)
                merged = [r for g in parked for r in g.requests or ()]
                self.num_model_calls += 1
            results = self._generate(merged)
            with self._cond:
                offset = 0
                for group in parked:
                    count = len(group.requests or ())
                    group.result = results[offset: offset + count]
                    group.requests = None
                    offset += count
                self._cond.notify_all()

    def _generate(self, requests: list[GenerationRequest]) -> list[Generation]:
        """One merged call; when it fails, each request alone, so a failure stays with its own request.

        A request whose call raises gets a ``finish_reason="error"`` generation naming the error."""
        try:
            return _checked(self._backend.generate(requests), len(requests))
        except Exception as error:  # not swallowed: logged, then each request is retried and reported on its own
            if len(requests) == 1:
                return [_failed_generation(requests[0], error)]
            logger.warning("a batched generate of %d requests failed (%s: %s); retrying one at a time",
                           len(requests), type(error).__name__, error)
        results = []
        for request in requests:
            with self._cond:
                self.num_model_calls += 1
                self.num_isolation_calls += 1
            try:
                results.extend(_checked(self._backend.generate([request]), 1))
            except Exception as error:  # not swallowed: this request's episode fails with the message (500)
                results.append(_failed_generation(request, error))
        return results

    def _admit(self) -> float | None:
        """Start a group from the queue when there is room; returns how long to wait (``None``: until notified)."""
        if self._stopping or not self._pending:
            return None
        room = self.max_concurrent_episodes - self._num_running()
        if room <= 0:
            return None
        if not self._groups and len(self._pending) < self.max_concurrent_episodes:
            remaining = self._pending[0].submitted_at + self.max_batch_wait_seconds - time.monotonic()
            if remaining > 0:
                return remaining
        tickets, self._pending = self._pending[:room], self._pending[room:]
        group = _Group(group_id=next(self._group_ids), tickets={t.episode_id: t for t in tickets})
        self._groups[group.group_id] = group
        self.num_groups += 1
        threading.Thread(target=self._run_group, args=(group,), name=f"love-r1-episodes-{group.group_id}",
                         daemon=True).start()
        return None

    def _round_trip(self, group: _Group, requests: list[GenerationRequest]) -> list[Generation] | BaseException:
        """Park ``requests`` for the next merged call and wait for this group's share (group threads)."""
        with self._cond:
            if self._abort:
                return _unavailable_backend()
            group.requests, group.result = requests, None
            self._cond.notify_all()
            while group.result is None:
                self._cond.wait()
            result, group.result = group.result, None
            return result

    # -- group threads ---------------------------------------------------------------------
    def _run_group(self, group: _Group) -> None:
        tickets = group.tickets
        logger.info("starting %d episode(s): %s", len(tickets), ", ".join(tickets))
        tasks = [
            EpisodeTask(
                episode_id=t.episode_id, video_path=t.request.video_path, question=t.request.question,
                options=t.request.options, answer_instruction=t.request.resolved_instruction,
                evidence=t.request.evidence, gold=t.request.gold,
            )
            for t in tickets.values()
        ]
        events = run_episodes(_GroupBackend(self, group), tasks, self.policy, open_video=self._open_video)
        try:
            for event in events:
                ticket = tickets[event.episode_id]
                if event.step is not None and not ticket.closed:
                    step = event.step
                    # "reply": the text as people read it (raw_text keeps the end-of-turn token)
                    ticket.put("step", {**step.to_dict(), "reply": shown_reply(step.assistant_prefix, step.raw_text)})
                if event.episode_done:
                    self._finish(ticket, event.episode, group.faults.get(ticket.episode_id))
                    with self._cond:
                        del tickets[ticket.episode_id]  # its slot is free for the next admission
                        self._cond.notify_all()
                if self._abort:
                    break
        except Exception as error:  # not swallowed: reported to this group's clients as a 500; serving goes on
            logger.exception("the agent loop failed for episodes %s", list(tickets))
            for ticket in list(tickets.values()):
                self._close(ticket, "error", ApiError(500, "server_error", f"{type(error).__name__}: {error}"))
        finally:
            events.close()
            for ticket in list(tickets.values()):  # only tickets of an aborted group are left
                self._close(ticket, "error", _unavailable("the server shut down before the episode finished"))
            with self._cond:
                self._groups.pop(group.group_id, None)
                self._cond.notify_all()

    def _finish(self, ticket: Ticket, episode: Episode, fault: str | None) -> None:
        data = episode.to_dict()
        with self._cond:
            self._stored[ticket.episode_id] = data
            self._finished_at[ticket.episode_id] = time.time()
            self._stored.move_to_end(ticket.episode_id)
            while len(self._stored) > self.max_stored_episodes:
                dropped, _ = self._stored.popitem(last=False)
                self._finished_at.pop(dropped, None)
        if episode.error is None:
            self._close(ticket, "done", data)
        elif fault is not None:
            self._close(ticket, "error", ApiError(500, "backend_error",
                                                  f"the model backend failed: {episode.error.removeprefix('backend: ')}",
                                                  episode=data))
        else:
            self._close(ticket, "error", ApiError(422, "episode_error", f"the episode failed: {episode.error}",
                                                  param="video", episode=data))

    def _close(self, ticket: Ticket, kind: str, payload: Any) -> None:
        with self._cond:
            if ticket.closed:
                return
            ticket.closed = True
            if kind == "done":
                self.num_completed += 1
            else:
                self.num_failed += 1
                self.failed_by_type[payload.type] = self.failed_by_type.get(payload.type, 0) + 1
            seconds = time.monotonic() - ticket.submitted_at
            self._episode_seconds = seconds if self._episode_seconds is None else (
                0.8 * self._episode_seconds + 0.2 * seconds)
        ticket.put(kind, payload)


def _checked(generations: Sequence[Generation], expected: int) -> list[Generation]:
    generations = list(generations)
    if len(generations) != expected:
        raise BackendError(f"backend returned {len(generations)} generations for {expected} requests")
    return generations


def _failed_generation(request: GenerationRequest, error: BaseException) -> Generation:
    logger.error("generate failed for episode %s: %s: %s", request.session_id, type(error).__name__, error,
                 exc_info=not isinstance(error, BackendError))
    return Generation(text=f"{type(error).__name__}: {error}", finish_reason="error")


def _summary_of_ticket(ticket: Ticket, status: str) -> dict[str, Any]:
    request = ticket.request
    return {"episode_id": ticket.episode_id, "status": status, "question": request.question,
            "options": list(request.options), "video": str(request.video_path), "answer": None, "gold": request.gold,
            "error": None, "num_steps": None, "finished_at": None, "trace_url": None}


def _summary_of_episode(data: dict[str, Any], finished_at: float) -> dict[str, Any]:
    return {"episode_id": data["episode_id"], "status": "failed" if data.get("error") else "done",
            "question": data["question"], "options": data.get("options", []), "video": data["video"]["path"],
            "answer": data.get("answer"), "gold": data.get("gold"), "error": data.get("error"),
            "num_steps": len(data.get("steps") or ()), "finished_at": finished_at,
            "trace_url": f"/v1/episodes/{data['episode_id']}/trace.html"}


def _unavailable(message: str) -> ApiError:
    return ApiError(503, "unavailable_error", message, headers={"Retry-After": "5"})


def _unavailable_backend() -> BackendError:
    return BackendError("the server is shutting down")
