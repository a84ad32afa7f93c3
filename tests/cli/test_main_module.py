"""``python -m love_r1.cli`` behaves as the ``love-r1`` console script (used by ``accelerate launch -m``)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _run_module(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "love_r1.cli", *argv], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "100"})


def test_module_prints_the_same_help_as_main(monkeypatch, capsys):
    from love_r1.cli import main

    done = _run_module("data", "--help")
    assert done.returncode == 0, done.stderr
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as stop:
        main(["data", "--help"])
    assert stop.value.code == 0
    assert done.stdout == capsys.readouterr().out
    assert done.stdout.startswith("usage: love-r1 data ")


def test_module_exit_status_is_main_return_value():
    done = _run_module()  # no command: help on stdout, exit status 2
    assert done.returncode == 2 and done.stdout.startswith("usage: love-r1 ")
