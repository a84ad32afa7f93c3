"""``love-r1 eval --fast-max-frames/--fast-pixels-per-frame/--clip-max-frames/--clip-pixels-per-frame``: the
frame budgets reach the zoom and stage-1 policies (the frames the model is given and the run's hash)."""

from __future__ import annotations

import json

import pytest

from love_r1.cli import main

BUDGETS = ["--max-new-tokens", "64", "--fast-max-frames", "10", "--fast-pixels-per-frame", "784",
           "--clip-max-frames", "4", "--clip-pixels-per-frame", "3136"]


@pytest.fixture(scope="module")
def needle_data(tmp_path_factory):
    from love_r1.synth import write_needle_dataset

    root = tmp_path_factory.mktemp("needle")
    write_needle_dataset(root, duration_seconds=64.0, num_videos=1, num_questions_per_video=2, width=128, height=128,
                         fps=2.0, seed=5)
    return root


def _episodes(out):
    return [json.loads(line)["episode"] for line in (out / "results.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("method", ["zoom", "stage1"])
def test_budgets_reach_the_policy_and_the_frames(needle_data, tmp_path, capsys, method):
    out = tmp_path / method
    argv = ["eval", "--benchmark", "needle", "--data-root", str(needle_data), "--out", str(out), "--backend",
            "scripted", "--method", method, "--no-progress"]
    assert main([*argv, *BUDGETS]) == 0
    for episode in _episodes(out):
        policy = episode["policy"]
        assert (policy["fast_max_frames"], policy["fast_pixels_per_frame"]) == (10, 784)
        assert (policy["clip_max_frames"], policy["clip_pixels_per_frame"]) == (4, 3136)
        assert policy["sampling"]["max_new_tokens"] == 64
        fast = episode["fast_view"]
        assert (fast["num_frames"], fast["width"], fast["height"]) == (10, 28, 28)  # 64 s: no x2 below 60 s
        assert episode["ledger"]["frames_decoded"] + episode["ledger"].get("frames_cached", 0) <= 10 + 4
    first_hash = json.loads((out / "results.jsonl").read_text().splitlines()[0])["config_hash"]
    capsys.readouterr()
    assert main([*argv, *BUDGETS[:-1], "12544"]) == 0  # another clip budget: another configuration, run again
    assert "2 run, 0 already done" in capsys.readouterr().out
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert {r["config_hash"] for r in rows} != {first_hash}


def test_max_new_tokens_must_be_positive(needle_data, tmp_path, capsys):
    rc = main(["eval", "--benchmark", "needle", "--data-root", str(needle_data), "--out", str(tmp_path / "t"),
               "--backend", "scripted", "--max-new-tokens", "0", "--no-progress"])
    assert rc == 2
    assert "max_new_tokens must be >= 1" in capsys.readouterr().err


def test_uniform_method_refuses_the_zoom_budgets(needle_data, tmp_path, capsys):
    rc = main(["eval", "--benchmark", "needle", "--data-root", str(needle_data), "--out", str(tmp_path / "u"),
               "--backend", "scripted", "--method", "uniform", "--clip-max-frames", "4", "--no-progress"])
    assert rc == 2
    assert "--num-frames" in capsys.readouterr().err
