"""Options and helpers shared by the ``love-r1 data <step>`` leaf commands.

Layout of a work directory (``--work-dir W``), written by the steps::

    W/store.sqlite                 every model call, keyed by step config hash (resume)
    W/captions/<video>.jsonl       step caption
    W/zoom_cot.jsonl               step zoom-cot (every reply with its verdict)
    W/answer_cot.jsonl             step answer-cot
    W/hard.jsonl                   step mine-hard (mixed-success items)
    W/contamination.json           step contamination
    W/records/*.jsonl              step assemble
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from love_r1.cli._args import Deprecated
from love_r1.cli._command import Leaf
from love_r1.cli._errors import CliError
from love_r1.cli._options import BackendOptions, SamplingOptions, sampling_defaults
from love_r1.data import CallStore, RunStats, UsageTotals
from love_r1.data._items import AnnotationFormat


@dataclass(kw_only=True)
class WorkOptions:
    """The annotations a step reads and the folder it writes."""

    GROUP = "data"

    annotations: Path = field(metadata={"help": "JSONL of QA items (love-r1 synth needle's annotations.jsonl, "
                                                "or CG-Bench rows)"})
    work_dir: Path = field(metadata={"help": "directory of the store and every step's output (created)"})
    video_root: Path | None = field(default=None, metadata={
        "help": "directory the items' video paths are relative to (None: the annotation file's folder)"})
    annotation_format: AnnotationFormat = field(default="auto", metadata={
        "help": "annotation layout (cgbench: video_uid/choices/right_answer/clue_intervals)"})
    limit: int | None = field(default=None, metadata={"metavar": "N", "help": "only the first N items (count; unset: "
                                                                             "all)"})


@dataclass(kw_only=True)
class StepOptions:
    """How a model step runs its calls, and what they cost."""

    GROUP = "step"

    progress: bool = field(default=True, metadata={"help": "show a progress bar"})
    workers: int = field(default=4, metadata={"metavar": "N", "help": "parallel generate calls in flight (count)"})
    batch_size: int = field(default=1, metadata={"metavar": "N", "help": "requests per generate call (count; >1 for "
                                                                         "hf and vllm)"})
    price_per_1k_input: float = field(default=0.0, metadata={"metavar": "PRICE", "help": "price of 1000 prompt "
                                                                                        "tokens, for the cost estimate "
                                                                                        "(currency units)"})
    price_per_1k_output: float = field(default=0.0, metadata={"metavar": "PRICE", "help": "price of 1000 completion "
                                                                                         "tokens (currency units)"})


@dataclass(kw_only=True)
class ModelStepOptions(SamplingOptions, BackendOptions, StepOptions, WorkOptions):
    """Everything a model step takes besides its own settings: work folder, step, backend, sampling."""

    def backend_label(self) -> str:
        """The backend as recorded in each step's configuration (its hash keys the stored calls)."""
        return f"{self.backend}:{self.model or ''}"


# every model step accepts the old name of --timeout-seconds
DEPRECATED_FLAGS = (Deprecated("--request-timeout-seconds", "timeout_seconds", "0.2.0"),)


def step_command(*, name: str, help: str, description: str, options: type, function, sampling) -> Leaf:
    """The ``Leaf`` of a model step whose default sampling is ``sampling`` (shown in its ``--help``)."""
    return Leaf(name=name, help=help, description=description, options=options, function=function,
                deprecated=DEPRECATED_FLAGS, shown_defaults=sampling_defaults(sampling))


@dataclass(kw_only=True)
class ClipOptions:
    """The evidence clip a vision teacher sees (clue-check, answer-cot)."""

    GROUP = "evidence clip shown to the teacher"

    pad_seconds: float = field(default=5.0, metadata={"help": "seconds added on each side of the evidence"})
    max_frames: int = field(default=16, metadata={"help": "frames shown to the teacher (count)"})
    frames_per_second: float = field(default=2.0, metadata={"help": "frame sampling rate in the clip (fps)"})
    pixels_per_frame: int = field(default=448 * 448, metadata={"help": "pixel budget per frame (pixels)"})

    def clip_settings(self) -> dict[str, Any]:
        """The clip fields by name, as the step configs take them."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(ClipOptions)}


@contextlib.contextmanager
def option_errors() -> Iterator[None]:
    """Turn a ``ValueError`` raised while building a step's config from the options into a one-line
    ``error: ...`` exit (the configs' messages name the field and the bad value)."""
    try:
        yield
    except ValueError as error:
        raise CliError(str(error)) from None


def make_backend_from(options: ModelStepOptions):
    """Build the step's backend with the shared CLI factory (``love_r1.cli._backends.start_backend``)."""
    from love_r1.cli._backends import start_backend

    return start_backend(options, batch_size=options.batch_size)


def video_root_of(options: WorkOptions) -> Path:
    return options.video_root if options.video_root is not None else Path(options.annotations).parent


def load_work_items(options: WorkOptions):
    from love_r1.data import load_items

    try:
        items = load_items(options.annotations, annotation_format=options.annotation_format)
    except (FileNotFoundError, ValueError) as error:  # AnnotationError is a ValueError; both name file and field
        raise CliError(str(error)) from None
    return items if options.limit is None else items[:options.limit]


def open_store(options: WorkOptions) -> CallStore:
    from love_r1.data._store import StoreDamagedError

    Path(options.work_dir).mkdir(parents=True, exist_ok=True)
    try:
        return CallStore(Path(options.work_dir) / "store.sqlite")
    except StoreDamagedError as error:  # names the file and how to recover
        raise CliError(str(error)) from None


@contextlib.contextmanager
def progress_bar(total: int | None, description: str, *, enabled: bool = True) -> Iterator[Any]:
    """A tqdm bar on stderr (``enabled=False``: none); yields its ``update`` callable."""
    from tqdm import tqdm

    with tqdm(total=total, desc=description, unit="call", file=sys.stderr, disable=total == 0 or not enabled,
              dynamic_ncols=True) as bar:
        yield bar.update


def format_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table with right-aligned numbers."""
    cells = [[str(h) for h in header]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for index, row in enumerate(cells):
        parts = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(parts).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def usage_table(step: str, run: RunStats, total: UsageTotals, options: StepOptions) -> str:
    prices = {"price_per_1k_input": options.price_per_1k_input, "price_per_1k_output": options.price_per_1k_output}
    rows = [
        (f"{step} (this run)", run.usage.requests, run.usage.prompt_tokens, run.usage.completion_tokens,
         run.usage.cost(**prices)),
        (f"{step} (all runs)", total.requests, total.prompt_tokens, total.completion_tokens, total.cost(**prices)),
    ]
    return format_table(("api usage", "requests", "prompt_tokens", "completion_tokens", "cost_estimate"), rows)


def run_model_step(
    options: Any, *, backend: Any, step: str, call_config: dict[str, Any], total: int | None,
    run_step: Callable[..., tuple[str, RunStats]], report: Callable[[CallStore, str], str],
) -> int:
    """Run one resumable model step and print its summary, ``report`` and API usage; returns the exit code.

    ``options`` are the step's ``ModelStepOptions``; ``backend`` is the one
    ``make_backend_from(options)`` built. ``run_step(backend, store=, workers=,
    batch_size=, progress=)`` returns (config hash, stats); ``report(store, config_hash)`` exports the
    step's output and returns the text printed between the run summary and the usage table. When the
    backend stops the step (``StepInterrupted``) the stored part is still reported and the code is 3.
    """
    from love_r1.data import StepInterrupted

    status = 0
    with open_store(options) as store:
        digest = store.register_config(step, call_config)
        try:
            with progress_bar(total, step, enabled=options.progress) as update:
                digest, stats = run_step(backend, store=store, workers=options.workers,
                                         batch_size=options.batch_size, progress=update)
        except StepInterrupted as error:
            print(f"interrupted: {error}")
            stats, status = error.stats or RunStats(), 3
        text = report(store, digest)
        print(run_summary(stats))
        print(text)
        print(usage_table(step, stats, store.usage(step, digest), options))
    return status


def cot_report(*, step: str, items: Sequence[Any], judge: Callable[[Any, str], Any],
               out_path: Path) -> Callable[[CallStore, str], str]:
    """The ``report`` of a CoT step: export every stored reply with its verdict; a table of verdicts."""
    def report(store: CallStore, digest: str) -> str:
        from love_r1.data import export_cot

        counts = export_cot(store, step=step, config_hash=digest, items=items, judge=judge, out_path=out_path)
        return format_table(("verdict", "replies"), sorted(counts.items()))

    return report


def run_summary(run: RunStats) -> str:
    lines = [f"new calls: {run.new_calls}   already stored (skipped): {run.skipped_calls}   "
             f"error replies: {run.error_replies}   failed items: {len(run.failed_items)}"]
    for item_id, reason in list(run.failed_items.items())[:10]:
        lines.append(f"  failed {item_id}: {reason}")
    if len(run.failed_items) > 10:
        lines.append(f"  ... and {len(run.failed_items) - 10} more")
    return "\n".join(lines)
