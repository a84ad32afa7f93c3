"""The ``love-r1`` console script: one entry point with subcommands.

Each subcommand lives in its own module exposing ``HELP`` (one line), ``Options`` (a
dataclass whose fields carry ``metadata={"help": ...}``) and ``run(options) -> int``.
A module may instead expose ``add_subcommands(subparsers)`` for nested commands
(``train sft``, ``data check``, ``synth needle``).
"""

from __future__ import annotations

import argparse
import logging
import sys

# subcommand -> module (closed set; resolved lazily so `love-r1 --help` stays fast)
_COMMANDS = {
    "synth": "love_r1.cli.synth",
    "sample": "love_r1.cli.sample",
    "ask": "love_r1.cli.ask",
    "eval": "love_r1.cli.eval",
    "report": "love_r1.cli.report",
    "rescore": "love_r1.cli.rescore",
    "trace": "love_r1.cli.trace",
    "train": "love_r1.cli.train",
    "data": "love_r1.cli.data",
    "serve": "love_r1.cli.serve",
}


def _available_commands() -> dict[str, object]:
    from love_r1.cli._args import import_available

    return import_available(_COMMANDS)  # a command not built yet in this version is skipped


def build_parser() -> argparse.ArgumentParser:
    from love_r1 import __version__
    from love_r1.cli._args import add_dataclass_arguments

    parser = argparse.ArgumentParser(
        prog="love-r1",
        description="Long-video reasoning the LOVE-R1 way: see the whole video at low resolution, "
        "zoom in on intervals at high resolution, answer.",
    )
    parser.add_argument("--version", action="version", version=f"love-r1 {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in _available_commands().items():
        if hasattr(module, "add_subcommands"):
            module.add_subcommands(sub)
            continue
        p = sub.add_parser(name, help=module.HELP, description=getattr(module, "DESCRIPTION", module.HELP),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("--config", help="YAML file of options (command-line flags override it)")
        add_dataclass_arguments(p, module.Options)
        p.set_defaults(_module=module, _options_cls=module.Options)
    return parser


def main(argv: list[str] | None = None) -> int:
    from love_r1.cli._args import parse_into

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "_module", None):
        parser.print_help()
        return 2
    options = parse_into(args._options_cls, args)
    run = getattr(args, "_run", None) or args._module.run
    from love_r1.errors import DataError

    try:
        return int(run(options) or 0)
    except DataError as error:  # a bad data file: the message names the file, field, value and a hint
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
