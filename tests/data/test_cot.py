import json
from pathlib import Path

import jinja2
import pytest

from love_r1.data import CallStore, QAItem, ZoomCotConfig, export_cot, judge_answer, judge_zoom, run_zoom_cot
from love_r1.data._captions import caption_file_name
from love_r1.data._cot import love_r1_reply
from love_r1.data._templates import render
from love_r1.interval import Interval
from tests.helpers.data import CountingBackend, prompt_text

SNAPSHOTS = Path(__file__).parent / "snapshots"
ITEM = QAItem(qid="q1", video_path="videos/v1.mp4", question="What colour is the square?",
              options=("A. red", "B. blue", "C. green", "D. cyan"), gold="B", evidence=(Interval(22, 28),),
              duration_seconds=40.0)


def _check_snapshot(name, text, update):
    path = SNAPSHOTS / name
    if update:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"prompt changed; re-run with --update-snapshots ({path})"


def test_teacher_prompts_match_snapshots(update_snapshots):
    segments = [{"start_seconds": 0, "end_seconds": 10, "text": "A grey room."},
                {"start_seconds": 10, "end_seconds": 20, "text": "A blue square appears."}]
    _check_snapshot("zoom_cot.txt", render("zoom_cot", segments=segments, duration_seconds=20.0,
                                           max_interval_seconds=60, question=ITEM.question,
                                           options=list(ITEM.options)), update_snapshots)
    _check_snapshot("answer_cot.txt", render("answer_cot", start_seconds=17, end_seconds=33, answer="B",
                                             question=ITEM.question, options=list(ITEM.options)), update_snapshots)
    _check_snapshot("caption.txt", render("caption"), update_snapshots)
    _check_snapshot("clue_check.txt", render("clue_check", start_seconds=17, end_seconds=33, answer="B. blue",
                                             question=ITEM.question, options=list(ITEM.options)), update_snapshots)


def test_templates_refuse_missing_variables():
    with pytest.raises(jinja2.UndefinedError):
        render("answer_cot", start_seconds=1, end_seconds=2, question="?", options=[])


@pytest.mark.parametrize(("reply", "accepted", "reason", "interval"), [
    ("The square shows late. \\boxed{[20, 30]}", True, "accepted", (20, 30)),
    ("\\boxed{[20.4, 29.6]}", True, "accepted", (20, 30)),
    ("\\boxed{[0, 60]}", False, "bad_length", None),  # e - s must be < 60
    ("\\boxed{[30, 30]}", False, "bad_length", None),
    ("\\boxed{[0, 10]}", False, "no_overlap", (0, 10)),
    ("\\boxed{[28, 35]}", False, "no_overlap", (28, 35)),  # touches the half-open end only
    ("I think B", False, "no_interval", None),
])
def test_judge_zoom(reply, accepted, reason, interval):
    verdict = judge_zoom(reply, evidence=ITEM.evidence, max_interval_seconds=60, min_iou=0.0)
    assert (verdict.accepted, verdict.reason, verdict.interval) == (accepted, reason, interval)


def test_judge_zoom_iou_threshold():
    # IoU([20, 30], [22, 28]) = 6 / 10 = 0.6
    assert judge_zoom("\\boxed{[20, 30]}", evidence=ITEM.evidence, max_interval_seconds=60, min_iou=0.59).accepted
    assert not judge_zoom("\\boxed{[20, 30]}", evidence=ITEM.evidence, max_interval_seconds=60, min_iou=0.6).accepted


def test_replies_are_rewritten_in_the_love_r1_grammar():
    verdict = judge_zoom("I need to zoom in on the video.\n\nThe square is late. \\boxed{[20.2, 29.5]} Done!",
                         evidence=ITEM.evidence, max_interval_seconds=60, min_iou=0.0)
    assert verdict.reply == "I need to zoom in on the video.\n\nThe square is late. \\boxed{[20, 30]}"
    verdict = judge_answer("It is blue.\n\\boxed{(b)}", letters=ITEM.letters, gold="B")
    assert verdict.reply == "I get the answer.\n\nIt is blue. \\boxed{B}"
    assert judge_answer("\\boxed{C}", letters=ITEM.letters, gold="B").reason == "wrong_letter"
    assert love_r1_reply(phrase="I get the answer.", text="\\boxed{A}", box_content="A") == \
        "I get the answer.\n\n\\boxed{A}"


def _captions(tmp_path, item):
    folder = tmp_path / "captions"
    folder.mkdir()
    rows = [{"video": item.video_path, "start_seconds": s, "end_seconds": s + 10, "text": f"segment {s}"}
            for s in range(0, 40, 10)]
    (folder / caption_file_name(item.video_path)).write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def test_zoom_cot_samples_until_enough_are_accepted(tmp_path):
    items = [ITEM, QAItem(qid="q2", video_path="videos/v1.mp4", question="Which digit?", options=("A. 1", "B. 2"),
                          gold="A", evidence=(Interval(2, 6),))]
    # q1: rejected, rejected, accepted, accepted...; q2: never accepted
    counters = {"q1": 0, "q2": 0}

    def replies(request):
        text = prompt_text(request)
        assert "[30, 40] segment 30" in text and "Hint" not in text
        qid = "q1" if "colour" in text else "q2"
        counters[qid] += 1
        if qid == "q1" and counters[qid] >= 3:
            return "It comes late. \\boxed{[21, 29]}"
        return "\\boxed{[35, 39]}"

    backend = CountingBackend(replies)
    store = CallStore(tmp_path / "s.sqlite")
    config = ZoomCotConfig(num_samples=2, max_calls=5)
    digest, stats = run_zoom_cot(backend, items, captions_dir=_captions(tmp_path, ITEM), store=store, config=config,
                                 workers=2)
    assert counters == {"q1": 4, "q2": 5}  # q1: 2 + 2 calls (2 rejected, 2 accepted); q2: capped at max_calls
    assert stats.new_calls == 9
    # re-running makes no call; raising the IoU bar reuses stored replies and asks again for q1
    again = CountingBackend(replies)
    assert run_zoom_cot(again, items, captions_dir=tmp_path / "captions", store=store, config=config)[1].new_calls == 0
    counts = export_cot(store, step="zoom-cot", config_hash=digest, items=items, out_path=tmp_path / "z.jsonl",
                        judge=lambda item, text: judge_zoom(text, evidence=item.evidence, max_interval_seconds=60,
                                                            min_iou=0.0))
    assert counts == {"accepted": 2, "no_overlap": 7}
    rows = [json.loads(line) for line in (tmp_path / "z.jsonl").read_text().splitlines()]
    accepted = [r for r in rows if r["accepted"]]
    assert {r["qid"] for r in accepted} == {"q1"} and accepted[0]["interval"] == [21, 29]
    assert accepted[0]["reply"].startswith("I need to zoom in on the video.\n\n")


def test_zoom_cot_skips_items_without_captions(tmp_path):
    store = CallStore(tmp_path / "s.sqlite")
    (tmp_path / "captions").mkdir()
    _, stats = run_zoom_cot(CountingBackend(lambda r: ""), [ITEM], captions_dir=tmp_path / "captions", store=store,
                            config=ZoomCotConfig())
    assert "no captions" in stats.failed_items["q1"]
