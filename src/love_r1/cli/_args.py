"""Dataclass options -> argparse, with ``--config x.yaml`` and help taken from field metadata.

Every CLI command defines one ``@dataclass`` of options whose fields carry
``metadata={"help": "... (units)"}``. Booleans become ``--flag / --no-flag`` (never
``type=bool``); ``Literal`` fields become choices; ``list[...]`` fields take several values
or repeat (``action="append"`` when ``metadata["repeat"]`` is true). Values from
``--config`` are applied first, then the command line overrides them.

We do not use ``transformers.HfArgumentParser`` here because the base install (video,
synth, ask over HTTP) must not need transformers.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

T = TypeVar("T")

_MISSING = dataclasses.MISSING


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def _field_default(field: dataclasses.Field) -> Any:
    if field.default is not _MISSING:
        return field.default
    if field.default_factory is not _MISSING:  # type: ignore[misc]
        return field.default_factory()  # type: ignore[misc]
    return _MISSING


def import_available(modules: dict[str, str]) -> dict[str, Any]:
    """Import each ``name -> module path``; a module that does not exist (not built yet) is skipped,
    any other import failure (including a missing dependency inside the module) propagates."""
    found = {}
    for name, path in modules.items():
        try:
            found[name] = importlib.import_module(path)
        except ModuleNotFoundError as error:
            if error.name == path:
                continue
            raise
    return found


def add_dataclass_arguments(parser: argparse.ArgumentParser, cls: type) -> None:
    """Add one option per field of ``cls``; positional when ``metadata["positional"]`` is true."""
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        if not field.init:
            continue
        tp, optional = _unwrap_optional(hints[field.name])
        help_text = field.metadata.get("help", "")
        default = _field_default(field)
        flag = "--" + field.name.replace("_", "-")
        kwargs: dict[str, Any] = {"help": help_text, "dest": field.name}
        if field.metadata.get("positional"):
            kwargs.pop("dest")
            nargs = "?" if default is not _MISSING else None
            parser.add_argument(field.name, type=_scalar_type(tp), nargs=nargs, default=None, help=help_text,
                                metavar=field.name.upper())
            continue
        if tp is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                                help=f"{help_text} (default: {default})")
            continue
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
        shown = "required" if default is _MISSING and not optional else f"default: {default}"
        if "default:" in help_text:  # the help already explains the default (e.g. "default: GPU if any")
            kwargs["help"] = help_text
        else:
            kwargs["help"] = f"{help_text} ({shown})" if help_text else f"({shown})"
        parser.add_argument(flag, default=None, **kwargs)


def _scalar_type(tp: Any):
    tp, _ = _unwrap_optional(tp)
    if tp in (int, float, str):
        return tp
    if tp is Path:
        return Path
    if get_origin(tp) is Literal:
        return type(get_args(tp)[0])
    return str


def parse_into(cls: type[T], namespace: argparse.Namespace) -> T:
    """Build ``cls`` from ``--config`` YAML values overridden by explicit command-line values."""
    values: dict[str, Any] = {}
    config = getattr(namespace, "config", None)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    if config is not None:
        values.update(load_yaml_options(Path(config), names))
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
    missing = [f.name for f in dataclasses.fields(cls) if f.init and f.name not in values
               and f.default is _MISSING and f.default_factory is _MISSING]  # type: ignore[misc]
    if missing:
        flags = ", ".join("--" + m.replace("_", "-") for m in missing)
        raise SystemExit(f"error: missing required option(s): {flags}")
    return cls(**values)


def load_yaml_options(path: Path, names: set[str]) -> dict[str, Any]:
    """Read a YAML mapping of option names (dashes or underscores) to values; unknown keys are errors."""
    import yaml

    if not path.is_file():
        raise SystemExit(f"error: --config {str(path)!r} does not exist")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise SystemExit(f"error: --config {str(path)!r} must hold a mapping of option: value")
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name not in names:
            raise SystemExit(
                f"error: --config {str(path)!r}: unknown option {key!r}; known options: {sorted(names)}"
            )
        out[name] = value
    return out
