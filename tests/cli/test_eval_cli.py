"""``love-r1 eval``, ``report`` and ``rescore`` end to end with the scripted backend."""

from __future__ import annotations

import json

import pytest

from love_r1.cli import main
from love_r1.cli.eval import parse_shard


@pytest.fixture
def needle_data(tmp_path):
    from love_r1.synth import write_needle_dataset

    root = tmp_path / "needle"
    write_needle_dataset(root, duration_seconds=12.0, num_videos=1, num_questions_per_video=3, width=96, height=64,
                         fps=5.0, seed=5)
    return root


def test_eval_report_rescore(needle_data, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["eval", "--benchmark", "needle", "--data-root", str(needle_data), "--out", str(out),
            "--backend", "scripted", "--model", "dummy", "--no-progress"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "needle shard 0/1: 3 run, 0 already done, 0 errors" in printed
    assert (out / "results.sqlite").is_file() and len((out / "results.jsonl").read_text().splitlines()) == 3
    assert main(argv) == 0
    assert "0 run, 3 already done" in capsys.readouterr().out
    assert main(["report", str(out), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("benchmark", "num_items", "num_scored", "num_errors", "num_extraction_failures", "accuracy",
                "breakdowns"):
        assert key in report
    assert report["benchmark"] == "needle" and report["num_items"] == 3 and report["policy_preset"] == "reference"
    gold_a = sum(json.loads(line)["sample"]["gold"] == "A"
                 for line in (out / "results.jsonl").read_text().splitlines())
    assert report["accuracy"] == pytest.approx(gold_a / 3)  # the dummy policy answers A
    assert main(["report", str(out), str(out), "--format", "html", "--output", str(tmp_path / "r.html")]) == 0
    assert "<svg" in (tmp_path / "r.html").read_text()
    capsys.readouterr()
    assert main(["rescore", str(out), "--extractor", "classic"]) == 0
    assert "classic extractor" in capsys.readouterr().out
    assert json.loads((out / "rescore-classic.json").read_text())["summary"]["num_items"] == 3


def test_eval_config_yaml_and_bad_input(needle_data, tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text(f"benchmark: needle\ndata_root: {needle_data}\nbackend: scripted\nmodel: dummy\nlimit: 1\n"
                      "progress: false\nmethod: uniform\nnum_frames: 4\n")
    assert main(["eval", "--config", str(config), "--out", str(tmp_path / "run")]) == 0
    assert "1 run" in capsys.readouterr().out
    assert main(["eval", "--benchmark", "videomme", "--data-root", str(tmp_path / "nope"), "--out",
                 str(tmp_path / "r2"), "--backend", "scripted"]) == 2
    assert "no Video-MME parquet" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "empty")]) == 2


def test_parse_shard():
    assert parse_shard("2/8") == (2, 8)
    assert parse_shard(None, {"RANK": "3", "WORLD_SIZE": "4"}) == (3, 4)
    assert parse_shard(None, {}) == (0, 1)
    with pytest.raises(ValueError, match="i/n"):
        parse_shard("2-8")
    with pytest.raises(ValueError, match="0 <= i < n"):
        parse_shard("8/8")


def test_shipped_eval_configs_parse():
    import dataclasses
    from pathlib import Path

    from love_r1.cli._args import load_yaml_options
    from love_r1.cli.eval import Options

    names = {f.name for f in dataclasses.fields(Options)}
    configs = sorted((Path(__file__).resolve().parents[2] / "configs" / "eval").glob("*.yaml"))
    assert {p.stem for p in configs} == {"videomme", "lvbench", "mlvu", "longvideobench", "mvbench", "cgbench",
                                         "needle", "tiny"}  # tiny: the no-GPU smoke run on generated needle videos
    for path in configs:
        values = load_yaml_options(path, names)
        options = Options(**values)
        assert options.benchmark == ("needle" if path.stem == "tiny" else path.stem)
    assert Options(**load_yaml_options(configs[[p.stem for p in configs].index("mlvu")], names)).policy_preset == "mlvu"


def test_eval_stage1_probe_and_report_csv(needle_data, tmp_path, capsys):
    import csv
    import io

    out = tmp_path / "run"
    base = ["eval", "--benchmark", "needle", "--data-root", str(needle_data), "--out", str(out), "--backend",
            "scripted", "--model", "dummy", "--no-progress"]
    assert main(base + ["--method", "stage1"]) == 0
    assert "needle shard 0/1: 3 run, 0 already done, 0 errors" in capsys.readouterr().out
    assert main(base + ["--method", "stage1", "--probe", "shuffled-options", "--probe-seed", "4"]) == 0
    printed = capsys.readouterr().out
    assert "3 run, 0 already done" in printed and "[probe: shuffled-options]" in printed
    assert main(["report", str(out), "--format", "json"]) == 0  # newest configuration: the probe run
    report = json.loads(capsys.readouterr().out)
    assert (report["method"], report["probe"], report["probe_seed"], report["policy_preset"]) == (
        "stage1", "shuffled-options", 4, "reference")
    assert main(["report", str(out), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["steps"] for r in rows] == ["1", "1", "1"] and {r["pred"] for r in rows} == {"A"}
    assert list(rows[0]) == ["qid", "video", "gold", "pred", "correct", "steps", "zooms", "best_iou", "seconds",
                             "error"]
    assert main(["report", str(out), "--items", "-1"]) == 0
    text = capsys.readouterr().out
    assert "## items (3 of 3)" in text and "| qid " in text
    assert main(["report", str(out), str(out), "--format", "csv"]) == 0  # both runs per item, and the flip
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 3 and {r["flip"] for r in rows} <= {"both_right", "both_wrong"}


def test_sampling_and_policy_flags_are_recorded_and_hashed_only_when_set(needle_data, tmp_path, capsys):
    from love_r1.eval.store import read_run

    base = ["eval", "--benchmark", "needle", "--data-root", str(needle_data), "--backend", "scripted",
            "--no-progress", "--limit", "1", "--prefetch-workers", "0"]
    assert main([*base, "--out", str(tmp_path / "plain")]) == 0
    assert main([*base, "--out", str(tmp_path / "sampled"), "--max-new-tokens", "64", "--temperature", "0.5",
                 "--clip-max-frames", "8"]) == 0
    plain, sampled = read_run(tmp_path / "plain"), read_run(tmp_path / "sampled")
    assert plain.config["model"] == "scripted"  # the stand-in names no checkpoint
    assert plain.config["policy"]["sampling"]["max_new_tokens"] == 2048
    assert sampled.config["policy"]["sampling"]["max_new_tokens"] == 64
    assert sampled.config["policy"]["sampling"]["temperature"] == 0.5
    assert sampled.config["policy"]["clip_max_frames"] == 8
    assert plain.config_hash != sampled.config_hash
    uniform = [*base, "--method", "uniform", "--num-frames", "4"]
    assert main([*uniform, "--out", str(tmp_path / "u")]) == 0
    assert main([*uniform, "--out", str(tmp_path / "u-top-p"), "--top-p", "0.9"]) == 0
    assert read_run(tmp_path / "u").config["sampling"] == {"max_new_tokens": 2048, "temperature": 0.0}
    assert read_run(tmp_path / "u-top-p").config["sampling"] == {"max_new_tokens": 2048, "temperature": 0.0,
                                                                  "top_p": 0.9}
    capsys.readouterr()
    assert main([*uniform, "--out", str(tmp_path / "bad"), "--clip-max-frames", "8"]) == 2
    assert "--method uniform takes --num-frames and --pixels-per-frame" in capsys.readouterr().err


def test_old_prompt_preset_spelling_warns(needle_data, tmp_path, capsys):
    from love_r1.eval.store import read_run

    with pytest.warns(FutureWarning, match="--preset is deprecated .* use --prompt-preset"):
        assert main(["eval", "--benchmark", "needle", "--data-root", str(needle_data), "--out", str(tmp_path / "r"),
                     "--backend", "scripted", "--no-progress", "--limit", "1", "--preset", "plain"]) == 0
    assert read_run(tmp_path / "r").config["prompt_preset"] == "plain"
