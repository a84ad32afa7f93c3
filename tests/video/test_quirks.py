"""Files that other tools open must open here: cuts with edit lists, pts resets, laced Matroska, odd tags, images.

Oracles: ffprobe (frame count and presentation timestamps of the frames FFmpeg presents) and a
plain sequential PyAV decode (pixels), both independent of the reader's index and seeking.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from love_r1.cli import main
from love_r1.synth import read_frame_index
from love_r1.video import (
    CorruptVideoError,
    FrameCountError,
    IntervalError,
    NotAVideoError,
    UnsupportedVideoError,
    open_video,
    sample_clip,
    sample_fast_view,
)
from tests.helpers.markers import requires_torchcodec
from tests.helpers.video import ffprobe_frames, write_x264_indexed_video
from tests.video.quirk_files import (
    concatenated_transport_stream,
    laced_matroska,
    sequential_decode,
    stream_copy_cut,
    with_title_tag,
)

SOURCES = {  # 180 frames at 30 fps, GOP 60 frames, B-frames: frame i shows the number i
    "h264": ("libx264", "bframes=3:b-pyramid=normal"),
    "hevc": ("libx265", "bframes=3"),
}


@pytest.fixture(scope="module")
def sources(video_dir) -> dict[str, Path]:
    return {name: write_x264_indexed_video(video_dir / f"quirk_{name}.mp4", codec=codec, x264_params=params)
            for name, (codec, params) in SOURCES.items()}


def ffprobe_count(path: Path) -> int:
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe is not installed; it is the independent frame-count oracle")
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
                          "stream=nb_read_frames", "-of", "json", str(path)], check=True, capture_output=True,
                         text=True).stdout
    return int(json.loads(out)["streams"][0]["nb_read_frames"])


def assert_every_frame_as_sequential_decode(path: Path, *, skip_disposable: bool | None) -> None:
    oracle = sequential_decode(path)
    with open_video(path, skip_disposable=skip_disposable) as reader:
        assert reader.metadata.num_frames == len(oracle)
        everything = reader.get_frames_at(np.arange(len(oracle)))
        some = reader.get_frames_at(np.arange(len(oracle))[::-7])  # reversed, sparse: seeks, other runs
    assert all(np.array_equal(a, b) for a, b in zip(everything.data, oracle, strict=True))
    assert all(np.array_equal(a, oracle[i]) for a, i in zip(some.data, some.frame_indices, strict=True))


@pytest.mark.parametrize("container", ["mp4", "mkv"])
@pytest.mark.parametrize("codec", ["h264", "hevc"])
def test_stream_copy_cut_matches_ffprobe_and_a_sequential_decode(sources, video_dir, codec, container):
    cut = stream_copy_cut(sources[codec], video_dir / f"cut_{codec}.{container}", start_seconds=2.5)
    pts, key = ffprobe_frames(cut)
    with open_video(cut) as reader:
        np.testing.assert_allclose(reader.index.seconds, pts, atol=1e-6)  # what FFmpeg presents, as presented
        assert reader.index.keyframe_indices.tolist() == np.flatnonzero(key).tolist()
        fast = sample_fast_view(reader, overlay=False)
        np.testing.assert_allclose(fast.timestamps_seconds, pts[fast.frame_indices], atol=1e-6)
        keyframes = reader.get_frames_at([0, len(pts) - 1], mode="keyframe")
        np.testing.assert_allclose(keyframes.timestamps_seconds, pts[keyframes.frame_indices], atol=1e-6)
    for skip in (None, False):
        assert_every_frame_as_sequential_decode(cut, skip_disposable=skip)


def test_mp4_cut_hides_the_preroll_and_ends_where_the_edit_ends(sources, video_dir):
    cut = stream_copy_cut(sources["h264"], video_dir / "cut_mid.mp4", start_seconds=2.5, duration_seconds=2.0)
    pts, _ = ffprobe_frames(cut)
    with open_video(cut) as reader:
        np.testing.assert_allclose(reader.index.seconds, pts, atol=1e-6)
        assert reader.metadata.num_frames == len(pts) == ffprobe_count(cut)
        first = reader.get_frames_at([0])
        # the first frame shown is the one at 2.5 s of the source (frame 75), decoded from the hidden keyframe
        assert read_frame_index(first.data[0]) == 75 and first.timestamps_seconds[0] == pytest.approx(pts[0])
        assert reader.metadata.num_keyframes == 2  # the hidden keyframe at -0.5 s and the one at 1.5 s
        assert any("marked discard (edit list)" in quirk for quirk in reader.quirks)
    assert_every_frame_as_sequential_decode(cut, skip_disposable=None)


def test_concatenated_transport_streams_get_monotonic_times(sources, video_dir):
    joined = concatenated_transport_stream(sources["h264"], video_dir / "joined.ts")
    assert ffprobe_count(joined) == 360
    raw, _ = ffprobe_frames(joined)
    assert (np.diff(raw) < 0).any()  # really a pts reset
    with open_video(joined) as reader:
        seconds = reader.index.seconds
        assert reader.metadata.num_frames == 360
        assert np.all(np.diff(seconds) > 0)  # monotonic presentation times
        np.testing.assert_allclose(seconds[180:] - seconds[:180], 6.0, atol=1e-6)  # copy 2 follows copy 1
        assert reader.metadata.duration_seconds == pytest.approx(12.0, abs=1e-6)
        assert reader.quirks == ("timestamps reset 1 time(s) (concatenated streams): later segments shifted to "
                                 "follow the earlier ones",)
        frames = reader.get_frames_played_at([seconds[200] + 0.01, seconds[20] + 0.01, seconds[359]])
        assert [read_frame_index(x) for x in frames.data] == [20, 20, 179]
        assert frames.frame_indices.tolist() == [200, 20, 359]
        clip = sample_clip(reader, 7.0, 9.0, overlay=False)  # seconds from the first frame, across the join
        assert [read_frame_index(x) for x in clip.data] == [round(t * 30) % 180 for t in clip.timestamps_seconds]
        keyframes = reader.get_frames_at([190, 330], mode="keyframe")
        assert [read_frame_index(x) for x in keyframes.data] == [0, 120]
    assert_every_frame_as_sequential_decode(joined, skip_disposable=None)


@requires_torchcodec
def test_torchcodec_refuses_a_pts_reset_with_a_typed_error(sources, video_dir):
    joined = concatenated_transport_stream(sources["h264"], video_dir / "joined_tc.ts")
    with pytest.raises(UnsupportedVideoError, match=r"joined_tc.ts.*timestamps reset.*decoder='pyav'"):
        open_video(joined, decoder="torchcodec")


def test_laced_matroska_without_pts_keeps_every_frame(sources, video_dir):
    laced = laced_matroska(sources["h264"], video_dir / "laced.mkv", frames_per_block=4)
    with av.open(str(laced)) as container:
        no_pts = sum(p.pts is None for p in container.demux(container.streams.video[0]) if p.size)
    assert no_pts > 100  # really lacking timestamps
    assert ffprobe_count(laced) == 180
    with open_video(laced) as reader:
        assert reader.metadata.num_frames == 180
        assert reader.quirks[0].startswith(f"{no_pts} of 180 packets lack pts")
        # times: the container's own (whole ms) where a block has one, interpolated between, extrapolated at the end
        np.testing.assert_allclose(reader.index.seconds, np.arange(180) / 30, atol=2e-3)
        frames = reader.get_frames_at([150, 3, 77])
        assert [read_frame_index(x) for x in frames.data] == [150, 3, 77]
        keyframes = reader.get_frames_at([70], mode="keyframe")
        assert read_frame_index(keyframes.data[0]) == 60
        fast = sample_fast_view(reader, overlay=False)
        assert [read_frame_index(x) for x in fast.data] == fast.frame_indices.tolist()
        np.testing.assert_allclose(fast.timestamps_seconds, reader.index.seconds[fast.frame_indices], atol=1e-9)
    assert_every_frame_as_sequential_decode(laced, skip_disposable=None)


def test_non_utf8_metadata_tag_opens(sources, video_dir, capsys):
    tagged = with_title_tag(sources["h264"], video_dir / "latin1.mp4", title=b"Caf\xe9")
    with open_video(tagged) as reader:
        assert reader.metadata.num_frames == 180 and reader.quirks == ()
        assert read_frame_index(reader.get_frames_at([42]).data[0]) == 42
    assert main(["sample", str(tagged)]) == 0
    assert "180 (header 180)" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["photo.jpg", "photo.png", "photo.mp4"])
def test_a_still_image_is_called_an_image_with_the_frame_folder_hint(tmp_path, name):
    path = tmp_path / name
    Image.new("RGB", (64, 48), (200, 30, 30)).save(path, format="PNG" if name.endswith("png") else "JPEG")
    with pytest.raises(NotAVideoError, match=rf"{name}: is a still image \(\w+\), not a video.*folder") as info:
        open_video(path)
    assert "damaged" not in str(info.value)


def test_decoder_exceptions_never_escape_untyped(cfr_video, monkeypatch):
    from love_r1.video._pyav import PyAVReader

    def broken(self, frame, **kwargs):
        raise av.error.InvalidDataError(1094995529, "Invalid data found when processing input")

    monkeypatch.setattr(PyAVReader, "_finish_fast", broken)
    with open_video(cfr_video) as reader, pytest.raises(CorruptVideoError, match=r"cfr.mp4: the pyav decoder failed"):
        reader.get_frames_at([3], max_pixels=64 * 28 * 28)


def test_sampling_errors_name_the_file(cfr_video, tmp_path):
    with open_video(cfr_video) as reader:
        with pytest.raises(IntervalError, match=r"cfr.mp4: clip \[5, 4\] is reversed"):
            sample_clip(reader, 5, 4)
        with pytest.raises(FrameCountError, match=r"cfr.mp4: .*max_frames must be >= 1"):
            sample_fast_view(reader, max_frames=0)


def test_ask_on_a_directory_says_what_it_is(tmp_path, capsys):
    empty = tmp_path / "frames"
    empty.mkdir()
    code = main(["ask", str(empty), "What happens?", "--backend", "scripted"])
    err = capsys.readouterr().err
    assert code != 0 and "does not exist" not in err
    assert "is a directory with no .jpg" in err
