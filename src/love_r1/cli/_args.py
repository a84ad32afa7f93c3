"""Dataclass options -> argparse, with ``--config x.yaml`` and help taken from field metadata.

Every command's options are one ``@dataclass`` whose fields carry ``metadata={"help": "... (units)"}``.
A field ``name_with_parts`` is the flag ``--name-with-parts`` (kebab case, everywhere). Booleans become
``--flag / --no-flag`` (never ``type=bool``); ``Literal`` fields become choices (the library's own
Literal, so the CLI cannot drift from it); ``list[...]`` fields take several values or repeat
(``action="append"`` when ``metadata["repeat"]`` is true). Values from ``--config`` are applied first,
then the command line overrides them. Fields are shown in ``--help`` under the title of the dataclass
that declares them (``GROUP`` class attribute: the shared backend, sampling and policy blocks).

A renamed flag stays accepted for a while as a :class:`Deprecated` alias: using it (or its YAML key)
warns with a ``FutureWarning`` naming the new flag and the release that removes the old one.

We do not use ``transformers.HfArgumentParser`` here because the base install (video, synth, ask with
the scripted backend) must not need transformers.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

from love_r1.cli._errors import CliError

T = TypeVar("T")

_MISSING = dataclasses.MISSING


@dataclass(frozen=True)
class Deprecated:
    """An old flag (and YAML key) still accepted, with a ``FutureWarning``, until ``removal``.

    Attributes:
        old: the old flag, e.g. ``"--preset"``.
        field: the options field it now sets, e.g. ``"policy_preset"``.
        removal: the release that removes the old spelling, e.g. ``"0.2.0"``.
    """

    old: str
    field: str
    removal: str

    @property
    def new(self) -> str:
        return flag_of(self.field)

    def message(self) -> str:
        return (f"{self.old} is deprecated and will be removed in love-r1 {self.removal}; use {self.new} "
                f"(YAML key {self.field})")

    def warn(self) -> None:
        warnings.warn(self.message(), FutureWarning, stacklevel=2)


def flag_of(name: str) -> str:
    """The command-line flag of an options field: ``clip_max_frames`` -> ``--clip-max-frames``."""
    return "--" + name.replace("_", "-")


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def field_default(field: dataclasses.Field) -> Any:
    if field.default is not _MISSING:
        return field.default
    if field.default_factory is not _MISSING:  # type: ignore[misc]
        return field.default_factory()  # type: ignore[misc]
    return _MISSING


def _declaring_groups(cls: type) -> dict[str, str | None]:
    """Field name -> the ``GROUP`` title of the dataclass that declares it (``None``: the command's own)."""
    groups: dict[str, str | None] = {}
    for base in reversed(cls.__mro__):
        for name in vars(base).get("__annotations__", {}):
            groups[name] = vars(base).get("GROUP")
    return groups


def option_fields(cls: type) -> list[dataclasses.Field]:
    """The fields of an options dataclass that are command-line options (``init`` fields)."""
    return [f for f in dataclasses.fields(cls) if f.init]


def add_dataclass_arguments(parser: argparse.ArgumentParser, cls: type, *,
                            deprecated: Sequence[Deprecated] = (), shown_defaults: Mapping[str, str] = {}) -> None:
    """Add one option per field of ``cls`` (positional when ``metadata["positional"]`` is true).

    ``shown_defaults`` replaces the default shown in the help of the named fields (for shared options
    whose unset value means "this command's own default", e.g. ``max_new_tokens``).
    """
    hints = typing.get_type_hints(cls)
    groups = _declaring_groups(cls)
    sections: dict[str | None, argparse._ActionsContainer] = {None: parser}
    kwargs_by_name: dict[str, dict[str, Any]] = {}
    for field in option_fields(cls):
        title = groups.get(field.name)
        if title not in sections:
            sections[title] = parser.add_argument_group(title)
        target = sections[title]
        tp, optional = _unwrap_optional(hints[field.name])
        help_text = field.metadata.get("help", "")
        default = field_default(field)
        if field.metadata.get("positional"):
            nargs = "?" if default is not _MISSING else None
            target.add_argument(field.name, type=_scalar_type(tp), nargs=nargs, default=None, help=help_text,
                                metavar=field.metadata.get("metavar", field.name.upper()))
            continue
        shown = shown_defaults.get(field.name)
        if shown is not None:
            shown = f"default: {shown}"
        elif default is _MISSING and not optional:
            shown = "required"
        elif "unset:" in help_text or "default:" in help_text:
            shown = None  # the help already says what the default is
        else:
            shown = f"default: {_show(default)}"
        kwargs: dict[str, Any] = {"dest": field.name}
        if tp is bool:
            kwargs.update(action=argparse.BooleanOptionalAction, help=_with(help_text, shown))
        else:
            origin = get_origin(tp)
            if origin is Literal:
                choices = list(get_args(tp))
                kwargs.update(choices=choices, type=type(choices[0]))
            elif origin in (list, tuple):
                (item,) = get_args(tp)[:1]
                kwargs["type"] = _scalar_type(item)
                if field.metadata.get("repeat"):
                    kwargs["action"] = "append"
                else:
                    kwargs["nargs"] = "+"
            else:
                kwargs["type"] = _scalar_type(tp)
            if field.metadata.get("metavar"):
                kwargs["metavar"] = field.metadata["metavar"]
            kwargs["help"] = _with(help_text, shown)
        target.add_argument(flag_of(field.name), default=None, **kwargs)
        kwargs_by_name[field.name] = kwargs
    for old in deprecated:
        if old.field not in kwargs_by_name:
            raise ValueError(f"deprecated flag {old.old} names {old.field!r}, which is not an option of {cls.__name__}")
        kwargs = {k: v for k, v in kwargs_by_name[old.field].items() if k not in ("action", "help")}
        action = kwargs_by_name[old.field].get("action")
        if action not in (None, "append"):
            raise ValueError(f"deprecated flag {old.old}: only value options can be aliased")
        parser.add_argument(old.old, default=None, help=argparse.SUPPRESS,
                            action=_deprecated_action(old, append=action == "append"), **kwargs)


def _with(help_text: str, shown: str | None) -> str:
    if shown is None:
        return help_text
    return f"{help_text} ({shown})" if help_text else f"({shown})"


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)) and not value:
        return "none"
    return str(value)


def _deprecated_action(old: Deprecated, *, append: bool) -> type[argparse.Action]:
    base = argparse._AppendAction if append else argparse._StoreAction

    class _Warn(base):  # type: ignore[misc, valid-type]
        def __call__(self, parser, namespace, values, option_string=None):
            old.warn()
            super().__call__(parser, namespace, values, option_string)

    return _Warn


def _scalar_type(tp: Any):
    tp, _ = _unwrap_optional(tp)
    if tp in (int, float, str):
        return tp
    if tp is Path:
        return Path
    if get_origin(tp) is Literal:
        return type(get_args(tp)[0])
    return str


def parse_into(cls: type[T], namespace: argparse.Namespace, *, deprecated: Sequence[Deprecated] = ()) -> T:
    """Build ``cls`` from ``--config`` YAML values overridden by explicit command-line values."""
    values: dict[str, Any] = {}
    config = getattr(namespace, "config", None)
    names = {f.name for f in option_fields(cls)}
    if config is not None:
        values.update(load_yaml_options(Path(config), names, deprecated=deprecated))
    for name in names:
        value = getattr(namespace, name, None)
        if value is not None:
            values[name] = value
    hints = typing.get_type_hints(cls)
    for name, value in list(values.items()):
        tp, _ = _unwrap_optional(hints[name])
        if tp is Path and isinstance(value, str):
            values[name] = Path(value)
        elif get_origin(tp) is tuple and isinstance(value, list):
            values[name] = tuple(value)
    missing = [f.name for f in option_fields(cls) if f.name not in values and field_default(f) is _MISSING]
    if missing:
        raise CliError(f"missing required option(s): {', '.join(flag_of(m) for m in missing)}")
    return cls(**values)


def load_yaml_options(path: Path, names: set[str], *, deprecated: Sequence[Deprecated] = ()) -> dict[str, Any]:
    """Read a YAML mapping of option names (dashes or underscores) to values; unknown keys are errors."""
    import yaml

    if not path.is_file():
        raise CliError(f"--config {str(path)!r} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise CliError(f"--config {str(path)!r} is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise CliError(f"--config {str(path)!r} must hold a mapping of option: value")
    renamed = {old.old[2:].replace("-", "_"): old for old in deprecated}
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name in renamed:
            old = renamed[name]
            warnings.warn(f"{path}: YAML key {key!r} is deprecated and will be removed in love-r1 {old.removal}; "
                          f"use {old.field!r}", FutureWarning, stacklevel=2)
            name = old.field
        if name not in names:
            raise CliError(f"--config {str(path)!r}: unknown option {key!r}; known options: {sorted(names)}")
        out[name] = value
    return out
