"""``--position-rule``: reaches the hf/vLLM backends, is refused by the others, and is recorded with runs."""

from __future__ import annotations

import json

import pytest

from love_r1.backends.qwen_inputs import POSITION_RULES
from love_r1.backends.scripted import ScriptedBackend
from love_r1.cli import main
from love_r1.cli._backends import backend_settings, make_backend
from love_r1.cli._errors import CliError
from love_r1.cli._options import BackendOptions

ANSWER = "I get the answer.\n\nThe box shows a six.\\boxed{A}"


class _StandIn(ScriptedBackend):
    """A scripted backend that carries a position rule, as the hf and vLLM backends do."""

    def __init__(self, position_rule):
        super().__init__([ANSWER] * 8)
        self.position_rule = position_rule


@pytest.fixture
def built(monkeypatch):
    """Replace backend construction; record the keyword arguments the command passed."""
    calls = []

    def fake(options, **kwargs):
        calls.append((options.backend, {"position_rule": options.position_rule, **kwargs}))
        return _StandIn(options.position_rule or "max_plus_one")

    monkeypatch.setattr("love_r1.cli._backends.make_backend", fake)
    return calls


def test_only_hf_and_vllm_take_a_position_rule(tmp_path):
    for kind in ("openai", "scripted"):
        with pytest.raises(CliError, match=f"--position-rule not used by --backend {kind}.*read by --backend hf and "
                                           "vllm"):
            make_backend(BackendOptions(backend=kind, position_rule="spatial_extent"))
    from tests.fixtures import tiny_qwen as tq

    directory = tq.save_tiny(*tq.build_tiny("qwen2_5_vl"), tmp_path / "tiny")
    backend = make_backend(BackendOptions(backend="hf", model=str(directory), device="cpu",
                                          position_rule="spatial_extent"))
    assert backend.position_rule == "spatial_extent" and backend_settings(backend) == {"position_rule":
                                                                                       "spatial_extent"}
    assert backend_settings(ScriptedBackend()) == {}


def test_cli_choices_are_the_library_rules():
    import typing

    from love_r1.cli import ask, serve
    from love_r1.cli import eval as eval_cli

    for module in (ask, eval_cli, serve):
        hint = typing.get_type_hints(module.Options)["position_rule"]
        assert typing.get_args(typing.get_args(hint)[0]) == POSITION_RULES


def test_ask_records_the_rule_in_the_episode_file(built, tmp_path, capsys):
    from love_r1.synth import write_indexed_video

    video = write_indexed_video(tmp_path / "v.mp4", duration_seconds=8.0, fps=5.0, width=64, height=48)
    out = tmp_path / "episode.json"
    assert main(["ask", str(video), "Which?", "--option", "A. x", "--option", "B. y", "--position-rule",
                 "spatial_extent", "--json", str(out)]) == 0
    assert built[-1][0] == "hf" and built[-1][1]["position_rule"] == "spatial_extent"
    record = json.loads(out.read_text())
    assert record["run"]["backend_settings"] == {"position_rule": "spatial_extent"}
    assert record["run"]["config"]["position_rule"] == "spatial_extent"


def test_eval_records_the_rule_in_the_run_config(built, tmp_path, capsys):
    from love_r1.eval.store import read_run
    from love_r1.synth import write_needle_dataset

    root = tmp_path / "needle"
    write_needle_dataset(root, duration_seconds=8.0, num_videos=1, num_questions_per_video=1, width=96, height=64,
                         fps=5.0, seed=1)
    base = ["eval", "--benchmark", "needle", "--data-root", str(root), "--backend", "hf", "--no-progress",
            "--method", "stage1"]
    assert main([*base, "--out", str(tmp_path / "trained")]) == 0
    assert main([*base, "--out", str(tmp_path / "t5"), "--position-rule", "spatial_extent"]) == 0
    trained, t5 = read_run(tmp_path / "trained"), read_run(tmp_path / "t5")
    assert trained.config["position_rule"] == "max_plus_one" and t5.config["position_rule"] == "spatial_extent"
    assert trained.config_hash != t5.config_hash  # results under another rule never mix with these
