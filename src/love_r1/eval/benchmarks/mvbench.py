"""MVBench (``OpenGVLab/MVBench``): 20 tasks x 200 short-clip MCQs, in either published layout.

Annotations: ``json/<task>.json`` (``video``, ``question``, ``candidates``, ``answer`` = the correct
candidate's text, ``start``/``end`` on the bounded tasks). The gold letter is the last candidate
equal to the answer (VLMEvalKit's ``qa_template``, as MLVU: :func:`~love_r1.eval.benchmarks.mlvu.gold_index`).

Two layouts, detected from the files (:meth:`MVBench.layout`, recorded in the run configuration):

* ``"main"`` (the default revision, what VLMEvalKit's ``MVBench`` and the LOVE-R1 reference read):
  ``video/*.zip`` unzipped in place, so videos are ``video/<source>/<video>`` (e.g.
  ``video/star/Charades_v1_480/``), a few only in ``video/data0613/<source>/``. TVQA
  (``episodic_reasoning``) ships as folders of JPEG frames at 3 fps (``video/tvqa/frames_fps3_hq/<clip>/``):
  that directory is the item's ``video_path`` and ``love_r1.video.open_video`` reads it with its
  frame-folder backend, whose default rate (``FRAME_FOLDER_DEFAULT_FPS`` = 3.0) is TVQA's
  (``_FOLDER_FPS`` below records each folder task's rate; a test keeps the two equal).
  NTU RGB+D (``fine_grained_pose``, ``video/nturgbd/``) was removed from this revision: its items
  are missing videos and the report flags a 19-task mean.
* ``"video"`` (revision ``video``, what lmms-eval and VLMEvalKit's ``MVBench_MP4`` download): the
  source folders sit at the top level under other names (``star/Charades_segment``,
  ``sta/sta_video_segment``, ``ssv2_video_mp4``, ``nturgbd_convert``, ``tvqa/video_fps3_hq_segment``,
  ...), the bounded tasks' videos are already cut to their segment and TVQA is MP4.

The layout is the one under which more of the annotated videos exist (ties, e.g. no videos at
all: ``"main"``); a missing video's error lists the paths tried.

Bounded tasks (``_BOUNDED_TASKS``, 1,000 of 4,000 items) hold ``start``/``end`` seconds: the reference
cuts that part into a new file (VLMEvalKit ``mvbench.py``, moviepy ``subclip(start, min(end, duration))``)
and the model sees only the cut. In the ``"main"`` layout each such item gets ``Sample.window =
Interval(start, end)``; the video engine then presents only the window (times and ``D`` measured from
its first frame), for files and frame folders alike. The ``"video"`` layout's files are already that
cut, so its items get no window.

Reference question text: ``"{q}\\nOptions:\\n(A) c1\\n..."`` + the single-letter instruction.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from love_r1.agent.messages import question_text as plain_question_text
from love_r1.eval.benchmarks._base import Benchmark, DataError, as_list, read_table, row_value
from love_r1.eval.benchmarks.mlvu import gold_index
from love_r1.eval.benchmarks.mlvu import reference_question_text as mcq_reference_text
from love_r1.eval.records import LETTERS, Sample, letter_options
from love_r1.interval import Interval
from love_r1.prompts.constants import SINGLE_LETTER_INSTRUCTION

Layout = Literal["main", "video"]

# frame-folder tasks -> frames per second of their image folders (spec benchmarks.md §2.5; main layout only)
_FOLDER_FPS = {"episodic_reasoning": 3.0}

# tasks whose items are restricted to their start/end seconds (the reference's data_list "bound" flag)
_BOUNDED_TASKS = frozenset({"action_sequence", "action_prediction", "object_interaction", "action_localization",
                            "episodic_reasoning"})

# task -> (its folder under video/ in the main revision, its top-level folder in the "video" revision)
TASKS: dict[str, tuple[str, str]] = {
    "action_sequence": ("star/Charades_v1_480", "star/Charades_segment"),
    "action_prediction": ("star/Charades_v1_480", "star/Charades_segment"),
    "action_antonym": ("ssv2_video", "ssv2_video_mp4"),
    "fine_grained_action": ("Moments_in_Time_Raw/videos", "Moments_in_Time_Raw/videos"),
    "unexpected_action": ("FunQA_test/test", "FunQA_test/test"),
    "object_existence": ("clevrer/video_validation", "clevrer/video_validation"),
    "object_interaction": ("star/Charades_v1_480", "star/Charades_segment"),
    "object_shuffle": ("perception/videos", "perception/videos"),
    "moving_direction": ("clevrer/video_validation", "clevrer/video_validation"),
    "action_localization": ("sta/sta_video", "sta/sta_video_segment"),
    "scene_transition": ("scene_qa/video", "scene_qa/video"),
    "action_count": ("perception/videos", "perception/videos"),
    "moving_count": ("clevrer/video_validation", "clevrer/video_validation"),
    "moving_attribute": ("clevrer/video_validation", "clevrer/video_validation"),
    "state_change": ("perception/videos", "perception/videos"),
    "fine_grained_pose": ("nturgbd", "nturgbd_convert"),
    "character_order": ("perception/videos", "perception/videos"),
    "egocentric_navigation": ("vlnqa", "vlnqa"),
    "episodic_reasoning": ("tvqa/frames_fps3_hq", "tvqa/video_fps3_hq_segment"),
    "counterfactual_inference": ("clevrer/video_validation", "clevrer/video_validation"),
}


def video_folders(task: str, layout: Layout) -> tuple[str, ...]:
    """The folders (relative to the data root) where ``task``'s videos live in ``layout``, in lookup order."""
    main, video = TASKS[task]
    if layout == "main":
        return f"video/{main}", f"video/data0613/{main}"
    return video, f"data0613/{video}"


class MVBench(Benchmark):
    name = "mvbench"
    hub_repo = "OpenGVLab/MVBench"
    hub_patterns = ("json/*.json", "*.md")
    expected_count = 4000
    breakdown_keys = ("task",)
    macro_key = "task"
    expected_groups = tuple(TASKS)

    def __init__(self, data_root: str | Path, **settings: Any) -> None:
        super().__init__(data_root, **settings)
        self._layout: Layout | None = None

    def annotation_files(self) -> list[Path]:
        folder = self.data_root / "json"
        files = [folder / f"{task}.json" for task in TASKS if (folder / f"{task}.json").is_file()]
        if not files:
            self.find_one(["json/*.json"], what="MVBench json/<task>.json files")
        return files

    def hub_revision(self) -> str | None:
        """``"video"`` when the data root already holds that revision's top-level video folders (so
        ``--download`` fetches the annotations that name its files), else the default branch."""
        top_level = {video for _, video in TASKS.values()}  # the main revision keeps its folders under video/
        has_main = (self.data_root / "video").is_dir()
        return "video" if not has_main and any((self.data_root / f).is_dir() for f in top_level) else None

    def layout(self) -> Layout:
        """The detected layout (see the module docstring); reads the annotations once."""
        if self._layout is None:
            self.load()
        return self._layout or "main"

    def run_settings(self) -> dict[str, Any]:
        return {"layout": self.layout()}

    def _load(self) -> list[Sample]:
        tables = [(path, path.stem, read_table(path)) for path in self.annotation_files()]
        self._layout = self._detect_layout(tables)
        samples = []
        for path, task, rows in tables:
            def build(index: int, row: Mapping[str, Any], qid: str, task: str = task, source: Path = path) -> Sample:
                return self._sample(row, qid=qid, task=task, source=source)

            samples += self.samples_from_rows(rows, source=path, qid_of=lambda index, row, task=task: f"{task}_{index}",
                                              build=build)
        return samples

    def _detect_layout(self, tables: list[tuple[Path, str, list[dict[str, Any]]]]) -> Layout:
        found = {"main": 0, "video": 0}
        for layout in ("main", "video"):
            for _, task, rows in tables:
                folders = [self.data_root / folder for folder in video_folders(task, layout)]  # type: ignore[arg-type]
                if not any(folder.is_dir() for folder in folders):
                    continue
                for row in rows:
                    video = str(row.get("video") or "")
                    found[layout] += bool(video) and any((folder / video).exists() for folder in folders)
        return "video" if found["video"] > found["main"] else "main"

    def _sample(self, row: Mapping[str, Any], *, qid: str, task: str, source: Path) -> Sample:
        layout = self._layout or "main"
        video = str(row_value(row, ("video",), source=source))
        candidates = [str(c) for c in as_list(row_value(row, ("candidates",), source=source))]
        question = str(row_value(row, ("question",), source=source))
        folder = TASKS[task][0 if layout == "main" else 1]
        folders = video_folders(task, layout)
        frame_folders = layout == "main" and task in _FOLDER_FPS
        paths = self.video_candidates(video, folders)
        if frame_folders:  # TVQA: the item's video is a folder of frames named like the clip
            paths = [self.data_root / folder / video for folder in folders] + paths
        video_path = self.first_existing(paths, allow_dirs=frame_folders)
        gold = gold_index(row.get("answer"), candidates)
        candidates, gold = self.arrange_options(qid, candidates, gold)
        text = (mcq_reference_text(question, candidates) if self.reference_text
                else plain_question_text(question, letter_options(candidates), SINGLE_LETTER_INSTRUCTION))
        # the start/end window applies to the whole source videos of the "main" layout; the "video"
        # layout's files are already cut to it
        window = item_window(row, source=source, qid=qid) if task in _BOUNDED_TASKS and layout == "main" else None
        return Sample(
            qid=qid, video_id=f"{folder}/{video}", video_path=video_path, question=question,
            options=letter_options(candidates), gold=LETTERS[gold], categories={"task": task}, question_text=text,
            window=window,
        )


def item_window(row: dict, *, source: Path, qid: str) -> Interval:
    """``Interval(start, end)`` of a bounded item (seconds), or a :class:`DataError` naming the file and item."""
    values = []
    for name in ("start", "end"):
        value = row.get(name)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise DataError("must be a number of seconds (a bounded task)", path=source, field=f"item {qid}: {name}",
                            value=value, hint="the reference cuts the video to [start, end]") from None
        if number != number or number < 0 or number in (float("inf"), float("-inf")):
            raise DataError("must be a finite number of seconds >= 0", path=source, field=f"item {qid}: {name}",
                            value=value)
        values.append(number)
    if values[1] <= values[0]:
        raise DataError(f"must be after start={values[0]!r} seconds", path=source, field=f"item {qid}: end",
                        value=values[1])
    return Interval(values[0], values[1])
