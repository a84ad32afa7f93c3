"""Build the LOVE-R1 prompt of one step exactly as the released checkpoints saw it.

Layout (``docs/protocol.md`` §2.4): a system message, then ONE user turn whose content is

1. ``Full video [0, ⌊D⌋]:`` and the fast view;
2. for each zoom clip, sorted by start: ``Subset zoom-in video clip [s, e]:`` and the clip
   (``%d`` formatting, i.e. the endpoints truncated to integers);
3. one text item: question text (with options) + answer-format instruction + decision instruction.

Earlier replies are never carried over: each step is a fresh single-turn prompt. The forced
answer uses the same prompt with the answer phrase pre-filled in the assistant turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from love_r1.backends import Message, TextPart, VideoPart
from love_r1.interval import Interval
from love_r1.prompts import constants, render

if TYPE_CHECKING:
    from love_r1.video import Frames


def question_text(question: str, options: Sequence[str] = (), answer_instruction: str = "") -> str:
    """The evaluation question text: ``question + "\\n" + "\\n".join(options) + answer_instruction``.

    Options are used as given (e.g. ``"A. a red car"``). Without options, the question alone.
    ``answer_instruction`` is appended as is (the reference instructions start with ``"\\n"``,
    except LVBench's). Benchmarks with their own exact formatting pass a pre-formatted
    ``question`` with no options instead.
    """
    _check_text("question", question)
    _check_text("answer_instruction", answer_instruction)
    options = _check_options(options)
    return render("question_mcq", question=question, options=options) + answer_instruction


def grpo_question_text(problem: str, options: Sequence[str] = ()) -> str:
    """The stage-3 training (GRPO) question text: ``problem + "Options:\\n" + "".join(o + "\\n")``.

    Without options the problem alone (grpo.py does this for non-MCQ problem types too).
    The per-type answer template (``constants.TYPE_TEMPLATE``) is appended by the caller.
    """
    _check_text("problem", problem)
    options = _check_options(options)
    return render("question_grpo", problem=problem, options=options, options_header=constants.OPTIONS_HEADER)


def step_prompt_text(question_text: str) -> str:
    """The last text item of the user turn: ``question_text + DECISION_INSTRUCTION``.

    ``question_text`` already ends with the answer-format instruction (see :func:`question_text`).
    """
    _check_text("question_text", question_text)
    return render(
        "step_prompt", question_text=question_text, answer_instruction="",
        decision_instruction=constants.DECISION_INSTRUCTION,
    )


def full_video_label(duration_seconds: float) -> str:
    """``"Full video [0, ⌊D⌋]:"``."""
    return constants.FULL_VIDEO_LABEL % (0, int(duration_seconds))


def zoom_clip_label(interval: Interval) -> str:
    """``"Subset zoom-in video clip [s, e]:"`` with both endpoints truncated to integers."""
    return constants.ZOOM_CLIP_LABEL % (int(interval.start_seconds), int(interval.end_seconds))


def sort_clips(clips: Sequence[tuple[Interval, Frames]]) -> list[tuple[Interval, Frames]]:
    """Clips sorted by start (stable, so equal starts keep their insertion order, as ``sorted`` in the reference)."""
    return sorted(clips, key=lambda clip: clip[0].start_seconds)


def build_messages(
    *,
    fast_view: Frames,
    clips: Sequence[tuple[Interval, Frames]],
    duration_seconds: float,
    question_text: str,
) -> tuple[Message, ...]:
    """System message plus the single user turn of one step.

    Args:
        fast_view: the whole video at low resolution.
        clips: zoom clips as ``(interval, frames)``; sorted by start here, whatever their order.
        duration_seconds: video duration ``D`` (the label shows ``int(D)``).
        question_text: question, options and answer instruction (see :func:`question_text`).
    """
    if duration_seconds != duration_seconds or duration_seconds < 0:
        raise ValueError(f"duration_seconds must be a finite number >= 0, got {duration_seconds!r}")
    for index, clip in enumerate(clips):
        if not isinstance(clip, tuple) or len(clip) != 2 or not isinstance(clip[0], Interval):
            raise TypeError(f"clips[{index}] must be an (Interval, Frames) pair; got {clip!r:.120}")
    content: list[TextPart | VideoPart] = [TextPart(full_video_label(duration_seconds)), VideoPart(fast_view)]
    for interval, frames in sort_clips(clips):
        content.append(TextPart(zoom_clip_label(interval)))
        content.append(VideoPart(frames))
    content.append(TextPart(step_prompt_text(question_text)))
    return (
        Message(role="system", content=(TextPart(constants.SYSTEM_MESSAGE),)),
        Message(role="user", content=tuple(content)),
    )


def to_chat_dicts(messages: Sequence[Message], *, video_value: Any = None) -> list[dict[str, Any]]:
    """The messages in the Hugging Face chat format, as the reference passes them to
    ``processor.apply_chat_template``.

    A message made of one text part becomes ``{"role", "content": str}`` (the reference's
    system message); others become a list of ``{"type": "text", "text"}`` and
    ``{"type": "video", "video": ...}`` items. The video value is the ``Frames`` object
    unless ``video_value`` is given (a chat template only looks at the ``type``).
    """
    result: list[dict[str, Any]] = []
    for message in messages:
        parts = message.content
        if len(parts) == 1 and isinstance(parts[0], TextPart):
            result.append({"role": message.role, "content": parts[0].text})
            continue
        items: list[dict[str, Any]] = []
        for part in parts:
            if isinstance(part, TextPart):
                items.append({"type": "text", "text": part.text})
            else:
                items.append({"type": "video", "video": part.frames if video_value is None else video_value})
        result.append({"role": message.role, "content": items})
    return result


def _check_text(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}: {value!r}")


def _check_options(options: Sequence[str] | None) -> list[str]:
    if options is None:
        return []
    if isinstance(options, str):
        raise TypeError(f"options must be a sequence of strings such as ['A. red', 'B. blue'], got the string {options!r}")
    result = list(options)
    for index, option in enumerate(result):
        if not isinstance(option, str):
            raise TypeError(f"options[{index}] must be a str, got {type(option).__name__}: {option!r}")
    return result
