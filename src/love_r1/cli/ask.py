"""``love-r1 ask VIDEO "QUESTION"``: one question about one video, printed step by step as it happens."""

from __future__ import annotations

import json
import re
import sys
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from love_r1.agent.steps import shown_reply
from love_r1.backends.qwen_inputs import PositionRule
from love_r1.cli._backends import BACKEND_HELP, DEFAULT_MODEL_ID, POSITION_RULE_HELP, backend_settings, make_backend

HELP = "ask one question about one video; prints every zoom step as it happens"
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

_LETTERED = re.compile(r"^\s*[(\[]?([A-Za-z])[)\].:]\s+(.*\S)\s*$", re.DOTALL)
_REASONING_CHARS = 320


@dataclass
class Options:
    video: Path = field(metadata={"positional": True, "help": "video file"})
    question: str = field(metadata={"positional": True, "help": "the question (quote it)"})
    option: list[str] = field(default_factory=list, metadata={
        "repeat": True, "metavar": "TEXT",
        "help": "an answer option, repeatable: --option 'A. red' --option 'B. blue' (none: an open question)"})
    model: str = field(default=DEFAULT_MODEL_ID, metadata={
        "help": "checkpoint: Hub id or local folder (hf, vllm); served model name (openai)"})
    backend: Literal["hf", "openai", "vllm", "scripted"] = field(default="hf", metadata={"help": BACKEND_HELP})
    base_url: str | None = field(default=None, metadata={
        "help": "OpenAI-compatible endpoint for --backend openai, e.g. http://127.0.0.1:8000/v1"})
    api_key_env: str = field(default="OPENAI_API_KEY", metadata={
        "help": "environment variable holding the API key (--backend openai; never printed)"})
    video_mode: Literal["frames_as_images", "video_url"] = field(default="frames_as_images", metadata={
        "help": "how --backend openai sends clips: every frame as an image, or one data:video/jpeg part per clip "
                "(vLLM)"})
    device: str | None = field(default=None, metadata={"help": "device for --backend hf: cuda, cuda:1, cpu; "
                                                               "None = a GPU when available"})
    dtype: str = field(default="auto", metadata={"help": "weights dtype for --backend hf: auto, bfloat16, float16, "
                                                         "float32"})
    position_rule: PositionRule | None = field(default=None, metadata={"help": POSITION_RULE_HELP})
    script: Path | None = field(default=None, metadata={
        "help": "replies for --backend scripted: a .json list of strings or text with replies separated by "
                "'---' lines; None = a built-in dummy policy"})
    preset: Literal["reference", "mlvu", "longvideobench", "budget"] = field(default="reference", metadata={
        "help": "zoom policy preset (frame and pixel budgets, widening; budget = token-budgeted zoom clips, see docs/protocol.md)"})
    max_zoom_steps: int | None = field(default=None, metadata={
        "metavar": "N", "help": "free steps before the answer is forced (count; None = the preset's, 2)"})
    time_base: Literal["presentation", "index"] = field(default="presentation", metadata={
        "help": "clock of D, frame selection, clip bounds, labels and the overlay: presentation (each frame's "
                "presentation time in seconds from the first frame) or index (the reference's frame_index / "
                "header fps); identical on constant-frame-rate files (docs/protocol.md, Time base)"})
    evidence: list[float] = field(default_factory=list, metadata={
        "metavar": "SECONDS", "help": "ground-truth intervals as pairs START END ... (seconds; shown in the trace)"})
    gold: str | None = field(default=None, metadata={"help": "the correct answer, if known (shown in the trace)"})
    json: Path | None = field(default=None, metadata={
        "metavar": "OUT.json", "help": "write the whole trajectory (episode, config, package versions) to this JSON file"})
    trace: Path | None = field(default=None, metadata={
        "metavar": "OUT.html", "help": "write a self-contained HTML trace page to this file"})
    reasoning_chars: int = field(default=_REASONING_CHARS, metadata={
        "metavar": "N", "help": "show at most this much of each reply's reasoning (characters; 0 = all)"})


class _InputError(ValueError):
    """Bad command-line input; reported without a traceback, exit status 2."""


def normalize_options(options: list[str] | tuple[str, ...]) -> tuple[tuple[str, ...], list[str]]:
    """Options as ``"A. text"`` plus notes on what was changed.

    ``"A. x"`` is kept; ``"A) x"``, ``"(A) x"``, ``"a: x"`` become ``"A. x"``; when an option has no
    letter (or letters repeat), every option gets the letter of its position.
    """
    cleaned = [str(o).strip() for o in options]
    for index, text in enumerate(cleaned):
        if not text:
            raise _InputError(f"--option number {index + 1} is empty; give its text, e.g. --option 'A. red'")
    if len(cleaned) > 26:
        raise _InputError(f"{len(cleaned)} options given; at most 26 (A-Z) are supported")
    matches = [_LETTERED.match(text) for text in cleaned]
    letters = [m.group(1).upper() for m in matches if m]
    notes: list[str] = []
    if all(matches) and len(set(letters)) == len(letters):
        out = tuple(f"{m.group(1).upper()}. {m.group(2)}" for m in matches if m)
        changed = [f"{a!r} -> {b!r}" for a, b in zip(cleaned, out, strict=True) if a != b]
        if changed:
            notes.append("options rewritten as 'A. text': " + ", ".join(changed))
        return out, notes
    out = tuple(f"{chr(ord('A') + i)}. {m.group(2) if m else text}" for i, (m, text) in
                enumerate(zip(matches, cleaned, strict=True)))
    if cleaned:
        notes.append("options had no (or repeated) letters; lettered in order: " + ", ".join(out))
    return out, notes


def _evidence(values: list[float]) -> tuple[tuple[float, float], ...] | None:
    if not values:
        return None
    if len(values) % 2:
        raise _InputError(f"--evidence takes pairs START END (seconds); got {len(values)} numbers: {values}")
    pairs = tuple((float(values[i]), float(values[i + 1])) for i in range(0, len(values), 2))
    for start, end in pairs:
        if not 0 <= start < end:
            raise _InputError(f"--evidence interval [{start:g}, {end:g}] must have 0 <= start < end (seconds)")
    return pairs


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


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages that shape a run (``None`` when absent); nothing is imported."""
    from importlib import metadata

    out: dict[str, str | None] = {}
    for name in ("love-r1", "torch", "transformers", "vllm", "openai", "av", "numpy", "pillow"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _font_name() -> str:
    from love_r1.video import OVERLAY_FONT_NAME

    return OVERLAY_FONT_NAME


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def run(options: Options) -> int:
    from love_r1.backends import BackendError

    try:
        question = options.question.strip()
        if not question:
            raise _InputError("the question is empty; pass it as the second argument, in quotes")
        choices, notes = normalize_options(list(options.option or ()))
        evidence = _evidence(list(options.evidence or ()))
    except _InputError as error:
        return _error(str(error))
    video = Path(options.video)
    if not video.exists():  # a directory is read as a frame folder by the video engine
        return _error(f"video {str(video)!r} does not exist")
    from love_r1.agent import EpisodeTask, ZoomPolicy, run_episodes

    try:
        policy = ZoomPolicy.preset(options.preset, time_base=options.time_base)
        if options.max_zoom_steps is not None:
            policy = policy.replace(max_free_steps=options.max_zoom_steps)
    except (ValueError, TypeError) as error:
        return _error(str(error))
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    what = "" if options.backend == "scripted" else f" ({options.model})"
    print(f"loading {options.backend} backend{what} ...", file=sys.stderr, flush=True)
    try:
        backend = make_backend(
            options.backend, model=options.model, base_url=options.base_url, device=options.device,
            dtype=options.dtype, script_path=options.script, api_key_env=options.api_key_env,
            video_mode=options.video_mode, position_rule=options.position_rule,
        )
    except (BackendError, ImportError, ValueError, OSError) as error:
        hint = ("hint: pass --model /path/to/local/checkpoint (a folder with config.json and *.safetensors), "
                "--backend openai --base-url URL for a running server, or --backend scripted for a dry run")
        return _error(f"cannot start the {options.backend} backend: {error}\n{hint}")

    print(f"video     {video}")
    print(f"question  {question}")
    for choice in choices:
        print(f"          {choice}")
    print(f"policy    {policy.name}: up to {policy.max_free_steps} free steps, fast view <= {policy.fast_max_frames} "
          f"frames, zoom clips <= {policy.clip_max_frames} frames")
    print(flush=True)
    task = EpisodeTask(
        episode_id=uuid.uuid4().hex[:12], video_path=video, question=question, options=choices,
        answer_instruction=None if choices else "", evidence=evidence, gold=options.gold,
    )
    episode = None
    for event in run_episodes(backend, [task], policy):
        if event.step is not None:
            print(format_step(event.step, reasoning_chars=options.reasoning_chars), flush=True)
        episode = event.episode
    if episode is None:  # pragma: no cover - run_episodes yields at least one event per task
        return _error("the agent loop produced no episode")
    print()
    if episode.error:
        print(f"episode failed: {episode.error}", file=sys.stderr)
    else:
        verdict = ""
        if options.gold is not None:
            verdict = "  (correct)" if episode.answer.strip().upper() == options.gold.strip().upper() else (
                f"  (wrong; gold {options.gold})")
        print(f"answer    {episode.answer or '(none)'}{verdict}")
        print()
    data = episode.to_dict()
    print(format_ledger(data["ledger"]))
    if options.json is not None:
        record = dict(data)
        record["run"] = {
            "command": "ask",
            "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(options).items()},
            "policy": policy.to_dict(),
            "backend_settings": backend_settings(backend),
            "versions": package_versions(),
            "overlay_font": _font_name(),
        }
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"trajectory -> {options.json}")
    if options.trace is not None:
        from love_r1.viz import write_trace_html

        write_trace_html(data, options.trace, video_path=video)
        print(f"trace      -> {options.trace}")
    return 1 if episode.error else 0
