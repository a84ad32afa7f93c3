"""SFT: the training prompt is the inference prompt, labels are assistant-only, loss falls, checkpoints reload."""

from __future__ import annotations

import pytest
import torch

from love_r1.backends import GenerationRequest, SamplingParams
from love_r1.backends.qwen_inputs import IGNORE_INDEX, render_prompt
from love_r1.interval import Interval
from love_r1.prompts import constants
from love_r1.train.collate import SFTCollator, TrainingDataError, records_to_rows
from love_r1.train.configs import ZoomSFTConfig
from love_r1.train.inputs import RecordDecoder
from love_r1.train.records import load_records
from love_r1.train.sampling import ClipPolicy
from love_r1.train.sft import make_sft_trainer
from tests.helpers.train import CPU, SMALL, sft_records, write_jsonl


@pytest.fixture
def records(tmp_path):
    return load_records(write_jsonl(tmp_path / "sft.jsonl", sft_records()))[0]


def _decoder(video_root):
    return RecordDecoder(video_root=video_root, policy=ClipPolicy.preset("reference", **SMALL))


def test_cot_prompt_matches_the_inference_layout(records, video_root, tiny):
    _, processor = tiny
    messages, clips, duration = _decoder(video_root).prompt(records[2], seed=0)
    # [2, 3.2] -> rounded [2, 3] < 5 s -> [mid-3, mid+3] = [0, 5]; 8 s video
    assert duration == 8.0 and [c.as_list() for c in clips] == [[0.0, 5.0]]
    user = messages[1]
    texts = [p.text for p in user.content if hasattr(p, "text")]
    assert texts == ["Full video [0, 8]:", "Subset zoom-in video clip [0, 5]:",
                     records[2].question_text + constants.DECISION_INSTRUCTION]
    assert messages[0].text == constants.SYSTEM_MESSAGE
    fast, clip = user.videos
    assert fast.num_frames == 8 and fast.sample_fps == pytest.approx(round(8 / 79 * 10, 2))  # min(16, cap 8)
    assert clip.num_frames == 10  # 2 fps x 5 s, under the 32-frame cap
    prompt = render_prompt(processor, messages)
    assert prompt.endswith(constants.DECISION_INSTRUCTION + "<|im_end|>\n<|im_start|>assistant\n")


def test_stage1_prompt_has_no_decision_instruction(records, video_root):
    messages, _, _ = _decoder(video_root).prompt(records[0], seed=3)
    assert messages[1].content[-1].text == "Which? A. one B. two"


def test_labels_are_the_reply_only_and_masked_tokens_get_no_gradient(records, video_root, tiny):
    model, processor = tiny
    collator = SFTCollator(processor, decoder=_decoder(video_root), model_config=model.config)
    rows = records_to_rows(records)
    batch = collator([rows[2], rows[0]])
    assert batch["input_ids"].shape[0] == 2 and "second_per_grid_ts" in batch
    kept = batch["labels"][0][batch["labels"][0] != IGNORE_INDEX]
    assert processor.tokenizer.decode(kept) == records[2].target + "<|im_end|>"
    captured = {}

    def keep_logits(module, inputs, output):
        output.retain_grad()
        captured["logits"] = output

    handle = model.lm_head.register_forward_hook(keep_logits)
    try:
        model(**batch).loss.backward()
    finally:
        handle.remove()
    grad = captured["logits"].grad  # [B, L, V]; position t predicts label t + 1
    predicts_ignored = batch["labels"][:, 1:] == IGNORE_INDEX
    assert grad[:, :-1][predicts_ignored].abs().max() == 0
    assert grad[:, :-1][~predicts_ignored].abs().sum() > 0
    assert grad[:, -1].abs().max() == 0

    reference = SFTCollator(processor, decoder=_decoder(video_root), model_config=model.config, loss_on_prompt=True)
    labels = reference([rows[2]])["labels"][0]
    assert (labels != IGNORE_INDEX).sum() > len(kept) + 20  # prompt text is in the loss too


def test_a_few_steps_reduce_the_loss_and_the_checkpoint_reloads(tmp_path, records, video_root, tiny):
    from love_r1.agent.messages import build_messages  # noqa: F401  (the backend renders the same layout)
    from love_r1.backends.hf import HFBackend

    model, processor = tiny
    config = ZoomSFTConfig(output_dir=str(tmp_path / "out"), per_device_train_batch_size=2, max_steps=8,
                           learning_rate=3e-3, logging_steps=1, lr_scheduler_type="constant", video_root=str(video_root),
                           seed=0, **SMALL, **CPU)
    trainer = make_sft_trainer(config, model=model, processor=processor, records=records)
    batch = trainer.data_collator(records_to_rows(records))
    with torch.no_grad():
        before = float(model(**batch).loss)
    trainer.train()
    model.eval()
    with torch.no_grad():
        after = float(model(**batch).loss)
    assert after < before - 0.5
    trainer.save_model(str(tmp_path / "ckpt"))
    backend = HFBackend.from_pretrained(str(tmp_path / "ckpt"), device="cpu", dtype="float32")
    messages, _, _ = _decoder(video_root).prompt(records[2], seed=0)
    (generation,) = backend.generate([GenerationRequest(messages=messages, sampling=SamplingParams(max_new_tokens=4))])
    assert isinstance(generation.text, str) and generation.usage.completion_tokens >= 1


@pytest.mark.parametrize(("window", "time_base"), [(None, "presentation"), ((1.0, 7.5), "index")])
def test_trajectory_steps_render_exactly_the_prompts_inference_sent(video_root, tiny, window, time_base):
    """Record an episode with the real agent loop, turn it into step records, and rebuild every prompt: also
    for an item restricted to a window (MVBench bounds) on the other clock than the training config's."""
    import numpy as np

    from love_r1.agent.loop import EpisodeTask, run_episode
    from love_r1.agent.policy import ZoomPolicy
    from love_r1.backends.scripted import ScriptedBackend
    from love_r1.train.records import records_from_episode

    model, processor = tiny
    policy = ZoomPolicy(fast_max_frames=SMALL["fast_max_frames"], fast_pixels_per_frame=SMALL["fast_pixels_per_frame"],
                        clip_pixels_per_frame=SMALL["clip_pixels_per_frame"], time_base=time_base)
    backend = ScriptedBackend(["I need to zoom in on the video.\n\nLook. \\boxed{[2, 5]}", "not sure", "\\boxed{B}"])
    episode = run_episode(backend, EpisodeTask(episode_id="e1", video_path=str(video_root / "a.mp4"), question="What?",
                                               options=("A. x", "B. y"),
                                               window=None if window is None else Interval(*window)), policy)
    records = records_from_episode(episode.to_dict(), line=1)
    assert {(r.window, r.time_base) for r in records} == {(None if window is None else Interval(*window), time_base)}
    requests = [request for call in backend.calls for request in call]
    assert len(records) == len(requests) == 3 and records[2].assistant_prefix == constants.FORCED_ANSWER_PREFIX
    decoder = RecordDecoder(video_root=None, policy=ClipPolicy.preset("reference", **SMALL))
    for record, request in zip(records, requests, strict=True):
        messages, _, _ = decoder.prompt(record)
        assert record.assistant_prefix == request.assistant_prefix
        assert render_prompt(processor, messages) == render_prompt(processor, request.messages)
        ours, theirs = messages[1].videos, request.messages[1].videos
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            assert np.array_equal(a.data, b.data) and a.sample_fps == b.sample_fps
    collator = SFTCollator(processor, decoder=decoder, model_config=model.config)
    batch = collator(records_to_rows(records[2:]))
    kept = batch["labels"][0][batch["labels"][0] != IGNORE_INDEX]
    assert processor.tokenizer.decode(kept) == "\\boxed{B}<|im_end|>"  # the pre-filled phrase is not trained


def test_multi_turn_records_label_every_assistant_turn(tmp_path, video_root, tiny):
    model, processor = tiny
    row = {"video": "a.mp4", "messages": [
        {"role": "user", "content": "What is first?"}, {"role": "assistant", "content": "A cup."},
        {"role": "user", "content": "And then?"}, {"role": "assistant", "content": "A plate."}]}
    records = load_records(write_jsonl(tmp_path / "m.jsonl", [row]))[0]
    batch = SFTCollator(processor, decoder=_decoder(video_root), model_config=model.config)(records_to_rows(records))
    labels, ids = batch["labels"][0], batch["input_ids"][0]
    kept = ids[labels != IGNORE_INDEX]
    assert processor.tokenizer.decode(kept) == "A cup.<|im_end|>A plate.<|im_end|>"
    text = processor.tokenizer.decode(ids)
    assert text.index("A cup.") < text.index("And then?") < text.index("A plate.")
    assert text.rindex("<|vision_end|>") < text.index("What is first?")  # the videos stay in the first user turn


def test_over_long_samples_are_replaced_even_at_batch_size_one(records, video_root, tiny):
    model, processor = tiny
    decoder = _decoder(video_root)
    rows = records_to_rows(records)
    lengths = [int(SFTCollator(processor, decoder=decoder, model_config=model.config)([r])["attention_mask"].sum())
               for r in rows]
    limit = sorted(lengths)[1]  # the two shortest samples fit
    long_rows = [r for r, n in zip(rows, lengths, strict=True) if n > limit]
    collator = SFTCollator(processor, decoder=decoder, model_config=model.config, max_length_tokens=limit, rows=rows)
    for row in long_rows:
        batch = collator([row])  # a batch of one over-long sample: it is not trained on
        assert batch["input_ids"].shape[0] == 1 and int(batch["attention_mask"].sum()) <= limit
    assert [i.field for i in collator.skipped].count("tokens") >= len(long_rows)
    assert all(f"> max_sample_tokens={limit}" in i.message for i in collator.skipped)
    alone = SFTCollator(processor, decoder=decoder, model_config=model.config, max_length_tokens=min(lengths) - 1,
                        rows=rows)
    with pytest.raises(TrainingDataError, match="none of the 4 records"):
        alone([rows[0]])


@pytest.mark.parametrize("model_type", ["qwen2_5_vl", "qwen3_vl"])
@pytest.mark.parametrize("train_merger", [False, True])
def test_vision_tower_is_frozen_like_the_reference(model_type, train_merger):
    from love_r1.synth import build_tiny_model
    from love_r1.train._setup import freeze_vision_tower

    model, _ = build_tiny_model(model_type)
    freeze_vision_tower(model, train_merger=train_merger)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    visual = {n for n, _ in model.named_parameters() if "visual" in n}  # the reference's rule: 'visual' in name
    mergers = {n for n in visual if ".merger." in n or "deepstack_merger" in n}
    assert mergers and trainable & visual == (mergers if train_merger else set())
    assert {n for n, _ in model.named_parameters()} - visual <= trainable  # the language model trains
