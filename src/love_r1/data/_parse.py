"""Strict parsers for teacher replies: boxed letters, boxed intervals, yes/no.

Each returns ``None`` when the reply does not follow the asked format; a reply is never
guessed at. (The reference clue check accepted any reply *containing* "no", which also
matches "know" or "not sure"; here only a reply whose first word is yes or no counts.)
"""

from __future__ import annotations

import re

_BOX = "\\boxed{"
_LETTER_RE = re.compile(r"^\(?([A-Za-z])\)?(?:\s*[.:)]\s*.*)?$", re.DOTALL)
_NUMBER = r"(\d+(?::\d{1,2}){0,2}(?:\.\d+)?)"
_INTERVAL_RE = re.compile(r"^\[\s*" + _NUMBER + r"\s*(?:s|sec|seconds)?\s*,\s*" + _NUMBER
                          + r"\s*(?:s|sec|seconds)?\s*\]$")
_YES_NO_RE = re.compile(r"^[\s*_`\"'#>]*(yes|no)\b(?![-'])", re.IGNORECASE)


def last_boxed(text: str) -> tuple[int, str] | None:
    """``(start_index, content)`` of the last brace-matched ``\\boxed{...}``, or None."""
    start = text.rfind(_BOX)
    while start != -1:
        depth, i = 1, start + len(_BOX)
        while i < len(text):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    return start, text[start + len(_BOX):i].strip()
            i += 1
        start = text.rfind(_BOX, 0, start)  # unclosed box: try an earlier one
    return None


def _seconds(token: str) -> float:
    parts = token.split(":")
    value = 0.0
    for part in parts:
        value = value * 60 + float(part)
    return value


def parse_boxed_interval(text: str) -> tuple[float, float] | None:
    """``(start_seconds, end_seconds)`` from the last ``\\boxed{[s, e]}``; seconds or ``mm:ss``."""
    boxed = last_boxed(text)
    if boxed is None:
        return None
    match = _INTERVAL_RE.match(boxed[1])
    if match is None:
        return None
    return _seconds(match.group(1)), _seconds(match.group(2))


def parse_boxed_letter(text: str, *, letters: tuple[str, ...] | str) -> str | None:
    """The option letter in the last ``\\boxed{}`` (``A``, ``(A)``, ``A.``, ``A. text``), or None."""
    boxed = last_boxed(text)
    if boxed is None:
        return None
    match = _LETTER_RE.match(boxed[1])
    if match is None:
        return None
    letter = match.group(1).upper()
    return letter if letter in tuple(letters) else None


def parse_yes_no(text: str) -> bool | None:
    """True for a reply whose first word is "yes", False for "no", None otherwise."""
    match = _YES_NO_RE.match(text)
    if match is None:
        return None
    return match.group(1).lower() == "yes"

