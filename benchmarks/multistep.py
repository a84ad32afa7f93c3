"""Cross-step reuse in the hf backend vs rebuilding every step (the reference), on 3-call episodes.

Launch (from the repository root, CPU is fine):

    python benchmarks/multistep.py                     # the reference protocol (about 2 min on 2 cores)
    python benchmarks/multistep.py --preset quick      # a small check (about 30 s)
    python benchmarks/multistep.py --preset quick --num-episodes 4 --share-across-episodes

Presets (any flag below overrides its preset value):

* ``reference`` (default): the reference inference budgets -- fast view of at most 768 frames at
  32·28·28 pixels, zoom clips of at most 32 frames at 256·28·28 pixels, sampled at 2 fps -- on a
  600 s 16:9 video (640x360 at 5 fps), long enough that the fast view is full (768 frames). Frames
  are scaled to the pixel budgets, so the source size only sets the aspect ratio; the low source
  frame rate keeps writing and decoding the synthetic video short.
* ``quick``: those budgets halved in frames and in pixels on a 300 s 320x240 10 fps video.

Each episode runs the real agent loop (``love_r1.agent.loop.run_episodes``) on a long synthetic
video with the hf backend on the larger tiny random Qwen-VL model (about 4 M parameters, built
offline; ``--model DIR`` loads a real checkpoint instead). The question is one line with four
options; the text after the clips (question, options, the loop's instructions) is prefilled again
every step, and the tiny byte-level tokenizer spends more tokens on it (about 240) than the Qwen
tokenizer would. The model's replies are replaced by a
script so that both runs follow the same trajectory: step 1 zooms on a late interval, step 2 on an
earlier one (it sorts *before* the first clip in the prompt), step 3 is the forced answer (step
limit, assistant prefix pre-filled). The model still prefills every prompt and decodes
``--max-new-tokens`` tokens, and those generated tokens are compared between the runs.

Run A: ``HFBackend(reuse_cache=True)`` (clip features and the KV cache of the common prefix reused).
Run B: ``HFBackend(reuse_cache=False)``: every prompt is processed from scratch, as the reference does.
Warm-up episodes (untimed; lazy imports) use a 16-frame fast view and 4-frame clips.
Prints a table, then one JSON line (the last line).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from love_r1.agent.loop import EpisodeTask, run_episodes  # noqa: E402
from love_r1.agent.policy import ZoomPolicy  # noqa: E402
from love_r1.backends import Generation, GenerationRequest, SamplingParams  # noqa: E402
from love_r1.backends.hf import HFBackend  # noqa: E402

# the reference inference budgets, and the same halved (frames and pixels) for a quick run
PRESETS: dict[str, dict[str, Any]] = {
    "reference": {"duration_seconds": 600.0, "width": 640, "height": 360, "fps": 5.0, "fast_max_frames": 768,
                  "fast_pixels": 32 * 28 * 28, "clip_max_frames": 32, "clip_pixels": 256 * 28 * 28},
    "quick": {"duration_seconds": 300.0, "width": 320, "height": 240, "fps": 10.0, "fast_max_frames": 384,
              "fast_pixels": 16 * 28 * 28, "clip_max_frames": 16, "clip_pixels": 128 * 28 * 28},
}


class ScriptedReplies:
    """Runs the real backend, then swaps the reply text for a scripted one (same usage and tokens)."""

    def __init__(self, inner: HFBackend, *, duration_seconds: float) -> None:
        self.inner = inner
        d = duration_seconds
        # even episodes: the second zoom lands after the first; odd: before it (it sorts first)
        self.zooms = {"later": [(0.20 * d, 0.20 * d + 20), (0.70 * d, 0.70 * d + 20)],
                      "earlier": [(0.70 * d, 0.70 * d + 20), (0.20 * d, 0.20 * d + 20)]}
        self.calls: dict[str, int] = {}
        self.token_ids: list[list[int]] = []

    def generate(self, requests: list[GenerationRequest]) -> list[Generation]:
        out = []
        for request, generation in zip(requests, self.inner.generate(requests), strict=True):
            step = self.calls.get(request.session_id, 0)
            self.calls[request.session_id] = step + 1
            self.token_ids.append(list(generation.raw["token_ids"]))
            if request.assistant_prefix:
                text = "The clip shows it. \\boxed{A}"
            else:
                order = "later" if int(request.session_id.lstrip("qw")) % 2 == 0 else "earlier"
                start, end = self.zooms[order][min(step, 1)]
                text = f"I need to zoom in on the video.\n\nLook closer. \\boxed{{[{int(start)}, {int(end)}]}}"
            out.append(Generation(text=text, usage=generation.usage, finish_reason="stop", raw=generation.raw))
        return out


class VisionCounter:
    """Counts frames that actually go through the vision tower (forward hook)."""

    def __init__(self, model: Any) -> None:
        self.frames = 0
        self.handle = model.model.visual.register_forward_hook(self._hook, with_kwargs=True)

    def _hook(self, module: Any, args: Any, kwargs: Any, output: Any) -> None:
        grid = kwargs.get("grid_thw", args[1] if len(args) > 1 else None)
        self.frames += int(grid[:, 0].sum()) * 2


def build_model(args: argparse.Namespace) -> tuple[Any, Any]:
    if args.model:
        backend = HFBackend.from_pretrained(args.model, device=args.device)
        return backend.model, backend.processor
    from love_r1.synth import build_tiny_model

    # the "larger" tiny size of `love-r1 synth tiny-model --size larger` (about 4 M parameters)
    return build_tiny_model(args.family, hidden_size=256, num_hidden_layers=4, intermediate_size=512,
                            vision_hidden_size=128, vision_depth=4, vision_num_heads=4, vision_intermediate_size=256)


def run_episode(scripted: ScriptedReplies, task: EpisodeTask, policy: ZoomPolicy) -> dict[str, Any]:
    """One episode through the agent loop; its counters (summed over steps)."""
    counter = VisionCounter(scripted.inner.model)
    first_token = len(scripted.token_ids)
    started = time.perf_counter()
    episode = None
    try:
        for event in run_episodes(scripted, [task], policy):
            episode = event.episode
    finally:
        counter.handle.remove()
    seconds = time.perf_counter() - started
    if episode is None or episode.error:
        raise RuntimeError(f"episode {task.episode_id} failed: {None if episode is None else episode.error}")
    steps = episode.steps
    return {
        "seconds": seconds,
        "calls": len(steps),
        "prompt_tokens": sum(s.usage.prompt_tokens for s in steps),
        "prompt_tokens_computed": sum(s.usage.prompt_tokens_computed for s in steps),
        "vision_frames_encoded": sum(s.usage.vision_frames_encoded for s in steps),
        "vision_frames_counted": counter.frames,
        "fast_view_frames": episode.fast_view.num_frames,
        "encode_seconds": sum(s.usage.encode_seconds for s in steps),
        "prefill_seconds": sum(s.usage.prefill_seconds for s in steps),
        "generate_seconds": sum(s.usage.generate_seconds for s in steps),
        "token_ids": scripted.token_ids[first_token:],
        "answer": episode.answer,
    }


def run_both(model: Any, processor: Any, *, tasks: list[EpisodeTask], policy: ZoomPolicy,
             duration_seconds: float, share: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each episode with reuse and rebuilt, alternating which goes first (fair under load drift).

    ``share``: keep finished episodes' sessions, so later questions on the same video start from
    their cached system + fast-clip prefix; otherwise every episode starts cold.
    """
    runs = {
        reuse: ScriptedReplies(HFBackend(model, processor, reuse_cache=reuse, max_cached_sessions=2,
                                         share_across_sessions=share), duration_seconds=duration_seconds)
        for reuse in (True, False)
    }
    totals: dict[bool, dict[str, Any]] = {True: {}, False: {}}
    for i, task in enumerate(tasks):
        order = "later" if i % 2 == 0 else "earlier"
        for reuse in ((True, False) if i % 2 == 0 else (False, True)):
            stats = run_episode(runs[reuse], task, policy)
            if not share:
                runs[reuse].inner.close_session(task.episode_id)
            total = totals[reuse]
            for key, value in stats.items():
                if key == "answer":
                    total.setdefault("answers", []).append(value)
                elif key == "token_ids":
                    total.setdefault("token_ids", []).extend(value)
                elif key == "calls":
                    total.setdefault("steps_per_episode", []).append(value)
                    total["calls"] = total.get("calls", 0) + value
                else:
                    total[key] = total.get(key, 0) + value
            by_order = total.setdefault("prompt_tokens_computed_by_order", {"later": 0, "earlier": 0})
            by_order[order] += stats["prompt_tokens_computed"]
    return totals[True], totals[False]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", default="qwen2_5_vl", choices=["qwen2_5_vl", "qwen3_vl"],
                        help="tiny model family (ignored with --model)")
    parser.add_argument("--model", default=None, help="local checkpoint directory or Hub id instead of the tiny model")
    parser.add_argument("--device", default="auto", help="torch device for --model (auto, cpu, cuda:0)")
    parser.add_argument("--num-episodes", type=int, default=2,
                        help="episodes (questions) on one video; the second zoom lands after the first zoom in "
                             "even episodes and before it in odd ones")
    parser.add_argument("--preset", default="reference", choices=sorted(PRESETS),
                        help="video and budgets: " + "; ".join(
                            f"{name}: " + ", ".join(f"{k}={v}" for k, v in values.items())
                            for name, values in PRESETS.items()))
    parser.add_argument("--duration-seconds", type=float, help="synthetic video length (seconds; default: preset)")
    parser.add_argument("--width", type=int, help="synthetic video width (pixels; default: preset)")
    parser.add_argument("--height", type=int, help="synthetic video height (pixels; default: preset)")
    parser.add_argument("--fps", type=float, help="synthetic video frame rate (frames per second; default: preset)")
    parser.add_argument("--fast-max-frames", type=int, help="fast-view frame cap (frames; default: preset)")
    parser.add_argument("--fast-pixels", type=int, help="fast-view pixels per frame (pixels; default: preset)")
    parser.add_argument("--clip-max-frames", type=int, help="zoom-clip frame cap (frames; default: preset)")
    parser.add_argument("--clip-pixels", type=int, help="zoom-clip pixels per frame (pixels; default: preset)")
    parser.add_argument("--max-new-tokens", type=int, default=8, help="tokens decoded per call")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--share-across-episodes", action=argparse.BooleanOptionalAction, default=False,
                        help="let a later question on the same video start from an earlier episode's cached "
                             "prefix and clip features (default: every episode starts cold)")
    parser.add_argument("--warmup-episodes", type=int, default=1, help="untimed episodes per run before timing")
    args = parser.parse_args(argv)
    for name, value in PRESETS[args.preset].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    torch.set_num_threads(args.threads)

    from love_r1.synth import write_indexed_video

    model, processor = build_model(args)
    policy = ZoomPolicy(
        max_free_steps=2, fast_max_frames=args.fast_max_frames, fast_pixels_per_frame=args.fast_pixels,
        clip_max_frames=args.clip_max_frames, clip_pixels_per_frame=args.clip_pixels,
        sampling=SamplingParams(max_new_tokens=args.max_new_tokens),
    )
    with tempfile.TemporaryDirectory() as tmp:
        video = write_indexed_video(Path(tmp) / "long.mp4", duration_seconds=args.duration_seconds, fps=args.fps,
                                    width=args.width, height=args.height)
        tasks = [EpisodeTask(episode_id=f"q{i}", video_path=video, question=f"Question {i}: which block is lit?",
                             options=("A. left", "B. right", "C. top", "D. bottom"))
                 for i in range(args.num_episodes)]
        if args.warmup_episodes:  # lazy imports, allocator; not timed
            warmup = [EpisodeTask(episode_id=f"w{i}", video_path=video, question="Warm-up?", options=("A. a",))
                      for i in range(args.warmup_episodes)]
            small = dataclasses.replace(policy, fast_max_frames=16, clip_max_frames=4)
            run_both(model, processor, tasks=warmup, policy=small, duration_seconds=args.duration_seconds)
        reused, rebuilt = run_both(model, processor, tasks=tasks, policy=policy,
                                   duration_seconds=args.duration_seconds, share=args.share_across_episodes)

    identical = reused["token_ids"] == rebuilt["token_ids"] and reused["answers"] == rebuilt["answers"]
    rows = [("model calls", "calls"), ("prompt tokens", "prompt_tokens"),
            ("prompt tokens computed (prefill)", "prompt_tokens_computed"),
            ("frames through the ViT (usage)", "vision_frames_encoded"),
            ("frames through the ViT (hook)", "vision_frames_counted"), ("fast-view frames, all episodes", "fast_view_frames"),
            ("encode seconds", "encode_seconds"), ("prefill seconds", "prefill_seconds"),
            ("decode seconds", "generate_seconds"), ("wall seconds", "seconds")]
    print(f"{'':36} {'reuse':>12} {'rebuild':>12} {'ratio':>8}")
    for label, key in rows:
        a, b = reused[key], rebuilt[key]
        ratio = f"{a / b:.2f}" if b else "-"
        fmt = "{:>12.3f}" if isinstance(a, float) else "{:>12}"
        print(f"{label:36} {fmt.format(a)} {fmt.format(b)} {ratio:>8}")
    print(f"steps per episode: {reused['steps_per_episode']}; generated tokens identical: {identical}")
    result = {
        "family": args.family if not args.model else "checkpoint",
        "preset": args.preset,
        "num_episodes": args.num_episodes,
        "duration_seconds": args.duration_seconds,
        "video_size": [args.width, args.height],
        "video_fps": args.fps,
        "fast_budget": [args.fast_max_frames, args.fast_pixels],
        "clip_budget": [args.clip_max_frames, args.clip_pixels],
        "calls_per_episode": reused["steps_per_episode"],
        "prefill_tokens_reused_run": reused["prompt_tokens_computed"],
        "prefill_tokens_rebuild_run": rebuilt["prompt_tokens_computed"],
        "prefill_ratio": round(reused["prompt_tokens_computed"] / rebuilt["prompt_tokens_computed"], 4),
        "prefill_ratio_by_second_zoom": {
            order: round(reused["prompt_tokens_computed_by_order"][order]
                         / max(1, rebuilt["prompt_tokens_computed_by_order"][order]), 4)
            for order in ("later", "earlier")},
        "vision_encoder_frames_reused_run": reused["vision_frames_counted"],
        "vision_encoder_frames_rebuild_run": rebuilt["vision_frames_counted"],
        "fast_view_frames_per_episode": reused["fast_view_frames"] // max(1, args.num_episodes),
        "seconds_reused_run": round(reused["seconds"], 3),
        "seconds_rebuild_run": round(rebuilt["seconds"], 3),
        "share_across_episodes": args.share_across_episodes,
        "outputs_identical": identical,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
