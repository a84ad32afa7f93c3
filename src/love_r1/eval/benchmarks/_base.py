"""The benchmark base class (owns a data root) and small file helpers shared by the adapters.

One bad record never stops a benchmark: a record the adapter cannot turn into a scorable
question (a missing field, an answer that is not among the candidates, an out-of-range
choice) becomes a :class:`~love_r1.eval.records.Sample` with ``data_error`` set; the runner
stores it as an error of kind ``data error`` and the report lists it. Only problems of a whole
file (missing, unreadable, not a list of records) raise :class:`DataError`.
"""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args

from love_r1.errors import DataError
from love_r1.eval.records import Sample

logger = logging.getLogger(__name__)

PromptPreset = Literal["love_r1", "love_r1_stage1", "plain"]
PROMPT_PRESETS: tuple[str, ...] = get_args(PromptPreset)
VIDEO_EXTENSIONS: tuple[str, ...] = (".mp4", ".mkv", ".webm", ".avi", ".mov", ".MP4")
_ITEM_ERRORS = (ValueError, TypeError)  # DataError is a ValueError


class Benchmark:
    """A benchmark's data root: finds the annotation files, normalises them to :class:`Sample`.

    Subclasses set the class attributes and implement :meth:`annotation_files` and :meth:`_load`.
    Scoring and aggregation are pure functions (``love_r1.eval.scoring``) parameterised by
    ``breakdown_keys``, ``macro_key`` and ``expected_groups``.

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
    video_fields: ClassVar[tuple[str, ...]] = ("video",)  # record fields naming the video (for data errors)

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
        self.video_lookups: dict[str, tuple[str, ...]] = {}  # missing video path -> every path that was tried

    def __repr__(self) -> str:
        return f"{type(self).__name__}(data_root={str(self.data_root)!r}, prompt_preset={self.prompt_preset!r})"

    @property
    def reference_text(self) -> bool:
        """Whether the question text follows the LOVE-R1 reference (presets ``love_r1*``)."""
        return self.prompt_preset != "plain"

    def adapter_options(self) -> dict[str, Any]:
        """The adapter's own constructor options (e.g. CG-Bench's ``split``), carried by :meth:`reconfigured`."""
        return {}

    def run_settings(self) -> dict[str, Any]:
        """Data choices that change what is evaluated, recorded (and hashed) in the run configuration
        (e.g. CG-Bench's question set, MVBench's detected video layout). Call after :meth:`load`."""
        return {}

    def reconfigured(self, **changes: Any) -> Benchmark:
        """A new adapter of the same benchmark and data root with some settings changed."""
        settings = {"prompt_preset": self.prompt_preset, "subtitles": self.subtitles,
                    "subtitle_mode": self.subtitle_mode, "shuffle_options_seed": self.shuffle_options_seed,
                    **self.adapter_options(), **changes}
        return type(self)(self.data_root, **settings)

    def arrange_options(self, qid: str, texts: Sequence[str], gold_index: int) -> tuple[list[str], int]:
        """Option texts in the order to show and the gold index in that order (identity unless shuffling)."""
        texts = list(texts)
        if self.shuffle_options_seed is None:
            return texts, gold_index
        from love_r1.eval.probes import option_permutation

        order = option_permutation(qid, len(texts), seed=self.shuffle_options_seed)
        return [texts[i] for i in order], order.index(gold_index)

    def arrange_labelled(self, qid: str, options: Sequence[str], gold: str) -> tuple[tuple[str, ...], str]:
        """:meth:`arrange_options` for ``"A. ..."`` options and a gold letter (re-lettered when shuffled)."""
        if self.shuffle_options_seed is None:
            return tuple(options), gold
        from love_r1.eval.records import LETTERS, letter_options, option_body

        texts, index = self.arrange_options(qid, [option_body(o) for o in options], LETTERS.index(gold))
        return letter_options(texts), LETTERS[index]

    # -- to implement -----------------------------------------------------------------------------
    def annotation_files(self) -> list[Path]:
        """The annotation files :meth:`load` reads (their bytes define the data revision)."""
        raise NotImplementedError

    def _load(self) -> list[Sample]:
        raise NotImplementedError

    # -- shared -----------------------------------------------------------------------------------
    def load(self) -> list[Sample]:
        """Every question of the benchmark as a :class:`Sample`; unusable records carry ``data_error``.

        A qid seen twice keeps its first record; each later one becomes a data error under the qid
        ``<qid>#<n>`` (the run store is keyed by qid, so a duplicate would silently overwrite).

        Raises:
            DataError: an annotation file is missing or unreadable as a whole.
        """
        self.video_lookups = {}
        samples = self._load()
        seen: dict[str, int] = {}
        out = []
        for sample in samples:
            count = seen.get(sample.qid, 0)
            seen[sample.qid] = count + 1
            if count:
                sample = Sample(qid=f"{sample.qid}#{count + 1}", video_id=sample.video_id, video_path=sample.video_path,
                                question=sample.question, options=sample.options, gold="",
                                categories=sample.categories,
                                data_error=f"question id {sample.qid!r} appears more than once in the annotations "
                                           f"(record {count + 1} of that id); only the first is evaluated")
            out.append(sample)
        return out

    def samples_of_one_file(self, *, qid_of: Sequence[str],
                            build: Callable[..., Sample]) -> list[Sample]:
        """:meth:`samples_from_rows` over the rows of the benchmark's one annotation file, each built by
        ``build(row, qid=qid, source=path)``."""
        (path,) = self.annotation_files()
        return self.samples_from_rows(read_table(path), source=path, qid_of=qid_of,
                                      build=lambda index, row, qid: build(row, qid=qid, source=path))

    def samples_from_rows(self, rows: Iterable[Mapping[str, Any]], *, source: Path | str,
                          qid_of: Callable[[int, Mapping[str, Any]], str] | Sequence[str],
                          build: Callable[[int, Mapping[str, Any], str], Sample]) -> list[Sample]:
        """``build(index, row, qid)`` for every row; a row it cannot build becomes a data-error sample.

        ``qid_of`` is ``(index, row) -> qid`` (it must not fail), or the record fields holding the qid
        (the first present; none: ``f"{file}#{index}"``, so even a record without an id is reported)."""
        if not callable(qid_of):
            fields = tuple(qid_of)

            def qid_of(index: int, row: Mapping[str, Any]) -> str:
                value = next((row[k] for k in fields if row.get(k) is not None), None)
                return str(value) if value is not None else f"{Path(str(source)).name}#{index}"

        samples = []
        for index, row in enumerate(rows):
            qid = qid_of(index, row)
            try:
                samples.append(build(index, row, qid))
            except _ITEM_ERRORS as error:
                samples.append(self.data_error_sample(qid, error, source=source, row=row))
        return samples

    def data_error_sample(self, qid: str, error: BaseException | str, *, source: Path | str,
                          row: Mapping[str, Any] | None = None, **known: Any) -> Sample:
        """A sample that only records why record ``qid`` of ``source`` cannot be evaluated.

        ``known`` may give fields already worked out (``video_id``, ``video_path``, ``question``,
        ``options``, ``categories``); else the video and question are read from ``row`` when present."""
        message = str(error)
        if not isinstance(error, DataError | str):
            message = f"{type(error).__name__}: {message}"
        if str(source) not in message and Path(str(source)).name not in message:
            message = f"{source}: question {qid!r}: {message}"
        row = row or {}
        video = next((str(row[k]) for k in self.video_fields if isinstance(row.get(k), str | int) and row[k] != ""), "")
        fields: dict[str, Any] = {"video_id": video, "video_path": None, "question": str(row.get("question") or ""),
                                  "options": (), **known}
        return Sample(qid=qid, gold="", data_error=message, **fields)

    def data_revision(self) -> str:
        """A digest of the annotation files' bytes (changes whenever the data does)."""
        digest = hashlib.sha1()
        for path in sorted(self.annotation_files()):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()[:16]

    def hub_revision(self) -> str | None:
        """The hub revision ``download`` fetches by default (``None``: the repository's default branch)."""
        return None

    def download(self, *, revision: str | None = None, token: str | None = None) -> Path:
        """Fetch the annotation files (not the videos) into ``data_root`` with ``huggingface_hub``
        (``revision``: default :meth:`hub_revision`)."""
        revision = revision or self.hub_revision()
        if self.hub_repo is None:
            raise DataError(f"benchmark {self.name!r} has no hub repository to download from", path=self.data_root,
                            hint=f"generate or copy its data into {self.data_root}")
        from love_r1._imports import require

        hub = require("huggingface_hub", extra="eval")
        try:
            hub.snapshot_download(repo_id=self.hub_repo, repo_type="dataset", revision=revision,
                                  local_dir=str(self.data_root), allow_patterns=list(self.hub_patterns), token=token)
        except (OSError, ValueError) as error:  # offline mode, network errors, gated repos
            raise DataError(
                f"could not download the {self.name} annotations from {self.hub_repo!r}: {type(error).__name__}: "
                f"{error}", path=self.data_root,
                hint="check the network, accept the dataset terms on the Hub and set HF_TOKEN, or copy the files "
                     "there yourself and drop --download") from error
        return self.data_root

    def missing_data_hint(self) -> str:
        """What to do when the annotation files are not there (only suggests ``--download`` where it exists)."""
        if self.hub_repo is None:
            return "lay the folder out as docs/benchmarks.md describes"
        return f"lay the folder out as the hub repo {self.hub_repo} does, or pass --download"

    def find_one(self, patterns: Sequence[str], *, what: str) -> Path:
        for pattern in patterns:
            hits = sorted(self.data_root.glob(pattern))
            if hits:
                return hits[0]
        raise DataError(f"no {what} under the data root (looked for {list(patterns)})",
                        path=self.data_root, hint=self.missing_data_hint())

    def video_candidates(self, stem_or_relative: str, folders: Iterable[str]) -> list[Path]:
        """``<root>/<folder>/<name>`` for each folder; a name without a suffix tries every video extension."""
        candidates: list[Path] = []
        name = str(stem_or_relative)
        has_ext = Path(name).suffix != ""
        for folder in folders:
            base = self.data_root / folder / name if folder else self.data_root / name
            if has_ext:
                candidates.append(base)
            else:
                candidates.extend(base.with_name(base.name + ext) for ext in VIDEO_EXTENSIONS)
        return candidates

    def first_existing(self, candidates: Sequence[Path], *, allow_dirs: bool = False) -> Path:
        """The first existing candidate; else the first one, with every candidate remembered in
        :attr:`video_lookups` (the pre-flight names them in its "missing video" message)."""
        for path in candidates:
            if path.is_file() or (allow_dirs and path.is_dir()):
                return path
        missing = candidates[0]
        self.video_lookups[str(missing)] = tuple(str(c) for c in candidates)
        return missing

    def find_video(self, stem_or_relative: str, folders: Iterable[str]) -> Path:
        """The first existing ``<root>/<folder>/<name>[ext]`` (see :meth:`first_existing`)."""
        return self.first_existing(self.video_candidates(stem_or_relative, folders))


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
        raise DataError(f"cannot be read as an annotation file: {error}", path=path) from error
    if isinstance(data, dict):
        for key in ("data", "annotations", "questions"):
            if isinstance(data.get(key), list):
                return data[key]
        raise DataError("must hold a list of records (or one under 'data', 'annotations' or 'questions'); got an "
                        f"object with keys {sorted(data)[:10]}", path=path)
    if not isinstance(data, list):
        raise DataError(f"must hold a list of records; got {type(data).__name__}", path=path)
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def gold_letter_error(gold: str, options: Sequence[str], *, source: Path | str, qid: str, field: str) -> str | None:
    """The data error of a gold letter that is not one of the options' letters (``None`` when it is one)."""
    from love_r1.eval.records import LETTERS

    letters = list(LETTERS[: len(options)])
    if gold in letters:
        return None
    return str(DataError(f"must be one of the option letters {letters}", path=source,
                         field=f"question {qid!r}: {field}", value=gold))


def row_value(row: Mapping[str, Any], names: Sequence[str], *, source: Path | str, default: Any = ...) -> Any:
    """``row[name]`` for the first of ``names`` present and not null, else ``default`` or a :class:`DataError`."""
    for name in names:
        if name in row and row[name] is not None:
            return row[name]
    if default is not ...:
        return default
    also = f" (nor {', '.join(map(repr, names[1:]))})" if len(names) > 1 else ""
    raise DataError(f"is missing{also}; fields present: {sorted(row)}", path=source, field=repr(names[0]))


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


def optional_seconds(value: Any, *, name: str) -> float | None:
    """A duration field as float seconds (``None`` when absent); a non-number raises ``ValueError`` naming it."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"field {name!r} must be a number of seconds, got {value!r}") from None


def generic_duration_bucket(duration_seconds: float | None) -> str:
    """A duration group for benchmarks without official ones (``"<3min"`` .. ``">60min"``)."""
    if duration_seconds is None:
        return ""
    for limit, label in ((180, "<3min"), (600, "3-10min"), (1800, "10-30min"), (3600, "30-60min")):
        if duration_seconds < limit:
            return label
    return ">60min"
