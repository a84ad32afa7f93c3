"""Answer extraction for multiple-choice questions: one documented rule, failures counted, no guessing.

:func:`extract_choice` reads the chosen option letter from a model reply. Default rule, in
priority order (the first level that finds something wins; inside a level the **last**
occurrence wins, because models state their conclusion after their reasoning):

0. Strip reasoning: ``<think>...</think>`` blocks (and everything before a lone ``</think>``).
1. A container: the ``\\boxed{...}`` of the reply (the one box finder,
   :func:`love_r1.agent.grammar.find_box`: the last box; an unclosed one runs to the end), else
   the last ``<answer>...</answer>``, else GLM's ``<|begin_of_box|>...<|end_of_box|>``. Inside it
   (formatting such as ``\\text{B}`` or ``$B$`` removed): a letter in either case (``B``, ``(b)``,
   ``[B]``, ``B.``, ``B) text``, ``Answer: B``), else an option's text. A container that names a
   letter outside the options gives ``None`` (no fallback to letters mentioned in the reasoning).
2. The whole reply is a lone letter, either case: ``B``, ``(b)``, ``B.``, ``**B**``.
3. Explicit answer statements (either case after the cue): ``answer is X``, ``Answer: X``,
   ``answer: (X)``, ``the answer is b because ...``, ``option X``, ``choice is X``,
   ``I choose X``, ``Best option: (X``, ``答案是 X``. A lower-case letter counts only when
   punctuation, the end or "because/since" follows it ("the answer is a dog" names no option).
4. A reply that opens with an option label, either case: ``b. going ahead ...``, ``(C) text``.
5. Formatted capital letters: ``(X)``, and ``X.``/``X)``/``X:`` standing alone.
6. An option's text appearing in the reply (case-insensitive; the latest-ending match, longest on ties).
7. A lone capital letter as the reply's last word.

Only letters of the given options count (``A``..``D`` for four options). Outside levels 1-4 only
capitals count, and no level accepts a capital followed by a letter or a plain space: the
article "A" of "A man ..." and the "B" of "Based on" never match, and "a" is never A inside a
sentence. When nothing matches the result is ``None``; callers count it as an extraction
failure rather than picking an option at random. Every level is one linear pass (bounded
patterns), so a degenerate reply of 100k characters costs milliseconds.

``mode="classic"`` reproduces the older VLMEvalKit/lmms-eval rule for comparing with published
numbers: remove a fixed list of answer phrases, then take the **first** capital among the
option letters anywhere in the text (``None`` when there is none).
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from typing import Literal, get_args

from love_r1.agent.grammar import find_box, read_option_letter, unwrap_box_content

ExtractorMode = Literal["default", "classic"]
EXTRACTOR_MODES: tuple[str, ...] = get_args(ExtractorMode)

_THINK_TAG = re.compile(r"<(/?)think>", re.IGNORECASE)
_ANSWER_TAG = re.compile(r"<(/?)answer>", re.IGNORECASE)
_GLM_BOX = re.compile(r"<\|begin_of_box\|>|<\|end_of_box\|>")
# An answer cue, then at most a few spaces, a colon, brackets or quotes, then one letter (bounded: linear).
# Statements of the answer outrank mentions of an option ("The answer is (B). Option A is wrong." -> B).
_CUE_TAIL = r"\s{0,5}[:：]?\s{0,5}[\(\[（*\"'`]{0,4}\s{0,2}(?P<x>[A-Za-z])(?![A-Za-z])"
_ANSWER_CUES = re.compile(
    r"(?:(?i:answer)(?:\s{1,5}(?i:is|would\s{1,3}be|should\s{1,3}be|will\s{1,3}be))?"
    r"|\b(?i:I(?:\s{1,3}(?:would|will)|'d|'ll)?\s{1,3}(?:choose|pick|select|go\s{1,3}with))"
    r"|答案[是为]?|选择?)" + _CUE_TAIL
)
_OPTION_CUES = re.compile(r"(?i:option|choice)(?:\s{1,5}(?i:is))?" + _CUE_TAIL)
_LOWER_TAIL_CHARS = 24
_LOWER_TAIL_MARKUP = " \t\r\n*_`\"')]}）"
_LOWER_TAIL_BECAUSE = re.compile(r"\s+(?:because|since|as)\b", re.IGNORECASE)
_LEADING_LABEL = re.compile(r"[\s*_`\"']{0,8}[\(\[（]?([A-Za-z])[\)\]）.:：](?:\s|$)")
_FORMATTED = re.compile(r"\((?P<x>[A-Z])\)|(?<![A-Za-z0-9])(?P<y>[A-Z])[.):](?=\s|$)")
_WORD = re.compile(r"[A-Za-z]+")
_PUNCTUATION = re.compile(r"[^\w\s]")
_LONE_EDGES = " \t\r\n*_`\"'(){}[].:,;!（）"
_CLASSIC_PHRASES = (
    "The best answer is", "The correct answer is", "The answer is", "The answer", "The best option is",
    "The correct option is", "Best answer:", "Best option:", "Answer:", "Option:", "The correct answer",
    "The correct option",
)


def _letters(options: Sequence[str] | None) -> str:
    if options is None or len(options) == 0:
        return "ABCD"
    if len(options) > 26:
        raise ValueError(f"extract_choice supports at most 26 options, got {len(options)}")
    return string.ascii_uppercase[: len(options)]


def strip_reasoning(text: str) -> str:
    """Remove ``<think>...</think>`` blocks; with a lone ``</think>``, keep only what follows it. One pass."""
    kept: list[str] = []
    position = 0
    open_at: int | None = None
    for match in _THINK_TAG.finditer(text):
        if match.group(1):  # </think>
            if open_at is not None:
                kept.append(text[position:open_at])
                open_at = None
            else:  # a lone close: everything before it is reasoning
                kept.clear()
            position = match.end()
        elif open_at is None:
            open_at = match.start()
    kept.append(text[position:])  # an unclosed <think> keeps its text (the model never closed it)
    return " ".join(kept)


def _answer_tag(text: str) -> str | None:
    """Content of the last ``<answer>``: up to its ``</answer>``, or the rest of the text when unclosed."""
    span: tuple[int, int] | None = None  # indices only: slicing once keeps it linear
    last_open: int | None = None
    for match in _ANSWER_TAG.finditer(text):
        if not match.group(1):
            last_open = match.end()
            span = (last_open, len(text))
        elif last_open is not None:
            span = (last_open, match.start())
            last_open = None
    return None if span is None else text[span[0]:span[1]]


def _glm_box(text: str) -> str | None:
    """Content of the last ``<|begin_of_box|>...<|end_of_box|>`` (GLM-4.5V's answer box)."""
    content: str | None = None
    begin: int | None = None
    for match in _GLM_BOX.finditer(text):
        if match.group().startswith("<|begin"):
            begin = match.end()
        elif begin is not None:
            content = text[begin:match.start()]
            begin = None
    return content


def _norm(text: str) -> str:
    return " ".join(_PUNCTUATION.sub(" ", text.lower()).split())


def _option_bodies(options: Sequence[str] | None, letters: str) -> list[tuple[str, str]]:
    from love_r1.eval.records import option_body

    if not options:
        return []
    out = []
    for letter, option in zip(letters, options, strict=False):
        body = _norm(option_body(option))
        if body:
            out.append((letter, body))
    return out


def _lone_letter(text: str, letters: str) -> str | None:
    core = text.strip(_LONE_EDGES)
    if len(core) == 1 and core.upper() in letters:
        return core.upper()
    return None


def _match_option_text(text: str, bodies: list[tuple[str, str]], *, exact: bool) -> str | None:
    norm = _norm(text)
    if exact:
        hits = [letter for letter, body in bodies if norm == body]
        return hits[0] if len(hits) == 1 else None
    best: tuple[int, int, str] | None = None
    for letter, body in bodies:
        end = _last_word_match_end(norm, body)
        if end >= 0 and (best is None or (end, len(body)) > best[:2]):
            best = (end, len(body), letter)
    return best[2] if best else None


def _last_word_match_end(text: str, body: str) -> int:
    """End index of the last occurrence of ``body`` in ``text`` on word boundaries, or -1 (``str.rfind`` steps)."""
    end = len(text)
    while True:
        index = text.rfind(body, 0, end)
        if index < 0:
            return -1
        stop = index + len(body)
        if (index == 0 or text[index - 1] == " ") and (stop == len(text) or text[stop] == " "):
            return stop
        end = index + len(body) - 1  # keep looking to the left


def _from_container(content: str, letters: str, bodies: list[tuple[str, str]]) -> tuple[bool, str | None]:
    """``(decided, letter)`` from the content of a box or answer tag."""
    letter = read_option_letter(content)
    if letter is not None:
        return True, letter if letter in letters else None
    core = unwrap_box_content(content)
    found = _match_option_text(core, bodies, exact=True) or _match_option_text(core, bodies, exact=False)
    return found is not None, found


def _lower_case_choice(text: str, end: int) -> bool:
    """Whether a lower-case letter ending at ``end`` is a choice: punctuation, the end or "because" follows."""
    tail = text[end:end + _LOWER_TAIL_CHARS]
    rest = tail.lstrip(_LOWER_TAIL_MARKUP)
    if not rest:
        return end + _LOWER_TAIL_CHARS >= len(text)  # only markup up to the end of the reply
    return rest[0] in ".,;:!?\n)]）" or _LOWER_TAIL_BECAUSE.match(tail) is not None


def _after_cue(pattern: re.Pattern[str], text: str, letters: str) -> str | None:
    found = None
    for match in pattern.finditer(text):
        letter = match.group("x")
        if letter.islower() and not _lower_case_choice(text, match.end("x")):
            continue
        if letter.upper() in letters:
            found = letter.upper()
    return found


def extract_choice(text: str, options: Sequence[str] | None = None, *, mode: ExtractorMode = "default") -> str | None:
    """The option letter chosen in ``text``, or ``None`` when it cannot be read (see the module docstring).

    Args:
        text: the model reply (or the answer recorded by the agent loop).
        options: the options as shown (``"A. ..."``); their count bounds the letters and their text is
            matched when no letter is given. ``None``: letters ``A``..``D`` and no text matching.
        mode: ``"default"`` (priority rule, last occurrence) or ``"classic"`` (first capital letter).

    >>> options = ["A. a red car", "B. a blue bus", "C. a green tram", "D. nothing"]
    >>> extract_choice("I get the answer.\\n\\nThe bus is blue. \\\\boxed{\\\\text{(B)}}", options)
    'B'
    >>> extract_choice("<think>maybe A</think>The answer is c.", options)
    'C'
    >>> extract_choice("I saw a green tram.", options)
    'C'
    >>> extract_choice("A man walks by.", options) is None
    True
    >>> extract_choice("A man walks by.", options, mode="classic")
    'A'
    """
    if not isinstance(text, str):
        raise TypeError(f"extract_choice(text=...) takes a str, got {type(text).__name__}")
    if mode not in EXTRACTOR_MODES:
        raise ValueError(f"extract_choice mode must be one of {EXTRACTOR_MODES}, got {mode!r}")
    letters = _letters(options)
    if mode == "classic":
        return _classic(text, letters)
    bodies = _option_bodies(options, letters)
    text = strip_reasoning(text)
    box = find_box(text)
    containers = [box.content] if box is not None else []
    for content in (_answer_tag(text), _glm_box(text)):
        if content is not None:
            containers.append(content)
    for content in containers:
        decided, letter = _from_container(content, letters, bodies)
        if decided:
            return letter
    lone = _lone_letter(text, letters)
    if lone:
        return lone
    for cues in (_ANSWER_CUES, _OPTION_CUES):
        letter = _after_cue(cues, text, letters)
        if letter:
            return letter
    leading = _LEADING_LABEL.match(text.lstrip())
    if leading and leading.group(1).upper() in letters:
        return leading.group(1).upper()
    found = None
    for match in _FORMATTED.finditer(text):
        candidate = match.group("x") or match.group("y")
        if candidate in letters:
            found = candidate
    if found:
        return found
    letter = _match_option_text(text, bodies, exact=False)
    if letter:
        return letter
    words = _WORD.findall(text)
    if words and len(words[-1]) == 1 and words[-1] in letters:
        return words[-1]
    return None


def _classic(text: str, letters: str) -> str | None:
    text = text.strip()
    for phrase in _CLASSIC_PHRASES:
        text = text.replace(phrase, "")
    found = re.search(f"[{letters}]", text)
    return found.group(0) if found else None


__all__ = ["EXTRACTOR_MODES", "ExtractorMode", "extract_choice", "strip_reasoning"]
