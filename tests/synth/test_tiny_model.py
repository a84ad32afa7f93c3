"""`love-r1 synth tiny-model` writes a checkpoint every model-loading command accepts; `needle-records` trains."""

from __future__ import annotations

import json

import pytest
import torch

from love_r1.cli import main


@pytest.mark.parametrize("model_type", ["qwen2_5_vl", "qwen3_vl"])
def test_tiny_model_folder_loads_with_the_auto_classes_and_the_hf_backend(tmp_path, model_type, capsys):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from love_r1.backends.hf import HFBackend
    from love_r1.synth import build_tiny_model

    out = tmp_path / model_type
    assert main(["synth", "tiny-model", "--out", str(out), "--model-type", model_type, "--seed", "3"]) == 0
    assert "use it" in capsys.readouterr().out
    assert {"config.json", "model.safetensors", "chat_template.jinja"} <= {p.name for p in out.iterdir()}
    model = AutoModelForImageTextToText.from_pretrained(out)
    processor = AutoProcessor.from_pretrained(out)
    assert model.config.model_type == model_type and "<|im_start|>" in processor.chat_template
    built, _ = build_tiny_model(model_type, seed=3)  # same seed, same weights
    assert all(torch.equal(a, b) for a, b in zip(built.state_dict().values(), model.state_dict().values(),
                                                 strict=True))
    assert HFBackend.from_pretrained(str(out), device="cpu", dtype="float32") is not None


def test_needle_records_are_training_records(tmp_path, capsys):
    from love_r1.train import load_records

    needle = tmp_path / "needle"
    assert main(["synth", "needle", "--out", str(needle), "--duration-seconds", "12", "--questions-per-video", "2",
                 "--width", "96", "--height", "64", "--fps", "4", "--no-progress"]) == 0
    assert main(["synth", "needle-records", "--needle", str(needle)]) == 0
    sft, sft_issues = load_records(needle / "train_sft.jsonl")
    grpo, grpo_issues = load_records(needle / "train_grpo.jsonl")
    assert sft_issues == grpo_issues == [] and len(sft) == 4 and len(grpo) == 2
    assert [r.target.split("\n")[0] for r in sft] == ["I need to zoom in on the video.", "I get the answer."] * 2
    annotation = json.loads((needle / "annotations.jsonl").read_text().splitlines()[0])
    assert grpo[0].gold == annotation["answer"] and grpo[0].evidence[0].as_list() == annotation["evidence"][0]
    zoom = sft[0].target[sft[0].target.index("[") + 1:sft[0].target.index("]")]
    start, end = map(int, zoom.split(","))
    assert start <= annotation["evidence"][0][0] and end >= annotation["evidence"][0][1]
    assert sft[1].clips[0].as_list() == [start, end]


def test_phrase_tokens_keep_the_prompt_text_and_shorten_it(tmp_path, capsys):
    from transformers import AutoConfig, AutoProcessor

    from love_r1.prompts import constants
    from love_r1.synth._tiny_model import build_tokenizer

    out = tmp_path / "medium"
    assert main(["synth", "tiny-model", "--out", str(out), "--size", "medium", "--phrase-tokens"]) == 0
    capsys.readouterr()
    config = AutoConfig.from_pretrained(out)
    assert (config.text_config.hidden_size, config.text_config.num_hidden_layers) == (128, 4)
    assert (config.vision_config.hidden_size, config.vision_config.depth) == (96, 2)
    phrased = AutoProcessor.from_pretrained(out).tokenizer
    plain = build_tokenizer()
    assert config.text_config.vocab_size >= len(phrased) > len(plain)
    prompt = (constants.SYSTEM_MESSAGE + "Which way?\nA. horizontal" + constants.SINGLE_LETTER_INSTRUCTION
              + constants.DECISION_INSTRUCTION + constants.ZOOM_PREFIX + "\\boxed{[10, 20]}" + constants.ANSWER_PHRASE)
    ids = phrased(prompt)["input_ids"]
    assert phrased.decode(ids) == prompt  # the text is unchanged, byte for byte
    for phrase in (constants.SYSTEM_MESSAGE, constants.DECISION_INSTRUCTION, constants.SINGLE_LETTER_INSTRUCTION,
                   constants.ZOOM_PHRASE, constants.ANSWER_PHRASE):
        assert len(phrased(phrase)["input_ids"]) == 1
    assert len(ids) * 5 < len(plain(prompt)["input_ids"])
