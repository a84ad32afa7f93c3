"""Prompt texts: verbatim protocol constants (``constants``) and package-data Jinja templates.

``render(template_name, **variables)`` renders ``templates/<template_name>`` with
``jinja2.StrictUndefined`` (a missing variable raises instead of rendering as empty text).
Each template opens with a comment saying why its text is what it is.
"""

from __future__ import annotations

from love_r1.prompts._render import list_templates, render

__all__ = ["list_templates", "render"]
