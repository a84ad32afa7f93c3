from love_r1.data import QAItem, assemble, write_records
from love_r1.data._items import split_of
from love_r1.interval import Interval
from love_r1.prompts.constants import TYPE_TEMPLATE


def _items(n):
    return [QAItem(qid=f"q{i}", video_path=f"videos/v{i % 3}.mp4", question=f"Question {i}?",
                   options=("A. yes", "B. no"), gold="B", evidence=(Interval(10, 14),), source="needle")
            for i in range(n)]


def _zoom(qid, k, accepted=True):
    return {"qid": qid, "sample_index": k, "accepted": accepted,
            "reply": f"I need to zoom in on the video.\n\nlook {k} \\boxed{{[8, 16]}}"}


def _answer(qid, k):
    return {"qid": qid, "sample_index": k, "accepted": True, "clip": [5, 19],
            "reply": "I get the answer.\n\nno \\boxed{B}"}


def test_sft_and_grpo_records_follow_the_protocol_format():
    (item,) = _items(1)
    result = assemble([item], zoom_rows=[_zoom("q0", 1), _zoom("q0", 0, accepted=False)],
                      answer_rows=[_answer("q0", 0)], val_fraction=0.0)
    zoom, answer = result.sft["train"]
    user = {"role": "user", "content": [{"type": "text", "text": "Question 0?\nOptions:\nA. yes\nB. no\n"
                                         + TYPE_TEMPLATE["multiple choice"]}]}
    assert zoom == {
        "video": "videos/v0.mp4",
        "messages": [user, {"role": "assistant", "content": [{"type": "text", "text": _zoom("q0", 1)["reply"]}]}],
        "zoomin_intervals": [], "cot_data": {"kind": "zoom", "sample_index": 1, "source": "needle"}, "qid": "q0",
    }
    assert answer["zoomin_intervals"] == [[5, 19]] and answer["cot_data"]["kind"] == "answer"
    assert answer["messages"][1]["content"][0]["text"].endswith("\\boxed{B}")
    assert result.grpo["train"] == [{
        "path": "videos/v0.mp4", "problem": "Question 0?\n", "options": ["A. yes", "B. no"],
        "solution": "<answer>B</answer>", "problem_type": "multiple choice", "data_type": "needle",
        "zoomin_intervals": [], "qid": "q0", "tgt": [[10, 14]],
    }]


def test_splits_follow_the_qid_hash_and_contaminated_items_are_refused(tmp_path):
    items = _items(40)
    zooms = [_zoom(i.qid, 0) for i in items]
    contaminated = {"q3", "q5"}
    result = assemble(items, zoom_rows=zooms, answer_rows=[_answer(i.qid, 0) for i in items], val_fraction=0.3,
                      contaminated_qids=contaminated)
    for split in ("train", "val"):
        for record in result.sft[split] + result.grpo[split]:
            assert split_of(record["qid"], val_fraction=0.3) == split
            assert record["qid"] not in contaminated
    rows = {name: total for name, _train, _val, total in result.table_rows()}
    assert rows["items"] == 40 and rows["contaminated_dropped"] == 2
    assert rows["sft_zoom"] == rows["sft_answer"] == rows["grpo"] == 38
    kept = assemble(items, zoom_rows=zooms, contaminated_qids=contaminated, allow_contaminated=True)
    assert {name: t for name, _a, _b, t in kept.table_rows()}["contaminated_kept"] == 2
    assert {name: t for name, _a, _b, t in kept.table_rows()}["no_answer_cot"] == 40
    paths = write_records(result, tmp_path)
    lines = sum(len(p.read_text().splitlines()) for p in paths.values())
    assert lines == 38 * 3


def test_grpo_records_can_be_limited_to_the_hard_set():
    result = assemble(_items(5), grpo_qids={"q1", "q4"}, grounding=False, val_fraction=0.0)
    assert [r["qid"] for r in result.grpo["train"]] == ["q1", "q4"]
    assert all("tgt" not in r for r in result.grpo["train"])


def test_records_read_back_with_the_training_loader(tmp_path):
    from love_r1.train import records
    (item,) = _items(1)
    result = assemble([item], zoom_rows=[_zoom("q0", 0)], answer_rows=[_answer("q0", 0)], val_fraction=0.0)
    paths = write_records(result, tmp_path)
    sft, sft_issues = records.load_records(paths["sft_stage2.train"])
    grpo, grpo_issues = records.load_records(paths["grpo_stage3.train"])
    assert sft_issues == grpo_issues == []
    assert [r.kind for r in sft] == ["cot", "cot"] and grpo[0].kind == "grpo"
    assert all(r.decision_instruction for r in sft)
    # the SFT prompt text equals the GRPO one the trainer builds, so stage 2 and 3 see the same question
    assert sft[0].question_text == sft[1].question_text == grpo[0].question_text
    assert [i.as_list() for i in sft[1].clips] == [[5.0, 19.0]] and grpo[0].gold == "B"
