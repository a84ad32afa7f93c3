"""Render the package-data Jinja templates with ``StrictUndefined``.

Templates are read with ``importlib.resources`` on every call (no module-level cache):
prompts are rendered a handful of times per model call, which costs microseconds next to
a forward pass, and nothing global survives between calls.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

_PACKAGE = "love_r1.prompts"
_FOLDER = "templates"
_SUFFIX = ".j2"


def list_templates() -> list[str]:
    """Names of the shipped templates (``"question_mcq.j2"``, ...), sorted."""
    folder = resources.files(_PACKAGE) / _FOLDER
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(_SUFFIX))


def render(template_name: str, /, **variables: Any) -> str:
    """Render ``templates/<template_name>`` with ``variables``.

    Args:
        template_name: file name of the template, with or without the ``.j2`` suffix.
        **variables: the template's variables; every variable the template uses must be given.

    Raises:
        ValueError: no template has that name (the message lists the known ones).
        jinja2.UndefinedError: the template uses a variable that was not given.
    """
    import jinja2

    name = template_name if template_name.endswith(_SUFFIX) else template_name + _SUFFIX
    path = resources.files(_PACKAGE) / _FOLDER / name
    if not path.is_file():
        raise ValueError(f"no prompt template named {template_name!r}; known templates: {list_templates()}")
    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    template = environment.from_string(path.read_text(encoding="utf-8"))
    return template.render(**variables)
