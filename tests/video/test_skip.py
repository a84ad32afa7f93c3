"""Exact mode with disposable-packet skipping: same frames, same pixels, less decoding."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from love_r1.synth import read_frame_index, write_indexed_video
from love_r1.video import open_video, sample_clip, sample_fast_view
from love_r1.video._nal import NalLayout, is_disposable, iter_nal_units, nal_layout
from tests.helpers.video import ffprobe_frames, write_x264_indexed_video

X264_LAYOUTS = {
    "b_pyramid": "bframes=3:b-pyramid=normal",  # x264 default: 2 of every 4 frames disposable
    "b_flat": "bframes=2:b-pyramid=none",  # every B-frame disposable
    "no_b": "bframes=0",  # every frame a reference: nothing to skip
}


@pytest.fixture(scope="module")
def layout_videos(video_dir) -> dict[str, Path]:
    videos = {name: write_x264_indexed_video(video_dir / f"x264_{name}.mp4", x264_params=params)
              for name, params in X264_LAYOUTS.items()}
    videos["hevc"] = write_indexed_video(video_dir / "hevc.mp4", duration_seconds=6.0, width=160, height=120,
                                         gop_seconds=2.0, codec="libx265")
    # three temporal sub-layers: TSA_N pictures of the top layer are disposable, while sub-layer
    # non-reference pictures of lower layers would be referenced by higher ones
    videos["hevc_layers"] = write_x264_indexed_video(
        video_dir / "hevc_layers.mp4", codec="libx265", x264_params="bframes=3:b-pyramid=1:temporal-layers=3")
    return videos


def request_sets(num_frames: int) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [
        np.sort(rng.choice(num_frames, size=12, replace=False)),
        rng.integers(0, num_frames, size=20),  # unsorted, with duplicates
        np.arange(num_frames)[3::7],
        np.array([num_frames - 1, 0, 1, 2]),
    ]


def decode_both(path: Path, fn):
    """``fn(reader)`` with skipping on and off; returns both results and the stats of the skipping reader."""
    with open_video(path, skip_disposable=True) as on:
        a = fn(on)
        stats = on.stats
    with open_video(path, skip_disposable=False) as off:
        b = fn(off)
        assert off.stats.packets_skipped == 0
    return a, b, stats


def assert_same_and_exact(a, b, pts: np.ndarray, *, check_index: bool = True) -> None:
    assert a.frame_indices.tolist() == b.frame_indices.tolist()
    np.testing.assert_allclose(a.timestamps_seconds, pts[a.frame_indices], atol=1e-6)
    assert np.array_equal(a.data, b.data)  # bit-identical pixels
    if check_index:
        assert [read_frame_index(x) for x in a.data] == a.frame_indices.tolist()


@pytest.mark.parametrize("name", ["b_pyramid", "b_flat", "no_b", "hevc", "hevc_layers"])
def test_random_requests_identical_with_and_without_skipping(layout_videos, name):
    path = layout_videos[name]
    pts, _ = ffprobe_frames(path)
    skipped = 0
    for wanted in request_sets(len(pts)):
        a, b, stats = decode_both(path, lambda r, w=wanted: r.get_frames_at(w))
        assert a.frame_indices.tolist() == wanted.tolist()
        assert_same_and_exact(a, b, pts)
        skipped += stats.packets_skipped
    if name == "no_b":
        assert skipped == 0
    else:
        assert skipped > 0


@pytest.mark.parametrize("name", ["b_pyramid", "hevc"])
def test_fast_view_and_clip_identical_with_and_without_skipping(layout_videos, name):
    path = layout_videos[name]
    pts, _ = ffprobe_frames(path)
    a, b, stats = decode_both(path, lambda r: sample_fast_view(r, overlay=False))
    assert_same_and_exact(a, b, pts)
    a, b, stats = decode_both(path, lambda r: sample_clip(r, 1.1, 4.9, overlay=True))
    assert_same_and_exact(a, b, pts)
    assert a.key == b.key
    assert stats.packets_skipped > 0


def test_skipping_decodes_fewer_frames(layout_videos):
    # one GOP (frames 0..59), every 8th frame: the B-frames between are never decoded
    wanted = np.arange(0, 60, 8)
    path = layout_videos["b_flat"]
    with open_video(path) as on, open_video(path, skip_disposable=False) as off:
        on.get_frames_at(wanted)
        off.get_frames_at(wanted)
        assert on.stats.packets_skipped > 20
        assert on.stats.frames_decoded < off.stats.frames_decoded - 20


@pytest.mark.parametrize("fixture", ["vfr_video", "rotated_video"])
def test_vfr_and_rotated_identical_with_and_without_skipping(request, fixture):
    path = request.getfixturevalue(fixture)
    pts, _ = ffprobe_frames(path)
    wanted = np.arange(len(pts))[1::3]
    a, b, stats = decode_both(path, lambda r: r.get_frames_at(wanted))
    assert_same_and_exact(a, b, pts)
    assert stats.packets_skipped > 0


def test_annex_b_transport_stream(layout_videos, video_dir):
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed; it is needed to remux to MPEG-TS")
    ts = video_dir / "b_flat.ts"
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(layout_videos["b_flat"]), "-c", "copy",
                    str(ts)], check=True)
    pts, _ = ffprobe_frames(ts)
    wanted = np.array([2, 5, 33, 70, 71, 150])
    a, b, stats = decode_both(ts, lambda r: r.get_frames_at(wanted))
    assert_same_and_exact(a, b, pts)
    assert stats.packets_skipped > 0


def test_missing_frame_after_skipping_is_decoded_again(cfr_video, monkeypatch, caplog):
    """Safety net: if a pass that withheld packets loses a requested frame, it is decoded again without skipping."""
    from love_r1.video._pyav import PyAVReader

    original = PyAVReader._frames_after_seek

    def lossy(self, pts, errors, *, keep_pts=None):
        for frame in original(self, pts, errors, keep_pts=keep_pts):
            if keep_pts is not None and frame.pts == max(keep_pts):
                continue  # pretend the decoder lost it
            yield frame

    monkeypatch.setattr(PyAVReader, "_frames_after_seek", lossy)
    wanted = [3, 40, 100]
    with caplog.at_level("WARNING"), open_video(cfr_video) as reader:
        frames = reader.get_frames_at(wanted)
    assert [read_frame_index(x) for x in frames.data] == wanted
    assert "decoding them again without skipping" in caplog.text


# -- NAL parsing (pure) -----------------------------------------------------------------------------


def avcc(*units: bytes) -> bytes:
    return b"".join(len(u).to_bytes(4, "big") + u for u in units)


H264 = NalLayout(codec="h264", length_size=4)
H264_ANNEX_B = NalLayout(codec="h264", length_size=0)
HEVC = NalLayout(codec="hevc", length_size=4, max_temporal_id=1)


@pytest.mark.parametrize(("units", "expected"), [
    ((b"\x01\x9a\x00",), True),  # non-IDR slice, nal_ref_idc 0
    ((b"\x09\xf0", b"\x01\x9a\x00"), True),  # access unit delimiter + non-ref slice
    ((b"\x41\x9a\x00",), False),  # nal_ref_idc 2
    ((b"\x01\x9a\x00", b"\x21\x9a\x00"), False),  # second slice is a reference
    ((b"\x65\x88\x00",), False),  # IDR
    ((b"\x06\x05\x02\xaa\xbb\x80", b"\x01\x9a"), True),  # user-data SEI (type 5)
    ((b"\x06\x06\x01\x84\x80", b"\x01\x9a"), False),  # recovery-point SEI (type 6)
    ((b"\x67\x64\x00", b"\x01\x9a"), False),  # in-band SPS
    ((b"\x09\xf0",), False),  # no picture at all
])
def test_h264_disposable_avcc_and_annex_b(units, expected):
    assert is_disposable(avcc(*units), layout=H264) is expected
    annex_b = b"".join(b"\x00\x00\x00\x01" + u for u in units)
    assert is_disposable(annex_b, layout=H264_ANNEX_B) is expected


@pytest.mark.parametrize(("header", "expected"), [
    (bytes([0 << 1, 2]), True),  # TRAIL_N, TemporalId 1 (the highest)
    (bytes([8 << 1, 2]), True),  # RASL_N
    (bytes([0 << 1, 1]), False),  # TRAIL_N in a lower sub-layer: higher sub-layers may reference it
    (bytes([1 << 1, 2]), False),  # TRAIL_R
    (bytes([19 << 1, 2]), False),  # IDR_W_RADL
    (bytes([(0 << 1) | 1, 2]), False),  # nuh_layer_id > 0
])
def test_hevc_disposable(header, expected):
    assert is_disposable(avcc(header + b"\xaf\x00"), layout=HEVC) is expected


def test_hevc_sei():
    picture = bytes([0 << 1, 2, 0xAF])  # TRAIL_N in the top sub-layer
    picture_hash = bytes([40 << 1, 2, 132, 3, 0, 1, 2, 0x80])  # suffix SEI, decoded picture hash
    recovery = bytes([39 << 1, 2, 6, 1, 0x84, 0x80])  # prefix SEI, recovery point
    assert is_disposable(avcc(picture, picture_hash), layout=HEVC) is True
    assert is_disposable(avcc(recovery, picture), layout=HEVC) is False


def test_malformed_packets_are_not_disposable():
    assert is_disposable(b"", layout=H264) is False
    assert is_disposable(b"\x00\x00\x00\x09\x01\x9a", layout=H264) is False  # length beyond the packet
    assert list(iter_nal_units(b"\x00\x00\x00\x09\x01", length_size=4)) == [None]  # malformed: length too long


def test_nal_layout_from_extradata():
    assert nal_layout(codec="h264", extradata=bytes([1, 0x64, 0, 0x1f, 0xfd, 0xe1, 0])).length_size == 2
    assert nal_layout(codec="h264", extradata=b"").length_size == 0  # Annex-B
    assert nal_layout(codec="mpeg4", extradata=b"\x01" * 30) is None
    assert nal_layout(codec="hevc", extradata=b"") is None  # sub-layer count unknown
    hvcc = bytearray(23)
    hvcc[0], hvcc[21] = 1, (2 << 3) | 3  # two temporal sub-layers, 4-byte lengths
    assert nal_layout(codec="hevc", extradata=bytes(hvcc)) == NalLayout(codec="hevc", length_size=4,
                                                                         max_temporal_id=1)


def test_hevc_temporal_layers_only_top_layer_is_disposable(layout_videos):
    import av

    path = layout_videos["hevc_layers"]
    with open_video(path) as reader:
        layout = reader._nal_layout
    assert layout == NalLayout(codec="hevc", length_size=4, max_temporal_id=2)
    by_layer: dict[int, list[bool]] = {}
    top_nonref = 0
    with av.open(str(path)) as container:
        for packet in container.demux(container.streams.video[0]):
            data = bytes(packet)
            if not data:
                continue
            kind, tid = (data[4] >> 1) & 0x3F, (data[5] & 7) - 1  # first NAL unit (4-byte length prefix)
            by_layer.setdefault(tid, []).append(is_disposable(data, layout=layout))
            top_nonref += kind < 32 and kind % 2 == 0 and kind <= 14 and tid == 2
    assert sorted(by_layer) == [0, 1, 2]  # really layered
    assert not any(by_layer[0]) and not any(by_layer[1])  # lower sub-layers are referenced
    assert sum(by_layer[2]) == top_nonref > 0


def test_skipping_is_decided_per_stream_from_the_packet_scan(layout_videos, monkeypatch):
    """``skip_disposable=None``: skip where disposable packets are a real share of the stream, not elsewhere."""
    import love_r1.video._pyav as pyav

    shares = {}
    for name, expected in (("b_pyramid", True), ("b_flat", True), ("no_b", False)):
        with open_video(layout_videos[name]) as reader:
            assert reader.skips_disposable is expected
            shares[name] = reader.disposable_share
            reader.get_frames_at([5, 40])
            assert (reader.stats.packets_skipped > 0) is expected
    assert shares["no_b"] == 0 and 0.3 < shares["b_pyramid"] < shares["b_flat"] < 0.8
    monkeypatch.setattr(pyav, "MIN_DISPOSABLE_SHARE", 0.9)  # a stream whose disposable share is below the bar
    with open_video(layout_videos["b_flat"]) as reader, open_video(layout_videos["b_flat"], skip_disposable=True) as on:
        assert not reader.skips_disposable and on.skips_disposable  # an explicit True still skips
        a, b = reader.get_frames_at([5, 40]), on.get_frames_at([5, 40])
        assert reader.stats.packets_skipped == 0 < on.stats.packets_skipped
    assert np.array_equal(a.data, b.data)
