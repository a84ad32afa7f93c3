"""Tiny generated videos with known per-frame content (frame i shows i as a block pattern)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from love_r1.synth import write_indexed_video

FPS = 30.0
DURATION_SECONDS = 10.0
GOP_SECONDS = 2.0


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("videos")


@pytest.fixture(scope="session")
def cfr_video(video_dir) -> Path:
    """10 s, 30 fps, 160x120, keyframe every 2 s (frames 0, 60, 120, 180, 240)."""
    return write_indexed_video(video_dir / "cfr.mp4", duration_seconds=DURATION_SECONDS, fps=FPS, width=160,
                               height=120, gop_seconds=GOP_SECONDS)


@pytest.fixture(scope="session")
def vfr_video(video_dir) -> Path:
    return write_indexed_video(video_dir / "vfr.mp4", duration_seconds=4.0, fps=FPS, width=160, height=120,
                               gop_seconds=1.0, variable_frame_rate=True)


@pytest.fixture(scope="session")
def rotated_video(video_dir) -> Path:
    """Displayed 160x96 upright; stored 96x160 with a 90-degree display matrix."""
    return write_indexed_video(video_dir / "rot90.mp4", duration_seconds=2.0, fps=FPS, width=160, height=96,
                               gop_seconds=1.0, rotation_degrees=90)


@pytest.fixture(scope="session")
def truncated_video(video_dir, cfr_video) -> Path:
    """The CFR video remuxed with its index first (faststart) and cut at 60 % of its bytes."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed; it is needed to remux the truncated-file fixture")
    full = video_dir / "faststart.mp4"
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(cfr_video), "-c", "copy",
                    "-movflags", "+faststart", str(full)], check=True)
    data = full.read_bytes()
    out = video_dir / "truncated.mp4"
    out.write_bytes(data[: int(len(data) * 0.6)])
    return out
