from __future__ import annotations

import numpy as np
import pytest

from love_r1.synth import read_frame_index
from love_r1.video import open_video
from tests.helpers.markers import requires_torchcodec
from tests.helpers.video import ffprobe_frames


def decoded_indices(frames) -> list[int | None]:
    return [read_frame_index(x) for x in frames.data]


def test_metadata_matches_ffprobe(cfr_video):
    pts, key = ffprobe_frames(cfr_video)
    with open_video(cfr_video) as reader:
        m = reader.metadata
        assert (m.width, m.height, m.num_frames, m.rotation_degrees, m.codec) == (160, 120, 300, 0, "h264")
        assert m.fps == 30.0 and m.duration_seconds == pytest.approx(10.0)
        assert m.num_frames_from_header == 300 and m.duration_seconds_from_header == pytest.approx(10.0)
        np.testing.assert_allclose(reader.index.seconds, pts, atol=1e-6)
        assert reader.index.keyframe_indices.tolist() == np.flatnonzero(key).tolist() == [0, 60, 120, 180, 240]


def test_exact_mode_returns_requested_frames_with_true_timestamps(cfr_video):
    pts, _ = ffprobe_frames(cfr_video)
    # times inside each frame's display interval, in shuffled order with a duplicate
    wanted = np.array([299, 0, 61, 5, 200, 61, 62, 119])
    times = pts[wanted] + 0.4 / 30
    with open_video(cfr_video) as reader:
        frames = reader.get_frames_played_at(times)
    assert frames.frame_indices.tolist() == wanted.tolist()
    assert decoded_indices(frames) == wanted.tolist()
    np.testing.assert_allclose(frames.timestamps_seconds, pts[wanted], atol=1e-6)
    assert frames.data.shape == (8, 120, 160, 3)


def test_time_exactly_on_boundary_picks_the_frame_starting_there(cfr_video):
    pts, _ = ffprobe_frames(cfr_video)
    with open_video(cfr_video) as reader:
        frames = reader.get_frames_played_at(pts[[10, 11]])
    assert decoded_indices(frames) == [10, 11]


def test_gop_reuse_one_pass_per_run_of_consecutive_gops(cfr_video):
    # skip_disposable=False: every packet up to the last requested frame is decoded, so counts are exact
    with open_video(cfr_video, skip_disposable=False) as reader:
        # GOP 0 (frames 0..59) twice, then GOP 1 (60..119) right after frame 57: one seek, decode 0..62
        frames = reader.get_frames_at([3, 57, 62])
        assert (reader.stats.seeks, reader.stats.frames_decoded) == (1, 63)
        assert decoded_indices(frames) == [3, 57, 62]
        # GOP 0 ends 29 unrequested frames after frame 30: a forward seek skips them (0..30, 60..62)
        frames = reader.get_frames_at([3, 30, 62])
        assert (reader.stats.seeks, reader.stats.frames_decoded) == (3, 63 + 31 + 3)
        assert decoded_indices(frames) == [3, 30, 62]
        # GOPs 1 and 3 are not consecutive: two seeks, 1 + 1 frames
        reader.get_frames_at([60, 180])
        assert (reader.stats.seeks, reader.stats.frames_decoded) == (5, 63 + 34 + 2)
        # the same frames again decode again (no cache): same cost
        reader.get_frames_at([60, 180])
        assert (reader.stats.seeks, reader.stats.frames_decoded) == (7, 63 + 34 + 4)


def test_keyframe_mode_snaps_to_nearest_keyframe(cfr_video):
    pts, key = ffprobe_frames(cfr_video)
    with open_video(cfr_video) as reader:
        before = reader.stats.frames_decoded
        frames = reader.get_frames_at([0, 29, 31, 200, 299], mode="keyframe")
        assert reader.stats.frames_decoded - before == 4  # keyframes 0, 60, 180, 240 decoded once each
    assert frames.frame_indices.tolist() == [0, 0, 60, 180, 240]
    assert decoded_indices(frames) == [0, 0, 60, 180, 240]
    assert key[frames.frame_indices].all()
    np.testing.assert_allclose(frames.timestamps_seconds, pts[frames.frame_indices], atol=1e-6)


def test_resize_and_overlay_options(cfr_video):
    with open_video(cfr_video) as reader:
        frames = reader.get_frames_at([45], max_pixels=32 * 28 * 28, overlay=True)
    # 160x120 at P = 25088: qwen smart-resize gives 196x140 (hand-checked against qwen_vl_utils in test_resize)
    assert frames.data.shape[1:3] == (140, 196)
    assert read_frame_index(frames.data[0]) == 45


def test_vfr_timestamps_and_content(vfr_video):
    pts, _ = ffprobe_frames(vfr_video)
    assert len(set(np.round(np.diff(pts), 3))) == 2  # really variable
    with open_video(vfr_video) as reader:
        np.testing.assert_allclose(reader.index.seconds, pts, atol=1e-6)
        wanted = np.array([1, 2, 7, 50, 119])
        frames = reader.get_frames_played_at((pts[wanted] + pts[wanted + 1]) / 2 if wanted.max() + 1 < len(pts)
                                             else pts[wanted])
    assert decoded_indices(frames) == wanted.tolist()
    np.testing.assert_allclose(frames.timestamps_seconds, pts[wanted], atol=1e-6)


@pytest.mark.parametrize("decoder", ["pyav", pytest.param("torchcodec", marks=requires_torchcodec)])
def test_rotated_video_is_upright(rotated_video, decoder):
    with open_video(rotated_video, decoder=decoder) as reader:
        assert reader.metadata.rotation_degrees == 90
        assert (reader.metadata.width, reader.metadata.height) == (160, 96)
        frames = reader.get_frames_at([0, 31, 59])
    assert frames.data.shape == (3, 96, 160, 3)
    assert decoded_indices(frames) == [0, 31, 59]


@requires_torchcodec
def test_torchcodec_decoder_agrees_with_pyav(cfr_video):
    wanted = [0, 61, 62, 299]
    with open_video(cfr_video, decoder="torchcodec") as tc, open_video(cfr_video) as pa:
        a, b = tc.get_frames_at(wanted), pa.get_frames_at(wanted)
        k = tc.get_frames_at(wanted, mode="keyframe")
    assert decoded_indices(a) == wanted
    np.testing.assert_array_equal(a.timestamps_seconds, b.timestamps_seconds)
    assert np.abs(a.data.astype(int) - b.data.astype(int)).mean() < 2.0
    assert decoded_indices(k) == [0, 60, 60, 240]


def test_reader_is_a_context_manager_and_closes(cfr_video):
    with open_video(cfr_video) as reader:
        pass
    assert reader._closed
    reader.close()  # idempotent


@requires_torchcodec
def test_torchcodec_rejects_forced_packet_skipping(cfr_video):
    with pytest.raises(ValueError, match="skip_disposable=True needs the pyav decoder"):
        open_video(cfr_video, decoder="torchcodec", skip_disposable=True)
    with open_video(cfr_video, decoder="torchcodec", skip_disposable=False) as reader:
        assert not reader.skips_disposable


def test_video_modules_import_no_circle():
    """No module of love_r1.video imports (at any level, outside TYPE_CHECKING) one that imports it back."""
    import ast
    from pathlib import Path

    import love_r1.video

    package = Path(love_r1.video.__file__).parent
    graph: dict[str, set[str]] = {}
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text())
        skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(
            node.test) for n in ast.walk(node)}
        graph[path.stem] = {node.module.rsplit(".", 1)[-1] for node in ast.walk(tree)
                            if isinstance(node, ast.ImportFrom) and id(node) not in skip and node.module
                            and node.module.startswith("love_r1.video.")}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt}))
                   for nxt in graph.get(start, ()))

    assert [m for m in graph if reaches(m, m, {m})] == []
