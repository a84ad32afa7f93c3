"""Every script in ``benchmarks/`` runs on the current code (at its smallest size) and ends with its JSON line.

The scripts are not imported by the package or the tests, so a renamed API breaks them silently (the
teacher-call benchmark still built ``QAItem(video=...)`` after the rename to ``video_path``). This runs each
one as a user would, from the repository root, with arguments that keep it to seconds; figures are not
checked here (benchmarks measure, tests do not), only that the script completes and prints its result.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# script -> (arguments, keys its JSON line must hold); "{tmp}" is a scratch folder
SCRIPTS: dict[str, tuple[list[str], set[str]]] = {
    "data_teacher_calls.py": (["--num-items", "8", "--latency-seconds", "0.001", "--workers", "1", "2"],
                              {"workers_1", "workers_2", "resume_requests"}),
    "parsers.py": (["--sizes", "2000", "--repeats", "1"], set()),
    "positions.py": (["--durations", "150", "--no-model"], set()),
    "multistep.py": (["--preset", "quick", "--duration-seconds", "40", "--threads", "1"], set()),
    "train_step.py": (["--device", "cpu", "--sft-steps", "3", "--grpo-updates", "1", "--processes", "1"], set()),
    "serve_burst.py": (["--clients", "4"], set()),
    "report_page.py": (["--num-videos", "2", "--copies", "1", "--no-browser", "--workdir", "{tmp}/report"], set()),
}


def _run(script: str, arguments: list[str], tmp_path: Path) -> dict | list:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, str(REPO / "benchmarks" / script), *(a.format(tmp=tmp_path) for a in arguments)]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    last = done.stdout.strip().splitlines()[-1]
    result = json.loads(last)
    assert isinstance(result, dict | list) and result, last
    return result


def test_every_script_is_covered():
    # decode.py: below; learn_to_zoom.py: its --smoke run is tests/train/test_learn_to_zoom_smoke.py
    assert {p.name for p in (REPO / "benchmarks").glob("*.py")} == set(SCRIPTS) | {"decode.py", "learn_to_zoom.py"}


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_benchmark_script_runs(script, tmp_path):
    arguments, keys = SCRIPTS[script]
    result = _run(script, arguments, tmp_path)
    assert keys <= set(result if isinstance(result, dict) else result[0]), result


@pytest.mark.slow
def test_decode_benchmark_runs(tmp_path):
    video = tmp_path / "t.mp4"
    make = [sys.executable, str(REPO / "benchmarks" / "decode.py"), "--make-video", str(video),
                 "--content", "testsrc2", "--duration-seconds", "6", "--gop-seconds", "2"]
    subprocess.run(make, cwd=REPO, check=True, capture_output=True, timeout=300)
    result = _run("decode.py", ["--video", str(video), "--repeats", "1", "--threads", "1"], tmp_path)
    assert str(video) in json.dumps(result)
