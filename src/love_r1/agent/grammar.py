"""The LOVE-R1 reply grammar: control phrase, last ``\\boxed{...}``, interval or answer.

A reply is one step. It starts with a control phrase (``I need to zoom in on the video.`` or
``I get the answer.``) and a blank line, reasons, and ends with ``\\boxed{[s, e]}`` (zoom) or
``\\boxed{X}`` (answer). :func:`parse_reply` reads it the way the reference inference loop
does (``model_sample_frame.py``):

1. take the brace-matched content of the **last** ``\\boxed{``; an unterminated box takes
   the rest of the text; the content is stripped;
2. content starting with ``[`` is an interval (a zoom request); anything else is the answer.

The reference reads an interval as ``[int, int]`` only (``content[1:-1].split(",")``, each
part through ``int()``, the list sorted). ``strict=True`` keeps exactly that. The default
tolerant mode accepts every interval the reference accepts, with the same result, and in
addition floats, ``mm:ss`` / ``hh:mm:ss``, unit suffixes (``12s``, ``12 sec``), half-open or
unterminated brackets (``[12, 20)``, ``[12, 20``), and range separators (``[12-20]``,
``[12 to 20]``, ``[12 ~ 20]``). Reversed endpoints are reordered and flagged.

:func:`parse_reply` never raises: a malformed reply is data (``kind="invalid"`` plus an
``error``), and the loop turns it into a forced answer.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any, Literal

from love_r1.prompts.constants import ANSWER_PHRASE, ZOOM_PHRASE

ReplyKind = Literal["zoom", "answer", "invalid"]
ControlPhrase = Literal["zoom", "answer"]

BOX_OPEN = "\\boxed{"

# Error messages (stable prefixes; the loop maps them to a step's stop_reason).
NO_BOX_ERROR = "no \\boxed{...} in the reply"
EMPTY_BOX_ERROR = "empty \\boxed{}"


@dataclass(frozen=True)
class ParsedReply:
    """What one reply says.

    Attributes:
        kind: ``"zoom"`` (an interval), ``"answer"`` or ``"invalid"`` (no box, empty box,
            unreadable interval).
        start_seconds, end_seconds: the requested interval in seconds (``start <= end``) for
            ``kind == "zoom"``; ``None`` otherwise. Not yet padded or clamped to the video.
        answer: the stripped box content for ``kind == "answer"``; ``None`` otherwise.
        error: why the reply is invalid; ``None`` when it is not.
        control_phrase: which control phrase the reply starts with, if any.
        box_content: stripped content of the last box (``None`` when there is no box); the
            forced-answer step reports it as the answer whatever its kind.
        reordered: the interval's endpoints were given in reverse order.
    """

    kind: ReplyKind
    start_seconds: float | None = None
    end_seconds: float | None = None
    answer: str | None = None
    error: str | None = None
    control_phrase: ControlPhrase | None = None
    box_content: str | None = None
    reordered: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParsedReply:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)

    @property
    def has_box(self) -> bool:
        return self.box_content is not None


def last_boxed_content(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` (brace-matched, not stripped), or ``None``.

    Nested braces are matched; an unterminated box yields the rest of the text.
    """
    position = text.rfind(BOX_OPEN)
    if position < 0:
        return None
    rest = text[position + len(BOX_OPEN):]
    depth = 1
    for index, char in enumerate(rest):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return rest[:index]
    return rest


def control_phrase_of(text: str) -> ControlPhrase | None:
    """``"zoom"`` / ``"answer"`` when ``text`` (left-stripped) starts with that control phrase."""
    head = text.lstrip()
    if head.startswith(ZOOM_PHRASE):
        return "zoom"
    if head.startswith(ANSWER_PHRASE):
        return "answer"
    return None


def parse_reply(text: str, *, strict: bool = False) -> ParsedReply:
    """Parse one model reply. Never raises.

    Args:
        text: the reply (for a forced-answer step, the pre-filled phrase plus the reply).
        strict: read intervals exactly like the reference (``[int, int]`` only).

    Returns:
        A :class:`ParsedReply`; ``kind == "invalid"`` with ``error`` set when the reply has no
        box, an empty box, or an interval that cannot be read.
    """
    if not isinstance(text, str):
        return ParsedReply(kind="invalid", error=f"reply is not text but {type(text).__name__}")
    phrase = control_phrase_of(text)
    content = last_boxed_content(text)
    if content is None:
        return ParsedReply(kind="invalid", error=NO_BOX_ERROR, control_phrase=phrase)
    content = content.strip()
    if not content:
        return ParsedReply(kind="invalid", error=EMPTY_BOX_ERROR, control_phrase=phrase, box_content=content)
    if not content.startswith("["):
        return ParsedReply(kind="answer", answer=content, control_phrase=phrase, box_content=content)
    parsed = parse_interval(content, strict=strict)
    if isinstance(parsed, str):
        return ParsedReply(kind="invalid", error=parsed, control_phrase=phrase, box_content=content)
    start, end, reordered = parsed
    return ParsedReply(
        kind="zoom", start_seconds=start, end_seconds=end, control_phrase=phrase, box_content=content,
        reordered=reordered,
    )


def parse_interval(content: str, *, strict: bool = False) -> tuple[float, float, bool] | str:
    """Read an interval from stripped box content that starts with ``[``.

    Returns ``(start_seconds, end_seconds, reordered)`` with ``start <= end``, or an error
    message. Never raises.
    """
    reference = _parse_reference(content)
    if strict:
        return reference
    # Tolerant mode agrees with the reference wherever the reference succeeds on a closed bracket.
    if not isinstance(reference, str) and content.endswith("]"):
        return reference
    return _parse_tolerant(content)


def _parse_reference(content: str) -> tuple[float, float, bool] | str:
    """The reference: ``sorted(int(p.strip()) for p in content[1:-1].split(","))[:2]``."""
    parts = content[1:-1].split(",")
    values: list[int] = []
    for part in parts:
        try:
            values.append(int(part.strip()))
        except ValueError:
            return f"interval endpoint {part.strip()!r} is not an integer (strict reference parsing of {content!r})"
    if len(values) < 2:
        return f"interval {content!r} has {len(values)} endpoint(s); expected [start, end]"
    ordered = sorted(values)
    try:
        start, end = float(ordered[0]), float(ordered[1])
    except OverflowError:
        return f"interval endpoints of {content!r} are too large"
    return start, end, values != ordered


# One time value: seconds ("12", "12.5"), "mm:ss(.f)" or "hh:mm:ss(.f)", optional unit suffix.
_TIME = r"\d+(?:\.\d*)?(?::\d{1,2}(?:\.\d*)?){0,2}"
_UNIT = r"(?:\s*(?:seconds?|secs?|s)\b)?"
_VALUE = rf"({_TIME}){_UNIT}"
_SEPARATOR = r"\s*(?:,|;|-|–|—|~|\bto\b|\buntil\b)\s*"
_MAX_INTERVAL_CHARS = 120
_INTERVAL = re.compile(rf"^\s*{_VALUE}{_SEPARATOR}{_VALUE}\s*$", re.IGNORECASE)


def _seconds_of(token: str) -> float | None:
    """``"12.5"`` -> 12.5, ``"1:02"`` -> 62, ``"1:00:05"`` -> 3605; ``None`` when unreadable."""
    fields = token.split(":")
    try:
        numbers = [float(f) for f in fields]
    except ValueError:
        return None
    # Only the last field may carry a fraction; minutes and seconds fields stay below 60.
    if any("." in f for f in fields[:-1]) or any(n >= 60 for n in numbers[1:]):
        return None
    seconds = 0.0
    for number in numbers:
        seconds = seconds * 60 + number
    return seconds if math.isfinite(seconds) else None


def _parse_tolerant(content: str) -> tuple[float, float, bool] | str:
    inner = content[1:]
    stripped = inner.rstrip()
    if stripped.endswith(("]", ")")):
        stripped = stripped[:-1]
    if len(stripped) > _MAX_INTERVAL_CHARS:
        return f"box content of {len(content)} characters is too long to be an interval [start, end]"
    match = _INTERVAL.match(stripped)
    if match is None:
        return (
            f"cannot read an interval from {content!r}; expected [start, end] in seconds "
            "(numbers, mm:ss or hh:mm:ss)"
        )
    first, second = _seconds_of(match.group(1)), _seconds_of(match.group(2))
    if first is None or second is None:
        return f"cannot read the time values of {content!r} (minutes and seconds fields must be below 60)"
    if second < first:
        return second, first, True
    return first, second, False
