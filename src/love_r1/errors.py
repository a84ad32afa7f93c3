"""``DataError``: the one base of every "this data file holds something love-r1 cannot use" error.

Benchmark annotations (:mod:`love_r1.eval.benchmarks`), teacher annotations
(:class:`love_r1.data.AnnotationError`), training records (:class:`love_r1.train.records.RecordError`,
:class:`love_r1.train.collate.TrainingDataError`) and subtitle files
(:class:`love_r1.eval.subtitles.SubtitleError`) raise a subclass of it, so a caller catches the domain
with one ``except DataError`` (the ``love-r1`` command then exits with status 2 and no traceback).

One wording, from the parts given to the constructor::

    <file>:<line>: <field> <problem>; got <value> (hint: <hint>)

>>> str(DataError("must be one of ['A', 'B']", path="qa.jsonl", line=3, field="answer", value="C"))
"qa.jsonl:3: answer must be one of ['A', 'B']; got 'C'"
>>> str(DataError("no annotations.jsonl under the data root", path="data/needle", hint="run `love-r1 synth needle`"))
'data/needle: no annotations.jsonl under the data root (hint: run `love-r1 synth needle`)'
"""

from __future__ import annotations

import os
from typing import Any

_UNSET: Any = object()
_VALUE_CHARS = 120


class DataError(ValueError):
    """A data file holds something love-r1 cannot use; the message names the file, line or field, the
    value and a hint (see the module docstring). The parts are kept as attributes (``None`` when not given).

    Args:
        problem: what is wrong, phrased to follow the field name ("must be one of ...", "is missing").
        path: the file (or folder) read.
        line: 1-based line (JSONL, SRT) or item number (a JSON list) in ``path``.
        field: the field or key inside the record (``"answer"``, ``"messages[1].content"``).
        value: the offending value (shown with ``repr``, cut to 120 characters); leave it out when none.
        hint: what the user can do about it.
    """

    def __init__(self, problem: str, *, path: str | os.PathLike[str] | None = None, line: int | None = None,
                 field: str | None = None, value: Any = _UNSET, hint: str | None = None) -> None:
        self.problem = problem
        self.path = None if path is None else os.fspath(path)
        self.line = line
        self.field = field
        self.has_value = value is not _UNSET
        self.value = value if self.has_value else None
        self.hint = hint
        super().__init__(self._text())

    @property
    def detail(self) -> str:
        """The message without the file and line (the field, problem, value and hint)."""
        return f"{self.field} {self.reason}" if self.field else self.reason

    @property
    def reason(self) -> str:
        """The message without the file, line and field (the problem, value and hint)."""
        text = self.problem
        if self.has_value:
            shown = repr(self.value)
            text += f"; got {shown if len(shown) <= _VALUE_CHARS else shown[:_VALUE_CHARS - 1] + '…'}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def _text(self) -> str:
        where = self.path or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        return f"{where}: {self.detail}" if where else self.detail


__all__ = ["DataError"]
