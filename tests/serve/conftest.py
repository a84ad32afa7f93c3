"""Serve test fixtures: a small generated video folder (helpers: tests/helpers/serve.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def video_root(tmp_path_factory):
    """``clip.mp4`` (12 s at 10 fps, 160x120, frame index drawn in) and ``broken.mp4`` (not a video)."""
    from love_r1.synth import write_indexed_video

    root = tmp_path_factory.mktemp("videos")
    write_indexed_video(root / "clip.mp4", duration_seconds=12.0, fps=10.0, width=160, height=120, gop_seconds=2.0)
    (root / "broken.mp4").write_bytes(b"this is not a video\n")
    return root
