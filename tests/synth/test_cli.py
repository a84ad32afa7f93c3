"""``love-r1 synth needle`` / ``love-r1 synth indexed`` end to end."""

from __future__ import annotations

import json

import pytest

from love_r1._imports import is_available
from love_r1.cli import main
from love_r1.synth import read_frame_index
from tests.helpers.markers import requires_av

pytestmark = requires_av
if is_available("av"):  # the tests decode with PyAV directly
    import av


def test_needle_end_to_end(tmp_path, capsys):
    out = tmp_path / "needle"
    rc = main(["synth", "needle", "--out", str(out), "--duration-seconds", "12", "--num-videos", "2",
               "--questions-per-video", "2", "--width", "192", "--height", "128", "--fps", "4",
               "--needle-min-seconds", "1", "--needle-max-seconds", "2", "--seed", "3", "--no-progress"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "videos" in printed and "questions           4" in printed and "size on disk" in printed
    records = [json.loads(line) for line in (out / "annotations.jsonl").read_text().splitlines()]
    assert [r["qid"] for r in records] == ["needle_0000_q0", "needle_0000_q1", "needle_0001_q0", "needle_0001_q1"]
    assert sorted(p.name for p in (out / "videos").iterdir()) == ["needle_0000.mp4", "needle_0001.mp4"]
    card = json.loads((out / "dataset.json").read_text())
    assert card["seed"] == 3 and card["params"]["needle_seconds"] == [1.0, 2.0]


def test_needle_bad_arguments_exit_2_with_message(tmp_path, capsys):
    rc = main(["synth", "needle", "--out", str(tmp_path / "x"), "--duration-seconds", "5", "--no-progress"])
    assert rc == 2
    assert "duration_seconds=5.0 is too short" in capsys.readouterr().err


def test_help_mentions_units(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["synth", "needle", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for phrase in ["--duration-seconds", "(seconds)", "(pixels, even)", "(frames per second)", "--questions-per-video"]:
        assert phrase in text
    with pytest.raises(SystemExit):
        main(["synth", "indexed", "--help"])
    assert "counter-clockwise (degrees)" in capsys.readouterr().out


def test_indexed_end_to_end(tmp_path, capsys):
    path = tmp_path / "clip.mp4"
    rc = main(["synth", "indexed", "--out", str(path), "--duration-seconds", "1", "--fps", "8",
               "--width", "128", "--height", "96", "--variable-frame-rate", "--no-progress"])
    assert rc == 0
    assert "variable" in capsys.readouterr().out
    with av.open(str(path)) as container:
        assert [read_frame_index(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)] == list(range(8))


def test_synth_without_leaf_prints_help(capsys):
    assert main(["synth"]) == 2
    assert "needle" in capsys.readouterr().out
