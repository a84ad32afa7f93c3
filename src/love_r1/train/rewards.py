"""Stage-3 rewards with TRL's signature ``f(completions, **kwargs) -> list[float | None]``, plus advantages.

Per-sample columns passed as kwargs (lists, one entry per completion): ``assistant_prefix`` (pre-filled
text; the reply is ``prefix + completion``), ``kind`` (``"qa"`` or ``"grounding"``),
``duration_seconds``, ``clips`` (``[[s, e], ...]`` shown in the prompt), ``gold`` (letter), ``evidence``
(``[[s, e], ...]`` ground-truth moments or evidence), ``options``, ``step`` (1 or 2).

Rules (``docs/protocol.md`` §4.3). Every reply is read by the one reply grammar
(:mod:`love_r1.agent.grammar`); ``compat=True`` reads it the way the reference GRPO trainer does
(``grpo_trainer.py``: the *first* ``\\boxed{`` up to the *first* ``}``, ``[int, int]`` only),
which is a parameter of that grammar, not a second parser (defect #9 lists what it misses):

* **format**: the reply starts with a control phrase, ends with its box (whitespace aside; an unclosed box
  or any text after it scores 0) and the box agrees with the phrase. A zoom is
  valid when ``0 <= a, b <= D + 1``, ``min_clip_seconds <= b - a <= min(D * max_clip_fraction, max_clip_seconds)`` and its
  IoU with every shown clip is ``<= repeat_iou``; an unreadable, negative or otherwise invalid
  interval scores 0 (it never raises). ``compat``: a reply opening with the zoom phrase needs a
  valid first-box interval, one opening with the answer phrase needs a box, any other reply scores 1.
* **answer**: an answer is right when the eval extractor (:func:`love_r1.eval.extract.extract_choice`,
  the same function that scores benchmarks) reads ``gold`` from it (``compat``: the first character
  after the first ``\\boxed{``, case-insensitive; at step 1 only after the answer phrase). A grounding
  zoom is right when it overlaps an ``evidence`` interval. A QA zoom gets ``None`` (it inherits its
  follow-up answer's accuracy).
* **zoom**: a zoom's overlap with ``evidence`` (1/0, or its best IoU with ``mode="iou"``); ``None``
  without ``evidence`` or for answers.

Malformed replies (no box, broken brackets, negative or huge numbers, NaN, stray braces) never
raise: they score 0 or ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal, get_args

from love_r1.agent.grammar import find_box, parse_interval, parse_reply
from love_r1.eval.extract import extract_choice
from love_r1.interval import Interval
from love_r1.prompts import constants

ZoomRewardMode = Literal["overlap", "iou"]


def _column(kwargs: dict[str, Any], name: str, n: int, default: Any = None) -> list[Any]:
    value = kwargs.get(name)
    if value is None:
        return [default] * n
    if len(value) != n:
        raise ValueError(f"reward column {name!r} has {len(value)} entries for {n} completions")
    return list(value)


def _text(completion: Any) -> str:
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):  # conversational
        content = completion[-1].get("content") or ""
        if isinstance(content, str):
            return content
        return "".join(str(c.get("text") or "") for c in content if isinstance(c, dict))
    raise TypeError(f"completion must be a str or a list of chat messages, got {type(completion).__name__}")


def _intervals(value: Any) -> list[Interval]:
    return [Interval(float(s), float(e)) for s, e in (value or ())]


def _duration(value: Any) -> float:
    return math.inf if value is None else float(value)


def _as_interval(start: float | None, end: float | None) -> Interval | None:
    """A requested ``[start, end]`` as an :class:`Interval`, or ``None`` when it is not a time range."""
    if start is None or end is None or not (math.isfinite(start) and math.isfinite(end)):
        return None
    if start < 0 or end < start:
        return None
    return Interval(float(start), float(end))


def zoom_interval(reply: str, *, compat: bool = False) -> Interval | None:
    """The interval a zoom reply asks for; ``None`` for answers, unreadable replies and intervals that
    are no time range (negative, non-finite). Never raises.

    ``compat`` reads as the reference trainer: the reply must open with the zoom phrase, the first
    box up to the first ``}`` must be ``[int, int]`` (unstripped, as ``answer.startswith('[')``).

    >>> zoom_interval("I need to zoom in on the video.\\n\\n\\\\boxed{[10, 20.5]}")
    Interval(start_seconds=10.0, end_seconds=20.5)
    >>> zoom_interval("I need to zoom in on the video.\\n\\n\\\\boxed{[-5, 10]}") is None
    True
    >>> zoom_interval("I need to zoom in on the video.\\n\\n\\\\boxed{[10, 20.5]}", compat=True) is None
    True
    """
    if not isinstance(reply, str):
        return None
    if compat:
        if not reply.startswith(constants.ZOOM_PREFIX):
            return None
        box = find_box(reply, pick="first", nested=False)
        if box is None or not (box.content.startswith("[") and box.content.endswith("]")):
            return None
        parsed = parse_interval(box.content, strict=True)
        return None if isinstance(parsed, str) else _as_interval(parsed[0], parsed[1])
    reading = parse_reply(reply)
    if reading.kind != "zoom":
        return None
    return _as_interval(reading.start_seconds, reading.end_seconds)


def zoom_is_valid(
    interval: Interval, *, duration_seconds: float, clips: Sequence[Interval], min_clip_seconds: float = 1.0,
    max_clip_seconds: float = 60.0, max_clip_fraction: float = 0.5, repeat_iou: float = 0.7,
) -> bool:
    """The stage-3 validity rule of a requested zoom (pure).

    >>> zoom_is_valid(Interval(10, 20), duration_seconds=100.0, clips=[Interval(11, 20)])
    False
    """
    if interval.end_seconds > duration_seconds + 1 or interval.start_seconds < 0:
        return False
    length = interval.length_seconds
    if not min_clip_seconds <= length <= min(duration_seconds * max_clip_fraction, max_clip_seconds):
        return False
    return all(interval.iou(clip) <= repeat_iou for clip in clips)


def _format_one(reply: str, *, duration_seconds: float, clips: Sequence[Interval], compat: bool,
                rules: dict[str, float]) -> float:
    if compat:
        if reply.startswith(constants.ZOOM_PREFIX):
            interval = zoom_interval(reply, compat=True)
            valid = interval is not None and zoom_is_valid(interval, duration_seconds=duration_seconds,
                                                           clips=clips, **rules)
            return 1.0 if valid else 0.0
        if reply.startswith(constants.FORCED_ANSWER_PREFIX):
            box = find_box(reply, pick="first", nested=False)
            return 1.0 if box is not None and box.content else 0.0  # the reference reads content[0]
        return 1.0
    parsed = parse_reply(reply)
    if parsed.kind == "invalid":
        return 0.0
    box = find_box(reply)  # the box parse_reply read
    if box is None or not box.closed or reply[box.end:].strip():
        return 0.0  # the reply must end with its box: text after it (or an unclosed box) is outside the grammar
    expected = constants.ZOOM_PHRASE if parsed.kind == "zoom" else constants.ANSWER_PHRASE
    if not reply.lstrip().startswith(expected):
        return 0.0
    if parsed.kind == "zoom":
        interval = _as_interval(parsed.start_seconds, parsed.end_seconds)
        if interval is None or not zoom_is_valid(interval, duration_seconds=duration_seconds, clips=clips, **rules):
            return 0.0
    return 1.0


def format_reward(completions: Sequence[Any], *, compat: bool = False, min_clip_seconds: float = 1.0,
                  max_clip_seconds: float = 60.0, max_clip_fraction: float = 0.5, repeat_iou: float = 0.7,
                  **kwargs: Any) -> list[float | None]:
    """1.0 when the reply has a control phrase and ends with a valid box (valid zoom rules for intervals), else 0.0.

    >>> Z, A = "I need to zoom in on the video.\\n\\n", "I get the answer.\\n\\n"
    >>> format_reward([Z + "\\\\boxed{[10, 20]}", Z + "\\\\boxed{[-5, 10]}", A + "\\\\boxed{B}", "\\\\boxed{B}",
    ...                A + "\\\\boxed{B},ed{B}}"], duration_seconds=[100.0] * 5)
    [1.0, 0.0, 1.0, 0.0, 0.0]
    """
    n = len(completions)
    prefixes = _column(kwargs, "assistant_prefix", n, "")
    durations = _column(kwargs, "duration_seconds", n, math.inf)
    clips = _column(kwargs, "clips", n, ())
    rules = dict(min_clip_seconds=min_clip_seconds, max_clip_seconds=max_clip_seconds,
                 max_clip_fraction=max_clip_fraction, repeat_iou=repeat_iou)
    return [
        _format_one((prefix or "") + _text(c), duration_seconds=_duration(d), clips=_intervals(cl), compat=compat,
                    rules=rules)
        for c, prefix, d, cl in zip(completions, prefixes, durations, clips, strict=True)
    ]


def answer_letter(reply: str, options: Sequence[str] | None = None, *, compat: bool = False) -> str | None:
    """The letter an answer reply gives: the eval extractor on the reply (``compat``: the first
    character after the first ``\\boxed{``, upper-cased); ``None`` for zooms and unreadable replies.

    >>> answer_letter("I get the answer.\\n\\nIt is blue. \\\\boxed{\\\\textbf{(b)}}", ["A. red", "B. blue"])
    'B'
    >>> answer_letter("\\\\boxed{bx} then \\\\boxed{A}", compat=True)
    'B'
    """
    if compat:
        index = reply.find("\\boxed{")
        if index < 0 or index + 7 >= len(reply):
            return None
        return reply[index + 7].upper()
    if parse_reply(reply).kind != "answer":
        return None
    return extract_choice(reply, list(options) if options else None)


def answer_reward(completions: Sequence[Any], *, compat: bool = False, **kwargs: Any) -> list[float | None]:
    """Accuracy: answer letter == gold; grounding zoom overlapping ``evidence``; ``None`` for a QA zoom.

    >>> A, Z = "I get the answer.\\n\\n", "I need to zoom in on the video.\\n\\n"
    >>> answer_reward([A + "\\\\boxed{\\\\text{B}}", A + "\\\\boxed{C}", Z + "\\\\boxed{[1, 4]}", Z + "\\\\boxed{[-5, 4]}"],
    ...               gold=["B"] * 4, kind=["qa", "qa", "qa", "grounding"], evidence=[[], [], [], [[3, 6]]])
    [1.0, 0.0, None, 0.0]
    """
    n = len(completions)
    prefixes = _column(kwargs, "assistant_prefix", n, "")
    kinds = _column(kwargs, "kind", n, "qa")
    golds = _column(kwargs, "gold", n, None)
    evidences = _column(kwargs, "evidence", n, ())
    options = _column(kwargs, "options", n, ())
    steps = _column(kwargs, "step", n, None)
    out: list[float | None] = []
    for c, prefix, kind, gold, moments, opts, step in zip(completions, prefixes, kinds, golds, evidences, options,
                                                          steps, strict=True):
        reply = (prefix or "") + _text(c)
        interval = zoom_interval(reply, compat=compat)
        if interval is not None:
            if kind == "grounding":
                out.append(1.0 if any(interval.intersection_seconds(m) > 0 for m in _intervals(moments)) else 0.0)
            else:
                out.append(None)
            continue
        if compat and kind == "qa" and step == 1 and not reply.startswith(constants.FORCED_ANSWER_PREFIX):
            out.append(0.0)  # the reference scores a step-1 answer only after the answer phrase
            continue
        letter = answer_letter(reply, opts, compat=compat)
        out.append(1.0 if letter is not None and gold is not None and letter.upper() == str(gold).upper() else 0.0)
    return out


def zoom_reward(completions: Sequence[Any], *, mode: ZoomRewardMode = "overlap", **kwargs: Any) -> list[float | None]:
    """A zoom's agreement with ``evidence``: overlap (1/0) or best IoU; ``None`` for answers or without evidence.

    >>> zoom_reward(["I need to zoom in on the video.\\n\\n\\\\boxed{[4, 8]}", "\\\\boxed{A}"], evidence=[[[6, 10]]] * 2,
    ...             mode="iou")
    [0.3333333333333333, None]
    """
    if mode not in get_args(ZoomRewardMode):
        raise ValueError(f"zoom_reward mode must be one of {list(get_args(ZoomRewardMode))}; got {mode!r}")
    n = len(completions)
    prefixes = _column(kwargs, "assistant_prefix", n, "")
    evidences = _column(kwargs, "evidence", n, ())
    out: list[float | None] = []
    for c, prefix, intervals in zip(completions, prefixes, evidences, strict=True):
        interval = zoom_interval((prefix or "") + _text(c))
        moments = _intervals(intervals)
        if interval is None or not moments:
            out.append(None)
        elif mode == "iou":
            out.append(max(interval.iou(m) for m in moments))
        else:
            out.append(1.0 if any(interval.intersection_seconds(m) > 0 for m in moments) else 0.0)
    return out


def group_advantages(
    rewards: Sequence[float], *, groups: Sequence[int], masked: Sequence[bool] | None = None, epsilon: float = 1e-4
) -> list[float]:
    """``(r - mean) / (std + epsilon)`` within each group, over unmasked members only (pure).

    ``std`` is the sample standard deviation (``n - 1``, as ``torch.std``); a group with one unmasked
    member uses ``std = 1``. Masked members get advantage 0 and do not enter the statistics.
    """
    if len(rewards) != len(groups):
        raise ValueError(f"{len(rewards)} rewards for {len(groups)} group ids")
    masked = list(masked) if masked is not None else [False] * len(rewards)
    if len(masked) != len(rewards):
        raise ValueError(f"{len(masked)} mask entries for {len(rewards)} rewards")
    members: dict[int, list[int]] = {}
    for i, (g, m) in enumerate(zip(groups, masked, strict=True)):
        if not m:
            members.setdefault(g, []).append(i)
    out = [0.0] * len(rewards)
    for indices in members.values():
        values = [float(rewards[i]) for i in indices]
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 1.0
        for i in indices:
            out[i] = (float(rewards[i]) - mean) / (std + epsilon)
    return out


def combine_rewards(columns: Sequence[Sequence[float | None]], weights: Sequence[float]) -> list[float]:
    """Weighted sum over reward functions; ``None`` counts as 0 (TRL's ``nansum``)."""
    if len(columns) != len(weights):
        raise ValueError(f"{len(columns)} reward columns for {len(weights)} weights")
    if not columns:
        return []
    n = len(columns[0])
    return [sum(w * (col[i] or 0.0) for col, w in zip(columns, weights, strict=True)) for i in range(n)]


__all__ = [
    "ZoomRewardMode", "answer_letter", "answer_reward", "combine_rewards", "format_reward", "group_advantages", "zoom_interval",
    "zoom_is_valid", "zoom_reward",
]
