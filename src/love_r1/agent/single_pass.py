"""The reference's stage-1 evaluation path (``model.py``): one model call, no decision instruction.

``docs/protocol.md`` §3 "Stage-1 path": the prompt is the system message and one user turn with

1. ``Full video [0, ⌊D⌋]:`` and the fast view (the policy's fast settings, 60 s factor rule);
2. ``Subset zoom-in video clip [0, ⌊D⌋]:`` and ONE zoom clip over the whole video
   (``min(int(2·⌊D⌋), clip_max_frames)`` frames, the zoom-clip pixel budget times the 60 s factor);
3. the question text as is (options and answer instruction included, **no** decision instruction).

The reply is the answer (the reference optionally keeps only the last ``\\boxed{}`` content). Each
question becomes an :class:`~love_r1.agent.steps.Episode` with one ``answer`` step whose
``clips_in_prompt`` is the whole-video clip (``Episode.clips`` stays empty: it is not a zoom), so
the eval store, reports and ``rescore`` read it like any other trajectory.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from love_r1.agent.grammar import ParsedReply, parse_reply
from love_r1.agent.ledger import frames_from_cache
from love_r1.agent.loop import EpisodeTask, _video_ops, _VideoOps, video_failure, video_info
from love_r1.agent.messages import full_video_label, question_text, sort_clips, zoom_clip_label
from love_r1.agent.policy import ZoomPolicy
from love_r1.agent.steps import AnswerStep, Episode, FastViewInfo, VideoInfo
from love_r1.backends import Backend, BackendError, Generation, GenerationRequest, Message, TextPart, VideoPart
from love_r1.interval import Interval
from love_r1.prompts import constants

if TYPE_CHECKING:
    from love_r1.video import Frames

logger = logging.getLogger(__name__)


def whole_video_clip(duration_seconds: float) -> Interval:
    """The stage-1 zoom clip ``[0, int(D)]`` (the reference's ``zoomin_intervals = [[0, int(duration)]]``)."""
    if not duration_seconds > 0:
        raise ValueError(f"duration_seconds must be > 0, got {duration_seconds!r}")
    return Interval(0.0, float(int(duration_seconds)))


def build_single_pass_messages(
    *,
    fast_view: Frames,
    clips: Sequence[tuple[Interval, Frames]],
    duration_seconds: float,
    question_text: str,
) -> tuple[Message, ...]:
    """System message + one user turn: full-video label and fast view, each clip with its label
    (sorted by start), then ``question_text`` unchanged (no decision instruction)."""
    if not isinstance(question_text, str):
        raise TypeError(f"question_text must be a str, got {type(question_text).__name__}")
    if duration_seconds != duration_seconds or duration_seconds < 0:
        raise ValueError(f"duration_seconds must be a finite number >= 0, got {duration_seconds!r}")
    content: list[TextPart | VideoPart] = [TextPart(full_video_label(duration_seconds)), VideoPart(fast_view)]
    for interval, frames in sort_clips(clips):
        content.append(TextPart(zoom_clip_label(interval)))
        content.append(VideoPart(frames))
    content.append(TextPart(question_text))
    return (
        Message(role="system", content=(TextPart(constants.SYSTEM_MESSAGE),)),
        Message(role="user", content=tuple(content)),
    )


def answer_of(text: str) -> str:
    """The recorded answer: the last ``\\boxed{}`` content when there is one, else the stripped reply."""
    parsed = parse_reply(text)
    return parsed.box_content if parsed.box_content is not None else text.strip()


def _prepare(task: EpisodeTask, policy: ZoomPolicy, reader: Any, ops: _VideoOps,
             episode: Episode) -> tuple[GenerationRequest, Interval]:
    line = ops.timeline(reader, time_base=policy.time_base, window=task.window)
    duration = line.duration_seconds
    if duration is None or not duration > 0:
        raise ValueError(f"video {task.video_path} has no usable duration ({duration!r} seconds)")
    duration = float(duration)
    episode.video = video_info(task.video_path, reader.metadata, line, window=task.window)
    began = time.perf_counter()
    cached = frames_from_cache(reader)
    fast = ops.sample_fast_view(reader, **policy.fast_view_arguments(), window=task.window)
    interval = whole_video_clip(duration)
    slow = ops.sample_clip(reader, interval.start_seconds, interval.end_seconds,
                           **policy.clip_arguments(duration_seconds=duration), window=task.window)
    episode.ledger.add_decode(num_frames=len(fast) + len(slow), seconds=time.perf_counter() - began,
                              num_cached=frames_from_cache(reader) - cached)
    episode.fast_view = FastViewInfo(num_frames=fast.num_frames, width=fast.width, height=fast.height,
                                     sample_fps=fast.sample_fps,
                                     timestamps_seconds=tuple(float(t) for t in fast.timestamps_seconds))
    instruction = policy.answer_instruction if task.answer_instruction is None else task.answer_instruction
    text = question_text(task.question, task.options, instruction)
    if task.context_text is not None:  # the whole-video clip comes from no zoom: no clips passed
        text = task.context_text(episode.fast_view.timestamps_seconds, ()) + text
    messages = build_single_pass_messages(fast_view=fast, clips=[(interval, slow)], duration_seconds=duration,
                                          question_text=text)
    request = GenerationRequest(messages=messages, sampling=policy.sampling, session_id=task.episode_id)
    return request, interval


def run_single_pass(
    backend: Backend,
    tasks: Iterable[EpisodeTask],
    policy: ZoomPolicy | None = None,
    *,
    batch_size: int = 8,
    open_video: Callable[..., Any] | None = None,
    sample_fast_view: Callable[..., Any] | None = None,
    sample_clip: Callable[..., Any] | None = None,
    timeline: Callable[..., Any] | None = None,
) -> Iterator[Episode]:
    """Answer every task in one call (see the module docstring); yields each finished :class:`Episode`.

    Up to ``batch_size`` requests go into one ``backend.generate`` call. A video that cannot be read,
    or a ``BackendError``, fails only its own episodes (``Episode.error``); other exceptions propagate.
    Only ``policy``'s fast/slow frame and pixel settings, its time base and its sampling are used; a task's
    ``window`` restricts its video as in :func:`~love_r1.agent.loop.run_episodes`.
    """
    policy = policy if policy is not None else ZoomPolicy()
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1 requests per generate call, got {batch_size}")
    ops = _video_ops(open_video, sample_fast_view, sample_clip, timeline)
    pending = iter(tasks)
    while True:
        batch: list[tuple[Episode, GenerationRequest, Interval, float]] = []
        for task in pending:
            began = time.perf_counter()
            instruction = policy.answer_instruction if task.answer_instruction is None else task.answer_instruction
            episode = Episode(episode_id=task.episode_id, video=VideoInfo(path=str(task.video_path)),
                              question=task.question, options=task.options, answer_instruction=instruction,
                              policy=policy.to_dict(), evidence=task.evidence, gold=task.gold)
            try:
                with contextlib.ExitStack() as stack:
                    reader = stack.enter_context(ops.open_video(task.video_path))
                    request, interval = _prepare(task, policy, reader, ops, episode)
            except ops.errors as error:
                episode.error = video_failure(task.video_path, error)
                episode.ledger.total_seconds = time.perf_counter() - began
                logger.warning("episode %s failed: %s", task.episode_id, episode.error)
                yield episode
                continue
            batch.append((episode, request, interval, began))
            if len(batch) >= batch_size:
                break
        if not batch:
            return
        yield from _answer(backend, batch)


def _answer(backend: Backend, batch: list[tuple[Episode, GenerationRequest, Interval, float]]) -> Iterator[Episode]:
    began = time.perf_counter()
    try:
        generations: list[Generation] = list(backend.generate([request for _, request, _, _ in batch]))
        if len(generations) != len(batch):
            raise BackendError(f"backend returned {len(generations)} generations for {len(batch)} requests")
    except BackendError as error:
        for episode, _, _, started in batch:
            episode.error = f"backend: {error}"
            episode.ledger.total_seconds = time.perf_counter() - started
            yield episode
        return
    seconds = time.perf_counter() - began
    for (episode, _, interval, started), generation in zip(batch, generations, strict=True):
        episode.ledger.add_usage(generation.usage)
        if generation.finish_reason == "error":
            episode.error = f"backend: {generation.text or 'finish_reason=error'}"
        else:
            answer = answer_of(generation.text)
            parsed = parse_reply(generation.text)
            if parsed.kind != "answer":  # a bare letter or free text: the reply itself is the answer
                parsed = ParsedReply(kind="answer", answer=answer, control_phrase=parsed.control_phrase,
                                     box_content=parsed.box_content)
            episode.steps.append(AnswerStep(
                index=0, raw_text=generation.text, parsed=parsed, stop_reason="answered",
                clips_in_prompt=(interval,), usage=generation.usage, seconds=seconds,
                finish_reason=generation.finish_reason,
            ))
            episode.answer = answer
        episode.ledger.total_seconds = time.perf_counter() - started
        yield episode


__all__ = ["answer_of", "build_single_pass_messages", "run_single_pass", "whole_video_clip"]
