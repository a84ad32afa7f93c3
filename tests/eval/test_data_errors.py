"""Annotation bugs fail their own item only; the gold rules of MLVU/MVBench; CG-Bench groups; null subtitle ends."""

from __future__ import annotations

import json

import pytest

from love_r1.errors import DataError
from love_r1.eval.benchmarks import make_benchmark
from love_r1.eval.benchmarks.cgbench import duration_group
from love_r1.eval.benchmarks.lvbench import youtube_id
from love_r1.eval.benchmarks.mlvu import gold_index
from love_r1.eval.subtitles import SubtitleLine, parse_lvb_detailed
from tests.helpers.eval import write_json


@pytest.mark.parametrize("answer, candidates, expected", [
    ("Three", ["Six", "Three", "Three", "Eight"], 2),  # MLVU plotQA_335: the LAST equal candidate (official)
    ("Pharmacy", ["Pharmacy", "Restaurant", "Coffee shop", "Pharmacy"], 3),
    ("near the window ", ["in the closet", "near the window ", "under the bed"], 1),  # ego_17: both padded
    ("near the window", ["in the closet", "near the window "], 1),  # only one side padded: compared stripped
    ("", ["", "", "", ""], 3),  # topic_reasoning_26: empty texts, the official loop ends on D
    ("(C)", ["a", "b", "c", "d"], 2), ("B", ["x", "y"], 1),  # the parquet copy's letters
])
def test_gold_index_follows_the_official_last_match(answer, candidates, expected):
    assert gold_index(answer, candidates) == expected


def test_answer_outside_the_candidates_is_a_data_error():
    with pytest.raises(DataError, match=r"answer must be one of the candidates \[.*\] or an option letter; got 'Catching a flying drone quadcopter'"):
        gold_index("Catching a flying drone quadcopter", ["Fishing", "Catching the drone"])
    with pytest.raises(DataError, match="answer must be one of the candidates .*; got 'E'"):
        gold_index("E", ["a", "b", "c", "d"])


def test_a_bad_record_fails_alone_and_duplicate_ids_do_not_overwrite(tmp_path):
    root = tmp_path / "needle"
    rows = [{"qid": "q1", "video": "v.mp4", "question": "?", "options": ["A. x", "B. y"], "answer": "B"},
            {"qid": "q2", "video": "v.mp4", "question": "?", "options": ["A. x", "B. y"], "answer": "Z"},
            {"qid": "q3", "video": "v.mp4", "options": ["A. x"], "answer": "A"},  # no question field
            {"qid": "q1", "video": "w.mp4", "question": "again", "options": ["A. x"], "answer": "A"}]
    root.mkdir()
    (root / "annotations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    good, bad_answer, missing_field, duplicate = make_benchmark("needle", root).load()
    assert good.data_error is None and good.gold == "B"
    assert bad_answer.gold == "" and bad_answer.options == ("A. x", "B. y")
    assert "question 'q2': answer must be one of the option letters ['A', 'B']; got 'Z'" in bad_answer.data_error
    assert "'question' is missing" in missing_field.data_error and missing_field.video_id == "v.mp4"
    assert duplicate.qid == "q1#2" and "appears more than once" in duplicate.data_error
    with pytest.raises(ValueError, match="gold must be ''"):
        type(good)(qid="x", video_id="v", video_path=None, question="?", options=(), gold="A", data_error="bad")


def test_mvbench_layout_without_videos_is_main_and_missing_paths_are_recorded(tmp_path):
    write_json(tmp_path / "json" / "action_antonym.json", [{"video": "1.webm", "question": "?",
                                                            "candidates": ["a", "b"], "answer": "b"}])
    bench = make_benchmark("mvbench", tmp_path)
    (sample,) = bench.load()
    assert bench.layout() == "main" and bench.run_settings() == {"layout": "main"}
    assert bench.video_lookups[str(sample.video_path)] == (
        str(tmp_path / "video/ssv2_video/1.webm"), str(tmp_path / "video/data0613/ssv2_video/1.webm"))
    (tmp_path / "ssv2_video_mp4").mkdir()
    (tmp_path / "ssv2_video_mp4" / "1.webm").write_bytes(b"x")
    assert make_benchmark("mvbench", tmp_path).layout() == "video"  # more annotated videos exist there


@pytest.mark.parametrize("seconds, group", [
    (None, ""), (0.0, "0 ~ 10"), (600.0, "0 ~ 10"), (600.01, "10 ~ 20"), (1800.0, "20 ~ 30"), (3600.0, "50 ~ 60"),
    (3600.5, "60+"),
])
def test_cgbench_duration_groups_are_the_official_right_closed_bins(seconds, group):
    assert duration_group(seconds) == group


def test_youtube_ids_of_video2dataset_urls():
    assert youtube_id("https://www.youtube.com/watch?v=Cm73ma6Ibcs") == "Cm73ma6Ibcs"
    assert youtube_id("https://youtu.be/Cm73ma6Ibcs") == "Cm73ma6Ibcs"
    assert youtube_id("https://example.com/video.mp4") is None


def test_longvideobench_null_end_takes_the_video_duration_then_the_offset():
    entries = [{"timestamp": [31.5, 32.9], "text": "a"}, {"timestamp": [34.0, None], "text": "b"}]
    parsed = parse_lvb_detailed(entries, offset_seconds=31.5, video_duration_seconds=497.73)
    # official loader / lmms-eval: end = duration, then both ends minus starting_timestamp_for_subtitles
    assert parsed.lines == (SubtitleLine(0.0, pytest.approx(1.4), "a"), SubtitleLine(2.5, pytest.approx(466.23), "b"))
    unknown = parse_lvb_detailed(entries, offset_seconds=31.5)
    assert len(unknown.lines) == 1 and "end is null and the video's duration is unknown" in unknown.skipped[0].reason


def test_mvbench_download_fetches_the_revision_of_the_videos_present(tmp_path, monkeypatch):
    import huggingface_hub

    calls = []
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda **kwargs: calls.append(kwargs))
    make_benchmark("mvbench", tmp_path).download()
    (tmp_path / "star" / "Charades_segment").mkdir(parents=True)
    make_benchmark("mvbench", tmp_path).download()
    (tmp_path / "video").mkdir()
    make_benchmark("mvbench", tmp_path).download()
    assert [c["revision"] for c in calls] == [None, "video", None]
    assert calls[1]["repo_id"] == "OpenGVLab/MVBench" and calls[1]["allow_patterns"] == ["json/*.json", "*.md"]
