"""The LOVE-R1 reply grammar: the one ``\\boxed{...}`` finder and the one time/interval reader.

A reply is one step. It starts with a control phrase (``I need to zoom in on the video.`` or
``I get the answer.``) and a blank line, reasons, and ends with ``\\boxed{[s, e]}`` (zoom) or
``\\boxed{X}`` (answer). Everything in love-r1 that reads a box or a time goes through this
module: the agent loop (:func:`parse_reply`), the answer extractor (``eval.extract``), the GRPO
rewards (``train.rewards``), the teacher judges and data filters (``data``).

**The box** (:func:`find_box`), as the reference inference loop reads it (``model_sample_frame.py``):
the **last** ``\\boxed{``, its content brace-matched; a box that is never closed takes the rest
of the text (a reply cut by the token limit inside its box still says what it was writing).
The reference GRPO trainer reads differently -- the *first* ``\\boxed{`` up to the *first* ``}``,
no nesting (``grpo_trainer.py``: ``info.split("\\\\boxed{")[1].split("}")[0]``) -- and that
reading is ``find_box(text, pick="first", nested=False)``: a parameter, not a second finder.

**The content.** Models wrap what they box: ``\\text{B}``, ``\\textbf{B}``, ``\\mathrm{B}``,
``$B$``, ``**B**``. :func:`unwrap_box_content` removes such formatting (one pass, the text inside
is kept); :func:`read_option_letter` reads an option letter from it (``B``, ``b``, ``(B)``,
``[B]``, ``B.``, ``B) text``, ``B: text``, ``Answer: B``).

**Intervals** (:func:`parse_interval`). Content starting with ``[`` is an interval. The
reference reads ``[int, int]`` only (``content[1:-1].split(",")``, each part through ``int()``,
the list sorted); ``strict=True`` keeps exactly that. The default tolerant mode accepts every
interval the reference accepts, with the same result, and in addition floats, ``mm:ss`` /
``hh:mm:ss`` (minutes and seconds fields below 60: ``[1:75, 2:10]`` is refused, not read as
135 s), unit suffixes (``12s``, ``12 sec``), half-open or unterminated brackets (``[12, 20)``,
``[12, 20``), range separators (``[12-20]``, ``[12 to 20]``, ``[12 ~ 20]``) and formatting
around the brackets (``\\text{[12, 20]}``, ``$[12, 20]$``). Reversed endpoints are reordered and
flagged. A bracketed option letter (``[B]``, ``[B. a red car]``) is an answer in tolerant mode.

Every function here is linear in its input and never raises on text: a malformed reply is data
(``kind="invalid"`` plus an ``error``), and the loop turns it into a forced answer.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any, Literal

from love_r1.prompts.constants import ANSWER_PHRASE, ZOOM_PHRASE

ReplyKind = Literal["zoom", "answer", "invalid"]
ControlPhrase = Literal["zoom", "answer"]
BoxPick = Literal["last", "first"]

BOX_OPEN = "\\boxed{"

# Error messages (stable prefixes; the loop maps them to a step's stop_reason).
NO_BOX_ERROR = "no \\boxed{...} in the reply"
EMPTY_BOX_ERROR = "empty \\boxed{}"

_BOX_PICKS: dict[str, str] = {"last": "the last box", "first": "the first box"}
_BRACE = re.compile(r"[{}]")


@dataclass(frozen=True)
class Box:
    """One ``\\boxed{...}`` found in a text.

    Attributes:
        start: index of ``\\boxed{`` in the text.
        content: the raw content (not stripped, not unwrapped).
        closed: whether a closing ``}`` was found (``False``: the content is the rest of the text).
    """

    start: int
    content: str
    closed: bool

    @property
    def end(self) -> int:
        """Index just past the box (past its closing ``}``; the text's end when it is never closed).

        >>> text = "\\\\boxed{B}."
        >>> text[find_box(text).end:]
        '.'
        """
        return self.start + len(BOX_OPEN) + len(self.content) + (1 if self.closed else 0)


def find_box(text: str, *, pick: BoxPick = "last", nested: bool = True) -> Box | None:
    """The ``\\boxed{...}`` of ``text`` (see the module docstring), or ``None`` when there is none.

    Args:
        text: the reply.
        pick: ``"last"`` (the reference inference loop) or ``"first"`` box.
        nested: match nested braces (``\\boxed{\\text{B}}`` -> ``\\text{B}``); ``False`` ends the
            content at the first ``}`` (the reference GRPO reading).

    >>> find_box("a \\\\boxed{A} b \\\\boxed{B")
    Box(start=14, content='B', closed=False)
    >>> find_box("\\\\boxed{\\\\text{B}} or \\\\boxed{C}", pick="first", nested=False).content
    '\\\\text{B'
    """
    if pick not in _BOX_PICKS:
        raise ValueError(f"find_box pick must be one of {tuple(_BOX_PICKS)}; got {pick!r}")
    position = text.rfind(BOX_OPEN) if pick == "last" else text.find(BOX_OPEN)
    if position < 0:
        return None
    begin = position + len(BOX_OPEN)
    if not nested:
        close = text.find("}", begin)
        if close < 0:
            return Box(position, text[begin:], False)
        return Box(position, text[begin:close], True)
    depth = 1
    for match in _BRACE.finditer(text, begin):
        if match.group() == "{":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return Box(position, text[begin:match.start()], True)
    return Box(position, text[begin:], False)


# Formatting a model puts around what it boxes: the command and its braces go, the text inside stays.
_FORMAT_COMMANDS = (
    "textbf", "textit", "textrm", "texttt", "textsf", "textnormal", "textup", "text", "mathrm", "mathbf",
    "mathit", "mathsf", "mathtt", "mathnormal", "boldsymbol", "bm", "emph", "mbox", "operatorname",
    "underline", "fbox", "boxed",
)
_LATEX_TOKEN = re.compile(
    r"(?P<command>\\(?:" + "|".join(_FORMAT_COMMANDS) + r")\s*\{)"
    r"|(?P<space>\\[,;:! ]|\\q?quad(?![A-Za-z]))"
    r"|(?P<drop>\\(?:left|right)(?![A-Za-z])|\$+|\\\(|\\\))"
    r"|[{}]"
)


def unwrap_box_content(content: str) -> str:
    """Box content without formatting: LaTeX text/font commands, ``$``/``\\(...\\)`` math delimiters,
    ``\\left``/``\\right``, LaTeX spacing and surrounding ``**``/backticks; stripped. One pass.

    >>> unwrap_box_content(" \\\\textbf{B. a red car} ")
    'B. a red car'
    >>> unwrap_box_content("$\\\\text{(C)}$")
    '(C)'
    >>> unwrap_box_content("a{b{c}}d")
    'a{b{c}}d'
    """
    out: list[str] = []
    dropped: list[bool] = []  # per open brace: is its closing brace dropped too?
    position = 0
    for match in _LATEX_TOKEN.finditer(content):
        out.append(content[position:match.start()])
        position = match.end()
        token = match.group()
        if match.group("command"):
            dropped.append(True)
        elif match.group("space"):
            out.append(" ")
        elif match.group("drop"):
            continue
        elif token == "{":
            dropped.append(False)
            out.append(token)
        elif not (dropped and dropped.pop()):  # "}" of a kept group, or unmatched
            out.append(token)
    out.append(content[position:])
    return "".join(out).strip().strip("*`").strip()


# An option letter alone, bracketed, or followed by punctuation: "B", "(b)", "[B]", "B.", "{C}".
_LONE_LETTER = re.compile(r"[\s(\[{（]*([A-Za-z])[\s)\]}）.:：,;!]*")
# A labelled option: "B. a red car", "(B) a red car", "B) text", "B: text", "[B] text".
_LABEL = re.compile(r"[\s(\[（]*([A-Za-z])\s*[)\]）.:：]\s*\S")
# An answer cue inside a container: "Answer: B", "the answer is (b)", "Option C".
_CUE = re.compile(  # bounded gaps keep it linear
    r"\s*(?:the\s{1,5})?(?:(?:final|correct|best)\s{1,5})?(?:answer|option|choice)(?:\s{1,5}is)?\s{0,5}[:：]?"
    r"\s{0,5}[(\[（]?([A-Za-z])(?![A-Za-z])",
    re.IGNORECASE,
)


def read_option_letter(content: str, *, letters: str | None = None) -> str | None:
    """The option letter that box (or answer-tag) content names, upper case, or ``None``.

    Accepted (either case, after :func:`unwrap_box_content`): a lone letter (``B``, ``(B)``,
    ``[B]``, ``B.``), a labelled option (``B. a red car``, ``(B) text``, ``B) text``,
    ``B: text``) and an answer cue (``Answer: B``, ``the answer is b``, ``Option B``). With
    ``letters``, a named letter outside them gives ``None``; option text without a letter is
    the extractor's job.

    >>> read_option_letter("\\\\text{(b) a blue bus}", letters="ABCD")
    'B'
    >>> read_option_letter("A man", letters="ABCD") is None
    True
    """
    core = unwrap_box_content(content)
    for pattern in (_LONE_LETTER, _LABEL, _CUE):
        match = pattern.fullmatch(core) if pattern is _LONE_LETTER else pattern.match(core)
        if match is not None:
            letter = match.group(1).upper()
            return letter if letters is None or letter in letters else None
    return None


@dataclass(frozen=True)
class ParsedReply:
    """What one reply says.

    Attributes:
        kind: ``"zoom"`` (an interval), ``"answer"`` or ``"invalid"`` (no box, empty box,
            unreadable interval).
        start_seconds, end_seconds: the requested interval in seconds (``start <= end``) for
            ``kind == "zoom"``; ``None`` otherwise. Not yet padded or clamped to the video.
        answer: the box content for ``kind == "answer"`` (tolerant mode: without formatting, see
            :func:`unwrap_box_content`; strict mode: stripped, as the reference); ``None`` otherwise.
        error: why the reply is invalid; ``None`` when it is not.
        control_phrase: which control phrase the reply starts with, if any.
        box_content: stripped raw content of the box (``None`` when there is no box); the
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


def control_phrase_of(text: str) -> ControlPhrase | None:
    """``"zoom"`` / ``"answer"`` when ``text`` (left-stripped) starts with that control phrase."""
    head = text.lstrip()
    if head.startswith(ZOOM_PHRASE):
        return "zoom"
    if head.startswith(ANSWER_PHRASE):
        return "answer"
    return None


# Tolerant mode: a bracketed option letter, optionally labelled ("[B]", "[b) a red car]") is an answer.
_BRACKETED_ANSWER = re.compile(r"\[\s*\(?[A-Za-z]\)?\s*(?:[.:)]\s*[^\]]*)?\]?")


def parse_reply(text: str, *, strict: bool = False, pick: BoxPick = "last", nested: bool = True) -> ParsedReply:
    """Parse one model reply. Never raises.

    Args:
        text: the reply (for a forced-answer step, the pre-filled phrase plus the reply).
        strict: read the box exactly like the reference (no unwrapping; intervals ``[int, int]`` only).
        pick, nested: which box (:func:`find_box`); the defaults are the reference inference reading.

    Returns:
        A :class:`ParsedReply`; ``kind == "invalid"`` with ``error`` set when the reply has no
        box, an empty box, or an interval that cannot be read.

    >>> zoom = parse_reply("I need to zoom in on the video.\\n\\nThe goal is late. \\\\boxed{[1:02, 1:10]}")
    >>> zoom.kind, zoom.start_seconds, zoom.end_seconds
    ('zoom', 62.0, 70.0)
    >>> reply = parse_reply("I get the answer.\\n\\nIt is blue. \\\\boxed{\\\\text{B}}")
    >>> reply.kind, reply.answer, reply.box_content, reply.control_phrase
    ('answer', 'B', '\\\\text{B}', 'answer')
    >>> parse_reply("I get the answer.\\n\\nNo box here.").error
    'no \\\\boxed{...} in the reply'
    >>> parse_reply("\\\\boxed{[1.5, 9]}", strict=True).error
    "interval endpoint '1.5' is not an integer (strict reference parsing of '[1.5, 9]')"
    """
    if not isinstance(text, str):
        return ParsedReply(kind="invalid", error=f"reply is not text but {type(text).__name__}")
    phrase = control_phrase_of(text)
    box = find_box(text, pick=pick, nested=nested)
    if box is None:
        return ParsedReply(kind="invalid", error=NO_BOX_ERROR, control_phrase=phrase)
    content = box.content.strip()
    body = content if strict else unwrap_box_content(content)
    if not body:
        return ParsedReply(kind="invalid", error=EMPTY_BOX_ERROR, control_phrase=phrase, box_content=content)
    if not body.startswith("["):
        return ParsedReply(kind="answer", answer=body, control_phrase=phrase, box_content=content)
    parsed = parse_interval(body, strict=strict)
    if isinstance(parsed, str):
        if not strict and _BRACKETED_ANSWER.fullmatch(body):
            return ParsedReply(kind="answer", answer=body, control_phrase=phrase, box_content=content)
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

    >>> parse_interval("[00:59, 1:05.5]")
    (59.0, 65.5, False)
    >>> parse_interval("[1:75, 2:10]")
    "cannot read the time values of '[1:75, 2:10]' (minutes and seconds fields must be below 60)"
    """
    reference = _parse_reference(content)
    if strict:
        return reference
    # Tolerant mode agrees with the reference wherever the reference succeeds on a closed bracket.
    if not isinstance(reference, str) and content.endswith("]"):
        return reference
    return _parse_tolerant(content)


_MAX_REFERENCE_CHARS = 10_000  # int() of a longer field is refused anyway (Python's 4300-digit limit)


def _parse_reference(content: str) -> tuple[float, float, bool] | str:
    """The reference: ``sorted(int(p.strip()) for p in content[1:-1].split(","))[:2]``."""
    if len(content) > _MAX_REFERENCE_CHARS:
        return f"box content of {len(content)} characters is too long to be an interval [start, end]"
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
    if len(content) > _MAX_INTERVAL_CHARS + 2:
        return f"box content of {len(content)} characters is too long to be an interval [start, end]"
    inner = content[1:]
    stripped = inner.rstrip()
    if stripped.endswith(("]", ")")):
        stripped = stripped[:-1]
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


__all__ = [
    "BOX_OPEN", "Box", "BoxPick", "ControlPhrase", "EMPTY_BOX_ERROR", "NO_BOX_ERROR", "ParsedReply", "ReplyKind",
    "control_phrase_of", "find_box", "parse_interval", "parse_reply", "read_option_letter", "unwrap_box_content",
]
