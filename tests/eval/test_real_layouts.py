"""Every benchmark's published layout loads with one command (issue 15).

For each miniature copy in ``tests/eval/real_layouts/`` (see its ``SOURCE.md``), ``love-r1 eval``
(scripted backend) and ``love-r1 report`` run on it, and every stored item is compared with what
the real files say. The expected values come from independent oracles below that read the files
with ``json``/``pyarrow`` and transcribe each benchmark's official rule (MLVU's ``qa_template``
gold loop, LVBench's leaderboard ability names, CG-Bench's duration bins, video2dataset's file
naming, ...): none of them calls the adapters.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from love_r1.cli import main
from love_r1.eval.store import read_run
from tests.eval.real_layouts.build import CASES, VIDEO_FPS, VideoBank, materialise

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
BENCHMARK_OF = {"videomme": "videomme", "lvbench_lmms": "lvbench", "lvbench_chunks": "lvbench",
                "lvbench_upstream": "lvbench", "mlvu": "mlvu", "longvideobench": "longvideobench",
                "mvbench_main": "mvbench", "mvbench_video": "mvbench", "cgbench": "cgbench", "needle": "needle"}


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> VideoBank:
    return VideoBank(tmp_path_factory.mktemp("real_layouts"))


# -- oracles: {qid: expected} from the files themselves ------------------------------------------------------------
def _item(question: str, texts: list[str], gold_index: int | None, *, video: Path | None, categories: dict,
          bucket: str = "", evidence: list | None = None, window: list | None = None) -> dict[str, Any]:
    return {"question": question, "options": [f"{LETTERS[i]}. {t}" for i, t in enumerate(texts)],
            "gold": "" if gold_index is None else LETTERS[gold_index], "video": video, "categories": categories,
            "duration_bucket": bucket, "evidence": evidence or [], "window": window}


def _existing(path: Path) -> Path | None:
    return path if path.exists() else None


def _generic_bucket(seconds: float) -> str:
    for limit, label in ((180, "<3min"), (600, "3-10min"), (1800, "10-30min"), (3600, "30-60min")):
        if seconds < limit:
            return label
    return ">60min"


def _read_parquet(path: Path) -> list[dict]:
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


def oracle_mlvu(root: Path) -> dict[str, dict]:
    out = {}
    for path in sorted((root / "MLVU" / "json").glob("*.json")):
        task = path.stem.split("_", 1)[1]
        for index, row in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            answer_idx = None  # choice_bench.py::qa_template: the loop has no break -> the LAST equal candidate
            for idx, candidate in enumerate(row["candidates"]):
                if candidate == row["answer"]:
                    answer_idx = idx
            bucket = _generic_bucket(float(row["duration"]))
            out[f"{task}_{index}"] = _item(row["question"], [c.strip() for c in row["candidates"]], answer_idx,
                                           video=root / "MLVU" / "video" / path.stem / row["video"],
                                           categories={"task": task, "duration": bucket}, bucket=bucket)
    return out


def oracle_videomme(root: Path) -> dict[str, dict]:
    out = {}
    for row in _read_parquet(root / "videomme" / "test-00000-of-00001.parquet"):
        video = next(p for p in (root / "data").iterdir() if p.stem == row["videoID"])  # .mp4, .MP4 or .mkv
        texts = [option[3:] for option in row["options"]]
        out[row["question_id"]] = _item(
            row["question"], texts, LETTERS.index(row["answer"]), video=video, bucket=row["duration"],
            categories={"duration": row["duration"], "domain": row["domain"], "sub_category": row["sub_category"],
                        "task_type": row["task_type"]})
    return out


_LVBENCH_NAMES = {"key information retrieval": "KIR", "event understanding": "EU", "summarization": "Sum",
                  "entity recognition": "ER", "reasoning": "Rea", "temporal grounding": "TG"}  # scripts/test_acc.py


def _hms(text: str) -> float:
    hours, minutes, seconds = (float(x) for x in text.split(":"))
    return hours * 3600 + minutes * 60 + seconds


def _lvbench_item(qa: dict, key: str, kind: str, video: Path | None) -> dict:
    lines = qa["question"].split("\n")
    options = [line[4:] for line in lines if line[:1] == "(" and line[2:4] == ") "]
    evidence = []
    if qa["time_reference"]:
        start, end = qa["time_reference"].split("-")
        evidence = [[_hms(start), _hms(end)]]
    return _item(lines[0], options, LETTERS.index(qa["answer"]), video=video, evidence=evidence,
                 categories={"ability": [_LVBENCH_NAMES[t] for t in qa["question_type"]], "video_type": kind})


def oracle_lvbench(root: Path) -> dict[str, dict]:
    out = {}
    meta = root / "data" / "video_info.meta.jsonl"
    if meta.is_file():  # upstream: video2dataset names the N-th URL of scripts/videos.txt 00000/<N as 8 digits>.mp4
        urls = (root / "scripts" / "videos.txt").read_text(encoding="utf-8").split()
        for line in meta.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            number = urls.index(f"https://www.youtube.com/watch?v={record['key']}")
            video = _existing(root / "scripts" / "videos" / "00000" / f"{number:08d}.mp4")
            for qa in record["qa"]:
                out[str(qa["uid"])] = _lvbench_item(qa, record["key"], record["type"], video)
        return out
    for row in _read_parquet(root / "data" / "train-00000-of-00001.parquet"):
        video = next(iter(sorted(root.rglob(f"{row['key']}.mp4"))), None)
        out[row["uid"]] = _lvbench_item(row, row["key"], row["type"], video)
    return out


def oracle_longvideobench(root: Path) -> dict[str, dict]:
    out = {}
    for row in json.loads((root / "lvb_val.json").read_text(encoding="utf-8")):
        ok = 0 <= row["correct_choice"] < len(row["candidates"])
        frames = sorted(row["position"])
        evidence: list[list[float]] = []
        for frame in frames:  # each frame [p/fps, (p+1)/fps), touching ones merged
            start, end = frame / VIDEO_FPS, (frame + 1) / VIDEO_FPS
            if evidence and math.isclose(evidence[-1][1], start):
                evidence[-1][1] = end
            else:
                evidence.append([start, end])
        group = str(row["duration_group"])
        out[row["id"]] = _item(
            row["question"], row["candidates"], row["correct_choice"] if ok else None,
            video=root / "videos" / row["video_path"], bucket=group,
            evidence=[[round(s, 6), round(e, 6)] for s, e in evidence] if ok else [],
            categories={"duration": group, "question_category": row["question_category"], "level": row["level"],
                        "topic_category": row["topic_category"]})
    return out


# VLMEvalKit MVBench.type_data_list: the tasks flagged "has start & end"
_MVBENCH_BOUNDED = {"action_sequence", "action_prediction", "object_interaction", "action_localization",
                    "episodic_reasoning"}


def oracle_mvbench(root: Path) -> dict[str, dict]:
    out = {}
    whole_videos = (root / "video").is_dir()  # the main revision: the bounded tasks' files are not cut yet
    for path in sorted((root / "json").glob("*.json")):
        for index, row in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            gold = None
            for idx, candidate in enumerate(row["candidates"]):  # VLMEvalKit qa_template: the last equal one
                if candidate == row["answer"]:
                    gold = idx
            found = [p for p in root.rglob(row["video"]) if p.relative_to(root).parts[0] != "json"]
            window = [row["start"], row["end"]] if whole_videos and path.stem in _MVBENCH_BOUNDED else None
            out[f"{path.stem}_{index}"] = _item(row["question"], row["candidates"], gold, window=window,
                                                video=found[0] if found else None, categories={"task": path.stem})
    return out


def _cg_group(seconds: float) -> str:
    minutes = seconds / 60  # pandas.cut(bins=[-inf, 10, 20, 30, 40, 50, 60, inf]) is right-closed
    labels = ["0 ~ 10", "10 ~ 20", "20 ~ 30", "30 ~ 40", "40 ~ 50", "50 ~ 60"]
    return next((label for bound, label in zip(range(10, 70, 10), labels, strict=True) if minutes <= bound), "60+")


def oracle_cgbench(root: Path, name: str = "cgbench_mini.json") -> dict[str, dict]:
    out = {}
    for row in json.loads((root / name).read_text(encoding="utf-8")):
        group = _cg_group(row["duration"])
        out[str(row["qid"])] = _item(
            row["question"], row["choices"], LETTERS.index(row["right_answer"]),
            video=root / "cg_videos_720p" / f"{row['video_uid']}.mp4", bucket=group, evidence=row["clue_intervals"],
            categories={"duration": group, "domain": row["domain"], "sub_category": row["sub_category"]})
    return out


def oracle_needle(root: Path) -> dict[str, dict]:
    out = {}
    for line in (root / "annotations.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        bucket = _generic_bucket(row["duration_seconds"])
        out[row["qid"]] = _item(row["question"], [o[3:] for o in row["options"]], LETTERS.index(row["answer"]),
                                video=root / row["video"], evidence=row["evidence"], bucket=bucket,
                                categories={"category": row["category"], "duration": bucket})
    return out


ORACLES = {"videomme": oracle_videomme, "lvbench": oracle_lvbench, "mlvu": oracle_mlvu,
           "longvideobench": oracle_longvideobench, "mvbench": oracle_mvbench, "cgbench": oracle_cgbench,
           "needle": oracle_needle}


# -- running the CLI ----------------------------------------------------------------------------------------------
def run_eval(root: Path, benchmark: str, out: Path, capsys, *extra: str) -> tuple[dict[str, dict], dict, str]:
    """``love-r1 eval`` then ``love-r1 report --format json``: (stored items by qid, report, eval stdout)."""
    argv = ["eval", "--benchmark", benchmark, "--data-root", str(root), "--out", str(out), "--backend", "scripted",
            "--no-progress", *extra]
    capsys.readouterr()
    assert main(argv) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    items = {}
    for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        items[row["qid"]] = row
    assert main(["report", str(out), "--format", "json"]) == 0
    return items, json.loads(capsys.readouterr().out), printed


def check_against_oracle(items: dict[str, dict], expected: dict[str, dict], report: dict) -> None:
    assert sorted(items) == sorted(expected)
    kinds: dict[str, int] = {}
    for qid, want in expected.items():
        row, sample = items[qid], items[qid]["sample"]
        assert sample["question"] == want["question"], qid
        assert sample["options"] == want["options"], qid
        assert sample["gold"] == want["gold"], qid
        for key, value in want["categories"].items():
            assert sample["categories"][key] == value, (qid, key)
        assert sample["duration_bucket"] == want["duration_bucket"], qid
        assert sample.get("window") == want["window"], qid
        assert len(sample["evidence"]) == len(want["evidence"]), qid
        for got_interval, want_interval in zip(sample["evidence"], want["evidence"], strict=True):
            assert got_interval == pytest.approx(want_interval), qid
        if not want["gold"]:
            kind = "data error"
        elif want["video"] is None:
            kind = "missing video file"
        else:
            kind = None
            assert Path(sample["video_path"]) == want["video"].absolute(), qid
        if kind is None:
            assert row["status"] == "done" and row["error"] is None, (qid, row["error"])
        else:
            assert row["error"].startswith(f"{kind}: "), (qid, row["error"])
            kinds[kind] = kinds.get(kind, 0) + 1
    assert report["num_items"] == len(expected) and report["num_errors"] == sum(kinds.values())
    assert report["error_kinds"] == kinds
    assert report["num_data_errors"] == kinds.get("data error", 0)
    assert sorted(e["qid"] for e in report["data_errors"]) == sorted(q for q, w in expected.items() if not w["gold"])


@pytest.mark.parametrize("case", CASES)
def test_published_layout_loads_as_users_get_it(case, tmp_path, video, capsys):
    root = materialise(case, tmp_path, videos=video)
    benchmark = BENCHMARK_OF[case]
    items, report, _ = run_eval(root, benchmark, tmp_path / "run", capsys)
    check_against_oracle(items, ORACLES[benchmark](root), report)
    assert report["benchmark"] == benchmark


# -- what each layout adds -------------------------------------------------------------------------------------------
def test_mlvu_quirks_follow_the_official_scorer(tmp_path, video, capsys):
    root = materialise("mlvu", tmp_path, videos=video)
    items, report, printed = run_eval(root, "mlvu", tmp_path / "run", capsys)
    sample = items["plotQA_2"]["sample"]  # upstream plotQA_335: "Three" twice; MLVU and VLMEvalKit score C
    assert sample["options"] == ["A. Six", "B. Three", "C. Three", "D. Eight"] and sample["gold"] == "C"
    assert [items[q]["sample"]["gold"] for q in ("plotQA_3", "plotQA_4", "anomaly_reco_1", "topic_reasoning_2")] == [
        "C", "D", "D", "D"]  # upstream 387, 493, 66, 163
    ego = items["ego_1"]["sample"]  # upstream ego_17: trailing space on answer and candidate
    assert ego["gold"] == "B" and ego["options"][1] == "B. near the window"
    assert "(B) near the window \n" in ego["question_text"]  # the reference's text keeps the candidate as written
    bad = items["needle_1"]  # upstream needle_34
    assert bad["error"].startswith("data error: ") and "'Catching a flying drone quadcopter'" in bad["error"]
    assert bad["sample"]["options"][1] == "B. Catching the drone" and bad["episode"] is None
    assert report["num_data_errors"] == 2 and "(2 data errors: see the report)" in printed
    capsys.readouterr()
    assert main(["report", str(tmp_path / "run")]) == 0
    markdown = capsys.readouterr().out
    assert "- needle_1: data error: " in markdown and "- needle_2: data error: " in markdown


@pytest.mark.parametrize("case, layout", [("mvbench_main", "main"), ("mvbench_video", "video")])
def test_mvbench_layout_is_detected_and_recorded(case, layout, tmp_path, video, capsys):
    root = materialise(case, tmp_path, videos=video)
    items, report, _ = run_eval(root, "mvbench", tmp_path / "run", capsys)
    assert read_run(tmp_path / "run").config["benchmark_settings"] == {"layout": layout}
    tvqa = items["episodic_reasoning_0"]
    if layout == "main":
        assert Path(tvqa["sample"]["video_path"]).is_dir() and tvqa["status"] == "done"  # JPEG frame folder
        assert items["fine_grained_pose_0"]["error"].startswith("missing video file: ")  # NTU removed from the hub
        assert "also looked for" in items["fine_grained_pose_0"]["error"]
    else:
        assert tvqa["sample"]["video_path"].endswith("tvqa/video_fps3_hq_segment/castle_s01e01_seg02_clip_00_1.0_7.5.mp4")
        assert items["fine_grained_pose_0"]["status"] == "done"  # nturgbd_convert/ is in this revision
    assert report["breakdowns"]["task"]["action_sequence"]["total"] == 2


def test_lvbench_missing_video_says_what_was_tried(tmp_path, video, capsys):
    for case in ("lvbench_upstream", "lvbench_chunks"):
        root = materialise(case, tmp_path, videos=video)
        items, _, _ = run_eval(root, "lvbench", tmp_path / f"run-{case}", capsys)
        error = items["5"]["error"]  # Xh2xAgk-6mI: download failed / chunk not unzipped
        assert error.startswith("missing video file: ") and "Xh2xAgk-6mI" in error
        assert f"{root.absolute()}/video_chunks/**/Xh2xAgk-6mI.*" in error
        assert "video2dataset" in error and "scripts/videos/*/<n>.json" in error


def test_cgbench_mini_by_default_full_on_request(tmp_path, video, capsys):
    root = materialise("cgbench", tmp_path, videos=video)
    items, report, printed = run_eval(root, "cgbench", tmp_path / "run", capsys)
    assert len(items) == 3 and read_run(tmp_path / "run").config["benchmark_settings"] == {"split": "mini"}
    assert sorted(report["breakdowns"]["duration"]) == ["0 ~ 10", "10 ~ 20", "60+"]
    full, full_report, printed_full = run_eval(root, "cgbench", tmp_path / "run-full", capsys, "--cgbench-split", "full")
    check_against_oracle(full, oracle_cgbench(root, "cgbench.json"), full_report)
    assert read_run(tmp_path / "run-full").config["benchmark_settings"] == {"split": "full"}
    assert printed.split("(config ")[1][:16] != printed_full.split("(config ")[1][:16]
    assert main(["eval", "--benchmark", "mlvu", "--data-root", str(root), "--out", str(tmp_path / "x"),
                 "--backend", "scripted", "--cgbench-split", "full"]) == 2
    assert "--cgbench-split applies to --benchmark cgbench only" in capsys.readouterr().err


def test_longvideobench_null_subtitle_end_takes_the_duration(tmp_path, video, capsys):
    root = materialise("longvideobench", tmp_path, videos=video)
    items, _, _ = run_eval(root, "longvideobench", tmp_path / "run", capsys, "--subtitles")
    subtitles = items["ZpZQa2dvzaE_0"]["sample"]["subtitles"]
    # 3 entries, the last [34.0, null] -> [34.0, duration 497.73) minus the 31.5 s offset: all 3 lines cover the
    # 4-second video, so the fast view shows 3 (a dropped entry would leave 2)
    assert subtitles["status"] == "ok" and subtitles["num_lines"] == 3 and subtitles["num_skipped"] == 0
    assert subtitles["fast_view_lines"] == 3
