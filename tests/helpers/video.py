"""Video test helpers: ffprobe as the independent timestamp oracle, x264-encoded indexed videos."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest


def ffprobe_frames(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Independent oracle: ``(pts_time seconds, key_frame flags)`` of every decoded frame, from ffprobe."""
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe is not installed; it is the independent timestamp oracle for these tests")
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "frame=pts_time,key_frame", "-of", "json", str(path)],
                         check=True, capture_output=True, text=True).stdout
    frames = json.loads(out)["frames"]
    return (np.array([float(f["pts_time"]) for f in frames]), np.array([int(f["key_frame"]) for f in frames], bool))


def write_x264_indexed_video(path: Path, *, x264_params: str, num_frames: int = 180, fps: int = 30,
                             gop_frames: int = 60, width: int = 160, height: int = 120,
                             codec: str = "libx264") -> Path:
    """Frame ``i`` shows ``i`` (``love_r1.synth`` pattern), encoded by libx264 (or ``codec="libx265"``)
    with explicit encoder params ``x264_params`` (the frame layout under test), fixed GOP, one thread
    (deterministic bytes)."""
    import av

    from love_r1.synth import draw_frame_index

    # moving noise background: every frame really predicts from its references
    noise = np.random.default_rng(0).integers(40, 160, (height, width + num_frames, 3), dtype=np.uint8)
    name = codec.removeprefix("lib")
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        extra = ":log-level=error" if name == "x265" else ""
        stream.codec_context.options = {
            "threads": "1", "preset": "veryfast" if name == "x264" else "ultrafast", "crf": "20",
            f"{name}-params": f"keyint={gop_frames}:min-keyint={gop_frames}:scenecut=0:{x264_params}{extra}"}
        for i in range(num_frames):
            rgb = draw_frame_index(np.ascontiguousarray(noise[:, i:i + width]), frame_index=i)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path
