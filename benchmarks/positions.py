"""Where the text after the fast view sits in the M-RoPE positions: the trained rule vs transformers 5's.

Launch (from the repository root, CPU is fine, about a minute on 2 cores):

    python benchmarks/positions.py
    python benchmarks/positions.py --durations 150 3600 --no-model

For each video duration it builds the step-1 LOVE-R1 prompt of a 16:9, 30 fps video exactly as
inference does (fast view: ``n = min(int(2 * D), 768)`` frames at the reference pixel budget,
rate ``round(n / (N - 1) * fps, 2)``; the system message, ``Full video [0, D]:`` label, question
and decision instruction; the tiny offline Qwen2.5-VL processor and chat template) and prints the
position of ``<|vision_end|>``, the first text token after the fast view:

* ``max_plus_one``: the rule the checkpoints were trained with (transformers 4.49, vLLM):
  ``start + last time id + 1``;
* ``spatial_extent``: transformers 5's rule: ``start + max(h, w)`` of the merged grid.

``fed to the model`` is the value the hf backend actually gives the language model (a forward hook
on the tiny random model; it equals the ``max_plus_one`` column unless ``--position-rule`` says
otherwise), so the figure is measured, not computed. Token counts of the text come from the tiny
tokenizer, so ``start`` differs from the real Qwen tokenizer's by a few tokens; the time extent
does not. Prints a table, then one JSON line (the last line).
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch


def _prompt(duration_seconds: float, *, source_fps: float = 30.0):
    from love_r1.agent.messages import build_messages, question_text
    from love_r1.video import Frames
    from love_r1.video.resize import smart_resize
    from love_r1.video.sampling import fast_view_indices, fast_view_pixels

    total = int(duration_seconds * source_fps)
    selection = fast_view_indices(num_frames_total=total, fps=source_fps)
    pixels = fast_view_pixels(duration_seconds=duration_seconds)
    height, width = smart_resize(height=720, width=1280, min_pixels=pixels, max_pixels=int(pixels * 1.05))
    indices = np.asarray(selection.frame_indices)
    fast = Frames(data=np.zeros((len(indices), height, width, 3), dtype=np.uint8),
                  timestamps_seconds=indices / source_fps, frame_indices=indices, source_fps=source_fps,
                  sample_fps=selection.sample_fps, key=f"fast-{duration_seconds}")
    text = question_text("What happens after the door opens?", ("A. x", "B. y", "C. z", "D. w"))
    return build_messages(fast_view=fast, clips=[], duration_seconds=duration_seconds, question_text=text), fast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--durations", type=float, nargs="+", default=[150.0, 600.0, 3600.0, 10800.0],
                        help="video durations (seconds)")
    parser.add_argument("--position-rule", choices=["max_plus_one", "spatial_extent"], default="max_plus_one",
                        help="the hf backend's setting for the 'fed to the model' column")
    parser.add_argument("--no-model", action="store_true", help="skip running the tiny model (positions only)")
    args = parser.parse_args()
    torch.set_num_threads(2)

    from love_r1.backends import GenerationRequest, SamplingParams
    from love_r1.backends.hf import HFBackend
    from love_r1.backends.qwen_inputs import build_generation_inputs, mrope_position_ids
    from love_r1.synth import build_tiny_model

    model, processor = build_tiny_model("qwen2_5_vl")
    fed: list[torch.Tensor] = []
    model.model.language_model.register_forward_pre_hook(
        lambda module, a, kwargs: fed.append(kwargs["position_ids"][-3:]), with_kwargs=True)
    backend = HFBackend(model, processor, position_rule=args.position_rule, reuse_cache=False)
    rows = []
    header = (f"{'D (s)':>7} {'frames':>6} {'fps':>5} {'grid t x h x w':>15} {'start':>5} {'max_plus_one':>12} "
              f"{'spatial_extent':>14} {'fed to the model':>16}")
    print(header)  # noqa: T201
    for duration in args.durations:
        messages, fast = _prompt(duration)
        batch = build_generation_inputs(processor, [messages], model_type="qwen2_5_vl")
        ids = batch["input_ids"][0]
        video = (ids == model.config.video_token_id).nonzero().flatten()
        start, after = int(video.min()), int(video.max()) + 1
        values = {}
        for rule in ("max_plus_one", "spatial_extent"):
            positions = mrope_position_ids(batch["input_ids"], config=model.config, position_rule=rule,
                                           video_grid_thw=batch["video_grid_thw"],
                                           second_per_grid_ts=batch["second_per_grid_ts"])
            values[rule] = int(positions[0, 0, after])
        measured = None
        if not args.no_model:
            fed.clear()
            backend.generate([GenerationRequest(messages, sampling=SamplingParams(max_new_tokens=1))])
            measured = int(fed[0][0, 0, after])
        t, h, w = (int(v) for v in batch["video_grid_thw"][0])
        grid = f"{t} x {h // 2} x {w // 2}"
        print(f"{duration:>7g} {fast.num_frames:>6} {fast.sample_fps:>5g} {grid:>15} {start:>5} "  # noqa: T201
              f"{values['max_plus_one']:>12} {values['spatial_extent']:>14} "
              f"{'-' if measured is None else measured:>16}")
        rows.append({"duration_seconds": duration, "num_frames": fast.num_frames, "sample_fps": fast.sample_fps,
                     "grid_thw_merged": [t, h // 2, w // 2], "start": start, **values, "fed": measured})
    print(json.dumps({"position_rule": args.position_rule, "rows": rows}))  # noqa: T201


if __name__ == "__main__":
    main()
