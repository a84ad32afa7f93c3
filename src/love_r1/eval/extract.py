"""Answer extraction for multiple-choice questions: one documented rule, failures counted, no guessing.

:func:`extract_choice` reads the chosen option letter from a model reply. Default rule, in
priority order (the first level that finds something wins; inside a level the **last**
occurrence wins, because models state their conclusion after their reasoning):

0. Strip reasoning: ``<think>...</think>`` blocks (and everything before a lone ``</think>``).
1. The last ``\\boxed{...}`` content, else the last ``<answer>...</answer>`` content. Inside it:
   a lone letter (``B``, ``(B)``, ``B.``), a labelled option (``B. red``), or an option's text.
2. The whole reply is a lone letter: ``B``, ``(B)``, ``B.``, ``**B**`` (lower case accepted only here).
3. Explicit answer statements: ``answer is X``, ``Answer: X``, ``answer: (X)``, ``option X``,
   ``choice is X``, ``Best option: (X``.
4. Formatted letters: ``(X)``, and ``X.``/``X)``/``X:`` standing alone (a space or the end after them).
5. An option's text appearing in the reply (case-insensitive; the latest-ending match, longest on ties).
6. A lone capital letter as the reply's last word.

Only letters of the given options count (``A``..``D`` for four options), and only capitals
outside level 2: the article "A" of "A man ..." or the "B" of "Based on" never match (no
level accepts a capital followed by a lower-case letter or a plain space), and "a" is never A
inside a sentence. When nothing matches the result is ``None``; callers count it as an
extraction failure rather than picking an option at random.

``mode="classic"`` reproduces the older VLMEvalKit/lmms-eval rule for comparing with published
numbers: remove a fixed list of answer phrases, give up when a long reply (> 10 words) has no
candidate letter, else take the **first** capital among the option letters anywhere in the text.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from typing import Literal

ExtractorMode = Literal["default", "classic"]
EXTRACTOR_MODES: tuple[str, ...] = ("default", "classic")

_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
# after "answer"/"option": optional "is"/"would be", a colon, brackets or quotes, then a capital letter
_AFTER_KEYWORD = r"(?:\s+(?i:is|would\s+be|should\s+be))?\s*[:：]?\s*[\(\[*\"']*(?P<x>[A-Z])(?![A-Za-z])"
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
    """Remove ``<think>...</think>`` blocks; with a lone ``</think>``, keep only what follows it."""
    text = _THINK_BLOCK.sub(" ", text)
    lower = text.lower()
    if "</think>" in lower:
        text = text[lower.rindex("</think>") + len("</think>"):]
    return text


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` (nested braces balanced), or ``None``."""
    start = text.rfind("\\boxed{")
    while start >= 0:
        depth, index = 0, start + len("\\boxed")
        for index in range(start + len("\\boxed"), len(text)):
            char = text[index]
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    return text[start + len("\\boxed{"): index]
        start = text.rfind("\\boxed{", 0, start)  # unbalanced: try an earlier one
    return None


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


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


def _lone_letter(text: str, letters: str, *, lower_ok: bool) -> str | None:
    core = re.sub(r"^[\s*_`\"'(\[{]+|[\s*_`\"')\]}.:,;!]+$", "", text)
    if len(core) == 1:
        letter = core.upper() if lower_ok else core
        if letter in letters:
            return letter
    return None


def _match_option_text(text: str, bodies: list[tuple[str, str]], *, exact: bool) -> str | None:
    norm = _norm(text)
    if exact:
        hits = [letter for letter, body in bodies if norm == body]
        return hits[0] if len(hits) == 1 else None
    best: tuple[int, int, str] | None = None
    for letter, body in bodies:
        for match in re.finditer(r"(?<!\w)" + re.escape(body) + r"(?!\w)", norm):
            key = (match.end(), len(body), letter)
            if best is None or key[:2] > best[:2]:
                best = key
    return best[2] if best else None


def _from_container(content: str, letters: str, bodies: list[tuple[str, str]]) -> str | None:
    """A letter from the content of a box or answer tag."""
    letter = _lone_letter(content, letters, lower_ok=True)
    if letter:
        return letter
    labelled = re.match(r"^\s*\(?([A-Z])[.):]\s", content + " ")
    if labelled and labelled.group(1) in letters:
        return labelled.group(1)
    return _match_option_text(content, bodies, exact=True) or _match_option_text(content, bodies, exact=False)


def _last(pattern: str, text: str, letters: str, flags: int = 0) -> str | None:
    found = None
    for match in re.finditer(pattern, text, flags):
        if match.group("x") in letters:
            found = match.group("x")
    return found


def extract_choice(text: str, options: Sequence[str] | None = None, *, mode: ExtractorMode = "default") -> str | None:
    """The option letter chosen in ``text``, or ``None`` when it cannot be read (see the module docstring).

    Args:
        text: the model reply (or the answer recorded by the agent loop).
        options: the options as shown (``"A. ..."``); their count bounds the letters and their text is
            matched when no letter is given. ``None``: letters ``A``..``D`` and no text matching.
        mode: ``"default"`` (priority rule, last occurrence) or ``"classic"`` (first capital letter).
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
    containers = []
    boxed = last_boxed(text)
    if boxed is not None:
        containers.append(boxed)
    tags = _ANSWER_TAG.findall(text)
    if tags:
        containers.append(tags[-1])
    for content in containers:
        letter = _from_container(content, letters, bodies)
        if letter:
            return letter
    lone = _lone_letter(text, letters, lower_ok=True)
    if lone:
        return lone
    for keyword in (r"(?i:answer)", r"(?i:option|choice)"):
        letter = _last(keyword + _AFTER_KEYWORD, text, letters)
        if letter:
            return letter
    formatted = r"(?:\((?P<x>[A-Z])\)|(?<![A-Za-z0-9])(?P<y>[A-Z])[.):](?=\s|$))"
    found = None
    for match in re.finditer(formatted, text):
        candidate = match.group("x") or match.group("y")
        if candidate in letters:
            found = candidate
    if found:
        return found
    letter = _match_option_text(text, bodies, exact=False)
    if letter:
        return letter
    words = re.findall(r"[A-Za-z]+", text)
    if words and len(words[-1]) == 1 and words[-1] in letters:
        return words[-1]
    return None


def _classic(text: str, letters: str) -> str | None:
    text = text.strip()
    for phrase in _CLASSIC_PHRASES:
        text = text.replace(phrase, "")
    found = re.search(f"[{letters}]", text)  # a long reply without a letter fails too
    return found.group(0) if found else None


__all__ = ["EXTRACTOR_MODES", "ExtractorMode", "extract_choice", "last_boxed", "strip_reasoning"]
