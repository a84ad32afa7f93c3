"""Records: published formats, trajectories -> decoupled steps, and the pre-flight check / `data check`."""

from __future__ import annotations

import json

from love_r1.cli import main
from love_r1.interval import Interval
from love_r1.prompts import constants
from love_r1.train.records import build_manifest, check_records, load_records, records_from_episode
from tests.helpers.train import grpo_records, sft_records, write_jsonl


def test_sft_and_grpo_formats_are_recognised(tmp_path):
    records, issues = load_records(write_jsonl(tmp_path / "r.jsonl", sft_records() + grpo_records()))
    assert issues == []
    assert [r.kind for r in records] == ["qa", "grounding", "cot", "cot", "grpo", "grpo"]
    assert [r.decision_instruction for r in records[:4]] == [False, False, True, True]
    assert records[1].evidence == (Interval(3, 6),) and records[1].grounding
    grpo = records[4]
    assert grpo.gold == "A" and grpo.line == 5
    # grpo.py: problem + "Options:\n" + each option + "\n", then the per-type template
    assert grpo.question_text == "Which number?Options:\nA. one\nB. two\n" + constants.TYPE_TEMPLATE["multiple choice"]


def test_json_list_is_read_with_item_numbers(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(sft_records()[:2]))
    records, issues = load_records(path)
    assert [r.line for r in records] == [1, 2] and issues == []


def test_trajectory_becomes_one_record_per_step():
    episode = {
        "episode_id": "q1", "video": {"path": "/v/a.mp4", "duration_seconds": 8.0}, "question": "What?",
        "options": ["A. x", "B. y"], "answer_instruction": "\nLetter.", "gold": "B", "evidence": [[2, 4]],
        "steps": [
            {"index": 0, "kind": "zoom", "raw_text": "I need to zoom in on the video.\n\n\\boxed{[2, 4]}",
             "assistant_prefix": "", "clips_in_prompt": []},
            {"index": 1, "kind": "forced_answer", "raw_text": "\\boxed{B}", "assistant_prefix": "I get the answer.\n\n",
             "clips_in_prompt": [[0, 8]]},
        ],
        "error": None,
    }
    first, second = records_from_episode(episode, line=7)
    assert first.kind == second.kind == "step"
    assert first.question_text == "What?\nA. x\nB. y\nLetter."
    assert first.clips == () and second.clips == (Interval(0, 8),)
    assert second.target == "I get the answer.\n\n\\boxed{B}" and second.assistant_prefix == "I get the answer.\n\n"
    assert first.source_id == "q1#0" and second.evidence == (Interval(2, 4),) and not second.grounding


def test_check_lists_every_problem_with_its_line(tmp_path, video_root):
    rows = sft_records()[:1] + [
        {"video": "missing.mp4", "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},
        {"video": "a.mp4", "cot_data": {}, "zoomin_intervals": [[5, 30]],
         "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "I get the answer.\n\n\\boxed{A}"}]},
        {"video": "a.mp4", "cot_data": {}, "zoomin_intervals": [[1, 3]],
         "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "no box here"}]},
        {"path": "a.mp4", "problem": "p", "options": ["A. x", "B. y"], "solution": "<answer>E</answer>",
         "zoomin_intervals": []},
    ]
    path = write_jsonl(tmp_path / "r.jsonl", rows)
    with path.open("a") as f:
        f.write("{not json\n")
    manifest = check_records(path, video_root=video_root)
    assert [r.line for r in manifest.records] == [1]
    by_line = {i.line: i for i in manifest.issues}
    assert sorted(by_line) == [2, 3, 4, 5, 6]
    assert "missing video" in by_line[2].message
    assert by_line[3].field == "zoomin_intervals[0]" and "outside the video" in by_line[3].message
    assert by_line[4].field == "target"
    assert by_line[5].field == "answer" and "'E'" in by_line[5].message
    assert by_line[6].field == "json"


def test_unreadable_video_is_skipped_not_fatal(tmp_path):
    (tmp_path / "broken.mp4").write_bytes(b"not a video at all")
    records, _ = load_records(write_jsonl(tmp_path / "r.jsonl", [
        {"video": "broken.mp4", "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}]))
    manifest = build_manifest(records, video_root=tmp_path)
    assert manifest.records == [] and "unreadable video" in manifest.issues[0].message


def test_each_video_is_opened_once_whatever_the_windows_and_clocks(video_root):
    """Trajectory steps of one video on several windows and clocks: one open (one packet scan) of the video, a D
    per (window, time base); a window past the end fails that video from that record on, as before."""
    from love_r1.train.records import TrainRecord
    from love_r1.video import open_video

    def step(line, window, time_base):
        return TrainRecord(line=line, kind="step", video_path="a.mp4", question_text="q", target="\\boxed{A}",
                           window=window, time_base=time_base)

    records = [step(1, None, None), step(2, Interval(1.0, 5.0), "index"), step(3, Interval(2.0, 7.5), None),
               step(4, Interval(1.0, 5.0), "index"), step(5, Interval(20.0, 30.0), None), step(6, None, None),
               TrainRecord(line=7, kind="step", video_path="b.mp4", question_text="q", target="\\boxed{A}")]
    opened = []

    def counting_open(path, **kwargs):
        opened.append(path.name)
        return open_video(path, **kwargs)

    manifest = build_manifest(records, video_root=video_root, open_video=counting_open, time_base="presentation")
    assert sorted(opened) == ["a.mp4", "b.mp4"]
    a = str(video_root / "a.mp4")
    assert manifest.durations_seconds[(a, None, "presentation")] == 8.0
    assert manifest.durations_seconds[(a, Interval(1.0, 5.0), "index")] == 4.0
    assert manifest.durations_seconds[(a, Interval(2.0, 7.5), "presentation")] == 5.5
    assert [r.line for r in manifest.records] == [1, 2, 3, 4, 7]
    assert [(i.line, i.field) for i in manifest.issues] == [(5, "video"), (6, "video")]
    assert "starts at or after the end of the video" in manifest.issues[0].message


def test_data_check_cli_exit_codes_and_table(tmp_path, video_root, capsys):
    good = write_jsonl(tmp_path / "good.jsonl", sft_records() + grpo_records())
    assert main(["data", "check", str(good), "--video-root", str(video_root)]) == 0
    assert "6 usable sample(s)" in capsys.readouterr().out
    bad = write_jsonl(tmp_path / "bad.jsonl", sft_records()[:1] + [
        {"video": "nope.mp4", "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}])
    assert main(["data", "check", str(bad), "--video-root", str(video_root)]) == 1
    out = capsys.readouterr().out
    assert "line  field  problem" in out and "2  video  missing video" in out


def test_grpo_record_ids_come_from_id_problem_id_or_qid(tmp_path):
    base = grpo_records()[0]
    rows = [{**base, "id": "i1", "problem_id": "p1", "qid": "q1"}, {**base, "problem_id": "p2", "qid": "q2"},
            {**base, "qid": "q3"}, {**base, "qid": 7}, dict(base)]
    records, issues = load_records(write_jsonl(tmp_path / "grpo.jsonl", rows))
    assert issues == []
    assert [r.source_id for r in records] == ["i1", "p2", "q3", "7", ""]


def test_assembled_grpo_records_keep_their_qid(tmp_path):
    from love_r1.data import QAItem
    from love_r1.data._assemble import grpo_record

    item = QAItem(qid="needle-0007", video_path="v.mp4", question="Which number?", options=("A. one", "B. two"),
                  gold="B", evidence=(Interval(1.0, 2.0),))
    records, issues = load_records(write_jsonl(tmp_path / "grpo.jsonl", [grpo_record(item, grounding=True)]))
    assert issues == [] and [r.kind for r in records] == ["grpo"]
    assert records[0].source_id == "needle-0007" and records[0].gold == "B"


def _sft(messages):
    return {"video": "a.mp4", "messages": messages}


def test_multi_turn_records_keep_every_turn(tmp_path):
    turns = [{"role": "user", "content": "What is first?"}, {"role": "assistant", "content": "A cup."},
             {"role": "user", "content": [{"type": "text", "text": "And then?"}]},
             {"role": "assistant", "content": "A plate."}]
    (record,), issues = load_records(write_jsonl(tmp_path / "r.jsonl", [_sft(turns)]))
    assert issues == []
    assert (record.question_text, record.target) == ("What is first?", "A cup.")
    assert record.later_turns == (("And then?", "A plate."),)
    assert type(record).from_dict(record.to_dict()) == record


def test_malformed_conversations_are_line_numbered_issues_never_merged(tmp_path):
    u, a = {"role": "user", "content": "q"}, {"role": "assistant", "content": "r"}
    rows = [_sft([u, a]), _sft([u, u, a]), _sft([u, a, u]), _sft([{"role": "system", "content": "s"}, u, a]),
            _sft([u, {"role": "assistant", "content": " "}])]
    records, issues = load_records(write_jsonl(tmp_path / "r.jsonl", rows))
    assert [r.line for r in records] == [1]
    assert [(i.line, i.field) for i in issues] == [(2, "messages"), (3, "messages"), (4, "messages[0].role"),
                                                   (5, "messages[1].content")]
    assert "alternate" in issues[0].message and "writes the system message itself" in issues[2].message


def test_grpo_records_read_evidence_for_the_zoom_reward(tmp_path):
    row = dict(grpo_records()[0], evidence=[[2, 4]])
    (record,), _ = load_records(write_jsonl(tmp_path / "r.jsonl", [row]))
    assert record.evidence == (Interval(2, 4),) and not record.grounding and record.kind == "grpo"
