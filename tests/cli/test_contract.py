"""One CLI contract: every command is a ``Command`` of the tree, built and run by one runner; a missing command
module is an error; the same flag means the same thing in every command; choices are the library's own sets."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import get_args

import pytest

import love_r1.cli as cli
from love_r1.cli import main
from love_r1.cli._command import Command, Group, Leaf, build_parser, iter_leaves

SRC = Path(__file__).parents[2] / "src"


def _leaves():
    return list(iter_leaves(cli.commands()))


def _leaf_parser(path: tuple[str, ...]) -> argparse.ArgumentParser:
    """The argparse parser of one leaf, as the runner builds it for ``love-r1 PATH ...``."""
    parser = cli.build_parser(list(path))
    for name in path:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if a.option_strings and a.help != argparse.SUPPRESS
            and not isinstance(a, argparse._HelpAction)]


def test_every_command_is_a_command_of_the_tree():
    commands = cli.commands()
    assert [c.name for c in commands] == ["ask", "serve", "eval", "report", "trace", "rescore", "train", "data",
                                          "synth", "sample"]
    paths = [" ".join(path) for path, _ in _leaves()]
    assert {"train sft", "train grpo", "data caption", "data zoom-cot", "data check", "synth needle",
            "synth tiny-model"} <= set(paths)
    for path, command in _leaves():
        assert isinstance(command, Command) and not command.subcommands, path
    for module in cli.COMMAND_MODULES:  # one dispatch style: no module-level parser hooks
        imported = sys.modules[module]
        assert not hasattr(imported, "add_subcommands") and not hasattr(imported, "HELP"), module
    assert isinstance(next(c for c in commands if c.name == "data"), Group)


def test_a_missing_command_module_is_an_error(monkeypatch):
    monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES[:-1], "love_r1.cli.sampel"))
    with pytest.raises(ModuleNotFoundError, match="love_r1.cli.sampel"):
        main(["--help"])


def test_every_option_of_every_command_has_help_with_its_default(capsys):
    for path, _ in _leaves():
        parser = _leaf_parser(path)
        for action in _options(parser):
            assert action.help and action.help.strip(), f"love-r1 {' '.join(path)} {action.option_strings[0]}"
            assert action.type is not bool, f"{action.option_strings[0]} uses type=bool"
            if not isinstance(action, argparse._StoreTrueAction) and action.dest not in ("config", "train_config"):
                assert re.search(r"\((?:[^()]*; )?(?:default|required|unset)", action.help) or "default" in action.help, (
                    f"love-r1 {' '.join(path)} {action.option_strings[0]}: the help does not say its default")
        with pytest.raises(SystemExit) as stop:
            main([*path, "--help"])
        assert stop.value.code == 0
        assert capsys.readouterr().out.startswith(f"usage: love-r1 {' '.join(path)} ")


def _choice_sources() -> dict[str, tuple]:
    from love_r1.agent.policy import PresetName, ZoomPolicy
    from love_r1.backends import PrefixMode, VideoMode
    from love_r1.backends.qwen_inputs import PositionRule, supported_model_types
    from love_r1.cli._options import BackendKind
    from love_r1.cli.report import ReportFormat
    from love_r1.data._contamination import HashKind
    from love_r1.data._items import AnnotationFormat
    from love_r1.data._mine import Criterion
    from love_r1.eval.benchmarks import BENCHMARK_NAMES, PROMPT_PRESETS
    from love_r1.eval.benchmarks.cgbench import SPLITS
    from love_r1.eval.config import METHODS
    from love_r1.eval.extract import EXTRACTOR_MODES
    from love_r1.eval.probes import PROBES
    from love_r1.eval.subtitles import SUBTITLE_MODES
    from love_r1.synth import TINY_MODEL_TYPES
    from love_r1.synth._encode import Codec, Rotation
    from love_r1.synth._tiny_model import TinyModelSize
    from love_r1.time_base import TIME_BASES
    from love_r1.video import Decoder
    from love_r1.video._reader import Mode

    for name in get_args(PresetName):  # every policy preset exists, and nothing else
        assert ZoomPolicy.preset(name).name == name
    with pytest.raises(ValueError, match="must be one of"):
        ZoomPolicy.preset("nope")
    assert set(TINY_MODEL_TYPES) == set(supported_model_types())  # a tiny checkpoint of every supported family
    return {
        "backend": get_args(BackendKind), "position_rule": get_args(PositionRule), "video_mode": get_args(VideoMode),
        "assistant_prefix_mode": get_args(PrefixMode), "policy_preset": get_args(PresetName), "time_base": TIME_BASES,
        "benchmark": BENCHMARK_NAMES, "method": METHODS, "probe": PROBES, "prompt_preset": PROMPT_PRESETS,
        "subtitle_mode": SUBTITLE_MODES, "cgbench_split": SPLITS, "extractor": EXTRACTOR_MODES,
        "format": get_args(ReportFormat), "decoder": get_args(Decoder), "mode": get_args(Mode),
        "annotation_format": get_args(AnnotationFormat), "hash_kind": get_args(HashKind),
        "criterion": get_args(Criterion), "rotation_degrees": get_args(Rotation), "codec": get_args(Codec),
        "model_type": TINY_MODEL_TYPES, "size": get_args(TinyModelSize),
    }


def test_cli_choices_equal_the_library_sets_in_every_command():
    sources = _choice_sources()
    seen = set()
    for path, _ in _leaves():
        for action in _leaf_parser(path)._actions:
            if action.choices is None or isinstance(action, argparse._SubParsersAction):
                continue
            assert action.dest in sources, (f"love-r1 {' '.join(path)} {action.option_strings}: add its library "
                                            "Literal to this test")
            assert tuple(action.choices) == tuple(sources[action.dest]), (path, action.dest)
            seen.add(action.dest)
    assert seen == set(sources)  # every source is still used by some command


def _meaning(action: argparse.Action) -> tuple:
    """What a flag means: its help without the default (commands may default differently), choices and type."""
    help_text = re.sub(r"\s*\((?:[^()]*; )?(?:default|unset)[^()]*\)\s*$", "", action.help or "")
    return help_text, tuple(action.choices or ()), getattr(action.type, "__name__", action.type), action.dest


# one concept whose help names what it is in each command: where the output goes, where relative video paths
# start, the benchmark(s) read, frames and pixels per video or per frame, the seed of the command's random draws
_OWN_MEANING = {"--out", "--output", "--video-root", "--benchmark", "--num-frames", "--pixels-per-frame",
                "--frames-per-second", "--seed"}


def test_the_same_flag_means_the_same_thing_everywhere():
    meanings: dict[str, dict[tuple, list[str]]] = {}
    for path, _ in _leaves():
        if path[0] == "train":
            continue  # the training configs' fields (their own flags, from love_r1.train.configs)
        for action in _options(_leaf_parser(path)):
            for flag in action.option_strings:
                meanings.setdefault(flag, {}).setdefault(_meaning(action), []).append(" ".join(path))
    differing = {flag: variants for flag, variants in meanings.items() if len(variants) > 1 and flag not in _OWN_MEANING}
    assert differing == {}
    # the shared blocks: one definition in every command that runs a model
    for flag in ("--backend", "--model", "--max-new-tokens", "--temperature", "--timeout-seconds", "--position-rule"):
        (commands,) = meanings[flag].values()
        assert {"ask", "serve", "eval", "data caption", "data zoom-cot", "data mine-hard"} <= set(commands), flag
    for flag in ("--policy-preset", "--time-base", "--clip-max-frames"):
        assert {"ask", "serve", "eval"} <= {c for cs in meanings[flag].values() for c in cs}, flag
    assert "--preset" not in meanings  # the old two-meaning flag is only a hidden, warning alias now


def test_policy_commands_show_the_policys_own_sampling_defaults(capsys):
    """--help of ask/serve/eval shows, for unset sampling flags, what every zoom policy preset samples with."""
    from love_r1.agent.policy import PresetName, ZoomPolicy
    from love_r1.cli._options import POLICY_SAMPLING_DEFAULTS, sampling_defaults

    assert all(sampling_defaults(ZoomPolicy.preset(name).sampling) == POLICY_SAMPLING_DEFAULTS
               for name in get_args(PresetName))
    with pytest.raises(SystemExit):
        main(["ask", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"longest reply of one model call (tokens) (default: {ZoomPolicy().sampling.max_new_tokens})" in text


def test_one_set_of_backend_defaults():
    from love_r1.cli._options import BackendOptions

    for path, command in _leaves():
        if isinstance(command, Leaf) and issubclass(command.options, BackendOptions):
            defaults = {a.dest: a.default for a in _options(_leaf_parser(path)) if a.dest in
                        {f for f in BackendOptions.__dataclass_fields__}}
            assert defaults == dict.fromkeys(BackendOptions.__dataclass_fields__), path  # unset: the block's own


@pytest.mark.parametrize(("argv", "old", "new"), [
    (["eval", "--benchmark", "needle", "--data-root", "d", "--out", "o", "--preset", "plain"], "--preset",
     "--prompt-preset"),
    (["data", "caption", "--annotations", "a", "--work-dir", "w", "--request-timeout-seconds", "5"],
     "--request-timeout-seconds", "--timeout-seconds"),
    (["data", "mine-hard", "--annotations", "a", "--work-dir", "w", "--preset", "mlvu"], "--preset",
     "--policy-preset"),
])
def test_renamed_flags_warn_with_the_removal_version(argv, old, new):
    parser = cli.build_parser(argv)
    with pytest.warns(FutureWarning, match=f"{old} is deprecated and will be removed in love-r1 0.2.0; use {new}"):
        args, _ = parser.parse_known_args(argv)
    dest = new[2:].replace("-", "_")
    assert getattr(args, dest) is not None


def test_train_takes_config_fields_as_kebab_case_flags(tmp_path, capsys):
    pytest.importorskip("trl")
    from love_r1.cli.train import _config_flags
    from love_r1.train.configs import ZoomGRPOConfig, load_config

    flags = _config_flags(ZoomGRPOConfig, ["--learning-rate", "3e-5", "--no-progress", "--output-dir", "x"])
    config = load_config(ZoomGRPOConfig, None, flags, stage="grpo")
    assert (config.learning_rate, config.progress, config.output_dir) == (3e-5, False, "x")
    with pytest.warns(FutureWarning, match="'--' before config fields is deprecated"):
        assert _config_flags(ZoomGRPOConfig, ["--", "--seed", "3"]) == ["--seed", "3"]
    assert main(["train", "grpo", "--gradient-accumulation-steps", "2"]) == 2
    assert "use instead: prompts_per_update" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "grpo", "--help"])
    out = capsys.readouterr().out
    assert "--learning-rate (default: 1e-06)" in out and "--prompts-per-update" in out and "--learning_rate" not in out


def test_broken_pipe_is_quiet_for_any_command(tmp_path):
    """The runner ends quietly when the reader of stdout goes away (``love-r1 ... | head``)."""
    script = tmp_path / "loud.py"
    script.write_text(textwrap.dedent("""
        import sys
        from dataclasses import dataclass
        from love_r1.cli._command import Leaf, run_command_line

        @dataclass(kw_only=True)
        class Options:
            pass

        def loud(options):
            for index in range(200_000):
                print(f"line {index} of a long report")
            return 0

        sys.exit(run_command_line([Leaf(name="loud", help="h", options=Options, function=loud)], sys.argv[1:],
                                  description="d", version="0"))
    """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(f'"{sys.executable}" "{script}" loud | head -n 2; exit ${{PIPESTATUS[0]}}', shell=True,
                          executable="/bin/bash", capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout == "line 0 of a long report\nline 1 of a long report\n"
    assert done.stderr == ""
    assert done.returncode == 141  # as a process stopped by SIGPIPE


def test_no_command_without_arguments_prints_help_exit_2(capsys):
    assert main([]) == 2 and capsys.readouterr().out.startswith("usage: love-r1 ")
    assert main(["data"]) == 2 and "caption" in capsys.readouterr().out
    assert main(["synth"]) == 2


def test_help_of_one_command_builds_only_that_command(capsys):
    parser = build_parser(cli.commands(), description="d", version="0", argv=["synth", "needle"])
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert not _options(sub.choices["eval"])  # not selected: no arguments were added
    assert _options(sub.choices["synth"]) == []  # a group has no options of its own
