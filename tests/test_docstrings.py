"""The ``>>>`` examples in the reply grammar, the answer extractor, the zoom arithmetic and the
rewards run as tests, so the documented behaviour cannot drift from the code."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["love_r1.agent.grammar", "love_r1.eval.extract", "love_r1.agent.loop", "love_r1.agent.steps",
           "love_r1.train.rewards", "love_r1.errors", "love_r1.agent._questions"]
# Functions whose docstrings must carry a runnable example (issue: "runnable docstring examples").
DOCUMENTED = {
    "love_r1.agent.grammar": ["parse_reply", "find_box", "parse_interval", "read_option_letter"],
    "love_r1.eval.extract": ["extract_choice"],
    "love_r1.agent.loop": ["resolve_zoom"],
    "love_r1.agent.steps": ["shown_reply"],
    "love_r1.agent._questions": ["normalize_options", "check_gold"],
    "love_r1.train.rewards": ["format_reward", "answer_reward", "zoom_reward", "zoom_interval", "answer_letter"],
}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_pass(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted > 0, f"{name} has no docstring examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples of {name} failed (see output)"


@pytest.mark.parametrize(("name", "function"), [(m, f) for m, fs in DOCUMENTED.items() for f in fs])
def test_public_parsers_have_examples(name, function):
    doc = getattr(importlib.import_module(name), function).__doc__ or ""
    assert ">>> " in doc, f"{name}.{function} has no runnable example"
