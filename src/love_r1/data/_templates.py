"""Teacher prompt templates (package data under ``data/templates``), rendered with StrictUndefined.

The reasons for each prompt's wording are written as a Jinja comment at the top of the
template file. A template's text is part of its step's configuration hash, so editing a
template starts a fresh set of stored calls instead of mixing old and new replies.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Any, Literal, get_args

TemplateName = Literal["caption", "zoom_cot", "answer_cot", "clue_check"]
_TEMPLATES: tuple[str, ...] = get_args(TemplateName)


def template_source(name: TemplateName) -> str:
    """The raw text of template ``name``."""
    if name not in _TEMPLATES:
        raise ValueError(f"unknown data template {name!r}; expected one of {list(_TEMPLATES)}")
    return resources.files("love_r1.data").joinpath("templates", f"{name}.j2").read_text(encoding="utf-8")


def template_digest(name: TemplateName) -> str:
    return hashlib.sha256(template_source(name).encode()).hexdigest()[:12]


def render(name: TemplateName, **variables: Any) -> str:
    """Render template ``name``; a missing variable raises ``jinja2.UndefinedError``."""
    import jinja2

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=False, autoescape=False)
    return env.from_string(template_source(name)).render(**variables).strip()
