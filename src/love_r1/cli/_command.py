"""The command contract of ``love-r1``: every command, top level or nested, is a :class:`Command`.

A command has a name and a one-line help, adds its arguments to its own parser (``register``) and
runs, returning an exit status (``run``). Three kinds cover the whole tree:

* :class:`Leaf`: options are one dataclass (fields -> kebab-case flags, ``--config x.yaml``), run by a
  function ``run(options) -> int``; ask, eval, serve, report, data caption, synth needle, ...
* :class:`Group`: a named set of subcommands (``train``, ``data``, ``synth``); run alone, it prints
  its help and returns 2.
* a subclass for a leaf whose options need their own parser (``train sft|grpo``: the training
  config's fields, read by the library's config loader).

:func:`run_command_line` is the one runner: it builds the parser (only the chosen command's
arguments, so ``love-r1 --help`` imports no backend), parses, runs, and turns the ways a command
ends into exit statuses in one place: :class:`~love_r1.cli._errors.CliError` -> ``error: ...`` and
its status, Ctrl-C -> 130, a reader that closes the pipe early (``love-r1 report RUN | head``) ->
quiet, 141 (as a process killed by SIGPIPE).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from love_r1.cli._args import Deprecated, add_dataclass_arguments, parse_into
from love_r1.cli._errors import CliError
from love_r1.errors import DataError

EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a process the pipe's reader stopped

_FORMATTER = argparse.RawDescriptionHelpFormatter


class Command:
    """One node of the command tree. Subclasses set the attributes and implement ``register``/``run``.

    Attributes:
        name: the word on the command line (``ask``, ``zoom-cot``).
        help: one line shown in the parent's command list.
        description: the text at the top of ``--help`` (examples welcome; shown verbatim).
        subcommands: the children of a group (empty for a leaf).
        accepts_extra_args: unknown arguments are handed to ``run`` instead of being an error.
    """

    name: str
    help: str
    description: str
    subcommands: tuple[Command, ...] = ()
    accepts_extra_args: bool = False

    def register(self, parser: argparse.ArgumentParser) -> None:
        """Add this command's arguments to ``parser`` (its own subparser)."""
        raise NotImplementedError

    def run(self, args: argparse.Namespace, extra_args: Sequence[str]) -> int:
        """Run with the parsed ``args``; return the exit status."""
        raise NotImplementedError


@dataclass(frozen=True, eq=False)
class Leaf(Command):
    """A command whose options are one dataclass, run by ``function(options) -> int``.

    Attributes:
        options: the options dataclass (fields with ``metadata={"help": ...}``).
        function: runs the command; returns the exit status (raise ``CliError`` for bad input).
        deprecated: old flags still accepted with a ``FutureWarning``.
        shown_defaults: the default shown in ``--help`` for fields whose unset value means "this
            command's own default" (e.g. ``max_new_tokens`` of a data step).
    """

    name: str
    help: str
    options: type
    function: Callable[[Any], int]
    description: str = ""
    deprecated: tuple[Deprecated, ...] = ()
    shown_defaults: Mapping[str, str] = field(default_factory=dict)

    def register(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--config", metavar="X.yaml", help="YAML file of options (keys: the flags without "
                                                                "'--', dashes or underscores); flags override it")
        add_dataclass_arguments(parser, self.options, deprecated=self.deprecated, shown_defaults=self.shown_defaults)

    def run(self, args: argparse.Namespace, extra_args: Sequence[str]) -> int:
        options = parse_into(self.options, args, deprecated=self.deprecated)
        return self.function(options)


@dataclass(frozen=True, eq=False)
class Group(Command):
    """A named set of subcommands; alone it prints its help and returns 2."""

    name: str
    help: str
    subcommands: tuple[Command, ...]
    description: str = ""

    def register(self, parser: argparse.ArgumentParser) -> None:
        return None

    def run(self, args: argparse.Namespace, extra_args: Sequence[str]) -> int:
        args._parser.print_help()
        return 2


def selected_path(commands: Sequence[Command], argv: Sequence[str]) -> list[Command]:
    """The commands named at the start of ``argv`` (``["data", "caption", "--x"]`` -> data, caption)."""
    path: list[Command] = []
    children = commands
    for token in argv:
        if token.startswith("-"):
            if path:
                break
            continue  # options of love-r1 itself (-v) before the command
        match = next((c for c in children if c.name == token), None)
        if match is None:
            break
        path.append(match)
        children = match.subcommands
        if not children:
            break
    return path


def build_parser(commands: Sequence[Command], *, description: str, version: str,
                 argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``love-r1`` parser; only the commands named in ``argv`` get their arguments (``None``: none)."""
    parser = argparse.ArgumentParser(prog="love-r1", description=description, formatter_class=_FORMATTER)
    parser.add_argument("--version", action="version", version=f"love-r1 {version}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    parser.set_defaults(_command=None, _parser=parser)
    _add_subcommands(parser, commands, selected_path(commands, argv or ()), depth=0)
    return parser


def _add_subcommands(parser: argparse.ArgumentParser, commands: Sequence[Command], selected: list[Command],
                     *, depth: int) -> None:
    sub = parser.add_subparsers(dest=f"_command_{depth}", metavar="COMMAND", title="commands")
    for command in commands:
        child = sub.add_parser(command.name, help=command.help, description=command.description or command.help,
                               formatter_class=_FORMATTER)
        child.set_defaults(_command=command, _parser=child)
        if selected and selected[0] is command:
            command.register(child)
            if command.subcommands:
                _add_subcommands(child, command.subcommands, selected[1:], depth=depth + 1)


def iter_leaves(commands: Sequence[Command], prefix: tuple[str, ...] = ()):
    """``(path, command)`` of every command without subcommands, depth first."""
    for command in commands:
        path = (*prefix, command.name)
        if command.subcommands:
            yield from iter_leaves(command.subcommands, path)
        else:
            yield path, command


class _SecretMaskingFormatter(logging.Formatter):
    """Log lines with the credentials of URLs (``user:password@``, key/token query values) and API keys
    masked: HTTP libraries log every request's full URL (httpx at INFO), base URL secrets included."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if "://" in text or "sk-" in text:
            from love_r1.backends.openai_http import mask_secrets

            text = mask_secrets(text)
        return text


def run_command_line(commands: Sequence[Command], argv: Sequence[str], *, description: str, version: str) -> int:
    """Parse ``argv``, run the chosen command, and return its exit status (see the module docstring)."""
    try:
        return _run(commands, list(argv), description=description, version=version)
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _run(commands: Sequence[Command], argv: list[str], *, description: str, version: str) -> int:
    verbose = any(token in ("-v", "-vv", "--verbose") for token in argv)
    try:
        # a command that describes its options from an optional extra (train) needs it to build its parser
        parser = build_parser(commands, description=description, version=version, argv=argv)
    except ImportError as error:
        if verbose:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2
    args, extra_args = parser.parse_known_args(argv)
    handler = logging.StreamHandler()
    handler.setFormatter(_SecretMaskingFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)], handlers=[handler])
    command: Command | None = args._command
    if command is None:
        parser.print_help()
        return 2
    if extra_args and not command.accepts_extra_args:
        args._parser.error(f"unrecognized arguments: {' '.join(extra_args)}")
    try:
        status = command.run(args, extra_args)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return int(status or 0)
    except ImportError as error:  # an optional extra is missing: its message names the extra
        if args.verbose:
            raise
        _flush_quietly()
        print(f"error: {error} (-v shows the traceback)", file=sys.stderr)
        return 2
    except (CliError, DataError) as error:  # bad input, or a bad data file (named with field, value and a hint)
        _flush_quietly()
        print(f"error: {error}", file=sys.stderr)
        return error.status if isinstance(error, CliError) else 2


def _flush_quietly() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()


def _discard_stdout() -> None:
    """The reader of stdout is gone: point stdout at /dev/null so Python's exit-time flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
