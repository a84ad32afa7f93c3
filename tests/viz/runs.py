"""Eval runs for the explorer and trace tests: generated needle videos, the real eval runner, a scripted policy.

``build_runs(root)`` writes a needle dataset (``love-r1 synth needle``'s generator; short and long videos,
so there are two duration groups), breaks one video (its items fail in pre-flight and are stored as
errors), and evaluates it twice with :class:`~love_r1.backends.scripted.ScriptedBackend` running
:func:`policy`: a deterministic mix of behaviours per question (zoom on the evidence, zoom elsewhere,
two zooms, no zoom, no box until the forced answer, an unreadable answer). Runs A and B use different
salts, so some items flip. Also used by ``scripts/screenshots.py`` and ``benchmarks/report_page.py``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

from love_r1.backends import GenerationRequest, TextPart, VideoPart
from love_r1.prompts.constants import ANSWER_PHRASE, ZOOM_PHRASE

KINDS = ("evidence", "evidence", "evidence", "elsewhere", "elsewhere", "two_zooms", "two_zooms", "no_zoom", "no_box",
         "unreadable")
_FULL_VIDEO = re.compile(r"Full video \[(\d+), (\d+)\]:")
# put into the first question's text by build_dataset(hostile=True): a page that runs it sets window.__xss
HOSTILE = '</script><script>window.__xss=1</script><img src=x onerror="window.__xss=1">'


def kind_of(qid: str, salt: str) -> str:
    """The behaviour :func:`policy` uses for one question (stable across machines)."""
    digest = hashlib.sha256(f"{salt}:{qid}".encode()).digest()
    return KINDS[digest[0] % len(KINDS)]


def _wrong(gold: str, letters: str = "ABCD") -> str:
    return next(letter for letter in letters if letter != gold)


def policy(truth: dict[str, tuple[str, list[list[float]]]], *, salt: str, reasoning_words: int = 0
           ) -> Callable[[GenerationRequest], str]:
    """A scripted reply function: ``truth`` maps qid -> (gold letter, evidence intervals).

    ``reasoning_words`` pads every reply with that many words of reasoning (LOVE-R1-like reply lengths).
    """
    filler = " ".join(["the"] * reasoning_words)

    def reply(request: GenerationRequest) -> str:
        qid = str(request.session_id)
        gold, evidence = truth[qid]
        kind = kind_of(qid, salt)
        text = "".join(p.text for m in request.messages for p in m.content if isinstance(p, TextPart))
        clips = sum(isinstance(p, VideoPart) for m in request.messages for p in m.content) - 1
        match = _FULL_VIDEO.search(text)
        duration = int(match.group(2)) if match else 60
        start, end = evidence[0] if evidence else (0.0, 10.0)
        middle = duration // 2
        if request.assistant_prefix:  # the forced answer
            lucky = kind in ("evidence", "two_zooms") or (kind == "no_box" and hashlib.sha256(qid.encode()).digest()[1] % 2)
            letter = gold if lucky else _wrong(gold)
            return f"{filler} It must be {letter}.\\boxed{{{letter}}}"

        def zoom(a: float, b: float) -> str:
            return f"{ZOOM_PHRASE}\n\n{filler} The clue may be here.\\boxed{{[{int(a)}, {int(b) + 1}]}}"

        def answer(letter: str) -> str:
            return f"{ANSWER_PHRASE}\n\n{filler} I saw it.\\boxed{{{letter}}}"

        if kind == "no_box":
            return f"{filler} I am still looking."
        if kind == "unreadable":
            return answer("none of them") if clips else zoom(start, end)
        if kind == "no_zoom":
            return answer(_wrong(gold))
        if kind == "evidence":
            return answer(gold) if clips else zoom(start, end)
        if kind == "elsewhere":
            far = (0, 10) if start > duration / 2 else (duration - 12, duration - 2)
            return answer(_wrong(gold)) if clips else zoom(*far)
        if clips == 0:  # two_zooms: the middle first, then the evidence
            return zoom(max(0, middle - 5), middle + 5)
        return answer(gold) if clips >= 2 else zoom(start, end)

    return reply


def build_dataset(root: Path, *, short_videos: int = 3, long_videos: int = 1, questions_per_video: int = 3,
                  short_seconds: float = 40.0, long_seconds: float = 200.0, corrupt: bool = True,
                  hostile: bool = True) -> Path:
    """A needle data root with short and long videos (duration groups ``<3min`` and ``3-10min``); with
    ``corrupt`` the last short video's file is cut to 2 KB so its items fail; with ``hostile`` the first
    question's text ends with :data:`HOSTILE` markup. Returns the data root."""
    from love_r1.synth import write_needle_dataset

    lines: list[str] = []
    for prefix, count, seconds in (("", short_videos, short_seconds), ("long/", long_videos, long_seconds)):
        if not count:
            continue
        folder = root / prefix if prefix else root
        annotations = write_needle_dataset(folder, duration_seconds=seconds, num_videos=count,
                                           num_questions_per_video=questions_per_video, width=128, height=72,
                                           fps=5.0, gop_seconds=2.0, seed=len(prefix),
                                           needle_seconds=(4.0, 8.0))
        for line in annotations.read_text().splitlines():
            row = json.loads(line)
            if prefix:
                row["qid"], row["video"] = "long_" + row["qid"], prefix + row["video"]
            if hostile and not lines:
                row["question"] += " " + HOSTILE
            lines.append(json.dumps(row))
    (root / "annotations.jsonl").write_text("\n".join(lines) + "\n")
    if corrupt and short_videos:
        broken = root / "videos" / f"needle_{short_videos - 1:04d}.mp4"
        broken.write_bytes(broken.read_bytes()[:2048])
    return root


def truth_of(data_root: Path) -> dict[str, tuple[str, list[list[float]]]]:
    from love_r1.eval.benchmarks import make_benchmark

    return {s.qid: (s.gold, [list(e) for e in s.evidence]) for s in make_benchmark("needle", data_root).load()}


def evaluate_run(data_root: Path, run_dir: Path, *, salt: str, reasoning_words: int = 0) -> Path:
    """Evaluate the needle data with :func:`policy` (the real runner and store); returns ``run_dir``."""
    from love_r1.backends.scripted import ScriptedBackend
    from love_r1.eval.benchmarks import make_benchmark
    from love_r1.eval.config import EvalConfig
    from love_r1.eval.runner import evaluate

    backend = ScriptedBackend(policy(truth_of(data_root), salt=salt, reasoning_words=reasoning_words))
    evaluate(make_benchmark("needle", data_root), backend, EvalConfig(run_dir=run_dir, model=f"scripted-{salt}"), progress=False)
    return run_dir


def build_runs(root: Path) -> tuple[Path, Path, Path]:
    """Data root, run A and run B under ``root``."""
    data = build_dataset(root / "data")
    return data, evaluate_run(data, root / "run-a", salt="a"), evaluate_run(data, root / "run-b", salt="b")


def expected_status(qid: str, *, salt: str, broken: bool) -> str:
    """The result :func:`policy` must get (``correct``, ``wrong``, ``no_answer``, ``error``), from its rules alone."""
    if broken:
        return "error"
    kind = kind_of(qid, salt)
    if kind in ("evidence", "two_zooms"):
        return "correct"
    if kind == "unreadable":
        return "no_answer"
    if kind == "no_box":
        return "correct" if hashlib.sha256(qid.encode()).digest()[1] % 2 else "wrong"
    return "wrong"
