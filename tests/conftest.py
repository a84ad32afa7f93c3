"""Shared test settings: offline, CPU, one thread, restored RNG state, the ``--update-snapshots`` option."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # any hub access fails at once
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import random  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from love_r1._imports import is_available  # noqa: E402


@pytest.fixture(autouse=True)
def _restore_rng_state():
    """Tests may seed freely; the global RNG state is restored afterwards."""
    py_state = random.getstate()
    np_state = np.random.get_state()
    torch_state = None
    if "torch" in sys.modules:  # only a test that imported torch can have changed its state
        import torch

        torch_state = torch.random.get_rng_state()
    yield
    random.setstate(py_state)
    np.random.set_state(np_state)
    if torch_state is not None:
        import torch

        torch.random.set_rng_state(torch_state)


def pytest_addoption(parser):
    parser.addoption(
        "--update-snapshots", action="store_true", default=False,
        help="rewrite the prompt snapshots (tests/snapshots/, tests/data/snapshots/) from the current output "
             "instead of comparing; for an intended prompt change only",
    )


@pytest.fixture
def update_snapshots(request) -> bool:
    """Whether ``--update-snapshots`` was given (snapshot tests then write instead of comparing)."""
    return bool(request.config.getoption("--update-snapshots"))


def pytest_configure(config):
    if is_available("torch"):  # an optional dependency (extra "hf"); the video and text tests run without it
        import torch

        torch.set_num_threads(1)
