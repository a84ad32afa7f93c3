"""``method="stage1"``: the reference's stage-1 path (model.py), prompt pinned byte for byte."""

from __future__ import annotations

import json

import numpy as np
import pytest

from love_r1.agent.messages import to_chat_dicts
from love_r1.agent.single_pass import answer_of, build_single_pass_messages, whole_video_clip
from love_r1.backends import TextPart, VideoPart
from love_r1.backends.scripted import ScriptedBackend
from love_r1.eval.benchmarks import make_benchmark
from love_r1.eval.config import EvalConfig
from love_r1.eval.report import summarize
from love_r1.eval.runner import evaluate
from love_r1.eval.store import read_run
from tests.helpers.eval import make_video, place, write_parquet

# model.py, typed out here independently of the constants module
SYSTEM = ("You are a helpful assistant. The red numbers on each frame represent the timestamp in seconds and you can "
          "refer them during temporal grounding.")
QUESTION_TEXT = ("What colour is the square?\nA. red\nB. blue\nC. green\nD. pink\n"
                 "Provide only the single option letter (e.g., A, B, C, D, etc.) as the answer.")


@pytest.fixture
def stage1_root(tmp_path):
    """A needle-format dataset: one 20 s video at 5 fps (100 frames), one question."""
    root = tmp_path / "s1"
    make_video(root / "v.mp4", seconds=20.0, seed=4)
    (root / "annotations.jsonl").write_text(json.dumps({
        "qid": "s1_q0", "video": "v.mp4", "question": "What colour is the square?",
        "options": ["A. red", "B. blue", "C. green", "D. pink"], "answer": "C", "duration_seconds": 20.0,
        "evidence": [[4.0, 6.0]], "category": "colour"}) + "\n")
    return root


def test_stage1_prompt_snapshot_frames_and_episode(stage1_root, tmp_path):
    seen = []

    def reply(request):
        seen.append(request)
        return "I get the answer.\n\nThe square is green.\\boxed{C}"

    key, state = evaluate(make_benchmark("needle", stage1_root), ScriptedBackend(reply), EvalConfig(run_dir=tmp_path / "run", model="m", method="stage1"), progress=False)
    assert (state.done, state.correct, state.errors) == (1, 1, 0)
    (request,) = seen
    assert to_chat_dicts(request.messages, video_value="<video>") == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": [
            {"type": "text", "text": "Full video [0, 20]:"}, {"type": "video", "video": "<video>"},
            {"type": "text", "text": "Subset zoom-in video clip [0, 20]:"}, {"type": "video", "video": "<video>"},
            {"type": "text", "text": QUESTION_TEXT}]},
    ]
    assert request.assistant_prefix == ""
    assert request.sampling.max_new_tokens == 2048
    fast, slow = [p.frames for p in request.messages[1].content if isinstance(p, VideoPart)]
    # reference indices: fast n = min(int(2*20), 768) = 40 over [0, 99]; slow n = min(int(2*20), 32) = 32 over
    # [0, min(99, int(20*5))] = [0, 99]; both rounded linspace
    assert fast.frame_indices.tolist() == np.linspace(0, 99, 40).round().astype(int).tolist()
    assert slow.frame_indices.tolist() == np.linspace(0, 99, 32).round().astype(int).tolist()
    assert slow.height * slow.width > fast.height * fast.width  # slow budget 256*28*28 vs fast 32*28*28

    run = read_run(tmp_path / "run")
    assert run.config["method"] == "stage1" and run.config["prompt_preset"] == "love_r1_stage1"
    assert run.config["policy"]["name"] == "reference"
    episode = run.items[0].episode
    assert episode["question"] == QUESTION_TEXT and episode["answer"] == "C" and episode["clips"] == []
    (step,) = episode["steps"]
    assert (step["kind"], step["stop_reason"], step["clips_in_prompt"]) == ("answer", "answered", [[0.0, 20.0]])
    assert episode["ledger"]["frames_decoded"] == 72 and episode["ledger"]["num_model_calls"] == 1
    summary = summarize(run)
    assert summary["accuracy"] == 1.0 and summary["method"] == "stage1"
    assert (summary["zoom"]["steps_per_question"], summary["zoom"]["zooms_per_question"]) == (1.0, 0.0)
    # a plain-letter reply (stage-1 checkpoints answer without a box) is the answer itself
    _, again = evaluate(make_benchmark("needle", stage1_root), ScriptedBackend(["C"]), EvalConfig(run_dir=tmp_path / "run2", model="m", method="stage1"), progress=False)
    assert again.correct == 1 and read_run(tmp_path / "run2").items[0].episode["answer"] == "C"


def test_stage1_uses_model_py_videomme_text_and_reference_policy(tmp_path, video_bank):
    root = tmp_path / "vmme"
    write_parquet(root / "videomme" / "test-00000-of-00001.parquet", [{
        "video_id": "001", "duration": "short", "domain": "Sports", "sub_category": "Golf", "videoID": "yt0",
        "question_id": "001-1", "task_type": "OCR Problems", "question": "Which?",
        "options": ["A. x", "B. y", "C. z", "D. w"], "answer": "A"}])
    place(video_bank["v1"], root / "data" / "yt0.mp4")
    zoom_text = make_benchmark("videomme", root).load()[0].question_text
    stage1_text = make_benchmark("videomme", root, prompt_preset="love_r1_stage1").load()[0].question_text
    assert zoom_text == ("Which?\nA. x\nB. y\nC. z\nD. w\n\nProvide only the single option letter (e.g., A, B, C, D, "
                         "etc.) as the answer.")
    assert stage1_text == ("Which?\nA. x\nB. y\nC. z\nD. w\nProvide only the single option letter (e.g., A, B, C, D, "
                           "etc.) as the answer.")
    key, _ = evaluate(make_benchmark("videomme", root), ScriptedBackend(["A"]), EvalConfig(run_dir=tmp_path / "run", model="m", method="stage1"), progress=False)
    run = read_run(tmp_path / "run")
    assert run.config["prompt_preset"] == "love_r1_stage1" and run.config["policy"]["name"] == "reference"
    assert run.items[0].episode["question"] == stage1_text


def test_stage1_policy_is_reference_even_for_mlvu(mlvu_root, tmp_path):
    _, state = evaluate(make_benchmark("mlvu", mlvu_root), ScriptedBackend(), EvalConfig(run_dir=tmp_path / "run", model="m", method="stage1", concurrency=2), progress=False)
    assert state.done == 5 and state.errors == 0
    run = read_run(tmp_path / "run")
    assert run.config["policy"]["fast_max_frames"] == 768 and run.config["prompt_preset"] == "love_r1_stage1"
    # the dummy answers A when the prompt shows a zoom clip: same letters as the zoom run's final answers
    assert summarize(run)["micro_accuracy"] == pytest.approx(4 / 5)


def test_single_pass_builder_and_answer_rule():
    from love_r1.video import Frames

    frames = Frames(data=np.zeros((2, 4, 4, 3), np.uint8), timestamps_seconds=[0.0, 1.0])
    system, user = build_single_pass_messages(fast_view=frames, clips=[(whole_video_clip(9.9), frames)],
                                              duration_seconds=9.9, question_text="Q?")
    assert system.content == (TextPart(SYSTEM),)
    assert [p.text for p in user.content if isinstance(p, TextPart)] == [
        "Full video [0, 9]:", "Subset zoom-in video clip [0, 9]:", "Q?"]
    assert whole_video_clip(59.99).end_seconds == 59.0
    with pytest.raises(ValueError, match="duration_seconds must be > 0"):
        whole_video_clip(0.0)
    assert answer_of("I get the answer.\n\nIt is \\boxed{B} ok") == "B"
    assert answer_of("  (D) \n") == "(D)"


def test_stage1_broken_video_fails_only_its_item(stage1_root, tmp_path):
    (stage1_root / "v.mp4").write_bytes(b"broken" * 50)
    _, state = evaluate(make_benchmark("needle", stage1_root), ScriptedBackend(["A"]), EvalConfig(run_dir=tmp_path / "run", model="m", method="stage1", check_videos=False), progress=False)
    assert (state.done, state.errors) == (1, 1)
    error = read_run(tmp_path / "run").items[0].error
    assert error.startswith("video: NotAVideoError: ") and error.count("v.mp4") == 1  # the file named once


def test_stage1_rendered_chat_template_snapshot(stage1_root, tmp_path):
    """The request rendered by a Qwen2.5-VL chat template, byte for byte (as model.py's processor sees it)."""
    from love_r1.agent.policy import ZoomPolicy
    from love_r1.agent.steps import Episode
    from tests.fixtures import tiny_qwen as tq

    _, processor = tq.build_tiny("qwen2_5_vl")
    seen = []
    evaluate(make_benchmark("needle", stage1_root), ScriptedBackend(lambda r: seen.append(r) or "C"), EvalConfig(run_dir=tmp_path / "run", model="m", method="stage1"), progress=False)
    text = processor.apply_chat_template(to_chat_dicts(seen[0].messages), tokenize=False, add_generation_prompt=True)
    assert text == (
        "<|im_start|>system\n" + SYSTEM + "<|im_end|>\n<|im_start|>user\n"
        "Full video [0, 20]:<|vision_start|><|video_pad|><|vision_end|>"
        "Subset zoom-in video clip [0, 20]:<|vision_start|><|video_pad|><|vision_end|>"
        + QUESTION_TEXT + "<|im_end|>\n<|im_start|>assistant\n")
    assert "Based on the video and the user question" not in text  # no decision instruction
    stored = read_run(tmp_path / "run").items[0].episode
    assert Episode.from_dict(stored).to_dict() == stored
    assert ZoomPolicy.from_dict(stored["policy"]).name == "reference"
