"""``love-r1 data mine-hard``: sample the policy K times per item, keep the mixed-success items."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from love_r1.backends import SamplingParams
from love_r1.cli._args import Deprecated
from love_r1.cli._command import Leaf
from love_r1.cli._errors import CliError
from love_r1.cli._options import PolicyPresetOption, sampling_defaults
from love_r1.cli.data._shared import (
    DEPRECATED_FLAGS,
    ModelStepOptions,
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
from love_r1.data._mine import Criterion

DESCRIPTION = """Runs the LOVE-R1 agent loop (the same input builder as training and inference) --num-rollouts
times per item at --temperature > 0 and writes W/hard.jsonl with the items whose rollouts
neither all succeed nor all fail. --criterion answer: the answer letter is right; zoom: a
requested zoom overlaps the evidence. Every finished rollout is stored, so a re-run resumes."""


@dataclass(kw_only=True)
class Options(PolicyPresetOption, ModelStepOptions):
    num_rollouts: int = field(default=4, metadata={"metavar": "N", "help": "rollouts per item (count, >= 2)"})
    criterion: Criterion = field(default="answer", metadata={
        "help": "success criterion: answer (the answer letter is right) or zoom (a requested zoom overlaps the "
                "evidence)"})


# the rollouts' sampling when no flag is given (MineConfig's defaults)
_DEFAULT_SAMPLING = SamplingParams(max_new_tokens=2048, temperature=0.9, top_k=50, top_p=1.0)


def run(options: Options) -> int:
    from love_r1.agent.policy import ZoomPolicy
    from love_r1.data import MineConfig, StepInterrupted, hard_items, run_mine_hard

    unused = [flag for flag, value in (("--repetition-penalty", options.repetition_penalty), ("--seed", options.seed))
              if value is not None]
    if unused:
        raise CliError(f"{', '.join(unused)} not used by data mine-hard (rollouts take --temperature, --top-k, "
                       "--top-p and --max-new-tokens)")
    items = load_work_items(options)
    sampling = options.sampling(_DEFAULT_SAMPLING)
    preset = options.policy_preset or "reference"
    with option_errors():
        ZoomPolicy.preset(preset)  # check the preset before a model is loaded
        config = MineConfig(num_samples=options.num_rollouts, preset=preset, temperature=sampling.temperature,
                            top_k=sampling.top_k, top_p=sampling.top_p, max_new_tokens=sampling.max_new_tokens,
                            criterion=options.criterion, backend_label=options.backend_label())
    backend = make_backend_from(options)
    status = 0
    with open_store(options) as store:
        try:
            with progress_bar(len(items) * options.num_rollouts, "mine-hard", enabled=options.progress) as update:
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


COMMAND = Leaf(
    name="mine-hard",
    help="roll out the current policy K times per item; keep items with mixed success (the RL-hard set)",
    description=DESCRIPTION,
    options=Options,
    function=run,
    deprecated=(*DEPRECATED_FLAGS, Deprecated("--preset", "policy_preset", "0.2.0"),
                Deprecated("--num-samples", "num_rollouts", "0.2.0")),
    shown_defaults={**sampling_defaults(_DEFAULT_SAMPLING), "policy_preset": "reference"},
)
