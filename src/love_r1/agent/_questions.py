"""A question as users write it -> the task the loop runs: lettered options, a checked gold letter, evidence.

Shared by ``love-r1 ask`` and ``love-r1 serve`` (both accept options written ``"A. x"``, ``"A) x"``,
``"(A) x"``, ``"a: x"`` or bare text). Errors are ``ValueError`` naming the value and what is allowed;
callers add their own parameter name (``--option``, ``"options"``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

from love_r1.agent.grammar import read_option_letter

MAX_OPTIONS = 26
_LETTERED = re.compile(r"^\s*[(\[]?([A-Za-z])[)\].:]\s+(.*\S)\s*$", re.DOTALL)


def normalize_options(options: Sequence[str], *,
                      where: Callable[[int], str] = lambda index: f"option {index + 1}",
                      ) -> tuple[tuple[str, ...], list[str]]:
    """Options as ``"A. text"`` plus notes saying what was rewritten (empty when nothing was).

    ``"A. x"`` is kept; ``"A) x"``, ``"(A) x"``, ``"a: x"`` become ``"A. x"``; when an option has no
    letter (or letters repeat), every option gets the letter of its position.

    >>> normalize_options(["(a) red", "B) blue"])[0]
    ('A. red', 'B. blue')
    >>> normalize_options(["red", "blue"])[0]
    ('A. red', 'B. blue')

    ``where(index)`` names the option at a 0-based index in errors (``"option 2"``; ``serve``: ``"options[1]"``).

    Raises:
        ValueError: an option that is not a string or is empty, or more than 26 options.
    """
    if isinstance(options, str) or not isinstance(options, Sequence):
        raise ValueError(f"options must be a list of strings like ['A. red', 'B. blue'], got {options!r}")
    cleaned: list[str] = []
    for index, text in enumerate(options):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{where(index)} must be a non-empty string, got {text!r}; give its text, e.g. 'A. red'")
        cleaned.append(text.strip())
    if len(cleaned) > MAX_OPTIONS:
        raise ValueError(f"{len(cleaned)} options given; at most {MAX_OPTIONS} (A-Z) are supported")
    matches = [_LETTERED.match(text) for text in cleaned]
    letters = [m.group(1).upper() for m in matches if m]
    if all(matches) and len(set(letters)) == len(letters):
        out = tuple(f"{m.group(1).upper()}. {m.group(2)}" for m in matches if m)
        changed = [f"{a!r} -> {b!r}" for a, b in zip(cleaned, out, strict=True) if a != b]
        return out, (["options rewritten as 'A. text': " + ", ".join(changed)] if changed else [])
    out = tuple(f"{chr(ord('A') + i)}. {m.group(2) if m else text}"
                for i, (m, text) in enumerate(zip(matches, cleaned, strict=True)))
    return out, (["options had no (or repeated) letters; lettered in order: " + ", ".join(out)] if cleaned else [])


def check_gold(gold: str | None, options: Sequence[str]) -> str | None:
    """The gold answer to record: with options, the letter it names (``"b"``, ``"(B)"``, ``"B. six"`` -> ``"B"``),
    which must be one of the options' letters; without options (an open question), the text as given.

    >>> check_gold("b", ["A. five", "B. six"])
    'B'

    Raises:
        ValueError: empty, or not one of the option letters.
    """
    if gold is None:
        return None
    if not gold.strip():
        raise ValueError("the gold answer is empty; give an option letter, e.g. B")
    if not options:
        return gold.strip()
    letters = [option[0] for option in options]
    letter = read_option_letter(gold.strip())
    if letter is None or letter not in letters:
        raise ValueError(f"gold answer {gold!r} is not one of the option letters {', '.join(letters)}")
    return letter


def check_evidence(intervals: Sequence[Sequence[float]] | None, *, duration_seconds: float | None = None,
                   where: Callable[[int], str] = lambda index: f"evidence interval {index + 1}",
                   ) -> tuple[tuple[float, float], ...] | None:
    """Ground-truth intervals ``[(start_seconds, end_seconds), ...]``: finite, ``0 <= start < end``, and (when the
    video's duration is known) starting inside the video. ``None`` or empty -> ``None``.

    ``where(index)`` names the interval at a 0-based index in errors (``"evidence interval 1"``; ``serve``:
    ``"evidence[0]"``).

    Raises:
        ValueError: naming the interval and the rule it breaks.
    """
    if not intervals:
        return None
    pairs = []
    for index, pair in enumerate(intervals):
        values = list(pair)
        if len(values) != 2 or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
                                       for x in values):
            raise ValueError(f"{where(index)} {values!r} is not two finite numbers [start, end] (seconds)")
        start, end = float(values[0]), float(values[1])
        if not 0 <= start < end:
            raise ValueError(f"{where(index)} [{start:g}, {end:g}] must have 0 <= start < end (seconds)")
        if duration_seconds is not None and start >= duration_seconds:
            raise ValueError(f"{where(index)} [{start:g}, {end:g}] starts after the video ends "
                             f"({duration_seconds:g} s)")
        pairs.append((start, end))
    return tuple(pairs)


__all__ = ["MAX_OPTIONS", "check_evidence", "check_gold", "normalize_options"]
