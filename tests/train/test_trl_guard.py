"""Guard: TRL's GRPOTrainer drops video inputs from its loss forward (why love-r1 has its own GRPO trainer).

When this test starts failing, TRL passes video to the loss pass; revisit ``love_r1.train.grpo``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.helpers.train import CPU


@pytest.mark.filterwarnings("ignore")
def test_trl_grpo_loss_forward_never_sees_the_video(tmp_path, tiny):
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    model, processor = tiny
    frames = np.random.default_rng(0).integers(0, 255, (4, 56, 56, 3), dtype=np.uint8)

    def restore(batch):
        prompts = []
        for prompt in batch["prompt"]:
            for message in prompt:
                for part in message["content"]:
                    if part.get("video") is not None:
                        part["video"] = np.asarray(part["video"], dtype=np.uint8)
                    else:
                        part.pop("video", None)
                    if part.get("text") is None:
                        part.pop("text", None)
            prompts.append(prompt)
        return {"prompt": prompts}

    rows = [{"prompt": [{"role": "user", "content": [{"type": "video", "video": frames.tolist()},
                                                      {"type": "text", "text": "What?"}]}]}] * 2
    dataset = Dataset.from_list(rows).with_transform(restore)
    args = GRPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=2, num_generations=2, max_steps=1,
                      max_completion_length=4, remove_unused_columns=False, logging_steps=1,
                      chat_template_kwargs={"processor_kwargs": {
                          "do_sample_frames": False,
                          "video_metadata": [{"fps": 2.0, "total_num_frames": 4, "frames_indices": [0, 1, 2, 3]}] * 2}},
                      **CPU)
    trainer = GRPOTrainer(model=model, reward_funcs=lambda completions, **kw: [float(len(c)) for c in completions],
                          args=args, train_dataset=dataset, processing_class=processor)
    seen = {"rollout_with_video": False, "grad_with_video": [], "grad_calls": 0}

    def hook(module, args, kwargs):
        has_video = "pixel_values_videos" in kwargs or "mm_encoder_outputs" in kwargs
        if torch.is_grad_enabled():
            seen["grad_calls"] += 1
            seen["grad_with_video"].append("pixel_values_videos" in kwargs)
        elif has_video:
            seen["rollout_with_video"] = True

    handle = model.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        trainer.train()
    finally:
        handle.remove()
    assert seen["rollout_with_video"]          # sampling saw the video
    assert seen["grad_calls"] > 0
    assert not any(seen["grad_with_video"])    # TRL 1.16: the loss forward did not
