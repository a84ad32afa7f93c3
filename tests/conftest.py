"""Shared test settings: offline, CPU, one thread, restored RNG state, generated fixtures."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # any hub access fails at once
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import random  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _restore_rng_state():
    """Tests may seed freely; the global RNG state is restored afterwards."""
    py_state = random.getstate()
    np_state = np.random.get_state()
    torch_state = None
    try:
        import sys

        if "torch" in sys.modules:
            import torch

            torch_state = torch.random.get_rng_state()
    except ImportError:  # pragma: no cover - torch is a dev dependency
        pass
    yield
    random.setstate(py_state)
    np.random.set_state(np_state)
    if torch_state is not None:
        import torch

        torch.random.set_rng_state(torch_state)


def pytest_configure(config):
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass
