"""Strict readers of teacher replies: boxed letters, boxed intervals, yes/no.

The box and the interval are read by the one reply grammar (:mod:`love_r1.agent.grammar`: the
last ``\\boxed{...}``, formatting unwrapped, tolerant intervals). On top of it the teacher
judges are strict: the box must be closed (a reply cut inside its box is refused), an interval
must be given in order (``[40, 10]`` is refused, not reordered) and a letter must be one of
the options. Each reader returns ``None`` when the reply does not follow the asked format; a
reply is never guessed at. (The reference clue check accepted any reply *containing* "no",
which also matches "know" or "not sure"; here only a reply whose first word is yes or no counts.)
"""

from __future__ import annotations

import re

from love_r1.agent.grammar import Box, find_box, parse_reply, read_option_letter

# Linear: the leading run is bounded, so a reply of 100k spaces is refused in one pass.
_YES_NO_RE = re.compile(r"[\s*_`\"'#>]{0,64}(yes|no)\b(?![-'])", re.IGNORECASE)


def closed_box(text: str) -> Box | None:
    """The reply's box (:func:`love_r1.agent.grammar.find_box`) when it is closed, else ``None``."""
    box = find_box(text)
    return box if box is not None and box.closed else None


def parse_boxed_interval(text: str) -> tuple[float, float] | None:
    """``(start_seconds, end_seconds)`` from the reply's closed ``\\boxed{[s, e]}`` (seconds, ``mm:ss``), in order."""
    if closed_box(text) is None:
        return None
    parsed = parse_reply(text)
    if parsed.kind != "zoom" or parsed.reordered or parsed.start_seconds is None or parsed.end_seconds is None:
        return None
    return parsed.start_seconds, parsed.end_seconds


def parse_boxed_letter(text: str, *, letters: tuple[str, ...] | str) -> str | None:
    """The option letter in the reply's closed ``\\boxed{}`` (``A``, ``(a)``, ``A.``, ``A. text``,
    ``\\text{A}``), or None."""
    box = closed_box(text)
    if box is None:
        return None
    return read_option_letter(box.content, letters="".join(letters))


def parse_yes_no(text: str) -> bool | None:
    """True for a reply whose first word is "yes", False for "no", None otherwise."""
    match = _YES_NO_RE.match(text)
    if match is None:
        return None
    return match.group(1).lower() == "yes"
