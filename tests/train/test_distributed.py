"""Several processes train exactly like one (CPU, gloo): same learning rate at every update, same number of
optimizer steps, the same parameters, whatever each process's masks. Slow: each test launches real runs.

* GRPO: 1 process vs ``torchrun --nproc_per_node 2`` (DDP) vs ``accelerate launch`` with DeepSpeed ZeRO-3
  (when deepspeed is installed), with the rollouts of one record partly masked, so in the 2-process runs
  one process masks and the other does not.
* SFT (``love-r1 train sft``): 1 process x 4 accumulation vs 2 processes x 2 accumulation.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers.markers import requires_deepspeed
from tests.helpers.train import SMALL, grpo_records, sft_records, write_jsonl

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("distributed_run.py")
LEARNING_RATE = 1e-2
# Adam's epsilon: float32 sums in another order differ by ~1e-7 relative, and with a tiny epsilon Adam
# turns that noise on near-zero gradients into steps of up to the learning rate. A larger epsilon keeps
# those coordinates' steps ~ lr * g / epsilon, so the runs agree to ~1e-7 while a wrong weighting of the
# processes' samples still moves parameters by a large fraction of a step.
ADAM_EPSILON = 1e-3
# max |Δ| of any parameter between the runs: 1 % of one Adam step (≈ the learning rate).
PARAM_TOLERANCE = 1e-2 * LEARNING_RATE
UPDATES = 3
RUN_TIMEOUT_SECONDS = 240


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               HF_HUB_DISABLE_PROGRESS_BARS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(REPO), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


def _run(command: list[str], *, cwd: Path, **env: str) -> None:
    """Run ``command``; a hang (a process waiting on a collective the others never make) fails after the timeout."""
    log = cwd / f"run-{_port()}.log"
    with log.open("w") as out:
        try:
            code = subprocess.run(command, cwd=cwd, env=_env(**env), stdout=out, stderr=subprocess.STDOUT,
                                  timeout=RUN_TIMEOUT_SECONDS).returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
    assert code == 0, f"{' '.join(command)} failed ({code}):\n{log.read_text()[-6000:]}"


def _torchrun(n: int) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(n), "--master_port", str(_port())]


def _params(directory: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(directory / "model.safetensors"))


def _max_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)


def _metrics(directory: Path) -> list[dict]:
    return [json.loads(line) for line in (directory / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def grpo_setup(tmp_path_factory, tiny_dir, video_root):
    work = tmp_path_factory.mktemp("grpo_distributed")
    records = write_jsonl(work / "grpo.jsonl", grpo_records())

    def config(name: str, **overrides) -> Path:
        values = dict(model_name_or_path=str(tiny_dir), train_file=str(records), video_root=str(video_root),
                      output_dir=str(work / name), prompts_per_update=2, num_generations=4, micro_batch_size=3,
                      max_steps=UPDATES, learning_rate=LEARNING_RATE, adam_epsilon=ADAM_EPSILON,
                      lr_scheduler_type="cosine", max_completion_length=3,
                      temperature=1.0, use_cpu=True, progress=False, seed=0, **SMALL)
        values.update(overrides)
        path = work / f"{name}.json"
        path.write_text(json.dumps(values))
        return path

    one = config("one")
    _run([sys.executable, str(RUNNER), str(one), "--mask-record", "1"], cwd=work)
    return work, config


def _check_same_run(work: Path, other: str) -> None:
    reference, run = _metrics(work / "one"), _metrics(work / other)
    assert len(reference) == len(run) == UPDATES
    assert [m["learning_rate"] for m in run] == [m["learning_rate"] for m in reference]
    assert [m["optimizer_steps"] for m in run] == [m["optimizer_steps"] for m in reference] == [1.0, 2.0, 3.0]
    assert all(m["num_masked"] == 4 for m in run)  # rollouts 0, 1 of record 1, both steps
    assert [m["loss"] for m in run] == pytest.approx([m["loss"] for m in reference], abs=1e-6)
    # the gradient (before clipping) is the same: catches a wrong loss scale, which Adam would hide
    assert [m["grad_norm"] for m in run] == pytest.approx([m["grad_norm"] for m in reference], rel=1e-4)
    start, one, two = _params(_tiny(work)), _params(work / "one"), _params(work / other)
    assert _max_diff(one, start) > 1e-4  # the updates moved the weights
    assert _max_diff(one, two) <= PARAM_TOLERANCE


def _tiny(work: Path) -> Path:
    return Path(json.loads((work / "one.json").read_text())["model_name_or_path"])


def test_grpo_two_ddp_processes_equal_one_with_masks_on_one_process(grpo_setup):
    work, config = grpo_setup
    two = config("two")
    _run([*_torchrun(2), str(RUNNER), str(two), "--mask-record", "1"], cwd=work)
    _check_same_run(work, "two")


@requires_deepspeed
def test_grpo_deepspeed_zero3_two_processes_equal_one(grpo_setup):
    work, config = grpo_setup
    ds = config("zero3", use_cpu=False)  # accelerate selects DeepSpeed only without cpu=True
    accelerate_config = work / "zero3.yaml"
    accelerate_config.write_text(yaml.safe_dump({
        "compute_environment": "LOCAL_MACHINE", "distributed_type": "DEEPSPEED", "mixed_precision": "no",
        "deepspeed_config": {"zero_stage": 3, "zero3_init_flag": False, "zero3_save_16bit_model": True,
                             "offload_optimizer_device": "none", "offload_param_device": "none"},
        "num_machines": 1, "num_processes": 2, "use_cpu": False, "main_process_port": _port()}))
    _run([sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(accelerate_config), str(RUNNER),
          str(ds), "--mask-record", "1"], cwd=work, DS_ACCELERATOR="cpu")
    _check_same_run(work, "zero3")


def test_sft_two_processes_equal_one(tmp_path, tiny_dir, video_root):
    records = write_jsonl(tmp_path / "sft.jsonl", sft_records())
    base = dict(model_name_or_path=str(tiny_dir), train_file=str(records), video_root=str(video_root),
                per_device_train_batch_size=1, max_steps=2, learning_rate=LEARNING_RATE, adam_epsilon=ADAM_EPSILON,
                lr_scheduler_type="cosine",
                logging_steps=1, save_strategy="no", report_to="none", use_cpu=True, bf16=False,
                activation_checkpointing=False, dataloader_num_workers=0, seed=0, **SMALL)
    config = tmp_path / "sft.yaml"
    config.write_text(yaml.safe_dump(base))
    cli = ["-m", "love_r1.cli", "train", "sft", "--config", str(config)]
    _run([sys.executable, *cli, "--output-dir", str(tmp_path / "one"), "--gradient-accumulation-steps", "4"],
         cwd=tmp_path)
    _run([*_torchrun(2), *cli, "--output-dir", str(tmp_path / "two"), "--gradient-accumulation-steps", "2"],
         cwd=tmp_path)
    states = [json.loads((tmp_path / name / "trainer_state.json").read_text()) for name in ("one", "two")]
    assert states[0]["global_step"] == states[1]["global_step"] == 2
    rates = [[h["learning_rate"] for h in s["log_history"] if "learning_rate" in h] for s in states]
    assert rates[0] == rates[1] and len(rates[0]) == 2 and rates[0][0] > rates[0][1]
    assert _max_diff(_params(tmp_path / "one"), _params(tmp_path / "two")) <= PARAM_TOLERANCE
    assert _max_diff(_params(tmp_path / "one"), _params(tiny_dir)) > 1e-4
