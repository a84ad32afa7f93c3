"""The docs check (``scripts/check_docs.py``): every love-r1 flag in README.md and docs/*.md exists (fast, here);
running the blocks is CI's docs-check stage. The checker itself is tested on small documents."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def check_docs():
    spec = importlib.util.spec_from_file_location("check_docs", REPO / "scripts" / "check_docs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_docs"] = module
    spec.loader.exec_module(module)
    return module


def test_every_love_r1_command_in_the_docs_uses_current_flags(check_docs):
    files = check_docs.default_files()
    assert len(files) >= 10
    assert check_docs.static_problems(files) == []


def test_every_block_that_cannot_run_says_why(check_docs):
    for path in check_docs.default_files():
        for block in check_docs.read_blocks(path):
            if block.skip is not None:
                assert len(block.skip) > 15 and block.skip != "no reason given", block.where


def _doc(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "doc.md"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_checker_finds_stale_flags_in_blocks_and_inline_code(check_docs, tmp_path):
    doc = _doc(tmp_path, """
        <!-- docs-check: skip: needs a GPU -->
        ```bash
        love-r1 synth needle --out-dir toy --duration-seconds 10
        CUDA_VISIBLE_DEVICES=0 love-r1 eval --benchmark needle --data-root d --out o --preset plain
        vllm serve ckpt --served-model-name love-r1 --max-model-len 32768
        ```

        Run `love-r1 data mine-hard --num-samples 4` and `love-r1 train grpo --learning-rat 1`.
    """)
    problems = check_docs.static_problems([doc])
    assert [p.split(": ", 1)[1] for p in problems] == [
        "love-r1 synth needle: no flag --out-dir",
        "love-r1 eval: no flag --preset",  # a deprecated spelling is stale in the docs
        "love-r1 data mine-hard: no flag --num-samples (in `love-r1 data mine-hard --num-samples 4`)",
        "love-r1 train grpo: no flag --learning-rat (in `love-r1 train grpo --learning-rat 1`)",
    ]


def test_the_checker_runs_blocks_and_compares_the_shown_output(check_docs, tmp_path, capsys):
    good = _doc(tmp_path, """
        ```console
        $ printf 'took 1.25 s (config 0123456789abcdef)\\nnoise\\nline two\\n'
        took 9.5 s (config fedcba9876543210)
        ...
        line two
        $ cat made.txt
        cat: made.txt: No such file or directory
        ```
    """)
    assert check_docs.main([str(good)]) == 1  # cat fails: exit status 1, not 0
    assert "exited 1 (expected 0)" in capsys.readouterr().out
    good.write_text(good.read_text().replace("```console", "<!-- docs-check: setup: echo hi > made.txt -->\n```console")
                    .replace("cat: made.txt: No such file or directory", "hi"))
    assert check_docs.main([str(good)]) == 0
    assert "1 block(s) ran as documented" in capsys.readouterr().out
    drifted = _doc(tmp_path, """
        ```console
        $ echo "answer B (correct)"
        answer A  (correct)
        ```
    """)
    assert check_docs.main([str(drifted)]) == 1
    assert "the output no longer shows:\n        answer A  (correct)" in capsys.readouterr().out


def test_a_python_block_is_compared_with_the_output_block_after_it(check_docs, tmp_path, capsys):
    doc = _doc(tmp_path, """
        ```python
        print(sum(range(4)), "frames")
        ```

        ```
        7 frames
        ```
    """)
    assert check_docs.main([str(doc)]) == 1
    doc.write_text(doc.read_text().replace("7 frames", "6 frames"))
    assert check_docs.main([str(doc)]) == 0


def test_skipped_blocks_are_listed_with_their_reason(check_docs, tmp_path, capsys):
    doc = _doc(tmp_path, """
        <!-- docs-check: skip: needs the 7B checkpoint and a GPU -->
        ```bash
        love-r1 ask clip.mp4 "Q?" --model /models/love-r1-stage3
        ```
    """)
    assert check_docs.main(["--list-skipped", str(doc)]) == 0
    assert capsys.readouterr().out.strip() == f"{doc}:3: needs the 7B checkpoint and a GPU"


def test_command_blocks_say_they_are_commands(check_docs):
    """A block of commands is fenced ``bash`` (or ``console`` with ``$`` prompts), so the checker runs it or a
    marker says why not; an untyped block holds output only."""
    import re

    looks_like_commands = re.compile(r"^\s*(love-r1|python|bash|curl|pip|accelerate|torchrun|vllm|hf |export|for )")
    for path in check_docs.default_files():
        for block in check_docs.read_blocks(path):
            if block.language == "" and not block.is_command_block:
                first = next((line for line in block.text.splitlines() if line.strip()), "")
                assert not looks_like_commands.match(first), f"{block.where}: fence it as ```bash"
