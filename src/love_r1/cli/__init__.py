"""The ``love-r1`` console script: one entry point, one command contract (``love_r1.cli._command``).

Every module named in :data:`COMMAND_MODULES` defines ``COMMAND``: a :class:`~love_r1.cli._command.Leaf`
(options dataclass + run function) or a :class:`~love_r1.cli._command.Group` of nested commands
(``train sft|grpo``, ``data ...``, ``synth ...``). A module that cannot be imported is an error, never
a command silently missing from ``--help``. Command modules import their heavy dependencies inside
``run``, so ``love-r1 --help`` and the scripted/synthetic paths need only the ``video`` extra.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

# the order of `love-r1 --help`
COMMAND_MODULES: tuple[str, ...] = (
    "love_r1.cli.ask",
    "love_r1.cli.serve",
    "love_r1.cli.eval",
    "love_r1.cli.report",
    "love_r1.cli.trace",
    "love_r1.cli.rescore",
    "love_r1.cli.train",
    "love_r1.cli.data",
    "love_r1.cli.synth",
    "love_r1.cli.sample",
)

DESCRIPTION = """Long-video reasoning the LOVE-R1 way: see the whole video at low resolution, zoom in on intervals at
high resolution, answer. `love-r1 COMMAND --help` explains every flag with its unit."""


def commands() -> list:
    """Every top-level command, in help order; an unimportable command module raises."""
    found = []
    for path in COMMAND_MODULES:
        command = importlib.import_module(path).COMMAND
        found.append(command)
    names = [c.name for c in found]
    if len(set(names)) != len(names):
        raise RuntimeError(f"two command modules define the same command name: {names}")
    return found


def build_parser(argv: Sequence[str] | None = None):
    """The whole parser; the commands named in ``argv`` get their arguments (see ``_command.build_parser``)."""
    from love_r1 import __version__
    from love_r1.cli._command import build_parser as build

    return build(commands(), description=DESCRIPTION, version=__version__, argv=argv)


def main(argv: Sequence[str] | None = None) -> int:
    from love_r1 import __version__
    from love_r1.cli._command import run_command_line

    return run_command_line(commands(), sys.argv[1:] if argv is None else argv, description=DESCRIPTION,
                            version=__version__)


if __name__ == "__main__":
    raise SystemExit(main())
