"""The extractor and the grammar on replies that real models wrote, each with its public source.

Where a thread reports a reply verbatim it is copied verbatim (the options are reconstructed from
the thread where it gives them, else written to fit). Open VLMs first; two text-LLM replies and two
hand-written contract fixtures of lmms-eval are marked as such. Each case also names what went wrong
with the reader the thread was about, where it says so.
"""

from __future__ import annotations

import pytest

from love_r1.agent.grammar import parse_reply
from love_r1.eval.extract import extract_choice
from love_r1.train.rewards import answer_letter

CASES = [
    pytest.param(
        # GLM-4.5V (open VLM), video MCQ, thinking off: zai-org/GLM-V issue #156 (2025-08-21). GLM boxes its
        # answer with <|begin_of_box|>...<|end_of_box|> and the chat template leaks <|user|>.
        "The video shows a person in a car, walking past ornate buildings, and then a temple with a golden Buddha "
        "and monks, which are characteristic of Asian architecture and culture. Therefore, the answer is "
        "<|begin_of_box|>B<|end_of_box|><|user|>",
        ("A. Europe", "B. Asia", "C. Africa", "D. South America"), "B", id="glm45v-begin-of-box",
    ),
    pytest.param(
        # Qwen2-VL-7B-Instruct (open VLM) on DriveBench perception MCQ: worldbench/DriveBench issue #15
        # (2025-08-04). The benchmark's own parser returned 'A' from "is **a** vehicle"; the answer is b.
        "b. going ahead.\n\nexplanation: the object <c1,cam_back,0.5583,0.5519> is **a** vehicle that is moving "
        "forward on the road, as indicated by its position relative to the lane markings and the direction it is "
        "facing.",
        ("A. Turning left", "B. Going ahead", "C. Turning right", "D. Stopped"), "B", id="qwen2vl-lowercase-label",
    ),
    pytest.param(
        # The same reply without the option texts: the leading lower-case label alone decides.
        "b. going ahead.\n\nexplanation: the object <c1,cam_back,0.5583,0.5519> is **a** vehicle that is moving "
        "forward on the road, as indicated by its position relative to the lane markings and the direction it is "
        "facing.",
        None, "B", id="qwen2vl-lowercase-label-no-options",
    ),
    pytest.param(
        # Qwen2.5-VL-3B-Instruct (open VLM) on BLINK with an <answer> tag: ls-kelvin/REVPT issue #7 (2025-11-07);
        # gold is (B) = "1". The reply names no option: extraction must fail, not guess.
        "<answer>There is one person in purple.</answer>",
        ("A. 0", "B. 1", "C. 2", "D. 3"), None, id="qwen25vl3b-answer-tag-no-letter",
    ),
    pytest.param(
        # Model rollouts reported in NVIDIA-NeMo/Gym PR #1844 (2026-06-30): the letter wrapped in \text{} ...
        "I get the answer.\n\nThe risk is polygenic. \\boxed{\\text{E}}",
        ("A. a", "B. b", "C. c", "D. d", "E. A polygenic risk score"), "E", id="nemo-gym-boxed-text",
    ),
    pytest.param(
        # ... and with the option text after the letter (same PR).
        "I get the answer.\n\n\\boxed{E: A polygenic risk score...}",
        ("A. a", "B. b", "C. c", "D. d", "E. A polygenic risk score"), "E", id="nemo-gym-boxed-letter-colon-text",
    ),
    pytest.param(
        # Llama-3.1-8B-Instruct (text LLM) on mini-MMLU: MakazhanAlpamys/Soup issue #357 (2026-08-09); the
        # suite's extractor missed \boxed{X} inside $...$ and scored the right letter as wrong.
        "...is the symbol for gold, which is Au.\n\nThe final answer is: $\\boxed{C}$",
        ("A. Ag", "B. Fe", "C. Au", "D. Cu"), "C", id="llama31-dollar-boxed",
    ),
    pytest.param(
        # lmms-eval shared MCQ extraction contract (hand-written fixture, test/eval/mcq_extract/cases.json,
        # id regression_lowercase_explanation_dog): the old extractor there returned D.
        "The answer is b because the image shows a dog.", None, "B", id="lmms-eval-lowercase-after-cue",
    ),
    pytest.param(
        # Same corpus, id regression_lowercase_because: the old extractor returned A (from "because").
        "the answer is b because it is correct", None, "B", id="lmms-eval-lowercase-because",
    ),
]


@pytest.mark.parametrize(("reply", "options", "expected"), CASES)
def test_real_replies(reply, options, expected):
    assert extract_choice(reply, options) == expected


def test_boxed_real_replies_read_the_same_in_the_loop_and_the_reward():
    reply = "I get the answer.\n\nThe risk is polygenic. \\boxed{\\text{E}}"
    options = ["A. a", "B. b", "C. c", "D. d", "E. A polygenic risk score"]
    assert parse_reply(reply).answer == "E"
    assert answer_letter(reply, options) == extract_choice(reply, options) == "E"


@pytest.mark.parametrize(("reply", "expected"), [
    ("The answer is a dog sitting on the sofa.", None),  # "a" is an article, not option A
    ("the answer is a", "A"),  # a letter at the end after a cue is a choice
    ("I'll go with plan b", None),
    ("Answer: **c**", "C"),
    ("答案是B", "B"),
    ("I choose C and stop", "C"),
])
def test_lower_case_letters_count_only_as_choices(reply, expected):
    assert extract_choice(reply) == expected
