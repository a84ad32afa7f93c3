"""LongVideoBench parquet copy + ``position`` evidence; MLVU json and parquet copies with both key spellings."""

from __future__ import annotations

import pytest

from love_r1.eval.benchmarks import make_benchmark
from love_r1.eval.benchmarks.longvideobench import position_evidence
from love_r1.eval.benchmarks.mlvu import task_name
from tests.helpers.eval import place, write_json, write_parquet

SINGLE = "\nProvide only the single option letter (e.g., A, B, C, D, etc.) as the answer."
LVB_SUFFIX = "\nAnswer with the option's letter from the given choices directly."


def _lvb_row(**extra):
    row = {"id": "vid_0", "video_id": "vid", "video_path": "vid.mp4", "subtitle_path": "vid_en.json",
           "question": "When the bell rings, who stands?", "question_category": "E2O", "topic_category": "NP",
           "level": "L2-Relation", "duration_group": 15, "duration": 4.0, "starting_timestamp_for_subtitles": 0.0,
           "correct_choice": 2}
    row.update(extra)
    return row


def test_position_evidence_hand_computed():
    # frames 10, 11, 12 at 5 fps -> [2.0, 2.2) [2.2, 2.4) [2.4, 2.6) merged; frame 30 -> [6.0, 6.2)
    assert position_evidence([12, 10, 11, 30], fps=5.0) == ((2.0, 2.6), (6.0, 6.2))
    assert position_evidence(900, fps=30.0) == ((30.0, 30.033333),)
    assert position_evidence("[3, 5]", fps=2.0) == ((1.5, 2.0), (2.5, 3.0))
    with pytest.raises(ValueError, match="fps must be > 0"):
        position_evidence([1], fps=0.0)


def test_longvideobench_parquet_options_padding_and_position(tmp_path, video_bank):
    root = tmp_path / "lvb"
    rows = [
        _lvb_row(option0="sits", option1="runs", option2="waves", option3="N/A", option4="N/A",
                 position=[10, 11, 12, 30], fps=None),  # no fps: the video's 5 fps
        _lvb_row(id="vid_1", option0="a", option1="b", option2="c", option3="d", option4="e", correct_choice=4,
                 position=[90], fps=30.0),  # fps field wins
        _lvb_row(id="gone_0", video_path="gone.mp4", video_id="gone", option0="x", option1="y", option2="N/A",
                 option3="N/A", option4="N/A", correct_choice=0, position=[10], fps=None),  # no video, no fps: no evidence
    ]
    write_parquet(root / "validation-00000-of-00001.parquet", rows)
    place(video_bank["v1"], root / "videos" / "vid.mp4")
    first, second, third = make_benchmark("longvideobench", root).load()
    assert first.options == ("A. sits", "B. runs", "C. waves") and first.gold == "C"
    assert first.question_text == "When the bell rings, who stands?\nA. sits\nB. runs\nC. waves" + LVB_SUFFIX
    assert first.evidence == ((2.0, 2.6), (6.0, 6.2)) and first.subtitle_path is None  # subtitles optional
    assert len(second.options) == 5 and second.gold == "E" and second.evidence == ((3.0, 3.033333),)
    assert third.evidence == () and third.gold == "A"
    assert first.categories["duration"] == "15"


def test_longvideobench_json_position_and_bad_choice(tmp_path, video_bank):
    root = tmp_path / "lvbj"
    write_json(root / "lvb_val.json", [_lvb_row(candidates=["x", "y", "z"], position=[5])])
    place(video_bank["v2"], root / "videos" / "vid.mp4")
    (sample,) = make_benchmark("longvideobench", root).load()
    assert sample.evidence == ((1.0, 1.2),)
    write_json(root / "lvb_val.json", [_lvb_row(candidates=["x", "N/A"], correct_choice=1)])
    (bad,) = make_benchmark("longvideobench", root).load()  # one bad record fails alone, as a data error
    assert bad.qid == "vid_0" and bad.gold == "" and "correct_choice 1 outside 0..0" in bad.data_error
    assert bad.video_id == "vid" and bad.options == ("A. x",) and "lvb_val.json" in bad.data_error


def test_mlvu_task_names_of_both_copies():
    assert [task_name(t) for t in ("plotQA", "PQA", "anomaly_reco", "AR", "TR", "topic_reasoning", "count")] == [
        "plotQA", "plotQA", "anomaly_reco", "anomaly_reco", "topic_reasoning", "topic_reasoning", "count"]


@pytest.mark.parametrize("keys", [("video_name", "task_type"), ("video", "question_type")])
def test_mlvu_parquet_both_key_spellings(tmp_path, video_bank, keys):
    video_key, task_key = keys
    root = tmp_path / "mlvu"
    write_parquet(root / "test-00000-of-00001.parquet", [
        {video_key: "a.mp4", "duration": 200.0, "question": "Which?\n(A) x\n(B) y\n(C) z\n(D) w",
         "candidates": ["x", "y", "z", "w"], "answer": "y", task_key: "PQA", "question_id": 17},
        {video_key: "b.mp4", "duration": 50.0, "question": "Count?\n(A) 1\n(B) 2\n(C) 3\n(D) 4",
         "answer": "(D)", task_key: "count", "question_id": 18},  # no candidates: from the question
    ])
    place(video_bank["v1"], root / "video" / "a.mp4")
    place(video_bank["v2"], root / "video" / "b.mp4")
    first, second = make_benchmark("mlvu", root).load()
    assert (first.qid, first.question, first.gold, first.categories["task"]) == ("17", "Which?", "B", "plotQA")
    assert first.question_text == "Which?\nOptions:\n(A) x\n(B) y\n(C) z\n(D) w" + SINGLE
    assert first.video_path == (root / "video" / "a.mp4").absolute() and first.video_path.is_file()
    assert second.options == ("A. 1", "B. 2", "C. 3", "D. 4") and second.gold == "D"
    assert second.categories == {"task": "count", "duration": "<3min"}


def test_mlvu_upstream_json_wins_over_a_parquet(mlvu_root):
    write_parquet(mlvu_root / "stray.parquet", [{"video_name": "z.mp4", "question": "?", "candidates": ["a", "b"],
                                                 "answer": "a", "task_type": "count"}])
    samples = make_benchmark("mlvu", mlvu_root).load()
    assert [s.qid for s in samples] == ["plotQA_0", "plotQA_1", "plotQA_2", "plotQA_3", "needle_0"]
    assert samples[4].video_path.parent.name == "2_needle"
