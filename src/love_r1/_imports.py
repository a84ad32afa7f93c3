"""Optional-dependency helpers: check availability and import lazily with a helpful error."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType


def is_available(module: str) -> bool:
    """True when ``module`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require(module: str, *, extra: str, purpose: str = "") -> ModuleType:
    """Import ``module`` or raise an ImportError naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        what = f" for {purpose}" if purpose else ""
        raise ImportError(
            f"{module!r} is needed{what} but is not installed; install it with: pip install 'love-r1[{extra}]'"
        ) from error
