import json

import pytest

from love_r1.data import AnnotationError, QAItem, load_items
from love_r1.data._items import question_block, split_of
from love_r1.errors import DataError
from love_r1.interval import Interval


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_needle_rows_load(tmp_path):
    path = _write(tmp_path / "a.jsonl", [{
        "qid": "q1", "video": "videos/v.mp4", "question": "What?", "options": ["A. x", "B. y"], "answer": "b",
        "evidence": [[3.0, 5.5]], "duration_seconds": 40.0,
    }])
    (item,) = load_items(path)
    assert item == QAItem(qid="q1", video_path="videos/v.mp4", question="What?", options=("A. x", "B. y"), gold="B",
                          evidence=(Interval(3.0, 5.5),), duration_seconds=40.0)
    assert item.video_id == "v"


def test_cgbench_rows_are_adapted(tmp_path):
    path = _write(tmp_path / "cg.jsonl", [{
        "qid": 7, "video_uid": "abc", "question": "Who?", "choices": ["a man", "a dog", "a cat"],
        "right_answer": "C", "clue_intervals": [[20, 10], [40, 45]], "duration": 300,
    }])
    (item,) = load_items(path)
    assert item.qid == "7" and item.video_path == "abc.mp4" and item.gold == "C" and item.source == "cgbench"
    assert item.options == ("A. a man", "B. a dog", "C. a cat")
    assert item.evidence == (Interval(10, 20), Interval(40, 45))  # endpoints reordered
    assert item.duration_seconds == 300.0


@pytest.mark.parametrize(("row", "message"), [
    ({"qid": "q", "video": "v.mp4", "question": "?", "options": ["A. x"], "answer": "C"},
     r"bad\.jsonl:1: answer must be one of the option letters \['A'\]; got 'C'"),
    ({"qid": "q", "video": "v.mp4", "question": "?", "answer": "A"},
     r"bad\.jsonl:1: 'options' is missing \(format 'needle'\); fields present: \['answer', 'qid'"),
    ({"qid": "q", "video": "v.mp4", "question": "?", "options": ["A. x"], "answer": "A", "evidence": [[1]]},
     r"bad\.jsonl:1: evidence\[0\] must be \[start_seconds, end_seconds\]: .*; got \[1\]"),
    ({"qid": "q", "video": "v.mp4", "question": "?", "options": ["A. x"], "answer": "A", "evidence": [[-1, 4]]},
     r"bad\.jsonl:1: evidence\[0\] must be .*; got \[-1, 4\]"),
])
def test_bad_rows_name_file_and_field(tmp_path, row, message):
    path = _write(tmp_path / "bad.jsonl", [row])
    with pytest.raises(AnnotationError, match=message) as info:
        load_items(path)
    assert isinstance(info.value, DataError) and info.value.path == str(path) and info.value.line == 1


def test_duplicate_qids_are_an_error(tmp_path):
    row = {"qid": "q", "video": "v.mp4", "question": "?", "options": ["A. x"], "answer": "A"}
    with pytest.raises(AnnotationError, match=r"qid must be unique; items 0 and 1 share it; got 'q'"):
        load_items(_write(tmp_path / "d.jsonl", [row, row]))


def test_split_is_deterministic_and_roughly_proportional():
    qids = [f"q{i}" for i in range(2000)]
    first = [split_of(q, val_fraction=0.1) for q in qids]
    assert first == [split_of(q, val_fraction=0.1) for q in qids]
    assert 140 < first.count("val") < 260
    assert all(split_of(q, val_fraction=0.0) == "train" for q in qids[:50])
    assert [split_of(q, val_fraction=0.1, salt="x") for q in qids] != first


def test_question_block_matches_grpo_layout():
    item = QAItem(qid="q", video_path="v.mp4", question="What colour?", options=("A. red", "B. blue"), gold="A")
    assert question_block(item) == "What colour?\nOptions:\nA. red\nB. blue\n"
