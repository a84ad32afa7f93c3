"""``love-r1 data mine-hard``: sample the policy K times per item, keep the mixed-success items."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

from love_r1.cli.data_shared import (
    BackendOptions,
    WorkOptions,
    format_table,
    load_work_items,
    make_backend_from,
    open_store,
    option_errors,
    progress_bar,
    run_summary,
    usage_table,
    video_root_of,
)

HELP = "roll out the current policy K times per item; keep items with mixed success (the RL-hard set)"
DESCRIPTION = """Runs the LOVE-R1 agent loop (the same input builder as training and inference) --num-samples
times per item at --temperature > 0 and writes W/hard.jsonl with the items whose rollouts
neither all succeed nor all fail. --criterion answer: the answer letter is right; zoom: a
requested zoom overlaps the evidence. Every finished rollout is stored, so a re-run resumes."""


@dataclass(kw_only=True)
class Options(BackendOptions, WorkOptions):
    backend: Literal["openai", "hf", "vllm", "scripted"] = field(default="vllm", metadata={
        "help": "policy backend: vllm, hf, openai or scripted"})
    num_samples: int = field(default=4, metadata={"help": "rollouts per item (count, >= 2)"})
    preset: str = field(default="reference", metadata={
        "help": "ZoomPolicy preset for the loop: reference, mlvu or longvideobench"})
    top_k: int = field(default=50, metadata={"help": "rollout top-k (tokens; 0 = off)"})
    top_p: float = field(default=1.0, metadata={"help": "rollout top-p (probability mass)"})
    criterion: Literal["answer", "zoom"] = field(default="answer", metadata={
        "help": "success criterion: answer or zoom"})


def run(options: Options) -> int:
    from love_r1.agent.policy import ZoomPolicy
    from love_r1.data import MineConfig, StepInterrupted, hard_items, run_mine_hard

    items = load_work_items(options)
    with option_errors():
        ZoomPolicy.preset(options.preset)  # check --preset before a model is loaded
        config = MineConfig(num_samples=options.num_samples, preset=options.preset,
                            temperature=0.9 if options.temperature is None else options.temperature,
                            top_k=options.top_k, top_p=options.top_p,
                            max_new_tokens=options.max_new_tokens or 2048, criterion=options.criterion,
                            backend_label=options.backend_label())
    backend = make_backend_from(options)
    status = 0
    with open_store(options) as store:
        try:
            with progress_bar(len(items) * options.num_samples, "mine-hard") as update:
                digest, stats = run_mine_hard(backend, items, video_root=video_root_of(options), store=store,
                                              config=config, progress=update)
        except StepInterrupted as error:
            print(f"interrupted: {error}")
            return 3
        hard, counts = hard_items(store, digest, items, num_samples=config.num_samples, criterion=config.criterion)
        out = options.work_dir / "hard.jsonl"
        out.write_text("".join(json.dumps(row) + "\n" for row in hard), encoding="utf-8")
        print(run_summary(stats))
        print(format_table(("outcome", "items"), list(counts.items())))
        print(f"hard items: {len(hard)} -> {out}")
        print(usage_table("mine-hard", stats, store.usage("mine-hard", digest), options))
    return status
