from __future__ import annotations

import shutil
import subprocess

import pytest

from love_r1.synth import read_frame_index
from love_r1.video import (
    CorruptVideoError,
    EmptyVideoError,
    FrameCountError,
    IntervalError,
    NotAVideoError,
    NoVideoStreamError,
    VideoError,
    VideoNotFoundError,
    open_video,
    sample_clip,
    sample_fast_view,
)
from love_r1.video._reader import MAX_FRAMES_PER_REQUEST


def test_missing_file(tmp_path):
    path = tmp_path / "nope.mp4"
    with pytest.raises(VideoNotFoundError, match="nope.mp4.*does not exist.*hint") as info:
        open_video(path)
    assert isinstance(info.value, FileNotFoundError)
    # a directory is a frame folder (love_r1.video._folder); one without images is empty
    with pytest.raises(EmptyVideoError, match="is a directory with no .jpg"):
        open_video(tmp_path)


def test_not_a_video(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("hello, not a video")
    with pytest.raises(NotAVideoError, match="notes.mp4.*cannot be opened.*hint"):
        open_video(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.touch()
    with pytest.raises(EmptyVideoError, match="empty.mp4.*0 bytes"):
        open_video(path)


def test_audio_only(tmp_path):
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed; needed to write the audio-only fixture")
    path = tmp_path / "sound.m4a"
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-f", "lavfi", "-i", "sine=d=0.5", str(path)], check=True)
    with pytest.raises(NoVideoStreamError, match=r"sound.m4a.*no video stream.*audio"):
        open_video(path)


def test_truncated_file_raises_corrupt_with_timestamps(truncated_video):
    with open_video(truncated_video) as reader:
        m = reader.metadata
        assert m.num_frames_from_header == 300 and m.num_frames < 300
        start, end = reader.missing_range_seconds
        assert end == pytest.approx(10.0)
        early = reader.get_frames_played_at([0.5])  # frames before the cut still decode
        assert early.frame_indices.tolist() == [15]
        with pytest.raises(CorruptVideoError, match=r"truncated.*\[9\.5\]"):
            reader.get_frames_played_at([9.5])
        with pytest.raises(CorruptVideoError, match="truncated.mp4.*truncated"):
            sample_fast_view(reader)


def test_truncated_file_never_returns_a_wrong_frame(truncated_video):
    with open_video(truncated_video) as reader:
        n = reader.metadata.num_frames
        failures = 0
        for i in range(n - 4, n):
            try:
                frames = reader.get_frames_at([i])
            except CorruptVideoError as error:
                failures += 1
                assert "cannot be decoded, at seconds [" in str(error) and "truncated.mp4" in str(error)
            else:  # a frame that decodes shows the content written at its timestamp
                assert read_frame_index(frames.data[0]) == round(frames.timestamps_seconds[0] * 30)
        assert failures >= 1  # the last packets are cut mid-way


def test_bad_requests(cfr_video):
    with open_video(cfr_video) as reader:
        with pytest.raises(IntervalError, match=r"cfr.mp4.*\[10\.0\].*outside"):
            reader.get_frames_played_at([1.0, 10.0])
        with pytest.raises(IntervalError, match="outside"):
            reader.get_frames_played_at([-0.5])
        with pytest.raises(IntervalError, match=r"clip \[5, 4\].*reversed"):
            sample_clip(reader, 5, 4)
        with pytest.raises(IntervalError, match="starts outside"):
            sample_clip(reader, 12, 20)
        with pytest.raises(IntervalError, match="too short"):
            sample_clip(reader, 3.0, 3.2)
        with pytest.raises(FrameCountError, match="at most"):
            reader.get_frames_at([0] * (MAX_FRAMES_PER_REQUEST + 1))
        with pytest.raises(IndexError, match=r"\[300\]"):
            reader.get_frames_at([300])
        with pytest.raises(ValueError, match="mode must be one of"):
            reader.get_frames_at([0], mode="fast")
        with pytest.raises(TypeError, match="integers"):
            reader.get_frames_at([0.5])
    with pytest.raises(ValueError, match="decoder must be one of"):
        open_video(cfr_video, decoder="decord")


def test_all_errors_share_the_base_class():
    for cls in (VideoNotFoundError, NotAVideoError, NoVideoStreamError, EmptyVideoError, CorruptVideoError,
                IntervalError, FrameCountError):
        assert issubclass(cls, VideoError)
