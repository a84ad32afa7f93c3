"""Frame-folder reader: a directory of JPEG frames read as a video."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from love_r1.synth import draw_frame_index, read_frame_index
from love_r1.video import (
    CorruptVideoError,
    EmptyVideoError,
    FrameCache,
    VideoNotFoundError,
    open_video,
    sample_clip,
    sample_fast_view,
)


def write_folder(folder, *, num_frames, width=224, height=168, pattern="{i}.jpg", start=1):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(num_frames):
        rgb = draw_frame_index(np.zeros((height, width, 3), dtype=np.uint8), frame_index=i)
        Image.fromarray(rgb).save(folder / pattern.format(i=i + start), quality=95)
    return folder


@pytest.fixture()
def folder(tmp_path):
    return write_folder(tmp_path / "clip", num_frames=30)  # 1.jpg .. 30.jpg: 10 s at 3 fps


def test_metadata(folder):
    with open_video(folder, frames_per_second=3.0) as reader:
        m = reader.metadata
        assert reader.decoder == "frames"
        assert (m.num_frames, m.fps, m.width, m.height, m.codec, m.rotation_degrees) == \
            (30, 3.0, 224, 168, "image-folder", 0)
        assert m.duration_seconds == pytest.approx(10.0)


def test_default_fps_is_three(folder):
    with open_video(folder) as reader:
        assert reader.metadata.fps == 3.0


def test_natural_sort_and_exact_selection(folder):
    with open_video(folder, frames_per_second=3.0) as reader:
        frames = reader.get_frames_played_at([0.0, 0.34, 3.0, 3.3, 9.99])
        got = [read_frame_index(f) for f in frames.data]
        assert got == [0, 1, 9, 9, 29]  # 10.jpg (frame 9) sorts after 9.jpg, not after 1.jpg
        assert frames.frame_indices.tolist() == [0, 1, 9, 9, 29]
        np.testing.assert_allclose(frames.timestamps_seconds, np.array([0, 1, 9, 9, 29]) / 3.0)
        assert reader.stats.frames_decoded == 4  # only the requested images


def test_zero_padded_and_prefixed_names(tmp_path):
    folder = write_folder(tmp_path / "p", num_frames=12, pattern="frame_{i:05d}.png", start=0)
    with open_video(folder, frames_per_second=2.0) as reader:
        assert [read_frame_index(f) for f in reader.get_frames_at([0, 5, 11]).data] == [0, 5, 11]
        assert reader.metadata.duration_seconds == pytest.approx(6.0)


def test_keyframe_mode_is_exact(folder):
    with open_video(folder, frames_per_second=3.0) as reader:
        a = reader.get_frames_at([3, 17, 28], mode="keyframe")
        assert a.frame_indices.tolist() == [3, 17, 28]
        assert [read_frame_index(f) for f in a.data] == [3, 17, 28]


def test_fast_view_and_clip(folder):
    with open_video(folder, frames_per_second=3.0) as reader:
        fast = sample_fast_view(reader, max_frames=8, overlay=False)
        assert [read_frame_index(f) for f in fast.data] == fast.frame_indices.tolist()
        np.testing.assert_allclose(fast.timestamps_seconds, fast.frame_indices / 3.0)
        clip = sample_clip(reader, 2.0, 4.0, max_frames=4, overlay=True)
        assert clip.frame_indices.tolist() == [6, 8, 10, 12]  # reference: closed [int(s*fps), int(e*fps)]
        assert [read_frame_index(f) for f in clip.data] == [6, 8, 10, 12]
        np.testing.assert_allclose(clip.timestamps_seconds, [2.0, 8 / 3, 10 / 3, 4.0])
        assert clip.data.shape[1] % 28 == 0 and clip.data.shape[2] % 28 == 0


def test_cache_hit_equals_recompute(folder):
    cache = FrameCache(max_bytes=64 << 20)
    with open_video(folder, frames_per_second=3.0, cache=cache) as reader:
        first = reader.get_frames_at([1, 2, 3], max_pixels=100 * 28 * 28, overlay=True)
        second = reader.get_frames_at([1, 2, 3], max_pixels=100 * 28 * 28, overlay=True)
        assert reader.stats.cache_hits == 1
    with open_video(folder, frames_per_second=3.0) as fresh:
        recomputed = fresh.get_frames_at([1, 2, 3], max_pixels=100 * 28 * 28, overlay=True)
    np.testing.assert_array_equal(second.data, first.data)
    np.testing.assert_array_equal(recomputed.data, first.data)
    with open_video(folder, frames_per_second=6.0, cache=cache) as other_rate:
        assert other_rate.get_frames_at([1, 2, 3], max_pixels=100 * 28 * 28, overlay=True).key != first.key


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    with pytest.raises(EmptyVideoError, match="directory with no .jpg"):
        open_video(tmp_path / "empty")


def test_missing_folder_with_frames_decoder(tmp_path):
    with pytest.raises(VideoNotFoundError):
        open_video(tmp_path / "nope", decoder="frames")


def test_unreadable_image_names_the_file(folder):
    (folder / "7.jpg").write_bytes(b"not a jpeg")
    with open_video(folder, frames_per_second=3.0) as reader:
        reader.get_frames_at([0, 5])  # other frames still decode
        with pytest.raises(CorruptVideoError, match="7.jpg"):
            reader.get_frames_at([6])


def test_mixed_sizes_raise(folder):
    rgb = draw_frame_index(np.zeros((100, 120, 3), dtype=np.uint8), frame_index=4)
    Image.fromarray(rgb).save(folder / "5.jpg", quality=95)
    with open_video(folder, frames_per_second=3.0) as reader, pytest.raises(CorruptVideoError, match="5.jpg"):
        reader.get_frames_at([4])


def test_bad_rate(folder):
    with pytest.raises(ValueError, match="frames_per_second"):
        open_video(folder, frames_per_second=0)
