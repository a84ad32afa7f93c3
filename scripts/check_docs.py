"""Run the command blocks of README.md and docs/*.md and compare what they print with what the docs show.

    python scripts/check_docs.py                      # every block of README.md and docs/*.md
    python scripts/check_docs.py docs/eval.md         # one file
    python scripts/check_docs.py --static             # only check that every love-r1 flag in the docs exists
    python scripts/check_docs.py --list-skipped       # the blocks marked as not runnable here, with the reason

Blocks checked: fenced ``bash``/``sh``/``shell``/``console`` blocks, plain fenced blocks whose first line is a
``$ command``, and ``python`` blocks. Each file runs in its own temporary folder (``configs/``, ``scripts/``
and ``benchmarks/`` of the repository are linked into it), block after block, so a later block sees the
files an earlier one wrote. A command fails the check when it exits non-zero, or when the lines the docs
show after it (a ``$`` block's output, or a plain block right after a ``python`` block, with only blank
lines between) are not found in
its output, in order. Shown lines are compared on their stable parts: runs of spaces are one space,
``...``/``…`` match anything (a line of its own: any lines), numbers with a decimal point (times, sizes)
and hex digests of 12+ characters match any such value.

Markers (HTML comments, on the lines before a block):
    <!-- docs-check: skip: REASON -->     not runnable here (a GPU, a checkpoint, the network, a server):
                                           listed with its reason, its love-r1 flags still checked
    <!-- docs-check: setup: COMMAND -->   run COMMAND first (hidden setup, e.g. generating the video a
                                           block uses); repeatable
    <!-- docs-check: exit: N -->          every command of the block must exit with N (an error shown)
    <!-- docs-check: fresh-copy -->        run the block in a new shell (no virtual environment, no PATH
                                           additions) in a fresh copy of the repository's files, as a new
                                           user on a fresh clone would (the README's set-up command)

Every ``love-r1`` (or ``-m love_r1.cli``) command in any block (but those showing an error on purpose,
``exit: N`` with N > 0), and in inline code spans, is also checked statically: its command path must exist and each ``--flag`` must be a current flag of that command
(a deprecated spelling is an error in the docs). Exit status: 0 all good, 1 a failure (listed).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}
_FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
_MARKER = re.compile(r"<!--\s*docs-check:\s*(skip|setup|exit|fresh-copy)\s*(?::\s*(.*?))?\s*-->")
_INLINE = re.compile(r"`(love-r1 [^`]+)`")
_LINKED = ("configs", "scripts", "benchmarks")


@dataclass
class Block:
    """One fenced block and the markers before it."""

    path: Path
    line: int  # 1-based line of the opening fence
    language: str
    text: str
    skip: str | None = None
    setup: list[str] = field(default_factory=list)
    exit_status: int = 0
    fresh_copy: bool = False
    expected_output: str | None = None  # python blocks: the plain block right after

    @property
    def where(self) -> str:
        return f"{_shown(self.path)}:{self.line}"

    @property
    def is_command_block(self) -> bool:
        if self.language in SHELL_LANGUAGES or self.language == "python":
            return True
        first = next((line for line in self.text.splitlines() if line.strip()), "")
        return self.language == "" and first.startswith("$ ")


def _shown(path: Path) -> Path:
    return path.relative_to(REPO) if path.is_relative_to(REPO) else path


def read_blocks(path: Path) -> list[Block]:
    """Every fenced block of a markdown file with its markers; a plain block after a python block is its output."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    markers: list[tuple[str, str]] = []
    index = 0
    text_since_block = True  # non-blank text between the previous block and this one
    while index < len(lines):
        line = lines[index]
        for kind, value in _MARKER.findall(line):
            markers.append((kind, value))
        fence = _FENCE.match(line)
        if fence is None:
            if line.strip():
                text_since_block = True
                if not _MARKER.search(line):
                    markers = []  # markers belong to the block right after them
            index += 1
            continue
        indent, language = fence.groups()
        body: list[str] = []
        index += 1
        while index < len(lines) and not re.match(rf"^{indent}```\s*$", lines[index]):
            body.append(lines[index][len(indent):] if lines[index].startswith(indent) else lines[index])
            index += 1
        block = Block(path, index - len(body), language.lower(), "\n".join(body))
        for kind, value in markers:
            if kind == "skip":
                block.skip = value or "no reason given"
            elif kind == "setup":
                block.setup.append(value)
            elif kind == "fresh-copy":
                block.fresh_copy = True
            else:
                block.exit_status = int(value)
        markers = []
        if (blocks and blocks[-1].language == "python" and language == "" and not block.is_command_block
                and not text_since_block):
            blocks[-1].expected_output = block.text
        blocks.append(block)
        text_since_block = False
        index += 1
    return blocks


def split_commands(block: Block) -> list[tuple[str, list[str]]]:
    """``(command, shown output lines)`` of a shell block (``$``-prompted or plain script lines)."""
    lines = block.text.splitlines()
    prompted = any(line.startswith("$ ") for line in lines)
    out: list[tuple[str, list[str]]] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if prompted and not line.startswith("$ "):
            if out:
                out[-1][1].append(line)
            index += 1
            continue
        command = line[2:] if prompted else line
        while command.rstrip().endswith("\\") and index + 1 < len(lines):
            index += 1
            command = command.rstrip()[:-1] + " " + lines[index].strip()
        index += 1
        if prompted or (command.strip() and not command.strip().startswith("#")):
            out.append((command, []))
    if not prompted and out:  # a plain script: one command, run as written
        return [("\n".join(command for command, _ in out), [])]
    return out


# what a shown line may differ in: "..." (anything), numbers with a decimal point (times, sizes), hex digests
_VOLATILE = re.compile(r"(\.\.\.|…)|(\d[\d,]*\.\d+)|(\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{12,}\b)")


def _pattern(line: str) -> re.Pattern[str] | None:
    """A shown line as a regular expression of its stable parts (``None``: a line that matches anything)."""
    text = " ".join(line.split())
    if text in ("", "...", "…"):
        return None
    out, position = [], 0
    for match in _VOLATILE.finditer(text):
        out.append(re.escape(text[position:match.start()]))
        out.append(".*" if match.group(1) else r"\d[\d,]*(?:\.\d+)?" if match.group(2) else "[0-9a-f]+")
        position = match.end()
    out.append(re.escape(text[position:]))
    return re.compile("".join(out).replace("\\ ", " "))


def missing_lines(shown: list[str], actual: str) -> list[str]:
    """Shown lines not found in ``actual`` in order (each may match any later actual line)."""
    rows = [" ".join(line.split()) for line in actual.splitlines()]
    position = 0
    missing = []
    for line in shown:
        pattern = _pattern(line)
        if pattern is None:
            continue
        found = next((i for i in range(position, len(rows)) if pattern.fullmatch(rows[i])), None)
        if found is None:
            missing.append(line)
        else:
            position = found + 1
    return missing


# ----------------------------------------------------------------------------------------------- static check

def love_r1_argvs(text: str) -> list[list[str]]:
    """The argument lists of the ``love-r1`` / ``-m love_r1.cli`` commands in shell text (comments and, in a
    ``$`` block, the output lines dropped)."""
    lines = text.splitlines()
    if any(line.startswith("$ ") for line in lines):
        kept, continued = [], False
        for line in lines:
            if line.startswith("$ ") or continued:
                kept.append(line[2:] if line.startswith("$ ") else line)
            continued = (line.startswith("$ ") or continued) and line.rstrip().endswith("\\")
        text = "\n".join(kept)
    found = []
    for raw in re.split(r"\n|&&|\|\||;|\|", re.sub(r"\\\n\s*", " ", text)):
        line = re.sub(r"\s#.*$", "", raw.strip())
        try:
            tokens = shlex.split(line)
        except ValueError:
            tokens = line.split()
        for start, token in enumerate(tokens):
            if token == "love-r1" and all(re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", t) for t in tokens[:start]):
                found.append(tokens[start + 1:])
                break
            if token == "love_r1.cli" and start and tokens[start - 1] == "-m":
                found.append(tokens[start + 1:])
                break
    return found


def check_flags(argv: list[str]) -> str | None:
    """``None`` when the command path exists and every ``--flag`` is a current flag of it, else the problem."""
    sys.path.insert(0, str(REPO / "src"))
    import love_r1.cli as cli
    from love_r1.cli._command import selected_path

    commands = cli.commands()
    path = selected_path(commands, argv)
    words = [token for token in argv if not token.startswith("-")]
    if not path:
        return f"unknown command {words[0]!r}" if words else None
    if path[-1].subcommands:
        following = words[len(path)] if len(words) > len(path) else None
        if following is not None and following.isidentifier() and following.islower() and "." not in following:
            return f"unknown command {' '.join(c.name for c in path)} {following}"
        return None
    flags = _known_flags([c.name for c in path])
    for token in argv:
        if token == "--":
            break  # what follows is not an option of the command (the old train field separator)
        if token.startswith("--") and len(token) > 2 and not token.startswith("---"):
            name = token.split("=", 1)[0]
            if name not in flags:
                return f"love-r1 {' '.join(c.name for c in path)}: no flag {name}"
    return None


_FLAGS: dict[tuple[str, ...], set[str]] = {}


def _known_flags(path: list[str]) -> set[str]:
    key = tuple(path)
    if key not in _FLAGS:
        import love_r1.cli as cli
        from love_r1.cli._command import iter_leaves

        parser = cli.build_parser(path)
        for name in path:
            sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
            parser = sub.choices[name]
        flags = {s for a in parser._actions if a.help != argparse.SUPPRESS for s in a.option_strings}
        command = dict(iter_leaves(cli.commands()))[key]
        if command.accepts_extra_args:  # the training stages: their config fields
            cls = command.config_class()
            import dataclasses
            import typing

            hints = typing.get_type_hints(cls)
            for name in cls.settable_fields():
                flags.add("--" + name.replace("_", "-"))
                if hints.get(name) is bool:
                    flags.add("--no-" + name.replace("_", "-"))
            del dataclasses
        _FLAGS[key] = flags
    return _FLAGS[key]


def static_problems(paths: list[Path]) -> list[str]:
    """Every love-r1 command of the docs (blocks, skipped ones included, and inline code) with a stale flag."""
    problems = []
    for path in paths:
        for block in read_blocks(path):
            if block.exit_status != 0:
                continue  # an error shown on purpose (e.g. a misspelt flag and the hint it gets)
            if block.language in SHELL_LANGUAGES or block.is_command_block or block.language == "":
                texts = [block.text] + block.setup
                for text in texts:
                    for argv in love_r1_argvs(text):
                        problem = check_flags(argv)
                        if problem:
                            problems.append(f"{block.where}: {problem}")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for span in _INLINE.findall(line):
                for argv in love_r1_argvs(span):
                    problem = check_flags(argv)
                    if problem:
                        problems.append(f"{_shown(path)}:{number}: {problem} (in `{span}`)")
    return problems


# ----------------------------------------------------------------------------------------------- running

@dataclass
class Outcome:
    block: Block
    status: str  # "ok", "skip", "fail"
    detail: str = ""
    seconds: float = 0.0


def _environment(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env.update(PATH=bin_dir + os.pathsep + env.get("PATH", ""), HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1",
               COLUMNS="100", OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false",
               PYTHONPATH=os.pathsep.join([str(REPO / "src"), str(REPO), env.get("PYTHONPATH", "")]),
               HOME=env.get("HOME", str(work)))
    return env


def _shell(command: str, *, work: Path, timeout: float, env: dict[str, str] | None = None) -> tuple[int, str]:
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=work,
                          env=_environment(work) if env is None else env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return done.returncode, done.stdout


def _fresh_copy() -> Path:
    """The repository's files (tracked and new, not ignored), copied into a new folder, as a clone has them."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout
    folder = Path(tempfile.mkdtemp(prefix="docs-check-clone-"))
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    return folder


def _new_shell_environment(folder: Path) -> dict[str, str]:
    """What a new login shell of a new user has: no virtual environment, the system PATH."""
    return {"HOME": str(folder), "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": os.environ.get("LANG", "C.UTF-8"),
            "HF_HUB_OFFLINE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            **{k: v for k, v in os.environ.items() if k.startswith("PIP_") or k in ("http_proxy", "https_proxy")}}


def run_block(block: Block, work: Path, *, timeout: float) -> Outcome:
    started = time.perf_counter()
    if block.skip is not None:
        return Outcome(block, "skip", block.skip)
    try:
        for setup in block.setup:
            status, output = _shell(setup, work=work, timeout=timeout)
            if status != 0:
                return Outcome(block, "fail", f"setup `{setup}` exited {status}:\n{output[-2000:]}",
                               time.perf_counter() - started)
        if block.fresh_copy:
            folder = _fresh_copy()
            try:
                status, output = _shell(block.text, work=folder, timeout=timeout, env=_new_shell_environment(folder))
            finally:
                subprocess.run(["rm", "-rf", str(folder)], check=False)
            if status != block.exit_status:
                return Outcome(block, "fail", f"in a new shell on a fresh copy, exited {status}:\n{output[-3000:]}",
                               time.perf_counter() - started)
            return Outcome(block, "ok", "", time.perf_counter() - started)
        if block.language == "python":
            commands = [(f"python - <<'DOCS_CHECK_PYTHON'\n{block.text}\nDOCS_CHECK_PYTHON",
                         (block.expected_output or "").splitlines())]
        else:
            commands = split_commands(block)
        for command, shown in commands:
            status, output = _shell(command, work=work, timeout=timeout)
            if status != block.exit_status:
                return Outcome(block, "fail", f"`{command[:200]}` exited {status} (expected {block.exit_status}):\n"
                                              f"{output[-3000:]}", time.perf_counter() - started)
            missing = missing_lines(shown, output)
            if missing:
                return Outcome(block, "fail", f"`{command[:200]}`: the output no longer shows:\n  "
                               + "\n  ".join(missing[:8]) + f"\nactual output (end):\n{output[-3000:]}",
                               time.perf_counter() - started)
    except subprocess.TimeoutExpired as error:
        return Outcome(block, "fail", f"timed out after {error.timeout:g} s", time.perf_counter() - started)
    return Outcome(block, "ok", "", time.perf_counter() - started)


def run_file(path: Path, *, timeout: float, keep: bool) -> list[Outcome]:
    blocks = [b for b in read_blocks(path) if b.is_command_block]
    if not blocks:
        return []
    work = Path(tempfile.mkdtemp(prefix=f"docs-check-{path.stem}-"))
    for name in _LINKED:
        (work / name).symlink_to(REPO / name)
    outcomes = [run_block(block, work, timeout=timeout) for block in blocks]
    if keep:
        print(f"  (kept {work})")
    else:
        subprocess.run(["rm", "-rf", str(work)], check=False)
    return outcomes


def default_files() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="markdown files (default: README.md and docs/*.md)")
    parser.add_argument("--static", action="store_true", help="only check the love-r1 flags; run nothing")
    parser.add_argument("--list-skipped", action="store_true", help="list the blocks marked not runnable, then exit")
    parser.add_argument("--timeout-seconds", type=float, default=600, help="limit of one command (seconds)")
    parser.add_argument("--keep", action="store_true", help="keep each file's work folder")
    args = parser.parse_args(argv)
    files = [path.resolve() for path in args.files] or default_files()
    if args.list_skipped:
        for path in files:
            for block in read_blocks(path):
                if block.is_command_block and block.skip is not None:
                    print(f"{block.where}: {block.skip}")
        return 0
    problems = static_problems(files)
    for problem in problems:
        print(f"STALE  {problem}")
    if args.static:
        print(f"{len(problems)} stale love-r1 command(s) in {len(files)} file(s)")
        return 1 if problems else 0
    failures = len(problems)
    counts = {"ok": 0, "skip": 0, "fail": 0}
    started = time.perf_counter()
    for path in files:
        for outcome in run_file(path, timeout=args.timeout_seconds, keep=args.keep):
            counts[outcome.status] += 1
            label = {"ok": "ok   ", "skip": "skip ", "fail": "FAIL "}[outcome.status]
            suffix = f" ({outcome.seconds:.1f} s)" if outcome.status != "skip" else f": {outcome.detail}"
            print(f"{label} {outcome.block.where}{suffix}", flush=True)
            if outcome.status == "fail":
                failures += 1
                print("      " + outcome.detail.replace("\n", "\n      "))
    print(f"{counts['ok']} block(s) ran as documented, {counts['skip']} skipped (marked, reasons above), "
          f"{counts['fail']} failed, {len(problems)} stale flag(s); {time.perf_counter() - started:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
