"""The stage cache of ``benchmarks/learn_to_zoom.py``: a finished stage is skipped only while its command lines,
the settings of the config files they name and the stages it reads are unchanged, so a changed recipe (or an
upstream stage that ran again) never leaves a stale checkpoint or evaluation in the result."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("learn_to_zoom_bench", REPO / "benchmarks" / "learn_to_zoom.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pipeline(bench, out: Path, logged: list[str]):
    return bench.Pipeline(out, seed=0, smoke=True, train_videos=1, eval_videos=1, log=logged.append)


def _count(counter: Path) -> list:
    # a command that appends one line to ``counter``: how often the stage really ran
    return [sys.executable, "-c", f"open({str(counter)!r}, 'a').write('x\\n')"]


def test_stages_rerun_when_their_recipe_or_input_changes(bench, tmp_path):
    config, runs_a, runs_b = tmp_path / "a.yaml", tmp_path / "ran_a", tmp_path / "ran_b"
    config.write_text("learning_rate: 1.0e-3  # first\n")
    out, logged = tmp_path / "out", []

    def build(extra: str = "") -> None:
        pipeline = _pipeline(bench, out, logged)
        pipeline.run("a", [[*_count(runs_a), config, *([extra] if extra else [])]])
        pipeline.run("b", [_count(runs_b)], after=("a",))

    def ran() -> tuple[int, int]:
        return tuple(len(p.read_text().splitlines()) if p.is_file() else 0 for p in (runs_a, runs_b))

    build()
    assert ran() == (1, 1)
    build()  # nothing changed: both cached
    assert ran() == (1, 1) and logged[-2:] == ["[a] cached", "[b] cached"]
    config.write_text("learning_rate: 1.0e-3  # a comment is not a setting\n")
    build()
    assert ran() == (1, 1)
    config.write_text("learning_rate: 2.0e-3\n")  # another recipe: a runs again, and b, which reads it
    build()
    assert ran() == (2, 2) and "[a] running again (recipe or input changed)" in logged
    build("--seed=1")  # another command line
    assert ran() == (3, 3)
    (out / "stages" / "a.done").unlink()  # a stage deleted by hand runs again, and so do its readers
    build("--seed=1")
    assert ran() == (4, 4)
    build("--seed=1")
    assert ran() == (4, 4)
    # the times of the stages that ran are kept for the result
    assert set(_pipeline(bench, out, []).seconds) == {"a", "b"}


def test_the_recipe_chains_its_stages(bench):
    # every training stage starts from the checkpoint of the one before (the configs' defaults say the same),
    # and the uniform baseline gets as many samples as stages 1, 2a and 2 together
    import yaml

    learn = REPO / "configs" / "learn"
    configs = {name: yaml.safe_load((learn / f"{name}.yaml").read_text()) for name in
               ("sft_stage1", "sft_stage2_zoom", "sft_stage2", "grpo", "sft_uniform")}
    chain = ["sft_stage1", "sft_stage2_zoom", "sft_stage2", "grpo"]
    for before, after in zip(chain, chain[1:], strict=False):
        assert configs[after]["model_name_or_path"] == configs[before]["output_dir"], after
    records_per_question = {"sft_stage1": 1, "sft_stage2_zoom": 1, "sft_stage2": 2, "sft_uniform": 1}
    samples = {name: records_per_question[name] * configs[name]["num_train_epochs"] for name in records_per_question}
    assert samples["sft_uniform"] == samples["sft_stage1"] + samples["sft_stage2_zoom"] + samples["sft_stage2"]
