"""The benchmark base class (owns a data root) and small file helpers shared by the adapters."""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from love_r1.eval.records import Sample

logger = logging.getLogger(__name__)

PROMPT_PRESETS: tuple[str, ...] = ("love_r1", "love_r1_stage1", "plain")
VIDEO_EXTENSIONS: tuple[str, ...] = (".mp4", ".mkv", ".webm", ".avi", ".mov", ".MP4")


class DataError(ValueError):
    """Benchmark annotations are missing or malformed (the message names the file, field and a hint)."""


class Benchmark:
    """A benchmark's data root: finds the annotation files, normalises them to :class:`Sample`.

    Subclasses set the class attributes and implement :meth:`load`. Scoring and aggregation
    are pure functions (``love_r1.eval.scoring``) parameterised by ``breakdown_keys``,
    ``macro_key`` and ``expected_groups``.

    Args:
        data_root: folder laid out as the benchmark's Hugging Face repository (annotations + videos).
        prompt_preset: ``"love_r1"`` (the LOVE-R1 reference question text and answer instruction of
            the multi-step path, ``model_sample_frame.py``), ``"love_r1_stage1"`` (the reference's
            stage-1 path, ``model.py``: identical except Video-MME, whose instruction has no leading
            newline there) or ``"plain"`` (question, ``"A. ..."`` options one per line, the
            single-letter instruction).
        subtitles: show subtitles (benchmarks that have them): the runner reads each sample's
            ``subtitle_path`` and puts the lines active at the fast view's frame times before the
            question (:mod:`love_r1.eval.subtitles`); ``question_text`` itself never holds them.
        subtitle_mode: ``"fast"`` (only the fast view's lines) or ``"fast+clips"`` (also the lines
            inside each zoom clip, an extension); needs ``subtitles``.
        shuffle_options_seed: ``None`` (options as annotated) or a seed: every question's option
            texts are permuted by :func:`love_r1.eval.probes.option_permutation` (deterministic per
            qid), re-lettered, and the gold letter follows its text (the shuffled-options probe).
    """

    name: ClassVar[str] = ""
    hub_repo: ClassVar[str | None] = None
    hub_patterns: ClassVar[tuple[str, ...]] = ("*.json", "*.jsonl", "*.parquet", "*.md")
    expected_count: ClassVar[int | None] = None
    breakdown_keys: ClassVar[tuple[str, ...]] = ("duration",)
    macro_key: ClassVar[str | None] = None
    expected_groups: ClassVar[tuple[str, ...]] = ()
    policy_preset: ClassVar[str] = "reference"
    has_subtitles: ClassVar[bool] = False

    def __init__(self, data_root: str | Path, *, prompt_preset: str = "love_r1", subtitles: bool = False,
                 subtitle_mode: str = "fast", shuffle_options_seed: int | None = None) -> None:
        self.data_root = Path(data_root).expanduser().absolute()
        if shuffle_options_seed is not None and (isinstance(shuffle_options_seed, bool)
                                                 or not isinstance(shuffle_options_seed, int)):
            raise TypeError(f"shuffle_options_seed must be an int or None, got {shuffle_options_seed!r}")
        self.shuffle_options_seed = shuffle_options_seed
        if prompt_preset not in PROMPT_PRESETS:
            raise ValueError(f"prompt preset {prompt_preset!r} is not one of {PROMPT_PRESETS}")
        if subtitles and not self.has_subtitles:
            raise ValueError(f"benchmark {self.name!r} has no subtitles; drop --subtitles")
        from love_r1.eval.subtitles import SUBTITLE_MODES

        if subtitle_mode not in SUBTITLE_MODES:
            raise ValueError(f"subtitle mode {subtitle_mode!r} is not one of {SUBTITLE_MODES}")
        if subtitle_mode != "fast" and not subtitles:
            raise ValueError(f"subtitle mode {subtitle_mode!r} needs subtitles on (--subtitles)")
        self.prompt_preset = prompt_preset
        self.subtitles = subtitles
        self.subtitle_mode = subtitle_mode

    def __repr__(self) -> str:
        return f"{type(self).__name__}(data_root={str(self.data_root)!r}, prompt_preset={self.prompt_preset!r})"

    @property
    def reference_text(self) -> bool:
        """Whether the question text follows the LOVE-R1 reference (presets ``love_r1*``)."""
        return self.prompt_preset != "plain"

    def reconfigured(self, **changes: Any) -> Benchmark:
        """A new adapter of the same benchmark and data root with some settings changed."""
        settings = {"prompt_preset": self.prompt_preset, "subtitles": self.subtitles,
                    "subtitle_mode": self.subtitle_mode, "shuffle_options_seed": self.shuffle_options_seed, **changes}
        return type(self)(self.data_root, **settings)

    def arrange_options(self, qid: str, texts: Sequence[str], answer_index: int) -> tuple[list[str], int]:
        """Option texts in the order to show and the gold index in that order (identity unless shuffling)."""
        texts = list(texts)
        if self.shuffle_options_seed is None:
            return texts, answer_index
        from love_r1.eval.probes import option_permutation

        order = option_permutation(qid, len(texts), seed=self.shuffle_options_seed)
        return [texts[i] for i in order], order.index(answer_index)

    def arrange_labelled(self, qid: str, options: Sequence[str], answer_letter: str) -> tuple[tuple[str, ...], str]:
        """:meth:`arrange_options` for ``"A. ..."`` options and a gold letter (re-lettered when shuffled)."""
        if self.shuffle_options_seed is None:
            return tuple(options), answer_letter
        from love_r1.eval.records import LETTERS, letter_options, option_body

        texts, index = self.arrange_options(qid, [option_body(o) for o in options], LETTERS.index(answer_letter))
        return letter_options(texts), LETTERS[index]

    # -- to implement -----------------------------------------------------------------------------
    def annotation_files(self) -> list[Path]:
        """The annotation files :meth:`load` reads (their bytes define the data revision)."""
        raise NotImplementedError

    def load(self) -> list[Sample]:
        raise NotImplementedError

    # -- shared -----------------------------------------------------------------------------------
    def data_revision(self) -> str:
        """A digest of the annotation files' bytes (changes whenever the data does)."""
        digest = hashlib.sha1()
        for path in sorted(self.annotation_files()):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()[:16]

    def download(self, *, revision: str | None = None, token: str | None = None) -> Path:
        """Fetch the annotation files (not the videos) into ``data_root`` with ``huggingface_hub``."""
        if self.hub_repo is None:
            raise DataError(f"benchmark {self.name!r} has no hub repository to download from; generate or copy "
                            f"its data into {self.data_root}")
        from love_r1._imports import require

        hub = require("huggingface_hub", extra="eval")
        try:
            hub.snapshot_download(repo_id=self.hub_repo, repo_type="dataset", revision=revision,
                                  local_dir=str(self.data_root), allow_patterns=list(self.hub_patterns), token=token)
        except (OSError, ValueError) as error:  # offline mode, network errors, gated repos
            raise DataError(
                f"could not download the {self.name} annotations from {self.hub_repo!r}: {type(error).__name__}: "
                f"{error} (hint: check the network, accept the dataset terms on the Hub and set HF_TOKEN, or copy "
                f"the files into {self.data_root} yourself and drop --download)") from error
        return self.data_root

    def find_one(self, patterns: Sequence[str], *, what: str) -> Path:
        for pattern in patterns:
            hits = sorted(self.data_root.glob(pattern))
            if hits:
                return hits[0]
        raise DataError(
            f"{self.name}: no {what} under data root {str(self.data_root)!r} (looked for {list(patterns)}); "
            f"hint: lay the folder out as the hub repo {self.hub_repo or ''} does, or pass --download")

    def find_video(self, stem_or_relative: str, folders: Iterable[str]) -> Path:
        """The first existing ``<root>/<folder>/<name>[ext]``; else the first candidate (reported missing)."""
        candidates: list[Path] = []
        name = str(stem_or_relative)
        has_ext = Path(name).suffix != ""
        for folder in folders:
            base = self.data_root / folder / name if folder else self.data_root / name
            if has_ext:
                candidates.append(base)
            else:
                candidates.extend(base.with_name(base.name + ext) for ext in VIDEO_EXTENSIONS)
        for path in candidates:
            if path.exists():
                return path
        return candidates[0]


def read_table(path: Path) -> list[dict[str, Any]]:
    """Rows of a ``.parquet``, ``.json`` (a list, or ``{"data": [...]}``) or ``.jsonl`` file as dicts."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return [_plain(row) for row in pq.read_table(path).to_pylist()]
        if suffix == ".jsonl":
            return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DataError(f"cannot read annotation file {str(path)!r}: {error}") from error
    if isinstance(data, dict):
        for key in ("data", "annotations", "questions"):
            if isinstance(data.get(key), list):
                return data[key]
        raise DataError(f"annotation file {str(path)!r} holds an object, expected a list of records")
    if not isinstance(data, list):
        raise DataError(f"annotation file {str(path)!r} must hold a list of records")
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def field(row: dict[str, Any], names: Sequence[str], *, source: Path | str, default: Any = ...) -> Any:
    """``row[name]`` for the first of ``names`` present, else ``default`` or a :class:`DataError`."""
    for name in names:
        if name in row and row[name] is not None:
            return row[name]
    if default is not ...:
        return default
    raise DataError(f"{source}: a record lacks field {names[0]!r} (also tried {list(names[1:])}); "
                    f"fields present: {sorted(row)}")


def as_list(value: Any) -> list[Any]:
    """A list from a list, a tuple, a NumPy array or a string holding a Python/JSON list."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return list(ast.literal_eval(text))
            except (ValueError, SyntaxError):
                return [text]
        return [text] if text else []
    if hasattr(value, "tolist"):
        return list(value.tolist())
    return list(value)


_HMS = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$")


def parse_clock(text: str) -> float:
    """``"01:02:03.5"``, ``"02:03"`` or ``"12.5"`` -> seconds."""
    text = str(text).strip()
    match = _HMS.match(text)
    if match:
        hours, minutes, seconds = match.groups()
        return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    return float(text)


def generic_duration_bucket(duration_seconds: float | None) -> str:
    """A duration group for benchmarks without official ones (``"<3min"`` .. ``">60min"``)."""
    if duration_seconds is None:
        return ""
    for limit, label in ((180, "<3min"), (600, "3-10min"), (1800, "10-30min"), (3600, "30-60min")):
        if duration_seconds < limit:
            return label
    return ">60min"
