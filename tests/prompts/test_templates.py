"""Prompt templates: StrictUndefined rendering, notes beside each template, exact question texts."""

from __future__ import annotations

from importlib import resources

import jinja2
import pytest

from love_r1.agent.messages import grpo_question_text, question_text, step_prompt_text
from love_r1.prompts import constants, list_templates, render


def test_templates_are_listed_and_each_opens_with_a_note():
    names = list_templates()
    assert names == ["question_grpo.j2", "question_mcq.j2", "step_prompt.j2"]
    for name in names:
        source = (resources.files("love_r1.prompts") / "templates" / name).read_text(encoding="utf-8")
        assert source.startswith("{#-"), name
        note = source[: source.index("-#}")]
        assert "Why" in note or "why" in note or "as grpo.py builds it" in note, name


def test_missing_variable_raises():
    with pytest.raises(jinja2.UndefinedError):
        render("question_mcq", question="Q?")


def test_unknown_template_names_known_ones():
    with pytest.raises(ValueError, match="question_mcq.j2"):
        render("nope")


@pytest.mark.parametrize(
    ("question", "options", "instruction", "expected"),
    [
        ("Q?", ["A. x", "B. y"], "", "Q?\nA. x\nB. y"),
        ("Q?", [], "", "Q?"),
        ("Q?", ["A. x"], constants.SINGLE_LETTER_INSTRUCTION,
         "Q?\nA. x\nProvide only the single option letter (e.g., A, B, C, D, etc.) as the answer."),
        # LVBench: the reference appends its instruction with no newline
        ("Q?\n(A) x\n", [], constants.LVBENCH_LETTER_INSTRUCTION,
         "Q?\n(A) x\nRespond with only the letter (A, B, C, or D) of the correct option."),
        ("Line {{ braces }} and {% raw %}", ["A. {{x}}"], "", "Line {{ braces }} and {% raw %}\nA. {{x}}"),
    ],
)
def test_question_text(question, options, instruction, expected):
    assert question_text(question, options, instruction) == expected


def test_grpo_question_text_matches_grpo_py():
    problem = "What happens after the door opens?\n"
    options = ["A. A dog runs in.", "B. Nobody enters."]
    expected = "What happens after the door opens?\nOptions:\nA. A dog runs in.\nB. Nobody enters.\n"
    assert grpo_question_text(problem, options) == expected
    assert grpo_question_text(problem) == problem
    # the full stage-3 prompt text: question + TYPE_TEMPLATE + decision instruction
    prompt = step_prompt_text(grpo_question_text(problem, options) + constants.TYPE_TEMPLATE["multiple choice"])
    assert prompt == expected + constants.TYPE_TEMPLATE["multiple choice"] + constants.DECISION_INSTRUCTION


def test_step_prompt_is_question_plus_decision_instruction():
    assert step_prompt_text("Q?\nA. x") == "Q?\nA. x" + constants.DECISION_INSTRUCTION
    assert step_prompt_text("Q").startswith("Q\nBased on the video and the user question")


@pytest.mark.parametrize("bad", [None, 3, b"x"])
def test_question_text_type_errors(bad):
    with pytest.raises(TypeError, match="question"):
        question_text(bad)  # type: ignore[arg-type]


def test_options_as_a_string_is_rejected():
    with pytest.raises(TypeError, match="options"):
        question_text("Q?", "A. x")  # type: ignore[arg-type]
