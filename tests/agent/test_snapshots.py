"""Byte-exact prompts: the rendered chat text of each LOVE-R1 step, through the real Qwen2.5-VL
chat template (shipped in the trl wheel) on a tiny offline processor.

Run ``python -m pytest tests/agent/test_snapshots.py --update-snapshots`` after an intentional change.
"""

from __future__ import annotations

import numpy as np
import pytest

from love_r1.agent.loop import EpisodeTask, run_episodes
from love_r1.agent.messages import build_messages, question_text, to_chat_dicts
from love_r1.agent.policy import ZoomPolicy
from love_r1.backends.scripted import ScriptedBackend
from love_r1.interval import Interval
from love_r1.prompts.constants import FORCED_ANSWER_PREFIX, SINGLE_LETTER_INSTRUCTION
from tests.helpers.agent import FakeVideos, tiny_frames

DURATION_SECONDS = 1834.6
QUESTION = question_text(
    "What is written on the sign the man holds after he enters the shop?",
    ["A. Open", "B. Closed", "C. Sale", "D. Welcome"],
    SINGLE_LETTER_INSTRUCTION,
)


@pytest.fixture(scope="module")
def processor():
    from tests.fixtures import tiny_qwen as tq

    return tq.build_processor("qwen2_5_vl")


def _fast():
    return tiny_frames(np.linspace(0, DURATION_SECONDS, 8, endpoint=False), key="fast")


def _clip(start, end):
    return (Interval(start, end), tiny_frames(np.linspace(start, end, 4, endpoint=False), key=f"{start}-{end}"))


def _render(processor, clips, prefix="") -> str:
    messages = build_messages(fast_view=_fast(), clips=clips, duration_seconds=DURATION_SECONDS,
                              question_text=QUESTION)
    text = processor.apply_chat_template(to_chat_dicts(messages), tokenize=False, add_generation_prompt=True)
    return text + prefix


CASES = {
    "agent_step1_no_clips": lambda: ([], ""),
    "agent_step2_one_clip": lambda: ([_clip(1500.0, 1530.0)], ""),
    # inserted out of order (and with float endpoints): shown sorted, labels truncated
    "agent_step3_two_clips_sorted": lambda: ([_clip(1500.0, 1530.0), _clip(612.7, 642.9)], ""),
    "agent_forced_answer_no_clips": lambda: ([_clip(0.0, float(int(DURATION_SECONDS)))], FORCED_ANSWER_PREFIX),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_prompt_snapshot(name, processor, snapshot_dir, update_snapshots):
    clips, prefix = CASES[name]()
    text = _render(processor, clips, prefix)
    path = snapshot_dir / f"{name}.txt"
    if update_snapshots:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    assert path.is_file(), f"missing snapshot {path}; run pytest with --update-snapshots"
    assert text.encode("utf-8") == path.read_bytes()


def test_snapshot_details(processor):
    text = _render(processor, CASES["agent_step3_two_clips_sorted"]()[0])
    assert text.index("clip [612, 642]:") < text.index("clip [1500, 1530]:")
    assert text.count("<|video_pad|>") == 3
    forced = _render(processor, *CASES["agent_forced_answer_no_clips"]())
    assert forced.endswith("<|im_start|>assistant\nI get the answer.\n\n")
    assert "Subset zoom-in video clip [0, 1834]:" in forced


# The reference (model_sample_frame.py) builds, for a 100.9 s video with one zoom clip [10, 40]:
#   [{"role": "system", "content": "<system message>"},
#    {"role": "user", "content": [{"type": "text", "text": "Full video [0, 100]:"}, {"type": "video", ...},
#        {"type": "text", "text": "Subset zoom-in video clip [10, 40]:"}, {"type": "video", ...},
#        {"type": "text", "text": question + SYSTEM_PROMPT2}]}]
# and renders it with apply_chat_template(..., add_generation_prompt=True). Written out by hand:
REFERENCE_TEXT = (
    "<|im_start|>system\n"
    "You are a helpful assistant. The red numbers on each frame represent the timestamp in seconds and you can "
    "refer them during temporal grounding.<|im_end|>\n"
    "<|im_start|>user\n"
    "Full video [0, 100]:<|vision_start|><|video_pad|><|vision_end|>"
    "Subset zoom-in video clip [10, 40]:<|vision_start|><|video_pad|><|vision_end|>"
    "Is it raining?\nA. yes\nB. no\n"
    "Provide only the single option letter (e.g., A, B, C, D, etc.) as the answer.\n"
    "Based on the video and the user question, determine whether the visual content is sufficient to answer the "
    "question. If you have enough information, reason using the visual content and provide your final answer "
    "within \\boxed{}. Otherwise, you may zoom in a specific interval of the video related to the question for "
    "more details based on your reasoning. Also provide the time span of the interval in seconds within "
    "\\boxed{[start_time, end_time]}.<|im_end|>\n"
    "<|im_start|>assistant\n"
)


def test_hf_chat_format_matches_reference_by_hand(processor):
    fast = tiny_frames(np.arange(4, dtype=float), key=None)
    messages = build_messages(
        fast_view=fast, clips=[(Interval(10.0, 40.0), fast)], duration_seconds=100.9,
        question_text=question_text("Is it raining?", ["A. yes", "B. no"], SINGLE_LETTER_INSTRUCTION),
    )
    chat = to_chat_dicts(messages, video_value="placeholder")
    assert chat[0] == {"role": "system", "content": REFERENCE_TEXT.split("\n")[1].removesuffix("<|im_end|>")}
    assert [item["type"] for item in chat[1]["content"]] == ["text", "video", "text", "video", "text"]
    text = processor.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
    assert text == REFERENCE_TEXT
    # the Frames objects themselves render the same (the template looks only at the item type)
    assert processor.apply_chat_template(to_chat_dicts(messages), tokenize=False,
                                         add_generation_prompt=True) == REFERENCE_TEXT


def _render_request(processor, request) -> str:
    text = processor.apply_chat_template(to_chat_dicts(request.messages), tokenize=False, add_generation_prompt=True)
    return text + request.assistant_prefix


def test_loop_requests_render_to_the_snapshots(processor, snapshot_dir):
    """The prompts the loop actually sends are the snapshotted ones."""
    videos = FakeVideos(durations={"long.mp4": DURATION_SECONDS})
    task = EpisodeTask(
        episode_id="snap", video_path="long.mp4",
        question="What is written on the sign the man holds after he enters the shop?",
        options=("A. Open", "B. Closed", "C. Sale", "D. Welcome"),
    )
    # [1505, 1525] -> pad [1500, 1530] (30 s, no widening); [617.7, 637.9] -> [612.7, 642.9], sorted first
    zooms = ScriptedBackend([
        "I need to zoom in on the video.\n\n\\boxed{[1505, 1525]}",
        "I need to zoom in on the video.\n\n\\boxed{[617.7, 637.9]}",
        "I get the answer.\n\n\\boxed{B}",
    ])
    list(run_episodes(zooms, [task], ZoomPolicy(max_free_steps=3), **videos.kwargs()))
    names = ["agent_step1_no_clips", "agent_step2_one_clip", "agent_step3_two_clips_sorted"]
    for name, call in zip(names, zooms.calls, strict=True):
        assert _render_request(processor, call[0]).encode("utf-8") == (snapshot_dir / f"{name}.txt").read_bytes(), name
    no_box = ScriptedBackend(["I need to zoom in on the video.\n\nsomewhere", "\\boxed{B}"])
    list(run_episodes(no_box, [task], **videos.kwargs()))
    forced = _render_request(processor, no_box.calls[1][0])
    assert forced.encode("utf-8") == (snapshot_dir / "agent_forced_answer_no_clips.txt").read_bytes()
