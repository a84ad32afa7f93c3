"""Episodes as data: typed steps (zoom, answer, forced answer) and the episode that holds them.

``Episode.to_dict()`` is the stable JSON schema read by the trace viewer, the eval store and
the training-data builders (see ``docs/protocol.md``); ``Episode.from_dict`` reads it back.
Intervals are half-open ``[start_seconds, end_seconds)`` in seconds and serialise as ``[s, e]``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, get_args

from love_r1.agent.budget import ClipPlan
from love_r1.agent.grammar import ParsedReply
from love_r1.agent.ledger import Ledger
from love_r1.backends import TokenUsage
from love_r1.interval import Interval
from love_r1.prompts.constants import END_OF_TURN_TOKENS

StepKind = Literal["zoom", "answer", "forced_answer"]
StopReason = Literal["answered", "no_box", "parse_error", "too_short", "repeat_iou", "step_limit", "forced",
                     "token_budget", "short_video"]
STOP_REASONS: tuple[str, ...] = get_args(StopReason)


def _interval_to_list(interval: Interval | None) -> list[float] | None:
    return None if interval is None else [interval.start_seconds, interval.end_seconds]


def _interval_from_list(value: Any) -> Interval | None:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError(f"an interval must be [start_seconds, end_seconds], got {value!r}")
    return Interval(float(value[0]), float(value[1]))


def shown_reply(assistant_prefix: str, raw_text: str) -> str:
    """A step's reply as people read it: the pre-filled prefix, then the generated text without the
    end-of-turn token(s) it may end with (free steps keep special tokens, as the reference decodes them,
    so ``raw_text`` of a reply that closed its turn ends with ``<|im_end|>``).

    >>> shown_reply("", "I get the answer.\\n\\nIt is B.\\\\boxed{B}<|im_end|>")
    'I get the answer.\\n\\nIt is B.\\\\boxed{B}'
    >>> shown_reply("I get the answer.\\n\\n", "\\\\boxed{A}")
    'I get the answer.\\n\\n\\\\boxed{A}'
    """
    text = raw_text
    while (token := next((t for t in END_OF_TURN_TOKENS if text.rstrip().endswith(t)), None)) is not None:
        text = text.rstrip()[: -len(token)].rstrip()
    return assistant_prefix + text


@dataclass(frozen=True)
class _Step:
    """One model call of an episode.

    Attributes:
        index: 0-based position in the episode.
        raw_text: the generated text (without ``assistant_prefix``).
        assistant_prefix: text pre-filled at the start of the assistant turn ("" on free steps).
        parsed: the parsed reply (of ``assistant_prefix + raw_text``).
        requested_interval: ``(start, end)`` seconds as the model wrote it (reordered), or ``None``.
            Not an ``Interval`` because a model may request negative or out-of-video times.
        applied_interval: the zoom clip added after padding / widening, or ``None`` (rejected or none).
        stop_reason: why the free phase ended at this step (``None`` for an accepted zoom); on a
            forced answer, why the answer was forced.
        clips_in_prompt: the zoom clips the prompt of this call showed, sorted by start.
        usage: tokens and seconds the backend reported for this call.
        seconds: wall time of the ``generate`` call this step was part of (shared by a batch).
        finish_reason: the backend's finish reason (``"stop"``, ``"length"``).
        clip_plan: with a token budget (``ZoomPolicy.clip_token_budget`` / ``total_token_budget``), how
            the clip this step added was sampled and its vision tokens (on a forced answer: the
            whole-video fallback clip); ``None`` otherwise, and then absent from ``to_dict()``.
    """

    kind: ClassVar[StepKind]

    index: int
    raw_text: str
    parsed: ParsedReply
    assistant_prefix: str = ""
    requested_interval: tuple[float, float] | None = None
    applied_interval: Interval | None = None
    stop_reason: StopReason | None = None
    clips_in_prompt: tuple[Interval, ...] = ()
    usage: TokenUsage = field(default_factory=TokenUsage)
    seconds: float = 0.0
    finish_reason: str = "stop"
    clip_plan: ClipPlan | None = None

    def __post_init__(self) -> None:
        if self.stop_reason is not None and self.stop_reason not in STOP_REASONS:
            raise ValueError(f"{type(self).__name__}.stop_reason={self.stop_reason!r} is not one of {STOP_REASONS}")
        object.__setattr__(self, "clips_in_prompt", tuple(self.clips_in_prompt))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "index": self.index,
            "kind": self.kind,
            "raw_text": self.raw_text,
            "assistant_prefix": self.assistant_prefix,
            "parsed": self.parsed.to_dict(),
            "requested_interval": None if self.requested_interval is None else list(self.requested_interval),
            "applied_interval": _interval_to_list(self.applied_interval),
            "stop_reason": self.stop_reason,
            "clips_in_prompt": [_interval_to_list(c) for c in self.clips_in_prompt],
            "usage": dataclasses.asdict(self.usage),
            "seconds": self.seconds,
            "finish_reason": self.finish_reason,
        }
        if self.clip_plan is not None:
            data["clip_plan"] = self.clip_plan.to_dict()
        return data

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Step:
        kind = data.get("kind")
        cls = _STEP_CLASSES.get(kind)  # type: ignore[arg-type]
        if cls is None:
            raise ValueError(f"step kind {kind!r} is not one of {sorted(_STEP_CLASSES)}")
        requested = data.get("requested_interval")
        usage = data.get("usage") or {}
        plan = data.get("clip_plan")
        return cls(
            index=int(data["index"]),
            raw_text=data["raw_text"],
            parsed=ParsedReply.from_dict(data["parsed"]),
            assistant_prefix=data.get("assistant_prefix", ""),
            requested_interval=None if requested is None else (float(requested[0]), float(requested[1])),
            applied_interval=_interval_from_list(data.get("applied_interval")),
            stop_reason=data.get("stop_reason"),
            clips_in_prompt=tuple(_interval_from_list(c) for c in data.get("clips_in_prompt", ())),
            usage=TokenUsage(**{k: usage[k] for k in TokenUsage.__dataclass_fields__ if k in usage}),
            seconds=float(data.get("seconds", 0.0)),
            finish_reason=data.get("finish_reason", "stop"),
            clip_plan=None if plan is None else ClipPlan.from_dict(plan),
        )


@dataclass(frozen=True)
class ZoomStep(_Step):
    """A free step that did not answer: an accepted zoom (``applied_interval`` set) or a rejected
    reply (``stop_reason`` says why: no box, unreadable interval, too short, repeated clip)."""

    kind: ClassVar[StepKind] = "zoom"


@dataclass(frozen=True)
class AnswerStep(_Step):
    """A free step that answered (``parsed.answer``)."""

    kind: ClassVar[StepKind] = "answer"


@dataclass(frozen=True)
class ForcedAnswerStep(_Step):
    """The forced answer: same prompt with the answer phrase pre-filled; the last box is the answer."""

    kind: ClassVar[StepKind] = "forced_answer"


Step = ZoomStep | AnswerStep | ForcedAnswerStep
_STEP_CLASSES: dict[str, type[_Step]] = {"zoom": ZoomStep, "answer": AnswerStep, "forced_answer": ForcedAnswerStep}


def step_from_dict(data: dict[str, Any]) -> Step:
    """Read one step written by ``to_dict``."""
    return _Step.from_dict(data)


@dataclass(frozen=True)
class VideoInfo:
    """What the episode knew about its video (resolved metadata).

    ``duration_seconds`` is the episode's ``D`` and ``num_frames`` its frame count, on the policy's time
    base and within ``window`` (the part of the file the question is restricted to; ``None`` = the
    whole file, and then absent from ``to_dict()``); ``fps`` is the header's average rate.
    """

    path: str
    duration_seconds: float = 0.0
    fps: float = 0.0
    num_frames: int = 0
    width: int = 0
    height: int = 0
    window: Interval | None = None

    def __post_init__(self) -> None:
        if self.window is not None and not isinstance(self.window, Interval):
            object.__setattr__(self, "window", _interval_from_list(self.window))

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if self.window is None:
            del data["window"]
        else:
            data["window"] = _interval_to_list(self.window)
        return data


@dataclass(frozen=True)
class FastViewInfo:
    """Shape and timing of the fast view (the frames themselves are not stored)."""

    num_frames: int
    width: int
    height: int
    sample_fps: float | None
    timestamps_seconds: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["timestamps_seconds"] = list(self.timestamps_seconds)
        return data


@dataclass
class Episode:
    """One question about one video, answered over one or more steps.

    Attributes:
        episode_id: unique id (also the backend ``session_id``).
        video: resolved video metadata.
        question, options, answer_instruction: the question as given.
        policy: ``ZoomPolicy.to_dict()`` of the run.
        fast_view: shape and timestamps of the fast view, ``None`` if decoding failed.
        steps: the model calls, in order.
        answer: the final answer (the last box content), ``""`` when none could be read.
        clips: the zoom clips at the end, sorted by start (the forced answer's whole-video
            fallback clip is not a zoom and is only in that step's ``clips_in_prompt``).
        ledger: cost totals.
        error: infrastructure or video failure of this episode; ``answer`` is then ``""``.
        evidence, gold: ground truth when known (not shown to the model).
    """

    episode_id: str
    video: VideoInfo
    question: str
    options: tuple[str, ...] = ()
    answer_instruction: str = ""
    policy: dict[str, Any] = field(default_factory=dict)
    fast_view: FastViewInfo | None = None
    steps: list[Step] = field(default_factory=list)
    answer: str = ""
    clips: list[Interval] = field(default_factory=list)
    ledger: Ledger = field(default_factory=Ledger)
    error: str | None = None
    evidence: tuple[Interval, ...] | None = None
    gold: str | None = None

    @property
    def forced(self) -> bool:
        return any(isinstance(s, ForcedAnswerStep) for s in self.steps)

    @property
    def failed(self) -> bool:
        return self.error is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "episode_id": self.episode_id,
            "video": self.video.to_dict(),
            "question": self.question,
            "options": list(self.options),
            "answer_instruction": self.answer_instruction,
            "policy": self.policy,
            "fast_view": None if self.fast_view is None else self.fast_view.to_dict(),
            "steps": [s.to_dict() for s in self.steps],
            "answer": self.answer,
            "clips": [_interval_to_list(c) for c in self.clips],
            "ledger": self.ledger.to_dict(),
            "error": self.error,
            "evidence": None if self.evidence is None else [_interval_to_list(c) for c in self.evidence],
            "gold": self.gold,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Episode:
        fast = data.get("fast_view")
        evidence = data.get("evidence")
        return cls(
            episode_id=data["episode_id"],
            video=VideoInfo(**data["video"]),
            question=data["question"],
            options=tuple(data.get("options", ())),
            answer_instruction=data.get("answer_instruction", ""),
            policy=dict(data.get("policy", {})),
            fast_view=None if fast is None else FastViewInfo(
                num_frames=fast["num_frames"], width=fast["width"], height=fast["height"],
                sample_fps=fast["sample_fps"], timestamps_seconds=tuple(fast["timestamps_seconds"]),
            ),
            steps=[step_from_dict(s) for s in data.get("steps", ())],
            answer=data.get("answer", ""),
            clips=[_interval_from_list(c) for c in data.get("clips", ())],
            ledger=Ledger.from_dict(data.get("ledger", {})),
            error=data.get("error"),
            evidence=None if evidence is None else tuple(_interval_from_list(c) for c in evidence),
            gold=data.get("gold"),
        )
