"""``love-r1 train sft|grpo --config X.yaml [--field-name value ...]``: the training stages.

The YAML file and the flags fill ``ZoomSFTConfig`` / ``ZoomGRPOConfig`` (``love_r1.train.configs``):
every settable field is a kebab-case flag (``--learning-rate 2e-5``, ``--output-dir runs/x``,
``--bf16`` / ``--no-bf16``), flags override the YAML, and a name that is not a field of the stage's
config is an error naming the closest fields (or the field that replaced a TRL name). The config
classes need the ``train`` extra, so their fields are read only when ``train sft|grpo`` runs.
"""

from __future__ import annotations

import argparse
import logging
import sys
import textwrap
import warnings
from collections.abc import Sequence
from pathlib import Path

from love_r1.cli._command import Command, Group
from love_r1.cli._errors import CliError

DESCRIPTION = """\
The training stages: love-r1 train sft|grpo --config X.yaml [--field-name value ...]

sft fills ZoomSFTConfig (trl.SFTConfig plus love-r1's fields; stages 1 and 2), grpo fills ZoomGRPOConfig
(the decoupled trainer's own fields; stage 3). Every config field is a flag (--learning-rate 2e-5); flags
override the YAML. Unknown or inert fields are errors. `love-r1 train STAGE --help` lists every field.
Several processes: accelerate launch [--config_file configs/accelerate/X.yaml] -m love_r1.cli train ...
"""

_SEPARATOR_REMOVAL = "0.2.0"


class TrainStage(Command):
    """``train sft`` / ``train grpo``: the stage's config fields are its flags (read by the library's loader)."""

    accepts_extra_args = True  # the config fields, validated by love_r1.train.configs.load_config

    def __init__(self, name: str, *, help: str, config_class: str, example: str) -> None:
        self.name = name
        self.help = help
        self.config_class_name = config_class
        self.example = example
        self.description = textwrap.fill(
            f"{help}. Options are the fields of love_r1.train.configs.{config_class}: in --config YAML (keys "
            "with underscores) or as flags (--field-name value; booleans --flag / --no-flag), flags winning.",
            width=100, break_on_hyphens=False)
        self.description += (f"\n\n  love-r1 train {name} --config configs/{name}/{example}.yaml "
                             "--output-dir runs/x --learning-rate 2e-5")

    def config_class(self) -> type:
        from love_r1.train import configs

        return getattr(configs, self.config_class_name)

    def register(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--config", dest="train_config", type=Path, default=None, metavar="X.yaml",
                            help=f"YAML file of config fields (configs/{self.name}/{self.example}.yaml; "
                                 f"configs/{self.name}/tiny.yaml runs on a CPU in minutes)")
        parser.add_argument("--list-options", action="store_true",
                            help="print every config field with its default and help, one per line, then exit")
        parser.epilog = _fields_epilog(self.config_class())

    def run(self, args: argparse.Namespace, extra_args: Sequence[str]) -> int:
        if args.list_options:
            return _list_options(self.config_class())
        overrides = _config_flags(self.config_class(), extra_args)
        if args.train_config is None and not overrides:
            raise CliError(f"love-r1 train {self.name} needs --config X.yaml (see configs/{self.name}/) or config "
                           "flags")
        from love_r1.train.configs import ConfigError, load_config

        try:
            config = load_config(self.config_class(), args.train_config, overrides, stage=self.name)
        except (ConfigError, ValueError) as error:  # ValueError: a stray value HfArgumentParser could not place
            raise CliError(str(error)) from None
        logging.getLogger("love_r1.train").setLevel(logging.INFO)
        return _run_sft(config) if self.name == "sft" else _run_grpo(config)


def _config_flags(cls: type, extra_args: Sequence[str]) -> list[str]:
    """The config flags as the loader reads them: the old ``--`` separator dropped (with a ``FutureWarning``),
    ``--no-flag`` of a boolean field written ``--flag false``."""
    import dataclasses
    import typing

    args = list(extra_args)
    if args and args[0] == "--":
        warnings.warn(f"love-r1 train: the '--' before config fields is deprecated and will be removed in love-r1 "
                      f"{_SEPARATOR_REMOVAL}; write the fields as flags directly (--learning-rate 2e-5)",
                      FutureWarning, stacklevel=2)
        args = args[1:]
    hints = typing.get_type_hints(cls)
    booleans = {f.name for f in dataclasses.fields(cls) if hints.get(f.name) is bool}
    out: list[str] = []
    for token in args:
        name = token[5:].replace("-", "_") if token.startswith("--no-") or token.startswith("--no_") else None
        if name in booleans:
            out += [f"--{name}", "false"]
        else:
            out.append(token)
    return out


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _fields_epilog(cls: type) -> str:
    from love_r1.train.configs import describe_fields

    lines = [f"config fields of {cls.__name__} (flags; YAML keys are the same names with underscores):"]
    for name, default, help_text in describe_fields(cls):
        lines.append(f"  {_flag(name)} (default: {default})")
        lines += textwrap.wrap(help_text, width=100, initial_indent="      ", subsequent_indent="      ")
    return "\n".join(lines)


def _list_options(cls: type) -> int:
    from love_r1.train.configs import describe_fields

    rows = describe_fields(cls)
    width = max(len(_flag(name)) for name, _, _ in rows)
    print(f"{cls.__name__}: {len(rows)} fields (flags; YAML keys are the same names with underscores)")
    for name, default, help_text in rows:
        print(f"  {_flag(name).ljust(width)}  {help_text} [default: {default}]")
    return 0


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
    trainer.accelerator.end_training()  # every process leaves the process group before exit (gloo aborted in teardown)
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
    trainer.accelerator.end_training()  # every process leaves the process group before exit
    return 0


def _report_manifest(manifest: object) -> None:
    issues = manifest.issues  # type: ignore[attr-defined]
    print(f"pre-flight: {len(manifest.records)} sample(s) used, {len(issues)} issue(s) skipped")  # type: ignore[attr-defined]
    for issue in issues[:10]:
        print(f"  skipped {issue}")
    sys.stdout.flush()


COMMAND = Group(
    name="train", help="train: sft (stages 1-2) or grpo (stage 3, decoupled)", description=DESCRIPTION,
    subcommands=(
        TrainStage("sft", help="supervised fine-tuning on video records (stage 1 cold start, stage 2 CoT)",
                   config_class="ZoomSFTConfig", example="stage1"),
        TrainStage("grpo", help="decoupled GRPO on single-step samples (stage 3)", config_class="ZoomGRPOConfig",
                   example="stage3"),
    ),
)
