"""Eval runs shared by the explorer and trace tests (built once per session; see runs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.viz.runs import build_runs


@pytest.fixture(scope="session")
def needle_runs(tmp_path_factory) -> tuple[Path, Path, Path]:
    """``(data root, run A, run B)``: 12 needle items (3 of them errors: a broken video) evaluated twice."""
    return build_runs(tmp_path_factory.mktemp("explorer"))
