"""HFBackend.from_pretrained: class from config.model_type, local dirs, the Hub cache layout, offline errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import torch
import transformers

from love_r1.backends import DEFAULT_MODEL_ID, BackendError
from love_r1.backends._hub import resolve_model_path
from love_r1.backends.hf import HFBackend
from tests.fixtures import tiny_qwen as tq

_CLASSES = {"qwen2_5_vl": transformers.Qwen2_5_VLForConditionalGeneration,
            "qwen3_vl": transformers.Qwen3VLForConditionalGeneration}
_MISLEADING = {"qwen2_5_vl": "Qwen3-VL-2B-Instruct", "qwen3_vl": "Qwen2.5-VL-7B-Instruct"}


@pytest.mark.parametrize("family", tq.FAMILIES)
def test_class_comes_from_config_not_the_directory_name(family, tmp_path):
    model, processor = tq.build_tiny(family)
    directory = tq.save_tiny(model, processor, tmp_path / _MISLEADING[family])
    backend = HFBackend.from_pretrained(str(directory), device="cpu")
    assert type(backend.model) is _CLASSES[family]
    assert backend.model_type == family
    assert backend.model.dtype == torch.float32  # dtype="auto" on CPU
    for name, tensor in model.state_dict().items():
        assert torch.equal(backend.model.state_dict()[name], tensor), name


def test_hub_cache_layout_is_resolved_offline(tmp_path, monkeypatch):
    model, processor = tq.build_tiny("qwen2_5_vl")
    revision = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--iSEE-Laboratory--love-r1-tiny"
    tq.save_tiny(model, processor, repo / "snapshots" / revision)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    path = resolve_model_path("iSEE-Laboratory/love-r1-tiny")
    assert path == repo / "snapshots" / revision
    backend = HFBackend.from_pretrained("iSEE-Laboratory/love-r1-tiny", device="cpu", dtype="bfloat16")
    assert type(backend.model) is transformers.Qwen2_5_VLForConditionalGeneration
    assert backend.model.dtype == torch.bfloat16


def test_offline_missing_model_fails_fast_with_a_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    started = time.perf_counter()
    with pytest.raises(BackendError, match="--model /path/to/local/checkpoint") as info:
        HFBackend.from_pretrained("iSEE-Laboratory/no-such-model-xyz", device="cpu")
    assert time.perf_counter() - started < 10
    message = str(info.value)
    assert "iSEE-Laboratory/no-such-model-xyz" in message
    assert "offline mode is on (HF_HUB_OFFLINE=1)" in message and "Unset HF_HUB_OFFLINE" in message


def test_missing_model_without_offline_mode_does_not_blame_it(tmp_path, monkeypatch):
    import huggingface_hub
    from huggingface_hub.errors import LocalEntryNotFoundError

    def unreachable(**kwargs):
        raise LocalEntryNotFoundError("connection error, and nothing in the cache")

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", unreachable)
    with pytest.raises(BackendError, match="could not be reached") as info:
        resolve_model_path("iSEE-Laboratory/no-such-model-xyz", cache_dir=tmp_path)
    assert "HF_HUB_OFFLINE" not in str(info.value) and "--model /path/to/local/checkpoint" in str(info.value)


def test_missing_model_fails_before_torch_and_transformers_are_imported(tmp_path):
    """The fail-fast path decides from the Hub cache alone (this was 7-13 s of imports before)."""
    script = (
        "import sys\n"
        "from love_r1.backends import BackendError\n"
        "from love_r1.backends.hf import HFBackend\n"
        "try:\n"
        "    HFBackend.from_pretrained('iSEE-Laboratory/no-such-model-xyz', device='cuda')\n"
        "except BackendError as error:\n"
        "    print('heavy:', sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "heavy: []"
    assert time.perf_counter() - started < 30  # generous: a bare interpreter plus huggingface_hub


def test_cuda_without_cuda_names_the_command_line_flag(monkeypatch):
    from love_r1.backends.hf import _resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(BackendError, match=r"--device cpu on the command line, device='cpu' in Python"):
        _resolve_device("cuda")
    assert _resolve_device("cpu").type == "cpu"


def test_local_paths_are_checked(tmp_path):
    with pytest.raises(BackendError, match="no config.json"):
        resolve_model_path(tmp_path)
    with pytest.raises(BackendError, match="does not exist"):
        resolve_model_path(str(tmp_path / "missing" / "dir"))
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="device"):
        HFBackend.from_pretrained(str(tmp_path), device="gpu-please")
    with pytest.raises(ValueError, match="position_rule"):
        HFBackend.from_pretrained(str(tmp_path), position_rule="trained")


def test_default_model_is_the_released_stage3_checkpoint():
    assert DEFAULT_MODEL_ID == "iSEE-Laboratory/love-r1-stage3"
