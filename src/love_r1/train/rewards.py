"""Stage-3 rewards with TRL's signature ``f(completions, **kwargs) -> list[float | None]``, plus advantages.

Per-sample columns passed as kwargs (lists, one entry per completion): ``assistant_prefix`` (pre-filled
text; the reply is ``prefix + completion``), ``kind`` (``"qa"`` or ``"grounding"``),
``duration_seconds``, ``clips`` (``[[s, e], ...]`` shown in the prompt), ``gold`` (letter), ``tgt``
(``[[s, e], ...]`` ground-truth moments or evidence), ``options``.

Rules (``docs/protocol.md`` §4.3; ``compat=True`` restores the reference's narrow checks, defect #9):

* **format**: the reply starts with a control phrase and its last box agrees with it. A zoom is
  valid when ``0 <= a, b <= D + 1``, ``min_zoom <= b - a <= min(D * fraction, max_zoom)`` and its
  IoU with every shown clip is ``<= repeat_iou``. ``compat``: no control phrase needed.
* **answer**: an answer is right when its letter equals ``gold`` (the eval scorer reads the letter;
  ``compat``: the first character after the first ``\\boxed{``). A grounding zoom is right when it
  overlaps a ``tgt`` moment. A QA zoom gets ``None`` (it inherits its follow-up answer's accuracy).
* **zoom**: a zoom's overlap with ``tgt`` (1/0, or its best IoU with ``mode="iou"``); ``None``
  without ``tgt`` or for answers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from love_r1.interval import Interval
from love_r1.prompts import constants


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
        content = completion[-1].get("content", "")
        return content if isinstance(content, str) else "".join(c.get("text", "") for c in content)
    raise TypeError(f"completion must be a str or a list of chat messages, got {type(completion).__name__}")


def _intervals(value: Any) -> list[Interval]:
    return [Interval(float(s), float(e)) for s, e in (value or ())]


def zoom_interval(reply: str, *, compat: bool = False) -> Interval | None:
    """The interval of a zoom reply (``None`` for answers and unreadable replies)."""
    from love_r1.agent.grammar import parse_reply

    parsed = parse_reply(reply, strict=compat)
    if parsed.kind != "zoom" or parsed.start_seconds is None or parsed.end_seconds is None:
        return None
    return Interval(float(parsed.start_seconds), float(parsed.end_seconds))


def zoom_is_valid(
    interval: Interval, *, duration_seconds: float, clips: Sequence[Interval], min_zoom_seconds: float = 1.0,
    max_zoom_seconds: float = 60.0, max_zoom_fraction: float = 0.5, repeat_iou: float = 0.7,
) -> bool:
    """The stage-3 validity rule of a requested zoom (pure)."""
    if interval.end_seconds > duration_seconds + 1 or interval.start_seconds < 0:
        return False
    length = interval.length_seconds
    if not min_zoom_seconds <= length <= min(duration_seconds * max_zoom_fraction, max_zoom_seconds):
        return False
    return all(interval.iou(clip) <= repeat_iou for clip in clips)


def _format_one(reply: str, *, duration_seconds: float, clips: Sequence[Interval], compat: bool,
                rules: dict[str, float]) -> float:
    from love_r1.agent.grammar import parse_reply

    parsed = parse_reply(reply, strict=compat)
    if parsed.kind == "invalid":
        return 0.0
    if not compat:
        expected = constants.ZOOM_PHRASE if parsed.kind == "zoom" else constants.ANSWER_PHRASE
        if not reply.lstrip().startswith(expected):
            return 0.0
    if parsed.kind == "zoom":
        interval = zoom_interval(reply, compat=compat)
        if interval is None or not zoom_is_valid(interval, duration_seconds=duration_seconds, clips=clips, **rules):
            return 0.0
    return 1.0


def format_reward(completions: Sequence[Any], *, compat: bool = False, min_zoom_seconds: float = 1.0,
                  max_zoom_seconds: float = 60.0, max_zoom_fraction: float = 0.5, repeat_iou: float = 0.7,
                  **kwargs: Any) -> list[float | None]:
    """1.0 when the reply has a control phrase and a valid box (valid zoom rules for intervals), else 0.0."""
    n = len(completions)
    prefixes = _column(kwargs, "assistant_prefix", n, "")
    durations = _column(kwargs, "duration_seconds", n, math.inf)
    clips = _column(kwargs, "clips", n, ())
    rules = dict(min_zoom_seconds=min_zoom_seconds, max_zoom_seconds=max_zoom_seconds,
                 max_zoom_fraction=max_zoom_fraction, repeat_iou=repeat_iou)
    return [
        _format_one((prefix or "") + _text(c), duration_seconds=float(d), clips=_intervals(cl), compat=compat,
                    rules=rules)
        for c, prefix, d, cl in zip(completions, prefixes, durations, clips, strict=True)
    ]


def answer_letter(reply: str, options: Sequence[str] | None = None, *, compat: bool = False) -> str | None:
    """The letter a reply answers: the eval scorer on the last box (``compat``: first char after the first box)."""
    if compat:
        index = reply.find("\\boxed{")
        if index < 0 or index + 7 >= len(reply):
            return None
        return reply[index + 7].upper()
    from love_r1.agent.grammar import parse_reply

    parsed = parse_reply(reply)
    if parsed.kind != "answer" or not parsed.answer:
        return None
    try:
        from love_r1.eval.extract import extract_choice
    except ImportError:  # the eval package is optional here: a letter compare
        core = parsed.answer.strip().strip("().: ").upper()
        return core[:1] if core[:1].isalpha() and (len(core) == 1 or not core[1].isalpha()) else None
    return extract_choice(parsed.answer, list(options) if options else None)


def answer_reward(completions: Sequence[Any], *, compat: bool = False, **kwargs: Any) -> list[float | None]:
    """Accuracy: answer letter == gold; grounding zoom overlapping ``tgt``; ``None`` for a QA zoom."""
    n = len(completions)
    prefixes = _column(kwargs, "assistant_prefix", n, "")
    kinds = _column(kwargs, "kind", n, "qa")
    golds = _column(kwargs, "gold", n, None)
    tgts = _column(kwargs, "tgt", n, ())
    options = _column(kwargs, "options", n, ())
    out: list[float | None] = []
    for c, prefix, kind, gold, tgt, opts in zip(completions, prefixes, kinds, golds, tgts, options, strict=True):
        reply = (prefix or "") + _text(c)
        interval = zoom_interval(reply, compat=compat)
        if interval is not None:
            if kind == "grounding":
                out.append(1.0 if any(interval.intersection_seconds(m) > 0 for m in _intervals(tgt)) else 0.0)
            else:
                out.append(None)
            continue
        letter = answer_letter(reply, opts, compat=compat)
        out.append(1.0 if letter is not None and gold is not None and letter.upper() == str(gold).upper() else 0.0)
    return out


def zoom_reward(completions: Sequence[Any], *, mode: str = "overlap", **kwargs: Any) -> list[float | None]:
    """A zoom's agreement with ``tgt``: overlap (1/0) or best IoU; ``None`` for answers or without ``tgt``."""
    if mode not in ("overlap", "iou"):
        raise ValueError(f"zoom_reward mode={mode!r} is not one of 'overlap', 'iou'")
    n = len(completions)
    prefixes = _column(kwargs, "assistant_prefix", n, "")
    tgts = _column(kwargs, "tgt", n, ())
    out: list[float | None] = []
    for c, prefix, tgt in zip(completions, prefixes, tgts, strict=True):
        interval = zoom_interval((prefix or "") + _text(c))
        moments = _intervals(tgt)
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
    "answer_letter", "answer_reward", "combine_rewards", "format_reward", "group_advantages", "zoom_interval",
    "zoom_is_valid", "zoom_reward",
]
