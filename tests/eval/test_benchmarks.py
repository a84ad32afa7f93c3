"""Each adapter reads its benchmark's real file format; question texts are pinned byte for byte."""

from __future__ import annotations

import pytest

from love_r1.errors import DataError
from love_r1.eval.benchmarks import BENCHMARK_NAMES, make_benchmark
from love_r1.eval.subtitles import SubtitleLine, read_subtitle_file
from tests.helpers.eval import place, write_json, write_parquet

SINGLE = "\nProvide only the single option letter (e.g., A, B, C, D, etc.) as the answer."


def test_registry_is_closed():
    assert BENCHMARK_NAMES == ("videomme", "lvbench", "mlvu", "longvideobench", "mvbench", "cgbench", "needle")
    with pytest.raises(ValueError, match="unknown benchmark 'video'"):
        make_benchmark("video", ".")  # no substring matching
    with pytest.raises(ValueError, match="prompt preset"):
        make_benchmark("mlvu", ".", prompt_preset="lmms")
    with pytest.raises(ValueError, match="no subtitles"):
        make_benchmark("mlvu", ".", subtitles=True)


def test_videomme_parquet_and_reference_text(tmp_path, video_bank):
    root = tmp_path / "vmme"
    write_parquet(root / "videomme" / "test-00000-of-00001.parquet", [{
        "video_id": "001", "duration": "short", "domain": "Knowledge", "sub_category": "Humanity & History",
        "url": "u", "videoID": "abc123", "question_id": "001-1", "task_type": "Counting Problem",
        "question": "How many cars appear?", "options": ["A. 1.", "B. 2.", "C. 3.", "D. 4."], "answer": "C"}])
    place(video_bank["v1"], root / "data" / "abc123.mp4")
    (root / "subtitle").mkdir()
    (root / "subtitle" / "abc123.srt").write_text(
        "1\n00:00:01,000 --> 00:00:02,500\n<font color=\"#fff\">Hello there</font>\n\n"
        "2\n00:00:03,000 --> 00:00:04,000\nbye\n", encoding="utf-8")
    (sample,) = make_benchmark("videomme", root).load()
    assert sample.qid == "001-1" and sample.gold == "C" and sample.gold_index == 2
    assert sample.video_path == (root / "data" / "abc123.mp4").absolute() and sample.video_path.is_file()
    assert sample.duration_bucket == "short"
    assert sample.categories["duration/task_type"] == "short/Counting Problem"
    assert sample.question_text == "How many cars appear?\nA. 1.\nB. 2.\nC. 3.\nD. 4.\n" + SINGLE
    with_subs = make_benchmark("videomme", root, subtitles=True).load()[0]
    # subtitles are chosen per prompt from the fast view's frame times (runner), never baked into the text
    assert with_subs.question_text == sample.question_text
    assert with_subs.subtitle_path == root.absolute() / "subtitle" / "abc123.srt"
    assert read_subtitle_file(with_subs.subtitle_path).lines[0] == SubtitleLine(1.0, 2.5, "Hello there")
    plain = make_benchmark("videomme", root, prompt_preset="plain").load()[0].question_text
    assert plain == "How many cars appear?\nA. 1.\nB. 2.\nC. 3.\nD. 4." + SINGLE


def test_lvbench_parquet_embedded_options_multilabel(tmp_path):
    root = tmp_path / "lvb"
    question = "What is the man holding?\n(A) a cup\n(B) a phone\n(C) a book\n(D) a key"
    write_parquet(root / "data" / "test-00000-of-00001.parquet", [{
        "key": "yt1", "type": "sports", "uid": "7", "question": question, "answer": "B",
        "question_type": ["entity recognition", "reasoning"], "time_reference": "01:05-01:10"}])
    (sample,) = make_benchmark("lvbench", root).load()
    assert sample.options == ("A. a cup", "B. a phone", "C. a book", "D. a key")
    assert sample.question == "What is the man holding?"
    assert sample.categories["ability"] == ("ER", "Rea")
    assert sample.evidence == ((65.0, 70.0),)
    assert sample.question_text == question + "\nRespond with only the letter (A, B, C, or D) of the correct option."
    assert sample.video_path.name == "yt1.mp4" and "all_videos" in str(sample.video_path)


def test_lvbench_upstream_jsonl(tmp_path):
    root = tmp_path / "lvb_up"
    root.mkdir()
    (root / "video_info.meta.jsonl").write_text(
        '{"key": "k1", "type": "tv", "qa": [{"uid": 1, "question": "Q?\\n(A) x\\n(B) y\\n(C) z\\n(D) w", '
        '"answer": "D", "question_type": ["summarization"], "time_reference": ""}]}\n', encoding="utf-8")
    (sample,) = make_benchmark("lvbench", root).load()
    assert (sample.qid, sample.gold, sample.categories["ability"]) == ("1", "D", ("Sum",))


def test_mlvu_upstream_json_reference_text(mlvu_root):
    samples = make_benchmark("mlvu", mlvu_root).load()
    assert len(samples) == 5
    first = samples[0]
    assert first.qid == "plotQA_0" and first.gold == "B" and first.video_path.is_file()
    assert first.question_text == ("What happens first?\nOptions:\n(A) a cat\n(B) a dog\n(C) a cow\n(D) a pig"
                                   + SINGLE)
    assert first.options[0] == "A. a cat"
    assert {s.categories["task"] for s in samples} == {"plotQA", "needle"}


def test_mlvu_parquet_copy_with_letters(tmp_path):
    root = tmp_path / "mlvu_pq"
    write_parquet(root / "test-00000.parquet", [{
        "video_name": "v.mp4", "duration": 400.0, "question": "Which?\n(A) x\n(B) y", "candidates": ["x", "y"],
        "answer": "(B)", "task_type": "count", "question_id": "count_3"}])
    (sample,) = make_benchmark("mlvu", root).load()
    assert (sample.qid, sample.question, sample.gold, sample.duration_bucket) == (
        "count_3", "Which?", "B", "3-10min")


def test_longvideobench_json(tmp_path):
    root = tmp_path / "lvb_val"
    write_json(root / "lvb_val.json", [{
        "id": "vid_0", "video_id": "vid", "video_path": "vid.mp4", "subtitle_path": "vid_en.json",
        "question": "When the red car passes, what does the man do?", "candidates": ["waves", "runs", "sits"],
        "correct_choice": 1, "question_category": "E2O", "topic_category": "NP-News-Programs", "level": "L2-Relation",
        "duration_group": 600, "duration": 300.0, "starting_timestamp_for_subtitles": 10.0}])
    write_json(root / "subtitles" / "vid_en.json", [{"timestamp": [12.0, 14.0], "text": "hello"},
                                                    {"start": "00:00:20.0", "end": "00:00:21.0", "line": "bye"}])
    (sample,) = make_benchmark("longvideobench", root).load()
    assert sample.gold == "B" and sample.duration_bucket == "600"
    assert sample.question_text == ("When the red car passes, what does the man do?\nA. waves\nB. runs\nC. sits"
                                    "\nAnswer with the option's letter from the given choices directly.")
    subs = make_benchmark("longvideobench", root, subtitles=True).load()[0]
    assert subs.question_text == sample.question_text and subs.subtitle_offset_seconds == 10.0
    parsed = read_subtitle_file(subs.subtitle_path, offset_seconds=subs.subtitle_offset_seconds)
    assert parsed.lines == (SubtitleLine(2.0, 4.0, "hello"), SubtitleLine(10.0, 11.0, "bye"))


def test_mvbench_answer_text_to_letter(tmp_path):
    root = tmp_path / "mvb"
    write_json(root / "json" / "action_antonym.json", [{
        "video": "1.webm", "question": "What is the action?", "candidates": ["push", "pull", "none"],
        "answer": "pull"}])
    (sample,) = make_benchmark("mvbench", root).load()
    assert sample.qid == "action_antonym_0" and sample.gold == "B"
    assert sample.question_text == "What is the action?\nOptions:\n(A) push\n(B) pull\n(C) none" + SINGLE
    assert str(sample.video_path).endswith("video/ssv2_video/1.webm")


def test_cgbench_and_needle(tmp_path, needle_root):
    root = tmp_path / "cg"
    write_json(root / "cgbench.json", [{
        "qid": 5, "video_uid": "u1", "question": "What color?", "choices": ["red", "blue"], "right_answer": "A",
        "duration": 1900.0, "domain": "Life", "sub_category": "Cooking", "clue_intervals": [[10.0, 20.0]]}])
    with pytest.raises(DataError, match="no cgbench_mini.json"):  # the default question set is mini
        make_benchmark("cgbench", root).load()
    (sample,) = make_benchmark("cgbench", root, split="full").load()
    assert sample.evidence == ((10.0, 20.0),) and sample.duration_bucket == "30 ~ 40"  # 31.7 minutes
    assert sample.question_text == "What color?\nA. red\nB. blue" + SINGLE
    needles = make_benchmark("needle", needle_root).load()
    assert len(needles) == 4 and all(s.video_path.is_file() and s.evidence for s in needles)
    first = needles[0]
    assert first.question_text == first.question + "\n" + "\n".join(first.options) + SINGLE


def test_sample_validation_and_ordering(tmp_path):
    from love_r1.eval.records import Sample, order_by_video

    with pytest.raises(ValueError, match="gold letter 'C' is not one of the 2 option letters"):
        Sample(qid="q", video_id="v", video_path=tmp_path, question="?", options=("A. x", "B. y"), gold="C")
    samples = [Sample(qid=str(i), video_id=v, video_path=tmp_path, question="?", options=("A. x",),
                      gold="A") for i, v in enumerate("abab")]
    assert [s.qid for s in order_by_video(samples)] == ["0", "2", "1", "3"]
    assert Sample.from_dict(samples[0].to_dict()) == samples[0]


def test_missing_annotations_error_names_root(tmp_path):
    with pytest.raises(DataError, match=r"no Video-MME parquet .* under the data root"):
        make_benchmark("videomme", tmp_path).load()
    with pytest.raises(DataError, match=r"no annotations.jsonl .*hint: write the data with `love-r1 synth needle"):
        make_benchmark("needle", tmp_path).load()  # needle has no --download: the hint does not offer it
    with pytest.raises(DataError, match=r"no lvb_val.json .*or pass --download"):
        make_benchmark("longvideobench", tmp_path).load()
    write_json(tmp_path / "lvb_val.json", [{"id": "x"}, {"id": "y", "candidates": ["a", "b"], "correct_choice": 0,
                                                         "question": "?", "video_path": "y.mp4"}])
    bad, good = make_benchmark("longvideobench", tmp_path).load()  # the bad record fails alone
    assert bad.qid == "x" and "'candidates' are missing (and so is 'option0'..)" in bad.data_error and bad.video_path is None
    assert good.data_error is None and good.gold == "A"


def test_download_offline_is_a_clear_error(tmp_path):
    # conftest sets HF_HUB_OFFLINE=1: the hub client refuses at once
    with pytest.raises(DataError, match="could not download the mlvu annotations from 'MLVU/MVLU'"):
        make_benchmark("mlvu", tmp_path).download()
    with pytest.raises(DataError, match="no hub repository"):
        make_benchmark("needle", tmp_path).download()
