"""CI's stages (``.ci/run`` with ``scripts/ci_stages.sh``): every stage runs, a failing one fails CI, and a pytest
stage that collects nothing (exit status 5) is a failure, never a silent success."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).parents[1]


def _run_stages(body: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", f". scripts/ci_stages.sh\n{body}\nfinish_stages"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)


def test_all_stages_pass():
    done = _run_stages("stage a true\nstage b true")
    assert done.returncode == 0 and "=== CI passed" in done.stdout
    assert "a: exit 0" in done.stdout and "b: exit 0" in done.stdout


def test_a_failing_stage_fails_ci_and_the_later_stages_still_run():
    done = _run_stages("stage a false\nstage b true")
    assert done.returncode == 1
    assert "b: exit 0" in done.stdout and "=== CI failed: a" in done.stdout


def test_no_tests_collected_is_a_failure():
    done = _run_stages("stage slow bash -c 'exit 5'")
    assert done.returncode == 1
    assert "pytest collected no test (exit status 5)" in done.stdout and "=== CI failed: slow" in done.stdout


def test_ci_runs_the_readme_test_command_then_slow_tests_then_the_docs_check():
    script = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    stages = [line for line in script.splitlines() if line.startswith("stage ")]
    assert stages == ["stage tests bash scripts/test.sh", "stage slow bash scripts/test.sh -m slow",
                      "stage docs bash -c '. .venv/bin/activate && python scripts/check_docs.py'"]
    assert "bash scripts/install-dev.sh && bash scripts/test.sh" in (REPO / "README.md").read_text(encoding="utf-8")
    assert script.rstrip().endswith("finish_stages")
