from contextlib import contextmanager
from types import SimpleNamespace

import numpy as np
import pytest

from love_r1.data import CallStore, VideoRef, find_contamination
from love_r1.data._contamination import ahash64, dhash64, hamming_bits
from love_r1.video import Frames


def _image(values_9x8):
    # nearest-neighbour upscale of a 8-row x 9-column grey pattern to a 80x90 RGB frame
    grey = np.kron(np.asarray(values_9x8, dtype=np.uint8), np.ones((10, 10), dtype=np.uint8))
    return np.repeat(grey[:, :, None], 3, axis=2)


def test_dhash_bits_follow_the_brightness_gradient():
    rising = np.tile(np.arange(9) * 25, (8, 1))
    assert dhash64(_image(rising)) == 2**64 - 1
    assert dhash64(_image(rising[:, ::-1])) == 0
    # one bright column at x=4: bit (row, 3) is set (brighter to the right), bit (row, 4) is not
    column = np.zeros((8, 9))
    column[:, 4] = 200
    expected = sum(1 << (63 - (row * 8 + 3)) for row in range(8))
    assert dhash64(_image(column)) == expected


def test_ahash_marks_pixels_above_the_mean():
    top_bright = np.zeros((8, 8))
    top_bright[:4] = 255
    grey = np.kron(top_bright, np.ones((10, 10))).astype(np.uint8)
    assert ahash64(np.repeat(grey[:, :, None], 3, axis=2)) == (2**32 - 1) << 32


def test_hamming_bits_equals_popcount():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2**63, size=5, dtype=np.uint64)
    b = rng.integers(0, 2**63, size=3, dtype=np.uint64)
    expected = [[bin(int(x) ^ int(y)).count("1") for y in b] for x in a]
    assert hamming_bits(a, b).tolist() == expected


def _fake_open_video(contents):
    """A reader over in-memory videos: ``contents[path]`` is a function of the timestamp."""

    @contextmanager
    def open_video(path):
        draw = contents[path]

        def get_frames_played_at(timestamps, *, max_pixels=None, mode="exact"):
            assert mode == "keyframe"
            data = np.stack([draw(t) for t in timestamps])
            return Frames(data=data, timestamps_seconds=np.asarray(timestamps, dtype=float))

        yield SimpleNamespace(metadata=SimpleNamespace(duration_seconds=100.0),
                              get_frames_played_at=get_frames_played_at)

    return open_video


def _scene(seed, noise=0):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, size=(4, 48, 64, 3)).astype(np.int16)

    def draw(t):
        frame = base[int(t // 25)] + noise
        return np.clip(frame, 0, 255).astype(np.uint8)

    return draw


def test_near_duplicates_and_id_matches_are_found(tmp_path):
    contents = {"train/a.mp4": _scene(1), "train/b.mp4": _scene(2), "eval/x.mp4": _scene(1, noise=6),
                "eval/b.mp4": _scene(3)}
    for path in contents:  # fingerprints are cached by file identity
        (tmp_path / path).parent.mkdir(exist_ok=True)
        (tmp_path / path).write_bytes(path.encode())
    contents = {str(tmp_path / p): f for p, f in contents.items()}
    train = [VideoRef("a", str(tmp_path / "train/a.mp4")), VideoRef("b", str(tmp_path / "train/b.mp4"))]
    evaluation = [VideoRef("x", str(tmp_path / "eval/x.mp4"), "videomme"),
                  VideoRef("b", str(tmp_path / "eval/b.mp4"), "lvbench")]
    store = CallStore(tmp_path / "s.sqlite")
    report = find_contamination(train, evaluation, store=store, open_video=_fake_open_video(contents))
    assert [(m["train_path"], m["benchmark"]) for m in report.id_matches] == [(train[1].path, "lvbench")]
    assert [(m["train_path"], m["eval_path"]) for m in report.near_duplicates] == [(train[0].path,
                                                                                    evaluation[0].path)]
    assert report.contaminated_paths == {train[0].path, train[1].path}

    def exploding_open(path):
        raise AssertionError("fingerprints should come from the store")

    again = find_contamination(train, evaluation, store=store, open_video=exploding_open)
    assert again.near_duplicates == report.near_duplicates


def test_bad_threshold_is_rejected():
    with pytest.raises(ValueError, match="min_matching_fraction"):
        find_contamination([], [], min_matching_fraction=0)
