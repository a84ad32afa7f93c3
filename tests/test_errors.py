"""One error base for bad data files: every domain's error is a ``DataError`` with one wording."""

from __future__ import annotations

import pickle

import pytest

from love_r1.data import AnnotationError
from love_r1.errors import DataError
from love_r1.eval.subtitles import SubtitleError
from love_r1.train.records import RecordError


def test_every_bad_data_file_error_is_a_data_error(tmp_path):
    from love_r1.eval.benchmarks import make_benchmark
    from love_r1.train.collate import TrainingDataError

    for cls in (AnnotationError, RecordError, SubtitleError, TrainingDataError):
        assert issubclass(cls, DataError) and issubclass(cls, ValueError), cls
    with pytest.raises(DataError, match="no annotations.jsonl under the data root") as info:
        make_benchmark("needle", tmp_path).load()  # the benchmark adapters raise the base itself
    assert info.value.path == str(tmp_path.absolute()) and "synth needle" in info.value.hint


@pytest.mark.parametrize(("kwargs", "text"), [
    ({"problem": "must be one of ['A', 'B']", "path": "qa.jsonl", "line": 3, "field": "answer", "value": "C"},
     "qa.jsonl:3: answer must be one of ['A', 'B']; got 'C'"),
    ({"problem": "is missing", "path": "a.json", "field": "'question'"}, "a.json: 'question' is missing"),
    ({"problem": "must be a string", "field": "problem", "value": None}, "problem must be a string; got None"),
    ({"problem": "not valid JSON", "line": 7, "hint": "fix the line"}, "line 7: not valid JSON (hint: fix the line)"),
    ({"problem": "must be short", "field": "text", "value": "x" * 500}, "text must be short; got '" + "x" * 118 + "…"),
])
def test_one_wording_file_line_field_value_hint(kwargs, text):
    error = DataError(kwargs.pop("problem"), **kwargs)
    assert str(error) == text
    assert str(pickle.loads(pickle.dumps(error))) == text  # crosses process boundaries (data loader workers)


def test_record_errors_become_issues_of_their_line(tmp_path):
    from love_r1.train.records import load_records

    path = tmp_path / "r.jsonl"
    path.write_text('{"path": "v.mp4", "problem": "Q?", "problem_type": "essay", "solution": "A"}\n', encoding="utf-8")
    _, (issue,) = load_records(path)
    assert str(issue) == ("line 1: problem_type: must be one of ['OCR', 'free-form', 'multiple choice', 'numerical', "
                          "'regression', 'tal']; got 'essay'")


def test_the_command_line_exits_2_on_a_data_error(monkeypatch, capsys):
    import dataclasses

    from love_r1 import cli
    from love_r1.cli import sample

    def broken(options):
        raise RecordError("must be a string", field="problem", value=3)

    monkeypatch.setattr(sample, "COMMAND", dataclasses.replace(sample.COMMAND, function=broken))
    assert cli.main(["sample", "any.mp4"]) == 2
    assert capsys.readouterr().err.strip() == "error: problem must be a string; got 3"


def test_a_malformed_caption_file_names_its_line(tmp_path):
    from love_r1.data._captions import caption_file_name, read_captions

    path = tmp_path / caption_file_name("videos/v.mp4")
    path.write_text('{"start_seconds": 0, "end_seconds": 10, "text": "a cat"}\n{"start_seconds": 10}\n',
                    encoding="utf-8")
    with pytest.raises(DataError, match=r"v\.mp4\.jsonl:2: caption lines must have .*missing \['end_seconds', 'text'\]"):
        read_captions(tmp_path, "videos/v.mp4")
    path.write_text("{oops\n", encoding="utf-8")
    with pytest.raises(DataError, match=r":1: not valid JSON"):
        read_captions(tmp_path, "videos/v.mp4")


def test_a_bad_eval_manifest_and_a_bad_jsonl_name_their_line(tmp_path):
    from love_r1.data import read_eval_manifest
    from love_r1.data._assemble import read_jsonl

    manifest = tmp_path / "eval.jsonl"
    manifest.write_text('{"video_id": "a", "video_path": "a.mp4"}\n{"video_id": "b"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"eval\.jsonl:2: 'video_path' is missing"):
        read_eval_manifest(manifest)
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"qid": 1}\n\n{oops}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"rows\.jsonl:3: not valid JSON"):
        read_jsonl(rows)


def test_a_line_that_is_not_json_in_an_annotation_file_is_an_annotation_error(tmp_path):
    from love_r1.data import load_items

    path = tmp_path / "qa.jsonl"
    path.write_text('{"qid": "q", "video": "v.mp4", "question": "?", "options": ["A. x"], "answer": "A"}\n{oops\n',
                    encoding="utf-8")
    with pytest.raises(AnnotationError, match=r"qa\.jsonl:2: not valid JSON"):
        load_items(path)
