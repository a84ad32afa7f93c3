"""``love-r1 train sft|grpo --config X.yaml [-- --field value ...]``: the training stages.

The YAML (and any config fields given after ``--`` as ``--field value``) fill ``ZoomSFTConfig`` /
``ZoomGRPOConfig``; a key that is not a field of the stage's config is an error naming the closest
fields. ``--list-options`` prints every field with its default and help.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

HELP = "train: sft (stages 1-2) or grpo (stage 3, decoupled)"
DESCRIPTION = """\
The training stages: love-r1 train sft|grpo --config X.yaml [-- --field value ...]

The YAML (and any config fields given after -- as --field value) fill ZoomSFTConfig (trl.SFTConfig plus
love-r1's fields) or ZoomGRPOConfig (the decoupled trainer's own fields). Unknown or inert fields are
errors. `love-r1 train STAGE --list-options` prints every field with its default and help.
Several processes: accelerate launch [--config_file configs/accelerate/X.yaml] -m love_r1.cli train ...
"""

_STAGES = {
    "sft": ("supervised fine-tuning on video records (stage 1 cold start, stage 2 CoT)", "ZoomSFTConfig", "stage1"),
    "grpo": ("decoupled GRPO on single-step samples (stage 3)", "ZoomGRPOConfig", "stage3"),
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
    """The stage's config from YAML plus ``--field value`` overrides; raises ``ConfigError`` on bad fields."""
    from love_r1.train.configs import load_config

    return load_config(_config_class(stage), config_path, overrides, stage=stage)


def _list_options(stage: str) -> int:
    from love_r1.train.configs import describe_fields

    cls = _config_class(stage)
    rows = describe_fields(cls)
    width = max(len(name) for name, _, _ in rows)
    print(f"{cls.__name__}: {len(rows)} fields (YAML keys, or --field value after '--')")
    for name, default, help_text in rows:
        print(f"  {name.ljust(width)}  {help_text} [default: {default}]")
    return 0


def run(options: Options) -> int:
    if options.list_options:
        return _list_options(options.stage)
    if options.train_config is None and not options.overrides:
        print(f"error: love-r1 train {options.stage} needs --config X.yaml (see configs/{options.stage}/)",
              file=sys.stderr)
        return 2
    from love_r1.train.configs import ConfigError

    try:
        config = parse_config(options.stage, options.train_config, options.overrides)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    logging.getLogger("love_r1.train").setLevel(logging.INFO)
    if options.stage == "sft":
        return _run_sft(config)
    return _run_grpo(config)


def _run_sft(config: object) -> int:
    from love_r1.train.sft import make_sft_trainer

    trainer = make_sft_trainer(config)
    main_process = trainer.is_world_process_zero()
    if main_process:
        _report_manifest(trainer.love_r1_manifest)
    trainer.train(resume_from_checkpoint=config.resume_from_checkpoint)  # type: ignore[attr-defined]
    trainer.save_model(config.output_dir)  # type: ignore[attr-defined]
    trainer.save_state()  # OUTPUT_DIR/trainer_state.json: every logged step (loss, learning rate)
    if main_process:
        trainer.processing_class.save_pretrained(config.output_dir)  # type: ignore[attr-defined]
        losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
        last = f", last logged loss {losses[-1]:.4f}" if losses else ""
        print(f"{trainer.state.global_step} optimizer step(s){last}; saved to {config.output_dir}")  # type: ignore[attr-defined]
        dropped = trainer.data_collator.skipped
        if dropped:
            print(f"{len(dropped)} sample(s) dropped during training (decode failures or over max_sample_tokens)")
    return 0


def _run_grpo(config: object) -> int:
    from love_r1.train.grpo import make_grpo_trainer

    trainer = make_grpo_trainer(config)
    main_process = trainer.is_main_process
    if main_process:
        _report_manifest(trainer.manifest)
    history = trainer.train()
    trainer.save_model(config.output_dir)  # type: ignore[attr-defined]
    if main_process and history:
        last = history[-1]
        print(f"update {int(last['step'])}/{trainer.total_steps}: loss {last['loss']:.4f}, reward step1 "
              f"{last['reward_step1']:.3f}, step2 {last['reward_step2']:.3f}, learning rate {last['learning_rate']:.3g}; "
              f"{trainer.num_processes} process(es), {int(last['optimizer_steps'])} optimizer step(s)")
        print(f"saved to {config.output_dir} (per-update metrics: {Path(config.output_dir) / 'metrics.jsonl'})")  # type: ignore[attr-defined]
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
    for stage, (help_text, cls_name, example) in _STAGES.items():
        p = stages.add_parser(
            stage, help=help_text, description=f"{help_text}. Options are the fields of love_r1.train.configs."
            f"{cls_name}, given in --config YAML or after '--' as '--field value' pairs.",
            epilog=f"example: love-r1 train {stage} --config configs/{stage}/{example}.yaml -- --output_dir runs/x "
                   "--learning_rate 2e-5")
        p.add_argument("--config", dest="train_config", type=Path, default=None,
                       help=f"YAML file of config fields (configs/{stage}/{example}.yaml; configs/{stage}/tiny.yaml "
                            "runs on a CPU in minutes)")
        p.add_argument("--list-options", dest="list_options", action="store_true", default=None,
                       help="print every config field with its default and help, then exit")
        p.add_argument("overrides", nargs=argparse.REMAINDER,
                       help="config fields after '--', as '--field value' (e.g. -- --learning_rate 1e-5 --seed 3)")
        p.set_defaults(_module=__import__(__name__, fromlist=["run"]), _options_cls=Options, _run=run, stage=stage)
