"""MVBench (``OpenGVLab/MVBench``, revision ``video``): 20 tasks x 200 short-clip MCQs.

Layout: ``json/<task>.json`` (``video``, ``question``, ``candidates``, ``answer`` = the correct
candidate's text, optional ``start``/``end``), videos under ``video/<source>/`` per task (below).
NTU RGB+D (``fine_grained_pose``) was removed from the hub repo: its items fail the pre-flight
as missing videos and the report flags a 19-task mean. TVQA (``episodic_reasoning``) ships as
folders of JPEG frames at 3 fps (``tvqa/frames_fps3_hq/<clip>/``): an item whose video is a
directory gets that directory as ``video_path`` and ``love_r1.video.open_video`` reads it with its
frame-folder backend, whose default rate (``FRAME_FOLDER_DEFAULT_FPS`` = 3.0) is TVQA's
(``_FOLDER_FPS`` below records each folder task's rate; a test keeps the two equal).

Bounded tasks (``_BOUNDED_TASKS``, 1,000 of 4,000 items) hold ``start``/``end`` seconds: the reference
cuts that part into a new file (VLMEvalKit ``mvbench.py``, moviepy ``subclip(start, min(end, duration))``)
and the model sees only the cut. Each such item gets ``Sample.window = Interval(start, end)``; the video
engine then presents only the window (times and ``D`` measured from its first frame), for files and
frame folders alike.

Reference question text: ``"{q}\\nOptions:\\n(A) c1\\n..."`` + the single-letter instruction.
"""

from __future__ import annotations

from pathlib import Path

from love_r1.agent.messages import question_text as plain_question_text
from love_r1.eval.benchmarks._base import Benchmark, DataError, as_list, field, read_table
from love_r1.eval.benchmarks.mlvu import answer_letter
from love_r1.eval.benchmarks.mlvu import reference_question_text as mcq_reference_text
from love_r1.eval.records import LETTERS, Sample, letter_options
from love_r1.interval import Interval
from love_r1.prompts.constants import SINGLE_LETTER_INSTRUCTION

# frame-folder tasks -> frames per second of their image folders (spec benchmarks.md §2.5)
_FOLDER_FPS = {"episodic_reasoning": 3.0}

# tasks whose items are restricted to their start/end seconds (the reference's data_list "bound" flag)
_BOUNDED_TASKS = frozenset({"action_sequence", "action_prediction", "object_interaction", "action_localization",
                            "episodic_reasoning"})

# task -> (annotation file, video folder in the hub repo)
TASKS = {
    "action_sequence": "star/Charades_v1_480", "action_prediction": "star/Charades_v1_480",
    "action_antonym": "ssv2_video", "fine_grained_action": "Moments_in_Time_Raw/videos",
    "unexpected_action": "FunQA_test/test", "object_existence": "clevrer/video_validation",
    "object_interaction": "star/Charades_v1_480", "object_shuffle": "perception/videos",
    "moving_direction": "clevrer/video_validation", "action_localization": "sta/sta_video",
    "scene_transition": "scene_qa/video", "action_count": "perception/videos",
    "moving_count": "clevrer/video_validation", "moving_attribute": "clevrer/video_validation",
    "state_change": "perception/videos", "fine_grained_pose": "nturgbd",
    "character_order": "perception/videos", "egocentric_navigation": "vlnqa",
    "episodic_reasoning": "tvqa/frames_fps3_hq", "counterfactual_inference": "clevrer/video_validation",
}


class MVBench(Benchmark):
    name = "mvbench"
    hub_repo = "OpenGVLab/MVBench"
    hub_patterns = ("json/*.json", "*.md")
    expected_count = 4000
    breakdown_keys = ("task",)
    macro_key = "task"
    expected_groups = tuple(TASKS)

    def annotation_files(self):
        folder = self.data_root / "json"
        files = [folder / f"{task}.json" for task in TASKS if (folder / f"{task}.json").is_file()]
        if not files:
            self.find_one(["json/*.json"], what="MVBench json/<task>.json files")
        return files

    def load(self) -> list[Sample]:
        samples = []
        for path in self.annotation_files():
            task = path.stem
            for index, row in enumerate(read_table(path)):
                video = str(field(row, ("video",), source=path))
                candidates = [str(c) for c in as_list(field(row, ("candidates",), source=path))]
                question = str(field(row, ("question",), source=path))
                qid = f"{task}_{index}"
                gold = LETTERS.index(answer_letter(row.get("answer"), candidates, source=path, qid=qid))
                candidates, gold = self.arrange_options(qid, candidates, gold)
                text = (mcq_reference_text(question, candidates) if self.reference_text
                        else plain_question_text(question, letter_options(candidates), SINGLE_LETTER_INSTRUCTION))
                samples.append(Sample(
                    qid=qid, video_id=f"{TASKS[task]}/{video}",
                    video_path=self._video_path(task, video),
                    question=question, options=letter_options(candidates),
                    answer_letter=LETTERS[gold],
                    categories={"task": task}, question_text=text,
                    window=item_window(row, source=path, qid=qid) if task in _BOUNDED_TASKS else None,
                ))
        return samples

    def _video_path(self, task: str, video: str) -> Path:
        """The item's video file, or its frame folder when it is a directory (TVQA)."""
        folders = (f"video/{TASKS[task]}", f"video/data0613/{TASKS[task]}")
        for folder in folders:
            candidate = self.data_root / folder / video
            if candidate.is_dir():
                return candidate
        return self.find_video(video, folders)


def item_window(row: dict, *, source: Path, qid: str) -> Interval:
    """``Interval(start, end)`` of a bounded item (seconds), or a :class:`DataError` naming the file and item."""
    values = []
    for name in ("start", "end"):
        value = row.get(name)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise DataError(f"{source}: item {qid} of a bounded task needs a number of seconds in {name!r}; got "
                            f"{value!r} (hint: the reference cuts the video to [start, end])") from None
        if number != number or number < 0 or number in (float("inf"), float("-inf")):
            raise DataError(f"{source}: item {qid}: {name}={value!r} is not a finite number of seconds >= 0")
        values.append(number)
    if values[1] <= values[0]:
        raise DataError(f"{source}: item {qid}: end={values[1]!r} is not after start={values[0]!r} seconds")
    return Interval(values[0], values[1])
