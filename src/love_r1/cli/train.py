"""``love-r1 train sft|grpo --config X.yaml [-- --field value ...]``: the training stages.

The YAML (and any config fields given after ``--`` as ``--field value``) fill ``ZoomSFTConfig`` / ``ZoomGRPOConfig`` through
``trl.TrlParser``: every TRL/transformers training argument plus ours. ``--list-options`` prints them all.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

HELP = "train: sft (stages 1-2) or grpo (stage 3, decoupled)"
DESCRIPTION = """\
The training stages: love-r1 train sft|grpo --config X.yaml [-- --field value ...]

The YAML (and any config fields given after -- as --field value) fill ZoomSFTConfig / ZoomGRPOConfig
through trl.TrlParser: every TRL/transformers training argument plus ours. `love-r1 train STAGE
--list-options` prints them all with their help.
"""

_STAGES = {
    "sft": ("supervised fine-tuning on video records (stage 1 cold start, stage 2 CoT)", "ZoomSFTConfig"),
    "grpo": ("decoupled GRPO on single-step samples (stage 3)", "ZoomGRPOConfig"),
}


@dataclass(kw_only=True)
class Options:
    stage: str = field(default="sft", metadata={"help": "sft or grpo"})
    train_config: Path | None = field(default=None, metadata={"help": "YAML config"})
    list_options: bool = field(default=False, metadata={"help": "print every config field with its help"})
    overrides: list[str] = field(default_factory=list, metadata={"help": "extra --field value pairs"})


def _config_class(stage: str) -> type:
    from love_r1.train import configs

    return getattr(configs, _STAGES[stage][1])


def parse_config(stage: str, config_path: str | Path | None, overrides: list[str]) -> object:
    """The stage's config from YAML plus ``--field value`` overrides (TrlParser)."""
    from trl import TrlParser

    overrides = [a for a in overrides if a != "--"]  # "--" separates our flags from config fields
    argv = (["--config", str(config_path)] if config_path else []) + overrides
    (config,) = TrlParser((_config_class(stage),)).parse_args_and_config(argv)
    return config


def run(options: Options) -> int:
    if options.list_options:
        from trl import TrlParser

        TrlParser((_config_class(options.stage),)).print_help()
        return 0
    if options.train_config is None and not options.overrides:
        print(f"error: love-r1 train {options.stage} needs --config X.yaml (see configs/{options.stage}/)",
              file=sys.stderr)
        return 2
    if options.train_config is not None and not Path(options.train_config).is_file():
        print(f"error: --config {str(options.train_config)!r} does not exist (see configs/{options.stage}/ for "
              "examples)", file=sys.stderr)
        return 2
    config = parse_config(options.stage, options.train_config, options.overrides)
    from love_r1.train.sft import make_grpo_trainer, make_sft_trainer

    if options.stage == "sft":
        trainer = make_sft_trainer(config)
        _report_manifest(trainer.love_r1_manifest)
        trainer.train()
        trainer.save_model(config.output_dir)
        trainer.processing_class.save_pretrained(config.output_dir)
    else:
        trainer = make_grpo_trainer(config)
        _report_manifest(trainer.manifest)
        history = trainer.train()
        trainer.save_model(config.output_dir)
        if history:
            last = history[-1]
            print(f"step {int(last['step'])}: loss {last['loss']:.4f}, reward step1 {last['reward_step1']:.3f}, "
                  f"step2 {last['reward_step2']:.3f}")
    print(f"saved to {config.output_dir}")
    return 0


def _report_manifest(manifest: object) -> None:
    issues = manifest.issues  # type: ignore[attr-defined]
    print(f"pre-flight: {len(manifest.records)} sample(s) used, {len(issues)} issue(s) skipped")  # type: ignore[attr-defined]
    for issue in issues[:10]:
        print(f"  skipped {issue}")


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help=HELP, description=DESCRIPTION,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    stages = parser.add_subparsers(dest="train_stage", metavar="STAGE")
    for stage, (help_text, cls_name) in _STAGES.items():
        p = stages.add_parser(
            stage, help=help_text, description=f"{help_text}. Options are the fields of love_r1.train.configs."
            f"{cls_name} (TRL's config plus ours), given in --config YAML or after '--' as '--field value' pairs.",
            epilog=f"example: love-r1 train {stage} --config configs/{stage}/"
                   f"{'stage1' if stage == 'sft' else 'stage3'}.yaml -- --output_dir runs/x --learning_rate 2e-5")
        p.add_argument("--config", dest="train_config", type=Path, default=None,
                       help="YAML file of config fields (configs/sft/stage1.yaml, configs/grpo/stage3.yaml)")
        p.add_argument("--list-options", dest="list_options", action="store_true", default=None,
                       help="print every config field (TRL's and ours) with its help, then exit")
        p.add_argument("overrides", nargs=argparse.REMAINDER,
                       help="config fields after '--', as '--field value' (e.g. -- --learning_rate 1e-5 --loss_on_prompt true)")
        p.set_defaults(_module=__import__(__name__, fromlist=["run"]), _options_cls=Options, _run=run, stage=stage)
