"""Agent test fixtures: the snapshot folder (helpers: tests/helpers/agent.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def snapshot_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "snapshots"
