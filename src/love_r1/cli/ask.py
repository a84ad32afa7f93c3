"""``love-r1 ask VIDEO "QUESTION"``: one question about one video, printed step by step as it happens."""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from love_r1.agent.steps import shown_reply
from love_r1.backends import DEFAULT_MODEL_ID
from love_r1.cli._args import Deprecated
from love_r1.cli._command import Leaf
from love_r1.cli._errors import CliError
from love_r1.cli._options import (
    POLICY_SAMPLING_DEFAULTS,
    BackendOptions,
    PolicyOptions,
    SamplingOptions,
    describe_policy,
    describe_sampling,
)

DESCRIPTION = f"""Ask one question about one video, the LOVE-R1 way: the model sees the whole video at low
resolution, zooms into intervals at high resolution, then answers. Each step is printed as soon
as it finishes (kind, interval requested -> applied, reasoning, answer), then the cost ledger.

  love-r1 ask clip.mp4 "What colour is the car?" --option "A. red" --option "B. blue"
  love-r1 ask clip.mp4 "What happens at the end?" --model /models/love-r1-stage3 --trace trace.html
  love-r1 ask clip.mp4 "Which digit?" --backend openai --base-url http://127.0.0.1:8000/v1 --model love-r1
  love-r1 ask clip.mp4 "Which digit?" --backend scripted --json episode.json   (dry run, no model)

The default model is {DEFAULT_MODEL_ID} (downloaded from the Hugging Face Hub on first use).
Without network access, download it elsewhere and pass --model /path/to/checkpoint-folder.
Options may be written "A. x", "A) x", "(A) x" or just "x" (letters are then assigned in order).
Exit status: 0 answered, 1 the episode failed (unreadable video, backend fault), 2 bad input.
"""

_REASONING_CHARS = 320


@dataclass(kw_only=True)
class Options(SamplingOptions, PolicyOptions, BackendOptions):
    video_path: Path = field(metadata={"positional": True, "metavar": "VIDEO", "help": "the video file"})
    question: str = field(metadata={"positional": True, "metavar": "QUESTION", "help": "the question (quote it)"})
    option: list[str] = field(default_factory=list, metadata={
        "repeat": True, "metavar": "TEXT",
        "help": "an answer option, repeatable: --option 'A. red' --option 'B. blue' (none: an open question)"})
    evidence: list[float] = field(default_factory=list, metadata={
        "metavar": "SECONDS",
        "help": "ground-truth intervals as pairs START END ... (seconds; never shown to the model; drawn in the "
                "trace)"})
    gold: str | None = field(default=None, metadata={
        "help": "the correct answer if known: an option letter (never shown to the model; gives the correct/wrong "
                "verdict)"})
    json: Path | None = field(default=None, metadata={
        "metavar": "OUT.json", "help": "write the whole trajectory (episode, run settings, package versions) to "
                                       "this JSON file"})
    trace: Path | None = field(default=None, metadata={
        "metavar": "OUT.html", "help": "write a self-contained HTML trace page to this file"})
    reasoning_chars: int = field(default=_REASONING_CHARS, metadata={
        "metavar": "N", "help": "show at most this much of each reply's reasoning (characters; 0 = all)"})


def _trim(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if limit <= 0 or len(flat) <= limit else flat[: limit - 1] + "…"


def _seconds_pair(value: Any) -> str:
    if value is None:
        return "-"
    start, end = (value.start_seconds, value.end_seconds) if hasattr(value, "start_seconds") else value
    return f"[{float(start):g}, {float(end):g}]"


def format_step(step: Any, *, reasoning_chars: int = _REASONING_CHARS) -> str:
    """A few lines describing one step (kind, interval, tokens, clip plan if any, trimmed reasoning)."""
    kind = step.kind.replace("_", " ")
    usage = step.usage
    head = f"step {step.index + 1}  {kind:<13}"
    if step.kind == "zoom":
        head += f" requested {_seconds_pair(step.requested_interval)} s -> applied {_seconds_pair(step.applied_interval)} s"
    else:
        head += f" answer: {step.parsed.answer if step.parsed.answer is not None else '(none)'}"
    if step.stop_reason and step.stop_reason != "answered":
        head += f"  [stop: {step.stop_reason}]"
    cost = (f"        tokens: prompt {usage.prompt_tokens_computed:,} computed + {usage.prompt_tokens_cached:,} cached, "
            f"completion {usage.completion_tokens:,}; {step.seconds:.2f} s"
            + (f"; finish={step.finish_reason}" if step.finish_reason != "stop" else ""))
    lines = [head, cost]
    plan = getattr(step, "clip_plan", None)
    if plan is not None:
        lines.append(f"        clip plan: {plan.num_frames} frames at {plan.resized_width}x{plan.resized_height} px "
                     f"(budget {plan.pixels_per_frame:,} px/frame), {plan.tokens:,} vision tokens")
    if step.parsed.error:
        lines.append(f"        parse error: {step.parsed.error}")
    reasoning = _trim(shown_reply(step.assistant_prefix, step.raw_text), reasoning_chars)
    if reasoning:
        lines.append(f"        \u201c{reasoning}\u201d")
    return "\n".join(lines)


_LEDGER_ROWS = (
    ("num_model_calls", "model calls", "{:,}"), ("frames_decoded", "frames decoded", "{:,}"),
    ("frames_cached", "frames from cache", "{:,}"),
    ("vision_tokens", "vision tokens", "{:,}"), ("prompt_tokens", "prompt tokens", "{:,}"),
    ("prompt_tokens_cached", "  of which cached", "{:,}"), ("completion_tokens", "completion tokens", "{:,}"),
    ("decode_seconds", "decode", "{:.2f} s"), ("encode_seconds", "vision encode", "{:.2f} s"),
    ("prefill_seconds", "prefill", "{:.2f} s"), ("generate_seconds", "generate", "{:.2f} s"),
    ("total_seconds", "total", "{:.2f} s"),
)


def format_ledger(ledger: dict[str, Any]) -> str:
    """The cost ledger as an aligned two-column table."""
    rows = [(name, fmt.format(ledger[key])) for key, name, fmt in _LEDGER_ROWS if key in ledger]
    width = max(len(name) for name, _ in rows)
    value_width = max(len(value) for _, value in rows)
    rule = "  " + "-" * (width + value_width + 2)
    return "\n".join(["cost ledger", rule] + [f"  {name.ljust(width)}  {value.rjust(value_width)}"
                                              for name, value in rows] + [rule])


def _evidence_pairs(values: list[float]) -> list[tuple[float, float]]:
    if len(values) % 2:
        raise CliError(f"--evidence takes pairs START END (seconds); got {len(values)} numbers: {values}")
    return [(values[i], values[i + 1]) for i in range(0, len(values), 2)]


def run(options: Options) -> int:
    from love_r1.agent import check_evidence, check_gold, normalize_options
    from love_r1.cli._backends import check_backend_options

    question = options.question.strip()
    if not question:
        raise CliError("the question is empty; pass it as the second argument, in quotes")
    try:
        choices, notes = normalize_options(list(options.option))
    except ValueError as error:
        raise CliError(f"--option: {error}") from None
    try:
        gold = check_gold(options.gold, choices)
    except ValueError as error:
        raise CliError(f"--gold: {error}") from None
    pairs = _evidence_pairs(list(options.evidence))
    try:
        check_evidence(pairs)
        policy = options.policy(sampling=options)
    except ValueError as error:
        raise CliError(str(error)) from None
    check_backend_options(options)
    video_path = Path(options.video_path)
    if not video_path.exists():  # a directory is read as a frame folder by the video engine
        raise CliError(f"video {str(video_path)!r} does not exist")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    reader = _open_video(video_path)
    try:
        evidence = check_evidence(pairs, duration_seconds=reader.metadata.duration_seconds)
    except ValueError as error:
        reader.close()
        raise CliError(f"--evidence: {error}") from None
    try:
        return _run_episode(options, reader=reader, question=question, choices=choices, gold=gold,
                            evidence=evidence, policy=policy)
    finally:
        reader.close()


def _open_video(path: Path):
    """Open the video once, before any model loads: an unreadable file is one clear error (exit 1)."""
    from love_r1.video import VideoError, open_video

    try:
        return open_video(path)
    except VideoError as error:
        raise CliError(str(error), status=1) from None


def _load_backend(options: Options):
    from love_r1.cli._backends import start_backend

    if options.backend == "scripted":
        print("note: --backend scripted is a stand-in: its replies are canned, not a model's; use --backend hf|vllm|"
              "openai for real answers", file=sys.stderr)
    else:
        print(f"loading {options.backend} backend ({options.recorded_model()}) ...", file=sys.stderr, flush=True)
    return start_backend(options)


def _run_episode(options: Options, *, reader: Any, question: str, choices: tuple[str, ...], gold: str | None,
                 evidence: Any, policy: Any) -> int:
    from love_r1.agent import EpisodeTask, run_episodes
    from love_r1.cli._backends import describe_backend

    backend = _load_backend(options)
    meta = reader.metadata
    print(f"video     {options.video_path}  ({meta.duration_seconds:.1f} s, {meta.width}x{meta.height}, "
          f"{meta.fps:.3g} fps)")
    print(f"question  {question}")
    for choice in choices:
        print(f"          {choice}")
    print(f"model     {describe_backend(options, backend)}")
    print(f"policy    {describe_policy(policy)}")
    print(f"sampling  {describe_sampling(policy.sampling)}")
    print(flush=True)
    task = EpisodeTask(
        episode_id=uuid.uuid4().hex[:12], video_path=options.video_path, question=question, options=choices,
        answer_instruction=None if choices else "", evidence=evidence, gold=gold,
    )
    episode = None
    loop_logger = logging.getLogger("love_r1.agent.loop")
    level = loop_logger.level
    if not loop_logger.isEnabledFor(logging.INFO):
        loop_logger.setLevel(logging.ERROR)  # a failed episode is reported below, once
    try:
        for event in run_episodes(backend, [task], policy, open_video=lambda _path: reader):
            if event.step is not None:
                print(format_step(event.step, reasoning_chars=options.reasoning_chars), flush=True)
            episode = event.episode
    finally:
        loop_logger.setLevel(level)
    if episode is None:  # pragma: no cover - run_episodes yields at least one event per task
        raise CliError("the agent loop produced no episode", status=1)
    print()
    if episode.error:
        print(f"episode failed: {episode.error}", file=sys.stderr)
    else:
        verdict = ""
        if gold is not None:
            verdict = "  (correct)" if episode.answer.strip().upper() == gold.upper() else f"  (wrong; gold {gold})"
        print(f"answer    {episode.answer or '(none)'}{verdict}")
        print()
    data = episode.to_dict()
    print(format_ledger(data["ledger"]))
    if options.json is not None:
        _write_json(options, data, policy=policy, backend=backend)
        print(f"trajectory -> {options.json}")
    if options.trace is not None:
        from love_r1.viz import write_trace_html

        write_trace_html(data, options.trace, video_path=options.video_path)
        print(f"trace      -> {options.trace}")
    return 1 if episode.error else 0


def _write_json(options: Options, data: dict[str, Any], *, policy: Any, backend: Any) -> None:
    from love_r1.cli._backends import backend_settings
    from love_r1.eval.store import collect_provenance

    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(options).items()}
    record = dict(data)
    record["run"] = {
        "command": "ask", "backend": options.backend, "model": options.recorded_model(),
        "stand_in": options.backend == "scripted", "config": config, "policy": policy.to_dict(),
        "backend_settings": backend_settings(backend), **collect_provenance(),
    }
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


COMMAND = Leaf(
    name="ask", help="ask one question about one video; prints every zoom step as it happens",
    description=DESCRIPTION, options=Options, function=run,
    deprecated=(Deprecated("--preset", "policy_preset", "0.2.0"),),
    shown_defaults={**POLICY_SAMPLING_DEFAULTS, "policy_preset": "reference"},
)
