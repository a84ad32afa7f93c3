"""``love-r1 data check FILE --video-root DIR``: validate training records before training."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from love_r1.cli._command import Leaf
from love_r1.cli._errors import CliError

DESCRIPTION = """Reads every record of FILE (.jsonl, or a .json list) and checks that it parses, that its video
exists under --video-root and opens, that its intervals (zoomin_intervals, tgt, clips) lie inside the
video, and that its answer is readable. Problems are listed with their line numbers; the exit code is 1
when there is any. Training runs the same check up front and skips the listed records."""


@dataclass(kw_only=True)
class Options:
    file: Path = field(metadata={"positional": True, "help": "records file (.jsonl or .json list)"})
    video_root: Path | None = field(default=None, metadata={"help": "directory relative video paths are "
                                                                    "resolved against (None: the current directory)"})
    probe_videos: bool = field(default=True, metadata={"help": "open every video (slower; catches corrupt files)"})
    json_out: Path | None = field(default=None, metadata={"help": "also write the issues to this JSONL file"})
    max_rows: int = field(default=50, metadata={"help": "issues shown in the table (count)"})


def run(options: Options) -> int:
    from love_r1.train.records import check_records

    if not options.file.is_file():
        raise CliError(f"{str(options.file)!r} does not exist")
    manifest = check_records(options.file, video_root=options.video_root, probe_videos=options.probe_videos)
    kinds = Counter(r.kind for r in manifest.records)
    print(f"{options.file}: {len(manifest.records)} usable sample(s) "
          f"({', '.join(f'{k} {n}' for k, n in sorted(kinds.items())) or 'none'}), "
          f"{len(manifest.issues)} issue(s) on {manifest.num_skipped} record(s), "
          f"{manifest.num_videos} video(s) probed")
    if manifest.issues:
        rows = [(str(i.line), i.field, i.message) for i in manifest.issues[: options.max_rows]]
        widths = [max(len(h), *(len(r[c]) for r in rows)) for c, h in enumerate(("line", "field"))]
        print(f"{'line':>{widths[0]}}  {'field':<{widths[1]}}  problem")
        for line, name, message in rows:
            print(f"{line:>{widths[0]}}  {name:<{widths[1]}}  {message}")
        if len(manifest.issues) > options.max_rows:
            print(f"... {len(manifest.issues) - options.max_rows} more")
    if options.json_out is not None:
        options.json_out.write_text("".join(json.dumps(i.__dict__) + "\n" for i in manifest.issues), encoding="utf-8")
    return 1 if manifest.issues else 0


COMMAND = Leaf(
    name="check",
    help="validate training records (SFT, GRPO or trajectories): videos, intervals, answers",
    description=DESCRIPTION,
    options=Options,
    function=run,
)
