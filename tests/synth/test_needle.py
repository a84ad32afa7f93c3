"""Needle datasets: determinism, needles present exactly during their evidence, answers match the pixels."""

from __future__ import annotations

import json

import numpy as np
import pytest

from love_r1._imports import is_available
from love_r1.synth import read_frame_index, write_needle_dataset
from love_r1.synth._glyphs import GLYPH_HEIGHT, GLYPH_WIDTH, glyph
from love_r1.synth._needle import COLOURS, needle_unit_pixels
from tests.helpers.markers import requires_av

pytestmark = requires_av
if is_available("av"):  # the tests decode with PyAV directly
    import av

WIDTH, HEIGHT, FPS = 384, 264, 5.0
KWARGS = dict(duration_seconds=12.0, num_videos=2, num_questions_per_video=3, width=WIDTH, height=HEIGHT,
              fps=FPS, gop_seconds=2.0, needle_seconds=(1.5, 3.0))
FIELDS = {"qid", "video", "question", "options", "answer", "duration_seconds", "evidence", "category"}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("needle")
    annotations = write_needle_dataset(out, seed=7, **KWARGS)
    records = [json.loads(line) for line in annotations.read_text().splitlines()]
    card = json.loads((out / "dataset.json").read_text())
    frames = {}
    for video in card["videos"]:
        with av.open(str(out / video["video"])) as container:
            decoded = list(container.decode(video=0))
        frames[video["video"]] = (
            np.stack([f.to_ndarray(format="rgb24") for f in decoded]),
            np.array([float(f.pts * f.time_base) for f in decoded]),
        )
    return out, records, card, frames


def _crop(frame, bbox):
    x0, y0, x1, y1 = bbox
    return frame[y0:y1, x0:x1].astype(np.float64)


def _read_digit(crop, unit):
    """Template-match the 5x7 glyph inside a digit box (independent of the stored answer)."""
    luma = crop @ np.array([0.299, 0.587, 0.114])
    cells = np.array([[luma[2 * unit + r * unit + unit // 2, 2 * unit + c * unit + unit // 2] < 128
                       for c in range(GLYPH_WIDTH)] for r in range(GLYPH_HEIGHT)])
    matches = [d for d in "0123456789" if np.array_equal(glyph(d), cells)]
    return matches[0] if len(matches) == 1 else None


def _clock_seconds(text):
    minutes, seconds = text.split(":")
    return 60 * int(minutes) + int(seconds)


def _option_text(record, letter):
    (text,) = [o[3:] for o in record["options"] if o.startswith(f"{letter}. ")]
    return text


def test_layout_and_fields(dataset):
    out, records, card, frames = dataset
    assert len(records) == 6
    assert all(set(r) == FIELDS for r in records)
    assert [r["category"] for r in records[:3]] == ["digit", "colour", "timing"]
    for r in records:
        assert (out / r["video"]).is_file() and not r["video"].startswith("/")
        assert [o[:3] for o in r["options"]] == ["A. ", "B. ", "C. ", "D. "]
        assert len({o[3:] for o in r["options"]}) == 4
        assert r["answer"] in "ABCD"
        assert r["duration_seconds"] == 12.0
        (start, end), = r["evidence"]
        assert 0 <= start < end <= 12.0 and 1.4 <= end - start <= 3.0 + 1e-9
    assert card["name"] == "love-r1-synthetic-needle" and card["seed"] == 7
    assert card["params"]["num_videos"] == 2 and card["num_questions"] == 6
    for video_frames, timestamps in frames.values():
        assert len(video_frames) == 60
        np.testing.assert_allclose(timestamps, np.arange(60) / FPS, atol=1e-6)
        assert [read_frame_index(f) for f in video_frames] == list(range(60))  # needles never cover the pattern


def test_needles_visible_exactly_during_evidence(dataset):
    out, records, card, frames = dataset
    for video in card["videos"]:
        data, timestamps = frames[video["video"]]
        needles = video["needles"]
        covered = np.zeros(len(data), bool)
        for n in needles:
            covered[n["start_frame"]:n["end_frame"]] = True
        reference = data[int(np.argmin(covered))]  # a frame that shows no needle
        for n in needles:
            record = next(r for r in records if r["qid"] == n["qid"])
            assert record["evidence"] == [[n["start_frame"] / FPS, n["end_frame"] / FPS]]
            diff = np.array([np.abs(_crop(f, n["bbox_pixels"]) - _crop(reference, n["bbox_pixels"])).mean()
                             for f in data])
            shown = diff > 25
            start, end = record["evidence"][0]
            in_evidence = (timestamps >= start - 1e-9) & (timestamps < end - 1e-9)
            np.testing.assert_array_equal(shown[in_evidence], True)
            alone = ~in_evidence & ~covered  # no other needle could be in this box
            assert alone.any()
            assert diff[alone].max() < 4, (n["qid"], diff[alone].max())


def test_answers_match_what_is_drawn(dataset):
    out, records, card, frames = dataset
    unit = needle_unit_pixels(height=HEIGHT)
    assert unit == 2
    for video in card["videos"]:
        data, _ = frames[video["video"]]
        for n in video["needles"]:
            record = next(r for r in records if r["qid"] == n["qid"])
            answer = _option_text(record, record["answer"])
            middle = data[(n["start_frame"] + n["end_frame"]) // 2]
            crop = _crop(middle, n["bbox_pixels"])
            if n["category"] == "digit":
                assert _read_digit(crop, unit) == answer
                assert record["question"].count(n["identity"]) == 1  # the border colour identifies the box
            elif n["category"] == "colour":
                size = crop.shape[0]
                centre = crop[size // 2:3 * size // 4, 2 * size // 5:3 * size // 5].reshape(-1, 3).mean(0)
                nearest = min(COLOURS, key=lambda c: np.abs(np.array(COLOURS[c]) - centre).sum())
                assert nearest == answer
            else:
                times = [_clock_seconds(o[3:]) for o in record["options"]]
                assert times == sorted(times) and len(set(times)) == 4
                assert abs(_clock_seconds(answer) - n["start_frame"] / FPS) <= 0.5
            # The digit is legible at full resolution only: at 1/3 scale the template match fails.
            if n["category"] == "digit":
                from PIL import Image

                small = np.asarray(Image.fromarray(middle).resize((WIDTH // 3, HEIGHT // 3), Image.BICUBIC))
                up = np.asarray(Image.fromarray(small).resize((WIDTH, HEIGHT), Image.BICUBIC))
                assert _read_digit(_crop(up, n["bbox_pixels"]), unit) != answer


def test_deterministic_for_a_seed(tmp_path):
    kwargs = dict(KWARGS, num_videos=1)
    a = write_needle_dataset(tmp_path / "a", seed=11, **kwargs).parent
    b = write_needle_dataset(tmp_path / "b", seed=11, **kwargs).parent
    c = write_needle_dataset(tmp_path / "c", seed=12, **kwargs).parent
    names = ["annotations.jsonl", "dataset.json", "videos/needle_0000.mp4"]
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "annotations.jsonl").read_bytes() != (c / "annotations.jsonl").read_bytes()


@pytest.mark.parametrize(
    "overrides, match",
    [
        (dict(duration_seconds=5.0, needle_seconds=(4.0, 10.0)), "too short for 3 needles"),
        (dict(width=383), "width"),
        (dict(fps=0.0), "fps"),
        (dict(num_questions_per_video=10), "num_questions_per_video"),
        (dict(num_videos=0), "num_videos"),
        (dict(needle_seconds=(3.0, 2.0)), "needle_seconds"),
    ],
)
def test_bad_arguments(tmp_path, overrides, match):
    with pytest.raises(ValueError, match=match):
        write_needle_dataset(tmp_path / "x", **dict(KWARGS, **overrides))
    assert not (tmp_path / "x").exists()
