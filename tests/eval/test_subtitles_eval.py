"""Subtitles end to end: Video-MME (.srt) and LongVideoBench (JSON) fixtures through ``evaluate``.

The prompts are captured from a scripted backend and compared byte for byte with the text the
documented rule gives for the fast view's recorded frame times (the test also pins those times, so a
change in the video engine's sampling shows up here as such, not as a wrong subtitle).
"""

from __future__ import annotations

import json

import pytest

from love_r1.agent.messages import step_prompt_text
from love_r1.backends import GenerationRequest, TextPart
from love_r1.backends.scripted import ScriptedBackend, dummy_reply
from love_r1.eval.benchmarks import make_benchmark
from love_r1.eval.config import EvalConfig, run_config
from love_r1.eval.runner import evaluate
from love_r1.eval.store import config_hash, read_run
from love_r1.prompts.constants import ANSWER_PHRASE, ZOOM_PHRASE
from tests.helpers.eval import make_video, place, write_json, write_parquet

FAST_4S = (0.0, 0.6, 1.0, 1.6, 2.2, 2.8, 3.2, 3.8)  # fast view of the 4 s, 5 fps fixture video

VMME_SRT = (
    "1\n00:00:00,500 --> 00:00:00,900\n<font color=\"white\" size=\".72c\">Hello &amp; welcome</font>\n\n"
    "2\n00:00:01,100 --> 00:00:01,500\n<font color=\"white\" size=\".72c\">between fast-view frames</font>\n"
    "3\n00:00:02,000 --> 00:00:03,000\n<font color=\"white\" size=\".72c\">two seconds</font>\n\n"
    "4\n00:00:03,800 --> 00:00:05,000\n<i>last</i>\n"
)
VMME_FAST_TEXT = "Subtitles:\n[00:00] Hello & welcome\n[00:02] two seconds\n[00:03] last\n"


class Recorder:
    """A scripted backend that keeps every request's final text item (the question block)."""

    def __init__(self, reply=dummy_reply):
        self.texts: dict[str, list[str]] = {}
        self.backend = ScriptedBackend(self._reply)
        self._inner = reply

    def _reply(self, request: GenerationRequest) -> str:
        last = request.messages[-1].content[-1]
        assert isinstance(last, TextPart)
        self.texts.setdefault(request.session_id, []).append(last.text)
        return self._inner(request)


@pytest.fixture
def vmme_root(tmp_path, video_bank):
    root = tmp_path / "vmme"
    rows = []
    for index in range(3):
        rows.append({"video_id": f"{index:03d}", "duration": "short", "domain": "Knowledge", "sub_category": "Law",
                     "videoID": f"yt{index}", "question_id": f"{index:03d}-1", "task_type": "OCR Problems",
                     "question": f"Question {index}?", "options": ["A. x", "B. y", "C. z", "D. w"], "answer": "A"})
        place(video_bank["v1"], root / "data" / f"yt{index}.mp4")
    write_parquet(root / "videomme" / "test-00000-of-00001.parquet", rows)
    (root / "subtitle").mkdir()
    (root / "subtitle" / "yt0.srt").write_text(VMME_SRT, encoding="utf-8")  # yt1: no subtitle file
    (root / "subtitle" / "yt2.srt").write_bytes(b"1\n00:00:01,000 --> 00:00:02,000\nna\xefve\n")  # not UTF-8
    return root


def _samples(run_dir):
    return {row.qid: row for row in read_run(run_dir).items}


def test_videomme_fast_view_subtitles_missing_and_unreadable(vmme_root, tmp_path):
    plain = Recorder()
    key_off, _ = evaluate(make_benchmark("videomme", vmme_root), plain.backend, EvalConfig(run_dir=tmp_path / "off", model="m", prefetch_workers=0), progress=False)
    subs = Recorder()
    key_on, state = evaluate(make_benchmark("videomme", vmme_root, subtitles=True), subs.backend, EvalConfig(run_dir=tmp_path / "on", model="m", prefetch_workers=0), progress=False)
    assert key_on != key_off
    assert state.errors == 0 and state.subtitles == {"missing": 1, "ok": 1, "unreadable": 1}
    rows = _samples(tmp_path / "on")
    assert tuple(round(t, 6) for t in rows["000-1"].episode["fast_view"]["timestamps_seconds"]) == FAST_4S

    # yt0: every step's question block is the fast view's lines, then the unchanged question block
    assert len(subs.texts["000-1"]) == 2  # zoom, then answer
    for with_subs, without in zip(subs.texts["000-1"], plain.texts["000-1"], strict=True):
        assert with_subs == VMME_FAST_TEXT + without
    assert subs.texts["000-1"][0] == VMME_FAST_TEXT + step_prompt_text(rows["000-1"].sample["question_text"])
    assert rows["000-1"].sample["subtitles"] == {
        "mode": "fast", "path": str(vmme_root.absolute() / "subtitle" / "yt0.srt"), "status": "ok",
        "num_lines": 4, "num_skipped": 0, "fast_view_lines": 3}
    # yt1 (no file) and yt2 (not UTF-8): no subtitles, byte-identical prompts, recorded, not an error
    for qid, status in (("001-1", "missing"), ("002-1", "unreadable")):
        assert subs.texts[qid] == plain.texts[qid]
        assert rows[qid].status == "done" and rows[qid].sample["subtitles"]["status"] == status
    assert rows["001-1"].sample["subtitles"]["path"] is None
    assert rows["002-1"].sample["subtitles"]["detail"].endswith(
        "yt2.srt:3: not valid UTF-8 text (byte 34: invalid continuation byte) (hint: re-encode the file as UTF-8, "
        "e.g. iconv -f cp1252 -t utf-8)")
    assert "subtitles" not in _samples(tmp_path / "off")["000-1"].sample


def test_hash_unchanged_with_subtitles_off(vmme_root, tmp_path):
    from love_r1.agent.policy import ZoomPolicy

    policy = ZoomPolicy.preset("reference")

    def config(**kwargs):
        return run_config(make_benchmark("videomme", vmme_root, **kwargs),
                          EvalConfig(run_dir=tmp_path, model="m", method="zoom", policy=policy))

    off = config()
    assert set(off) == {"benchmark", "prompt_preset", "subtitles", "prompt_text_version", "data_revision", "model",
                        "method", "policy"}  # the keys (hence the hash) of runs before subtitle modes existed
    assert off["subtitles"] is False and off["prompt_text_version"] == 1
    fast, clips = config(subtitles=True), config(subtitles=True, subtitle_mode="fast+clips")
    assert fast == {**off, "subtitles": True, "subtitle_mode": "fast"}
    assert clips["subtitle_mode"] == "fast+clips"
    assert len({config_hash(off), config_hash(fast), config_hash(clips)}) == 3
    with pytest.raises(ValueError, match="needs subtitles on"):
        make_benchmark("videomme", vmme_root, subtitle_mode="fast+clips")
    with pytest.raises(ValueError, match="subtitle mode 'all'"):
        make_benchmark("videomme", vmme_root, subtitles=True, subtitle_mode="all")


def test_videomme_uniform_and_stage1_use_their_frame_times(vmme_root, tmp_path):
    bench = make_benchmark("videomme", vmme_root, subtitles=True, subtitle_mode="fast+clips")
    uniform = Recorder(lambda request: "A")
    evaluate(bench, uniform.backend, EvalConfig(run_dir=tmp_path / "uni", model="m", method="uniform", num_frames=4, prefetch_workers=0), progress=False)
    row = _samples(tmp_path / "uni")["000-1"]
    assert [round(t, 6) for t in row.episode["fast_view"]["timestamps_seconds"]] == [0.0, 1.2, 2.6, 3.8]  # frames 0, 6, 13, 19
    # 1.2 s falls in the cue the fast view skips: the text follows the frames actually sampled
    assert uniform.texts["000-1"] == ["Subtitles:\n[00:01] between fast-view frames\n[00:02] two seconds\n"
                                      "[00:03] last\n" + row.sample["question_text"]]

    stage1 = Recorder(lambda request: "A")
    evaluate(bench, stage1.backend, EvalConfig(run_dir=tmp_path / "s1", model="m", method="stage1", prefetch_workers=0), progress=False)
    row = _samples(tmp_path / "s1")["000-1"]
    # the stage-1 whole-video clip comes from no zoom: fast-view lines only, even in fast+clips mode
    assert stage1.texts["000-1"] == [VMME_FAST_TEXT + row.sample["question_text"]]
    assert row.sample["subtitles"]["clip_lines"] == [0]  # one prompt, no zoom clip lines


def test_no_visual_probe_refuses_subtitles(vmme_root, tmp_path):
    with pytest.raises(ValueError, match="--subtitles cannot be combined with --probe no-visual"):
        evaluate(make_benchmark("videomme", vmme_root, subtitles=True), ScriptedBackend(), EvalConfig(run_dir=tmp_path / "r", model="m", probe="no-visual"), progress=False)


@pytest.fixture
def lvb_root(tmp_path):
    root = tmp_path / "lvb"
    make_video(root / "videos" / "long.mp4", seconds=20.0, seed=4)
    write_json(root / "lvb_val.json", [
        {"id": "long_0", "video_id": "long", "video_path": "long.mp4", "subtitle_path": "long_en.json",
         "question": "What is said at the start?", "candidates": ["hello", "bye"], "correct_choice": 0,
         "question_category": "T2E", "topic_category": "NP-News-Programs", "level": "L1-Perception",
         "duration_group": 60, "duration": 20.0, "starting_timestamp_for_subtitles": 10.0},
        {"id": "long_1", "video_id": "long", "video_path": "long.mp4", "subtitle_path": "gone_en.json",
         "question": "And then?", "candidates": ["a", "b"], "correct_choice": 1, "question_category": "T2E",
         "topic_category": "NP-News-Programs", "level": "L1-Perception", "duration_group": 60, "duration": 20.0,
         "starting_timestamp_for_subtitles": 0.0}])
    write_json(root / "subtitles" / "long_en.json", [
        {"timestamp": [10.5, 11.5], "text": "hello"},  # [0.5, 1.5): frames 0.6 and 1.0
        {"start": "00:00:22.000", "end": "00:00:23.000", "line": "<i>mid</i>"},  # [12, 13): frames 12.2, 12.6
        {"timestamp": [19.3, 19.5], "text": "inside the clip only"},  # [9.3, 9.5): between frames 9.2 and 9.6
        {"timestamp": [25.0, 25.1], "text": "nowhere"}])  # [15, 15.1): no frame, outside the clip
    return root


def _zoom_then_answer(request: GenerationRequest) -> str:
    """Zoom on [8, 9] (padded by 5 s: the clip [3, 14]; no widening in this preset), then answer A."""
    labels = "".join(part.text for part in request.messages[-1].content if isinstance(part, TextPart))
    if "Subset zoom-in video clip" in labels:
        return f"{ANSWER_PHRASE}\n\n\\boxed{{A}}"
    return f"{ZOOM_PHRASE}\n\n\\boxed{{[8, 9]}}"


@pytest.mark.parametrize("mode", ["fast", "fast+clips"])
def test_longvideobench_offset_and_clip_lines(lvb_root, tmp_path, mode):
    recorder = Recorder(_zoom_then_answer)
    _, state = evaluate(make_benchmark("longvideobench", lvb_root, subtitles=True, subtitle_mode=mode), recorder.backend, EvalConfig(run_dir=tmp_path / "run", model="m", prefetch_workers=0), progress=False)
    assert state.errors == 0 and state.subtitles == {"missing": 1, "ok": 1}
    rows = _samples(tmp_path / "run")
    episode = rows["long_0"].episode
    times = [round(t, 6) for t in episode["fast_view"]["timestamps_seconds"]]
    assert {0.6, 1.0, 12.2, 12.6} <= set(times)
    assert not [t for t in times if 9.3 <= t < 9.5 or 15.0 <= t < 15.1]
    assert episode["clips"] == [[3.0, 14.0]]
    block = step_prompt_text(rows["long_0"].sample["question_text"])
    fast = "Subtitles:\n[00:00] hello\n[00:12] mid\n"
    clip = "Subtitles of zoom-in clip [3, 14]:\n[00:09] inside the clip only\n[00:12] mid\n"
    assert recorder.texts["long_0"] == [fast + block, fast + (clip if mode == "fast+clips" else "") + block]
    info = rows["long_0"].sample["subtitles"]
    assert info["fast_view_lines"] == 2 and info["num_lines"] == 4
    assert info.get("clip_lines") == ([0, 2] if mode == "fast+clips" else None)
    assert rows["long_0"].sample["subtitle_offset_seconds"] == 10.0
    # the second question's subtitle file does not exist: no subtitles, recorded
    assert rows["long_1"].sample["subtitles"]["status"] == "missing"
    assert not any("Subtitles" in text for text in recorder.texts["long_1"])


def test_cli_subtitle_flags(vmme_root, tmp_path, capsys):
    from love_r1.cli import main

    out = tmp_path / "run"
    argv = ["eval", "--benchmark", "videomme", "--data-root", str(vmme_root), "--out", str(out), "--backend",
            "scripted", "--no-progress", "--subtitles", "--subtitle-mode", "fast+clips"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "subtitles (fast+clips): 1 missing, 1 ok, 1 unreadable" in printed
    config = json.loads((out / "results.jsonl").read_text().splitlines()[0])["sample"]["subtitles"]
    assert config["mode"] == "fast+clips"
    assert read_run(out).config["subtitle_mode"] == "fast+clips"
    assert main(["report", str(out), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["subtitles"] == {"mode": "fast+clips", "status": {"missing": 1, "ok": 1, "unreadable": 1}}
    assert main(["report", str(out)]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith("# videomme: 100.0 (micro) [subtitles: fast+clips]")
    assert "fast+clips (1 missing, 1 ok, 1 unreadable)" in markdown
    bad = ["eval", "--benchmark", "videomme", "--data-root", str(vmme_root), "--out", str(tmp_path / "bad"),
           "--backend", "scripted", "--no-progress", "--subtitle-mode", "fast+clips"]
    assert main(bad) == 2
    assert "needs subtitles on (--subtitles)" in capsys.readouterr().err
    assert main([*argv[:-2], "--probe", "no-visual"]) == 2
    assert "cannot be combined with --probe no-visual" in capsys.readouterr().err
