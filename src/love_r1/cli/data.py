"""``love-r1 data <leaf>``: nested data commands.

Each leaf is a module ``love_r1.cli.data_<leaf>`` exposing ``HELP``, optional ``DESCRIPTION``, an
``Options`` dataclass and ``run(options) -> int`` (the same protocol as top-level commands).
Register a new leaf by adding it to ``_LEAVES``; leaves whose module does not exist yet are skipped.
"""

from __future__ import annotations

import argparse

HELP = "data tools: check training records, build teacher data"
DESCRIPTION = """\
Data tools: check training records and build the stage-2/3 teacher data.

Typical order (docs/data.md): caption -> zoom-cot -> answer-cot -> clue-check -> contamination ->
mine-hard -> assemble; `check` validates finished records. The model steps store every call under
--work-dir as it finishes, so re-running the same command resumes. `love-r1 data LEAF --help` lists
a leaf's options.
"""

# leaf name -> module (closed set; imported lazily when the parser is built)
_LEAVES = {
    "check": "love_r1.cli.data_check",
    "caption": "love_r1.cli.data_caption",
    "zoom-cot": "love_r1.cli.data_zoom_cot",
    "answer-cot": "love_r1.cli.data_answer_cot",
    "clue-check": "love_r1.cli.data_clue_check",
    "mine-hard": "love_r1.cli.data_mine_hard",
    "assemble": "love_r1.cli.data_assemble",
    "contamination": "love_r1.cli.data_contamination",
}


def _leaf_modules() -> dict[str, object]:
    from love_r1.cli._args import import_available

    return import_available(_LEAVES)


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    from love_r1.cli._args import add_dataclass_arguments

    parser = subparsers.add_parser("data", help=HELP, description=DESCRIPTION,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    leaves = parser.add_subparsers(dest="data_command", metavar="LEAF")
    for name, module in _leaf_modules().items():
        p = leaves.add_parser(name, help=module.HELP, description=getattr(module, "DESCRIPTION", module.HELP),
                              formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("--config", help="YAML file of options (command-line flags override it)")
        add_dataclass_arguments(p, module.Options)
        p.set_defaults(_module=module, _options_cls=module.Options, _run=module.run)
