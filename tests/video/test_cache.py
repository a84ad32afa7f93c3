from __future__ import annotations

import os

import numpy as np
import pytest

from love_r1.video import FrameCache, Frames, open_video, sample_fast_view


def test_memory_cache_hit_skips_decoding(cfr_video):
    cache = FrameCache(max_bytes=50 * 1024**2)
    with open_video(cfr_video, cache=cache) as reader:
        first = sample_fast_view(reader)
        decoded = reader.stats.frames_decoded
        second = sample_fast_view(reader)
        assert reader.stats.frames_decoded == decoded and reader.stats.cache_hits == 1
    with open_video(cfr_video) as uncached:
        recomputed = sample_fast_view(uncached)
    np.testing.assert_array_equal(second.data, first.data)
    np.testing.assert_array_equal(recomputed.data, first.data)
    np.testing.assert_array_equal(second.timestamps_seconds, recomputed.timestamps_seconds)
    assert second.key == first.key == recomputed.key and second.sample_fps == first.sample_fps
    assert cache.stats.memory_hits == 1


def test_disk_cache_survives_a_new_reader_and_cache(cfr_video, tmp_path):
    with open_video(cfr_video, cache=FrameCache(directory=tmp_path)) as reader:
        first = reader.get_frames_at([5, 100], max_pixels=28 * 28 * 8, overlay=True)
    assert len(list(tmp_path.glob("*.npz"))) == 1
    fresh = FrameCache(directory=tmp_path)
    with open_video(cfr_video, cache=fresh) as reader:
        second = reader.get_frames_at([5, 100], max_pixels=28 * 28 * 8, overlay=True)
        assert reader.stats.frames_decoded == 0
    assert fresh.stats.disk_hits == 1
    np.testing.assert_array_equal(second.data, first.data)
    np.testing.assert_array_equal(second.frame_indices, first.frame_indices)
    np.testing.assert_array_equal(second.timestamps_seconds, first.timestamps_seconds)


def test_changed_file_is_a_miss(cfr_video, tmp_path):
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(cfr_video.read_bytes())
    cache = FrameCache()
    with open_video(copy, cache=cache) as reader:
        reader.get_frames_at([1])
    os.utime(copy, ns=(1, 1))
    with open_video(copy, cache=cache) as reader:
        reader.get_frames_at([1])
        assert reader.stats.frames_decoded > 0 and reader.stats.cache_hits == 0


def test_different_specs_are_different_entries(cfr_video):
    cache = FrameCache()
    with open_video(cfr_video, cache=cache) as reader:
        a = reader.get_frames_at([1, 2])
        b = reader.get_frames_at([1, 2], overlay=True)
        c = reader.get_frames_at([1, 2], mode="keyframe")
    assert len({a.key, b.key, c.key}) == 3 and len(cache) == 3


def _frames(n: int, fill: int) -> Frames:
    return Frames(data=np.full((n, 10, 10, 3), fill, np.uint8), timestamps_seconds=np.arange(n, dtype=float))


def test_lru_is_bounded_by_bytes():
    cache = FrameCache(max_bytes=3 * 300)
    for key in "abc":
        cache.put(key, _frames(1, 0))
    assert cache.get("a") is not None  # a is now most recent
    cache.put("d", _frames(1, 1))  # evicts b (least recently used)
    assert "b" not in cache and "a" in cache and "d" in cache
    assert cache.num_bytes == 900
    cache.put("big", _frames(4, 2))  # larger than the budget: not kept in memory
    assert "big" not in cache and cache.num_bytes == 900
    with pytest.raises(ValueError, match="max_bytes"):
        FrameCache(max_bytes=-1)
