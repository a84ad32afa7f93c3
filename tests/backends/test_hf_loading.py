"""HFBackend.from_pretrained: class from config.model_type, local dirs, the Hub cache layout, offline errors."""

from __future__ import annotations

import time

import pytest
import torch
import transformers

from love_r1.backends import BackendError
from love_r1.backends._hub import DEFAULT_MODEL_ID, resolve_model_path
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
    started = time.perf_counter()
    with pytest.raises(BackendError, match="--model /path/to/local/checkpoint") as info:
        HFBackend.from_pretrained("iSEE-Laboratory/no-such-model-xyz", device="cpu")
    assert time.perf_counter() - started < 10
    assert "iSEE-Laboratory/no-such-model-xyz" in str(info.value)


def test_local_paths_are_checked(tmp_path):
    with pytest.raises(BackendError, match="no config.json"):
        resolve_model_path(tmp_path)
    with pytest.raises(BackendError, match="does not exist"):
        resolve_model_path(str(tmp_path / "missing" / "dir"))
    with pytest.raises(ValueError, match="device"):
        HFBackend.from_pretrained(str(tmp_path), device="gpu-please")


def test_default_model_is_the_released_stage3_checkpoint():
    assert DEFAULT_MODEL_ID == "iSEE-Laboratory/love-r1-stage3"
