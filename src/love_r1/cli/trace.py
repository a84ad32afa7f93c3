"""``love-r1 trace RUN_DIR QID``: write (and with ``--open`` open) one stored item's trace page."""

from __future__ import annotations

import dataclasses
import difflib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from love_r1.cli._command import Leaf
from love_r1.cli._errors import CliError
from love_r1.cli.report import ScoringOptions

DESCRIPTION = """Write one item's trace page from a run directory written by `love-r1 eval`: the question, the
fast-view thumbnails, the requested and applied zoom windows against the evidence on a time axis, the
zoom-clip frames the model saw (sampled again from the video with the run's settings), every step's
text, tokens and time, the answer as scored, and the cost ledger. One self-contained file.

  love-r1 trace runs/vmme 001-2                       (writes runs/vmme/traces/001-2.html)
  love-r1 trace runs/vmme 001-2 --open                (and opens it in the default browser)
  love-r1 trace runs/vmme 001-2 --output t.html --clip-frames 8

An unknown QID is an error that lists close ids; `love-r1 report RUN --format csv` lists them all.
"""


@dataclass(kw_only=True)
class Options(ScoringOptions):
    run_dir: Path = field(metadata={"positional": True, "help": "run directory (--out of love-r1 eval)"})
    qid: str = field(metadata={"positional": True, "help": "the item's id (the qid column of the report)"})
    output: Path | None = field(default=None, metadata={
        "help": "the .html file to write (default: RUN_DIR/traces/QID.html)"})
    open: bool = field(default=False, metadata={"help": "open the page in the default web browser"})
    num_thumbnails: int = field(default=24, metadata={
        "help": "keyframe thumbnails across the whole video (count; 0: none)"})
    clip_frames: int = field(default=-1, metadata={
        "help": "zoom-clip frames shown per clip (count; -1: every frame the model got; 0: none)"})


def close_ids(qid: str, known: list[str], *, limit: int = 5) -> list[str]:
    """Ids like ``qid``: the closest by spelling, then ids that contain it (or that it contains)."""
    close = difflib.get_close_matches(qid, known, n=limit, cutoff=0.6)
    lowered = qid.lower()
    close += [k for k in known if k not in close and (lowered in k.lower() or k.lower() in lowered)]
    return close[:limit]


def run(options: Options) -> int:
    from love_r1.cli.report import read_runs

    if options.num_thumbnails < 0:
        raise CliError(f"--num-thumbnails must be >= 0; got {options.num_thumbnails}")
    if options.clip_frames < -1:
        raise CliError(f"--clip-frames must be -1 (all), 0 (none) or a count; got {options.clip_frames}")
    try:
        (data,) = read_runs([options.run_dir], config_hash=options.config_hash)
    except ValueError as error:
        raise CliError(str(error)) from None
    rows = {row.qid: row for row in data.items}
    row = rows.get(options.qid)
    if row is None:
        suggestions = close_ids(options.qid, list(rows))
        hint = f"; close ids: {', '.join(suggestions)}" if suggestions else ""
        raise CliError(f"no item {options.qid!r} in {str(options.run_dir)!r} ({len(rows)} items, configuration "
                       f"{data.config_hash}){hint} (hint: `love-r1 report {options.run_dir} --format csv` lists every "
                       "qid)")
    from love_r1.eval.explorer import item_episode, item_frames
    from love_r1.eval.report import item_rows
    from love_r1.viz import Score, render_trace_html

    (scored,) = item_rows(dataclasses.replace(data, items=[row]), extractor=options.extractor)  # this item only
    score = None if row.error else Score(scored["pred"] or None, bool(scored["correct"]), options.extractor)
    output = options.output or options.run_dir / "traces" / (re.sub(r"[^A-Za-z0-9._-]+", "_", options.qid) + ".html")
    episode = item_episode(row)
    frames = item_frames(episode, probe=data.config.get("probe"), num_thumbnails=options.num_thumbnails,
                         max_frames_per_clip=None if options.clip_frames < 0 else options.clip_frames)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_trace_html(episode, frames=frames, score=score), encoding="utf-8")
    out = output
    print(f"wrote {out}")
    if options.open:
        import webbrowser

        if not webbrowser.open(out.resolve().as_uri()):
            print(f"no web browser could be started here; open {out.resolve().as_uri()}", file=sys.stderr)
    return 0


COMMAND = Leaf(
    name="trace",
    help="write the HTML trace page of one item of an eval run (fast view, zoom windows, the frames the model saw)",
    description=DESCRIPTION,
    options=Options,
    function=run,
)
