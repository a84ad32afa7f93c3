"""``love-r1 data <step>``: the data commands, one module per step, each defining ``COMMAND`` (a ``Leaf``)."""

from __future__ import annotations

from love_r1.cli._command import Group
from love_r1.cli.data import (
    answer_cot,
    assemble,
    caption,
    check,
    clue_check,
    contamination,
    mine_hard,
    zoom_cot,
)

DESCRIPTION = """\
Data tools: check training records and build the stage-2/3 teacher data.

Typical order (docs/data.md): caption -> zoom-cot -> answer-cot -> clue-check -> contamination ->
mine-hard -> assemble; `check` validates finished records. The model steps store every call under
--work-dir as it finishes, so re-running the same command resumes. `love-r1 data STEP --help` lists
a step's options.
"""

COMMAND = Group(
    name="data", help="data tools: check training records, build teacher data", description=DESCRIPTION,
    subcommands=tuple(module.COMMAND for module in (check, caption, zoom_cot, answer_cot, clue_check, mine_hard,
                                                    assemble, contamination)),
)
