"""Frame-indexed synthetic videos: pattern round trip, H.264 survival, GOP, VFR, rotation, determinism.

Reference values come from ffprobe / the ffmpeg CLI (an independent decoder), not from PyAV.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

from love_r1._imports import is_available
from love_r1.synth import (
    MAX_FRAME_INDEX,
    draw_frame_index,
    indexed_video_timestamps_seconds,
    read_frame_index,
    write_indexed_video,
)
from tests.helpers.markers import requires_av

pytestmark = requires_av
if is_available("av"):  # the tests decode with PyAV directly
    import av

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffprobe") is None or shutil.which("ffmpeg") is None, reason="ffmpeg/ffprobe not installed"
)


def _ffprobe_frames(path) -> list[dict]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_frames",
         "-show_entries", "frame=pts,key_frame,pict_type", "-show_entries", "stream=time_base",
         "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout
    data = json.loads(out)
    time_base = Fraction(data["streams"][0]["time_base"])
    return [dict(frame, seconds=float(int(frame["pts"]) * time_base)) for frame in data["frames"]]


def _ffmpeg_decode(path, *, width, height, num_frames) -> np.ndarray:
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-frames:v", str(num_frames), "-f", "rawvideo",
         "-pix_fmt", "rgb24", "-"],
        check=True, capture_output=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)


def _pyav_decode(path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


@pytest.mark.parametrize("frame_index", [0, 1, 2, 7, 255, 256, 1000, 65535, 65536, 123_457, MAX_FRAME_INDEX])
@pytest.mark.parametrize("size", [(320, 240), (640, 360), (100, 56), (96, 96)])
def test_pattern_round_trip_raw(frame_index, size):
    width, height = size
    base = np.full((height, width, 3), 128, np.uint8)
    assert read_frame_index(draw_frame_index(base, frame_index=frame_index)) == frame_index


def test_pattern_absent_or_corrupted_reads_none():
    rng = np.random.default_rng(0)
    assert read_frame_index(np.full((240, 320, 3), 128, np.uint8)) is None
    assert read_frame_index(np.zeros((240, 320, 3), np.uint8)) is None
    assert read_frame_index(np.full((240, 320, 3), 255, np.uint8)) is None
    noise = [rng.integers(0, 256, (56, 100, 3), dtype=np.uint8) for _ in range(200)]
    assert all(read_frame_index(x) is None for x in noise)
    frame = draw_frame_index(np.full((240, 320, 3), 128, np.uint8), frame_index=4242)
    flipped = frame.copy()
    flipped[40:52, 75:88] = 255 - flipped[40:52, 75:88]  # flip one data cell (row 1, column 2)
    assert read_frame_index(flipped) is None


def test_pattern_bad_input():
    with pytest.raises(ValueError, match="uint8"):
        read_frame_index(np.zeros((240, 320), np.uint8))
    with pytest.raises(ValueError, match="frame_index"):
        draw_frame_index(np.zeros((240, 320, 3), np.uint8), frame_index=MAX_FRAME_INDEX + 1)


def test_h264_round_trip_all_frames_and_resized(tmp_path):
    path = write_indexed_video(tmp_path / "a.mp4", duration_seconds=4.0, fps=30.0, width=320, height=240)
    frames = _pyav_decode(path)
    assert len(frames) == 120
    for index, rgb in enumerate(frames):
        assert rgb.shape == (240, 320, 3)
        assert read_frame_index(rgb) == index
        for size in [(112, 196), (196, 112), (100, 56)]:  # (width, height) for PIL
            small = np.asarray(Image.fromarray(rgb).resize(size, Image.BICUBIC))
            assert read_frame_index(small) == index, (index, size)


@needs_ffmpeg
def test_timestamps_and_gop_match_ffprobe(tmp_path):
    path = write_indexed_video(tmp_path / "g.mp4", duration_seconds=5.0, fps=30.0, gop_seconds=1.0)
    frames = _ffprobe_frames(path)
    expected = indexed_video_timestamps_seconds(duration_seconds=5.0, fps=30.0)
    assert len(frames) == len(expected) == 150
    np.testing.assert_allclose([f["seconds"] for f in frames], expected, atol=1e-6)
    assert [i for i, f in enumerate(frames) if f["key_frame"]] == [0, 30, 60, 90, 120]
    assert any(f["pict_type"] == "B" for f in frames)  # decode order differs from display order


@needs_ffmpeg
def test_variable_frame_rate_pts_are_irregular(tmp_path):
    path = write_indexed_video(tmp_path / "v.mp4", duration_seconds=2.0, fps=30.0, variable_frame_rate=True)
    seconds = np.array([f["seconds"] for f in _ffprobe_frames(path)])
    durations = np.diff(seconds)
    np.testing.assert_allclose(durations[0::2], 1 / 45, atol=1e-6)
    np.testing.assert_allclose(durations[1::2], 2 / 45, atol=1e-6)
    np.testing.assert_allclose(
        seconds, indexed_video_timestamps_seconds(duration_seconds=2.0, fps=30.0, variable_frame_rate=True), atol=1e-6
    )
    assert [read_frame_index(x) for x in _pyav_decode(path)] == list(range(60))
    # The header still says "about 2 s at an average of 30 fps" (the MP4 muxer may shorten the last frame by a tick).
    stream = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=duration,avg_frame_rate",
         "-of", "json", str(path)], check=True, capture_output=True, text=True).stdout)["streams"][0]
    assert float(stream["duration"]) == pytest.approx(2.0, abs=1 / 45 + 1e-6)
    assert float(Fraction(stream["avg_frame_rate"])) == pytest.approx(30.0, rel=0.02)


@needs_ffmpeg
@pytest.mark.parametrize("rotation_degrees", [90, 180, 270])
def test_rotation_is_seen_by_players(tmp_path, rotation_degrees):
    path = write_indexed_video(tmp_path / "r.mp4", duration_seconds=0.5, fps=10.0, width=160, height=96,
                               rotation_degrees=rotation_degrees)
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_streams", "-of", "json", str(path)],
        check=True, capture_output=True, text=True).stdout)["streams"][0]
    rotations = [d.get("rotation") for d in probe.get("side_data_list", [])]
    assert rotations and rotations[0] % 360 == rotation_degrees
    coded = (probe["width"], probe["height"])
    assert coded == ((96, 160) if rotation_degrees % 180 else (160, 96))
    # ffmpeg applies the display matrix (autorotate): the upright pattern reads back.
    shown = _ffmpeg_decode(path, width=160, height=96, num_frames=5)
    assert [read_frame_index(x) for x in shown] == [0, 1, 2, 3, 4]
    # PyAV reports the rotation but does not apply it: rotating its frame by the reported angle works too.
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        assert frame.rotation % 360 == rotation_degrees
        upright = np.rot90(frame.to_ndarray(format="rgb24"), k=frame.rotation // 90)
    assert read_frame_index(np.ascontiguousarray(upright)) == 0


def test_same_seed_same_bytes_other_seed_other_background(tmp_path):
    kwargs = dict(duration_seconds=1.0, fps=10.0, width=160, height=96)
    a = write_indexed_video(tmp_path / "a.mp4", seed=3, **kwargs)
    b = write_indexed_video(tmp_path / "b.mp4", seed=3, **kwargs)
    c = write_indexed_video(tmp_path / "c.mp4", seed=4, **kwargs)
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (a, b, c)]
    assert digest[0] == digest[1] != digest[2]
    fa, fc = _pyav_decode(a), _pyav_decode(c)
    assert [read_frame_index(x) for x in fc] == list(range(10))
    assert np.abs(fa[0][-10:, -10:].astype(int) - fc[0][-10:, -10:].astype(int)).mean() > 2  # background differs


@pytest.mark.parametrize("codec", ["libx265", "mpeg4"])
def test_other_codecs(tmp_path, codec):
    if codec not in av.codecs_available:
        pytest.skip(f"{codec} not in this FFmpeg build")
    path = write_indexed_video(tmp_path / "c.mp4", duration_seconds=1.0, fps=10.0, width=160, height=96, codec=codec)
    assert [read_frame_index(x) for x in _pyav_decode(path)] == list(range(10))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(duration_seconds=0), "duration_seconds"),
        (dict(duration_seconds=1, fps=0), "fps"),
        (dict(duration_seconds=1, width=321), "width"),
        (dict(duration_seconds=1, height=20), "height"),
        (dict(duration_seconds=1, gop_seconds=-1), "gop_seconds"),
        (dict(duration_seconds=1, rotation_degrees=45), "rotation_degrees"),
        (dict(duration_seconds=1, codec="h263"), "codec"),
        (dict(duration_seconds=100_000, fps=30), "at most"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        write_indexed_video(tmp_path / "x.mp4", **kwargs)
