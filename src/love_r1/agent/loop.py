"""The multi-step zoom loop, batched across episodes.

:func:`run_episodes` is a generator. Each round it sends ONE ``backend.generate`` call holding
the next request of every unfinished episode, then yields one :class:`StepEvent` per episode.
Per episode (``docs/protocol.md`` §3, the reference ``model_sample_frame.py``):

* up to ``policy.max_free_steps`` free steps; each prompt is the system message, the fast view,
  the zoom clips so far (sorted by start) and the question (no earlier replies);
* an answer ends the episode; an interval is padded, checked and widened by
  :func:`resolve_zoom` and added as a zoom clip, or rejected;
* a missing box, an unreadable or rejected interval, or the step limit leads to the forced
  answer: the same prompt (the whole video as the zoom clip when there is none) with the answer
  phrase pre-filled; its last box is the answer (``""`` when there is none).

Token budgets (``policy.clip_token_budget`` / ``total_token_budget``, off by default) plan each
zoom clip's frames and pixels with :func:`love_r1.agent.budget.plan_clip`, record the plan on the
step, and force the answer (``"token_budget"``) when a clip does not fit the prompt's budget;
``policy.skip_zoom_below_seconds`` answers short videos in one forced step (``"short_video"``).
See ``docs/protocol.md`` §8.

``D``, the frames of the fast view and of every clip, the clip bounds, the labels and the overlay all
use ``policy.time_base`` (``docs/protocol.md`` §9) and the task's ``window``; an accepted zoom that holds
no frame to sample is rejected as ``"too_short"`` instead of failing the episode.

Malformed replies are data (recorded on the step). A video that cannot be read, or a backend
``BackendError``, fails only the episodes it concerns (``Episode.error``); a failed batch call is
retried one request at a time to find them. Every other exception propagates.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from love_r1.agent.budget import BudgetError, ClipPlan, fixed_clip_plan, frames_tokens, plan_clip
from love_r1.agent.grammar import NO_BOX_ERROR, ParsedReply, parse_reply
from love_r1.agent.ledger import frames_from_cache
from love_r1.agent.messages import build_messages, question_text
from love_r1.agent.policy import ZoomPolicy
from love_r1.agent.steps import (
    AnswerStep,
    Episode,
    FastViewInfo,
    ForcedAnswerStep,
    Step,
    StopReason,
    VideoInfo,
    ZoomStep,
)
from love_r1.backends import Backend, BackendError, Generation, GenerationRequest
from love_r1.interval import Interval
from love_r1.prompts.constants import FORCED_ANSWER_PREFIX

if TYPE_CHECKING:
    from love_r1.video import Frames

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EpisodeTask:
    """One question about one video.

    Attributes:
        episode_id: unique id; also the backend ``session_id`` of every request of the episode.
        video_path: the video file.
        question: the question text (or a fully pre-formatted question with ``options=()``).
        options: answer options as shown (``"A. ..."``), one per line after the question.
        answer_instruction: appended after the options; ``None`` uses ``policy.answer_instruction``,
            ``""`` appends nothing.
        evidence: ground-truth intervals ``[(start_seconds, end_seconds), ...]`` (not shown to the model).
        gold: the correct answer, if known (not shown to the model).
        context_text: optional hook ``(fast_view_seconds, zoom_clips) -> str`` called for every
            prompt with the fast view's frame timestamps and the accepted zoom clips so far (sorted
            by start); its text is put before the question text of that prompt (the evaluation
            harness uses it for subtitles). ``None`` (default): prompts are unchanged.
        window: the part of the file the question is about (MVBench's ``start``/``end``), seconds on
            the policy's time base: the episode sees only that window, as the reference's cut file
            (times and ``D`` measured from the window's first frame). ``None``: the whole video.
    """

    episode_id: str
    video_path: str | Path
    question: str
    options: tuple[str, ...] = ()
    answer_instruction: str | None = None
    evidence: tuple[Interval, ...] | None = None
    gold: str | None = None
    context_text: Callable[[tuple[float, ...], tuple[Interval, ...]], str] | None = None
    window: Interval | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.episode_id, str) or not self.episode_id:
            raise ValueError(f"EpisodeTask.episode_id must be a non-empty str, got {self.episode_id!r}")
        if isinstance(self.options, str):
            raise TypeError(f"EpisodeTask.options must be a sequence of strings, got the string {self.options!r}")
        object.__setattr__(self, "options", tuple(self.options))
        if self.evidence is not None:
            object.__setattr__(
                self, "evidence",
                tuple(e if isinstance(e, Interval) else Interval(float(e[0]), float(e[1])) for e in self.evidence),
            )
        if self.window is not None and not isinstance(self.window, Interval):
            object.__setattr__(self, "window", Interval(float(self.window[0]), float(self.window[1])))


@dataclass(frozen=True)
class StepEvent:
    """One step of one episode. ``step is None`` when the episode failed (``episode.error``)."""

    episode_id: str
    step: Step | None
    episode_done: bool
    episode: Episode


def resolve_zoom(
    *,
    start_seconds: float,
    end_seconds: float,
    duration_seconds: float,
    existing: Sequence[Interval],
    policy: ZoomPolicy,
) -> tuple[Interval | None, StopReason | None]:
    """Turn a requested interval into the zoom clip to add, or a reason to force the answer.

    Exactly the reference arithmetic (``model_sample_frame.py``):

    * pad: ``s = max(a - pad, 0)``, ``e = min(b + pad, int(D))``;
    * ``e - s < min_clip_seconds`` -> ``"too_short"``;
    * if ``widen`` and ``e - s < L`` with ``L = min(min_length_seconds, D * min_length_fraction)``:
      ``s = int(max(mid - L/2, 0))``, ``e = int(min(mid + L/2, D))`` around ``mid = (s + e) / 2``;
    * IoU with any existing clip ``> repeat_iou`` -> ``"repeat_iou"``.

    Returns ``(interval, None)`` when accepted, ``(None, reason)`` otherwise.

    >>> from love_r1.agent.policy import ZoomPolicy
    >>> policy = ZoomPolicy()  # reference settings: pad 5 s, widen to min(30, D/8) s, IoU stop 0.3
    >>> resolve_zoom(start_seconds=100, end_seconds=104, duration_seconds=600.0, existing=[], policy=policy)
    (Interval(start_seconds=87.0, end_seconds=117.0), None)
    >>> resolve_zoom(start_seconds=100, end_seconds=104, duration_seconds=600.0,
    ...              existing=[Interval(87.0, 117.0)], policy=policy)
    (None, 'repeat_iou')
    >>> resolve_zoom(start_seconds=700, end_seconds=710, duration_seconds=600.0, existing=[], policy=policy)
    (None, 'too_short')
    """
    start = max(start_seconds - policy.pad_seconds, 0)
    end = min(end_seconds + policy.pad_seconds, int(duration_seconds))
    if end - start < policy.min_clip_seconds:
        return None, "too_short"
    if policy.widen:
        length = policy.min_length_for(duration_seconds)
        if end - start < length:
            mid = (start + end) / 2
            start = int(max(mid - length / 2, 0))
            end = int(min(mid + length / 2, duration_seconds))
    interval = Interval(float(start), float(end))
    if any(interval.iou(other) > policy.repeat_iou for other in existing):
        return None, "repeat_iou"
    return interval, None


@dataclass
class _VideoOps:
    open_video: Callable[..., Any]
    sample_fast_view: Callable[..., Frames]
    sample_clip: Callable[..., Frames]
    timeline: Callable[..., Any]
    errors: tuple[type[BaseException], ...]
    clip_errors: tuple[type[BaseException], ...]


def _video_ops(open_video: Callable[..., Any] | None, sample_fast_view: Callable[..., Frames] | None,
               sample_clip: Callable[..., Frames] | None, timeline: Callable[..., Any] | None = None) -> _VideoOps:
    """The video engine's functions, each replaced by the injected one when given (tests inject fakes).

    ``timeline(reader, *, time_base, window)`` gives the object whose ``duration_seconds`` is the run's D
    (``love_r1.video.timeline``); it must use the same time base as the samplers.
    """
    from love_r1 import video

    return _VideoOps(
        open_video=open_video or video.open_video, sample_fast_view=sample_fast_view or video.sample_fast_view,
        sample_clip=sample_clip or video.sample_clip, timeline=timeline or video.timeline,
        errors=(OSError, ValueError, video.VideoError), clip_errors=(video.IntervalError, video.FrameCountError),
    )


class _Run:
    """The live state of one episode: owns its open video reader."""

    def __init__(self, task: EpisodeTask, policy: ZoomPolicy) -> None:
        self.task = task
        self.policy = policy
        instruction = policy.answer_instruction if task.answer_instruction is None else task.answer_instruction
        self.question_text = question_text(task.question, task.options, instruction)
        self.episode = Episode(
            episode_id=task.episode_id, video=VideoInfo(path=str(task.video_path)), question=task.question,
            options=task.options, answer_instruction=instruction, policy=policy.to_dict(),
            evidence=task.evidence, gold=task.gold,
        )
        self.stack = contextlib.ExitStack()
        self.reader: Any = None
        self.duration_seconds = 0.0
        self.fast_view: Frames | None = None
        self.clip_frames: dict[tuple[float, float], Frames] = {}
        self.clip_plans: dict[tuple[float, float], ClipPlan] = {}  # only with a token budget
        self.fast_view_tokens = 0
        self.forced_reason: StopReason | None = None if policy.max_free_steps > 0 else "forced"
        self.num_free_steps = 0
        self.started = time.perf_counter()

    def start(self, ops: _VideoOps) -> None:
        """Open the video and decode the fast view (once per episode)."""
        self.reader = self.stack.enter_context(ops.open_video(self.task.video_path))
        policy = self.policy
        line = ops.timeline(self.reader, time_base=policy.time_base, window=self.task.window)
        duration = line.duration_seconds
        if duration is None or not duration > 0:
            raise ValueError(f"video {self.task.video_path} has no usable duration ({duration!r} seconds)")
        self.duration_seconds = float(duration)
        skip = policy.skip_zoom_below_seconds
        if skip is not None and self.duration_seconds < skip and self.forced_reason is None:
            self.forced_reason = "short_video"
        self.episode.video = video_info(self.task.video_path, self.reader.metadata, line, window=self.task.window)
        began = time.perf_counter()
        cached = frames_from_cache(self.reader)
        fast = ops.sample_fast_view(self.reader, **policy.fast_view_arguments(), window=self.task.window)
        self.episode.ledger.add_decode(num_frames=len(fast), seconds=time.perf_counter() - began,
                                       num_cached=frames_from_cache(self.reader) - cached)
        self.fast_view = fast
        self.fast_view_tokens = frames_tokens(fast) if policy.budgeted else 0
        self.episode.fast_view = FastViewInfo(
            num_frames=fast.num_frames, width=fast.width, height=fast.height, sample_fps=fast.sample_fps,
            timestamps_seconds=tuple(float(t) for t in fast.timestamps_seconds),
        )

    def _clip(self, interval: Interval, ops: _VideoOps) -> Frames:
        key = (interval.start_seconds, interval.end_seconds)
        frames = self.clip_frames.get(key)
        if frames is None:
            policy = self.policy
            plan = self.clip_plans.get(key)
            began = time.perf_counter()
            cached = frames_from_cache(self.reader)
            if plan is None:
                arguments = policy.clip_arguments(duration_seconds=self.duration_seconds)
            else:  # planned: exactly plan.num_frames (<= int(fps * length)) at plan.pixels_per_frame
                arguments = policy.clip_arguments(duration_seconds=self.duration_seconds, num_frames=plan.num_frames,
                                                  pixels_per_frame=plan.pixels_per_frame)
            frames = ops.sample_clip(self.reader, interval.start_seconds, interval.end_seconds, **arguments,
                                     window=self.task.window)
            self.episode.ledger.add_decode(num_frames=len(frames), seconds=time.perf_counter() - began,
                                           num_cached=frames_from_cache(self.reader) - cached)
            self.clip_frames[key] = frames
        return frames

    def prompt_tokens(self) -> int:
        """Vision tokens of the prompt so far: the fast view plus every accepted zoom clip (as planned)."""
        return self.fast_view_tokens + sum(
            self.clip_plans[(c.start_seconds, c.end_seconds)].tokens for c in self.episode.clips
        )

    def plan(self, interval: Interval) -> ClipPlan:
        """Plan (``clip_token_budget``) or price (fixed clip) a new clip within what the budgets leave.

        Raises:
            BudgetError: the clip does not fit.
        """
        policy = self.policy
        meta = self.reader.metadata
        width, height = int(meta.width), int(meta.height)
        length = interval.end_seconds - interval.start_seconds
        left = None if policy.total_token_budget is None else policy.total_token_budget - self.prompt_tokens()
        if policy.clip_token_budget is not None:
            budget = policy.clip_token_budget if left is None else min(policy.clip_token_budget, left)
            return plan_clip(length_seconds=length, width=width, height=height, token_budget=budget,
                             max_frames=policy.clip_max_frames, frames_per_second_cap=policy.frames_per_second)
        plan = fixed_clip_plan(
            length_seconds=length, width=width, height=height, max_frames=policy.clip_max_frames,
            frames_per_second=policy.frames_per_second,
            pixels_per_frame=policy.clip_pixels_per_frame * policy.resolution_factor(self.duration_seconds),
        )
        if left is not None and plan.tokens > left:
            raise BudgetError(
                f"a clip of {plan.num_frames} frames at {plan.resized_width}x{plan.resized_height} costs "
                f"{plan.tokens} tokens; total_token_budget={policy.total_token_budget} leaves {left}"
            )
        return plan

    def prompt_clips(self) -> list[Interval]:
        """Zoom clips of the next prompt, sorted by start (forced step: whole video when none).

        With a token budget the whole-video fallback is planned like a zoom clip and left out of
        the prompt when it does not fit.
        """
        clips = sorted(self.episode.clips, key=lambda c: c.start_seconds)
        if self.forced_reason is not None and not clips:
            whole = Interval(0.0, float(int(self.duration_seconds)))
            if not self.policy.budgeted:
                return [whole]
            key = (whole.start_seconds, whole.end_seconds)
            if key not in self.clip_plans:
                try:
                    self.clip_plans[key] = self.plan(whole)
                except BudgetError as error:
                    logger.info("episode %s: forced answer without the whole-video clip: %s",
                                self.task.episode_id, error)
                    return []
            clips = [whole]
        return clips

    def next_request(self, ops: _VideoOps) -> tuple[GenerationRequest, list[Interval]]:
        clips = self.prompt_clips()
        if self.forced_reason is not None and not self.episode.clips and clips:
            try:  # the whole-video fallback of a video too short to sample (under 1 s): answer without it
                self._clip(clips[0], ops)
            except ops.clip_errors as error:
                logger.info("episode %s: forced answer without the whole-video clip: %s", self.task.episode_id, error)
                clips = []
        pairs = [(c, self._clip(c, ops)) for c in clips]
        if self.fast_view is None:
            raise RuntimeError(f"episode {self.task.episode_id}: next_request() before start()")
        text = self.question_text
        if self.task.context_text is not None and self.episode.fast_view is not None:
            text = self.task.context_text(self.episode.fast_view.timestamps_seconds, tuple(self.episode.clips)) + text
        messages = build_messages(
            fast_view=self.fast_view, clips=pairs, duration_seconds=self.duration_seconds, question_text=text,
        )
        prefix = FORCED_ANSWER_PREFIX if self.forced_reason is not None else ""
        request = GenerationRequest(
            messages=messages, assistant_prefix=prefix, sampling=self.policy.sampling,
            session_id=self.task.episode_id,
            skip_special_tokens=bool(prefix),  # the reference decodes free steps with special tokens kept
        )
        return request, clips

    def samplable(self, interval: Interval, plan: ClipPlan | None, ops: _VideoOps) -> bool:
        """Decode an accepted zoom clip now; ``False`` when the interval holds no samplable frames (e.g. a
        frame rate below 1 frame per clip, or ``min_clip_seconds`` under half a second), which then forces
        the answer like a too-short interval instead of failing the episode. Other video errors raise."""
        key = (interval.start_seconds, interval.end_seconds)
        if plan is not None:
            self.clip_plans[key] = plan
        try:
            self._clip(interval, ops)
        except ops.clip_errors as error:
            logger.info("episode %s: zoom %s cannot be sampled: %s", self.task.episode_id, interval.as_list(), error)
            self.clip_plans.pop(key, None)
            return False
        return True

    def apply(self, generation: Generation, clips: list[Interval], seconds: float, ops: _VideoOps) -> Step:
        """Record one reply; returns its step. Sets ``done`` state via the episode's steps.

        An accepted zoom clip is decoded here; a video error other than an unsamplable interval is raised
        after the step is recorded."""
        episode = self.episode
        episode.ledger.add_usage(generation.usage)
        common: dict[str, Any] = dict(
            index=len(episode.steps), raw_text=generation.text, clips_in_prompt=tuple(clips),
            usage=generation.usage, seconds=seconds, finish_reason=generation.finish_reason,
        )
        decode_error: BaseException | None = None
        if self.forced_reason is not None:
            parsed = parse_reply(FORCED_ANSWER_PREFIX + generation.text, strict=self.policy.strict_parsing)
            fallback = None if episode.clips or not clips else self.clip_plans.get(
                (clips[0].start_seconds, clips[0].end_seconds))
            step: Step = ForcedAnswerStep(
                parsed=parsed, assistant_prefix=FORCED_ANSWER_PREFIX, stop_reason=self.forced_reason,
                requested_interval=_requested(parsed), clip_plan=fallback, **common,
            )
            episode.answer = parsed.box_content or ""
        else:
            parsed = parse_reply(generation.text, strict=self.policy.strict_parsing)
            if parsed.kind == "answer":
                step = AnswerStep(parsed=parsed, stop_reason="answered", **common)
                episode.answer = parsed.answer or ""
            elif parsed.kind == "invalid":
                reason: StopReason = "no_box" if parsed.error == NO_BOX_ERROR else "parse_error"
                step = ZoomStep(parsed=parsed, stop_reason=reason, **common)
                self.forced_reason = reason
            else:
                requested = (float(parsed.start_seconds or 0.0), float(parsed.end_seconds or 0.0))
                interval, reason_or_none = resolve_zoom(
                    start_seconds=requested[0], end_seconds=requested[1], duration_seconds=self.duration_seconds,
                    existing=episode.clips, policy=self.policy,
                )
                plan = None
                if interval is not None and self.policy.budgeted:
                    try:
                        plan = self.plan(interval)
                    except BudgetError as error:
                        logger.info("episode %s: zoom %s refused: %s", self.task.episode_id, interval.as_list(), error)
                        interval, reason_or_none = None, "token_budget"
                if interval is not None:
                    try:
                        if not self.samplable(interval, plan, ops):
                            interval, reason_or_none, plan = None, "too_short", None
                    except ops.errors as error:  # recorded with the zoom, then the episode fails
                        decode_error = error
                step = ZoomStep(
                    parsed=parsed, requested_interval=requested, applied_interval=interval,
                    stop_reason=reason_or_none, clip_plan=plan, **common,
                )
                if interval is None:
                    self.forced_reason = reason_or_none
                else:
                    if plan is not None:
                        self.clip_plans[(interval.start_seconds, interval.end_seconds)] = plan
                    episode.clips = sorted([*episode.clips, interval], key=lambda c: c.start_seconds)
                    self.num_free_steps += 1
                    if self.num_free_steps >= self.policy.max_free_steps:
                        self.forced_reason = "step_limit"
        episode.steps.append(step)
        if decode_error is not None:
            raise decode_error
        if self.done:
            self.finish()
        return step

    @property
    def done(self) -> bool:
        last = self.episode.steps[-1] if self.episode.steps else None
        return self.episode.error is not None or isinstance(last, (AnswerStep, ForcedAnswerStep))

    def fail(self, message: str) -> None:
        logger.warning("episode %s failed: %s", self.task.episode_id, message)
        self.episode.error = message
        self.episode.answer = ""
        self.finish()

    def finish(self) -> None:
        self.episode.ledger.total_seconds = time.perf_counter() - self.started
        self.close()

    def close(self) -> None:
        self.stack.close()
        self.clip_frames.clear()
        self.clip_plans.clear()
        self.fast_view = None


def _requested(parsed: ParsedReply) -> tuple[float, float] | None:
    if parsed.kind != "zoom" or parsed.start_seconds is None or parsed.end_seconds is None:
        return None
    return (parsed.start_seconds, parsed.end_seconds)


def _generate(backend: Backend, requests: list[GenerationRequest]) -> list[Generation | BackendError]:
    """One batched call; on ``BackendError``, retry one request at a time to isolate the failures."""
    try:
        generations = backend.generate(requests)
    except BackendError as error:
        if len(requests) == 1:
            return [error]
        logger.warning("batched generate of %d requests failed (%s); retrying one at a time", len(requests), error)
        results: list[Generation | BackendError] = []
        for request in requests:
            try:
                results.extend(_checked(backend.generate([request]), 1))
            except BackendError as single_error:
                results.append(single_error)
        return results
    try:
        return list(_checked(generations, len(requests)))
    except BackendError as error:
        return [error] * len(requests)


def _checked(generations: Sequence[Generation], expected: int) -> list[Generation]:
    if len(generations) != expected:
        raise BackendError(f"backend returned {len(generations)} generations for {expected} requests")
    return list(generations)


def video_info(video_path: str | Path, metadata: Any, line: Any, *, window: Interval | None) -> VideoInfo:
    """What an episode records about its video: ``D`` and the frame count of its timeline ``line`` (the policy's
    time base, within ``window``), the header's average rate and the display size from ``metadata``."""
    return VideoInfo(path=str(video_path), duration_seconds=float(line.duration_seconds),
                     fps=float(getattr(metadata, "fps", 0.0) or 0.0), num_frames=int(line.num_frames),
                     width=int(getattr(metadata, "width", 0) or 0), height=int(getattr(metadata, "height", 0) or 0),
                     window=window)


def video_failure(video_path: str | Path, error: Exception) -> str:
    """The error text of an episode whose video failed: ``video PATH: Type: message``, naming the file once
    (the video layer's messages already name it: ``video: CorruptVideoError: a.mp4: ...``)."""
    message = str(error)
    where = "video" if Path(video_path).name in message else f"video {video_path}"
    return f"{where}: {type(error).__name__}: {message}"


def run_episodes(
    backend: Backend,
    tasks: Iterable[EpisodeTask],
    policy: ZoomPolicy | None = None,
    *,
    open_video: Callable[..., Any] | None = None,
    sample_fast_view: Callable[..., Frames] | None = None,
    sample_clip: Callable[..., Frames] | None = None,
    timeline: Callable[..., Any] | None = None,
    max_active_episodes: int | None = None,
) -> Iterator[StepEvent]:
    """Run many episodes together; yield a :class:`StepEvent` after every step of every episode.

    Args:
        backend: anything with a batched ``generate(requests)``.
        tasks: the questions; consumed lazily when ``max_active_episodes`` is set.
        policy: loop settings (default: ``ZoomPolicy()``, the reference inference settings).
        open_video, sample_fast_view, sample_clip, timeline: the video engine (default ``love_r1.video``);
            tests inject fakes that return ``Frames`` directly. All four use ``policy.time_base``.
        max_active_episodes: at most this many episodes in flight (and open videos, and decoded
            frames in memory); ``None`` starts all of them at once.

    Each round makes exactly one ``backend.generate`` call with one request per active episode
    (plus one call per request when that batch raises ``BackendError``).
    """
    policy = policy if policy is not None else ZoomPolicy()
    if max_active_episodes is not None and max_active_episodes < 1:
        raise ValueError(f"max_active_episodes must be >= 1 or None, got {max_active_episodes}")
    ops = _video_ops(open_video, sample_fast_view, sample_clip, timeline)
    pending = iter(tasks)
    active: list[_Run] = []
    exhausted = False
    try:
        while True:
            while not exhausted and (max_active_episodes is None or len(active) < max_active_episodes):
                task = next(pending, None)
                if task is None:
                    exhausted = True
                    break
                run = _Run(task, policy)
                try:
                    run.start(ops)
                except ops.errors as error:
                    run.fail(video_failure(task.video_path, error))
                    yield StepEvent(task.episode_id, None, True, run.episode)
                    continue
                active.append(run)
            if not active:
                return
            batch: list[tuple[_Run, GenerationRequest, list[Interval]]] = []
            for run in list(active):
                try:
                    request, clips = run.next_request(ops)
                except ops.errors as error:
                    active.remove(run)
                    run.fail(video_failure(run.task.video_path, error))
                    yield StepEvent(run.task.episode_id, None, True, run.episode)
                    continue
                batch.append((run, request, clips))
            if not batch:
                continue
            began = time.perf_counter()
            results = _generate(backend, [request for _, request, _ in batch])
            seconds = time.perf_counter() - began
            for (run, _, clips), result in zip(batch, results, strict=True):
                if isinstance(result, BackendError) or result.finish_reason == "error":
                    active.remove(run)
                    reason = result.raw.get("error") if isinstance(getattr(result, "raw", None), dict) else None
                    detail = result if isinstance(result, BackendError) else (
                        reason or result.text or "finish_reason='error'")
                    run.fail(f"backend: {detail}")
                    yield StepEvent(run.task.episode_id, None, True, run.episode)
                    continue
                try:
                    step = run.apply(result, clips, seconds, ops)
                except ops.errors as error:
                    active.remove(run)
                    run.fail(video_failure(run.task.video_path, error))
                    yield StepEvent(run.task.episode_id, None, True, run.episode)
                    continue
                if run.done:
                    active.remove(run)
                yield StepEvent(run.task.episode_id, step, run.done, run.episode)
    finally:
        for run in active:
            run.close()


def run_episode(backend: Backend, task: EpisodeTask, policy: ZoomPolicy | None = None, **kwargs: Any) -> Episode:
    """Run one episode to the end and return it (see :func:`run_episodes` for ``kwargs``)."""
    episode: Episode | None = None
    for event in run_episodes(backend, [task], policy, **kwargs):
        episode = event.episode
    if episode is None:  # pragma: no cover - run_episodes always yields at least once per task
        raise RuntimeError(f"episode {task.episode_id} produced no events")
    return episode
