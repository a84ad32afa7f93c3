"""Training test fixtures: a tiny Qwen2.5-VL checkpoint, a synthetic video and record files."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from tests.fixtures import tiny_qwen as tq


@pytest.fixture(autouse=True)
def _quiet_warnings():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=UserWarning)
        yield


@pytest.fixture(scope="session")
def video_root(tmp_path_factory) -> Path:
    from love_r1.synth import write_indexed_video

    root = tmp_path_factory.mktemp("videos")
    write_indexed_video(root / "a.mp4", duration_seconds=8.0, fps=10.0, width=112, height=84, seed=0)
    write_indexed_video(root / "b.mp4", duration_seconds=20.0, fps=5.0, width=112, height=84, seed=1)
    return root


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory) -> Path:
    model, processor = tq.build_tiny("qwen2_5_vl")
    return tq.save_tiny(model, processor, tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def tiny(tiny_dir):
    return tq.load_tiny(tiny_dir)
