"""build_messages layout, labels, HF conversion; ZoomPolicy presets and validation; scripted backend."""

from __future__ import annotations

import numpy as np
import pytest

from love_r1.agent.messages import build_messages, full_video_label, to_chat_dicts, zoom_clip_label
from love_r1.agent.policy import ZoomPolicy
from love_r1.backends import GenerationRequest, Message, SamplingParams, TextPart, VideoPart
from love_r1.backends.scripted import ScriptedBackend, dummy_reply
from love_r1.interval import Interval
from love_r1.prompts import constants
from tests.helpers.agent import tiny_frames


def _frames(start=0.0, end=10.0, key=None):
    return tiny_frames(np.linspace(start, end, 4, endpoint=False), key=key)


def test_layout_and_sorting():
    fast = _frames(key="fast")
    c1, c2 = _frames(50, 60, "c1"), _frames(5, 20, "c2")
    system, user = build_messages(
        fast_view=fast, clips=[(Interval(50.0, 60.9), c1), (Interval(5.5, 20.0), c2)], duration_seconds=99.99,
        question_text="Q?",
    )
    assert system.role == "system" and system.text == constants.SYSTEM_MESSAGE
    kinds = [type(p) for p in user.content]
    assert kinds == [TextPart, VideoPart, TextPart, VideoPart, TextPart, VideoPart, TextPart]
    assert user.content[0].text == "Full video [0, 99]:"
    assert user.content[1].frames is fast
    assert user.content[2].text == "Subset zoom-in video clip [5, 20]:" and user.content[3].frames is c2
    assert user.content[4].text == "Subset zoom-in video clip [50, 60]:" and user.content[5].frames is c1
    assert user.content[6].text == "Q?" + constants.DECISION_INSTRUCTION


def test_labels_truncate_like_printf_d():
    assert full_video_label(59.999) == "Full video [0, 59]:"
    assert zoom_clip_label(Interval(3.9, 7.99)) == "Subset zoom-in video clip [3, 7]:"


def test_build_messages_rejects_bad_input():
    with pytest.raises(ValueError, match="duration_seconds"):
        build_messages(fast_view=_frames(), clips=[], duration_seconds=float("nan"), question_text="Q")
    with pytest.raises(TypeError, match="Interval"):
        build_messages(fast_view=_frames(), clips=[((1, 2), _frames())], duration_seconds=10, question_text="Q")


def test_to_chat_dicts_shapes():
    msgs = (Message("system", "S"), Message("user", (TextPart("a"), VideoPart(_frames()), TextPart("b"))))
    chat = to_chat_dicts(msgs, video_value="V")
    assert chat == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "video", "video": "V"},
                                     {"type": "text", "text": "b"}]},
    ]


def test_policy_defaults_and_presets():
    ref = ZoomPolicy()
    assert (ref.max_free_steps, ref.pad_seconds, ref.min_clip_seconds, ref.repeat_iou) == (2, 5.0, 3.0, 0.3)
    assert ref.min_length_for(600.0) == 30.0 and ref.min_length_for(80.0) == 10.0
    assert ref.resolution_factor(59.9) == 2 and ref.resolution_factor(60.0) == 1
    assert ref.sampling == SamplingParams(max_new_tokens=2048)
    mlvu = ZoomPolicy.preset("mlvu")
    assert (mlvu.name, mlvu.fast_max_frames, mlvu.fast_pixels_per_frame) == ("mlvu", 384, 64 * 28 * 28)
    lvb = ZoomPolicy.preset("longvideobench")
    assert (lvb.clip_max_frames, lvb.widen) == (16, False)
    assert ZoomPolicy.from_dict(lvb.to_dict()) == lvb
    assert ZoomPolicy.preset("reference", repeat_iou=0.5).repeat_iou == 0.5


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"max_free_steps": -1}, "max_free_steps"), ({"repeat_iou": 1.5}, "repeat_iou"),
     ({"frames_per_second": 0}, "frames_per_second"), ({"clip_max_frames": 2.5}, "clip_max_frames")],
)
def test_policy_validation(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ZoomPolicy(**kwargs)


def test_policy_of_an_episode_written_before_the_vocabulary_rename_loads():
    stored = ZoomPolicy.preset("budget").to_dict()
    renamed = {"repeat_iou": "iou_stop", "clip_max_frames": "slow_max_frames",  # old name
               "clip_pixels_per_frame": "slow_pixels_per_frame", "clip_token_budget": "zoom_token_budget"}  # old name
    old = {renamed.get(key, key): value for key, value in stored.items()}
    old["iou_stop"] = 0.45  # old name
    assert ZoomPolicy.from_dict(old) == ZoomPolicy.preset("budget", repeat_iou=0.45)


def test_policy_unknown_preset_and_fields():
    with pytest.raises(ValueError, match="longvideobench"):
        ZoomPolicy.preset("videomme")
    with pytest.raises(ValueError, match="bogus"):
        ZoomPolicy.from_dict({"bogus": 1})


def test_policy_sampler_arguments_are_the_samplers_parameters():
    """The one spelling of a policy's fast view and zoom clip (loop, stage 1, eval prefetch, trace pages)."""
    import inspect

    from love_r1.video import sample_clip, sample_fast_view

    policy = ZoomPolicy.preset("mlvu", time_base="index", overlay=False)
    fast = policy.fast_view_arguments()
    assert set(fast) <= set(inspect.signature(sample_fast_view).parameters)
    assert fast == {"max_frames": 384, "frames_per_second": 2.0, "pixels_per_frame": 64 * 28 * 28,
                    "short_video_seconds": 60.0, "short_video_factor": 2, "overlay": False, "time_base": "index"}
    fixed_short = policy.clip_arguments(duration_seconds=59.9)
    assert set(fixed_short) <= set(inspect.signature(sample_clip).parameters)
    assert (fixed_short["max_frames"], fixed_short["pixels_per_frame"], fixed_short["resolution_factor"]) == \
        (32, 256 * 28 * 28, 2)  # the 60 s rule doubles the budget
    assert policy.clip_arguments(duration_seconds=60.0)["resolution_factor"] == 1
    planned = policy.clip_arguments(duration_seconds=30.0, num_frames=6, pixels_per_frame=300 * 28 * 28)
    assert (planned["max_frames"], planned["pixels_per_frame"], planned["resolution_factor"]) == (6, 300 * 28 * 28, 1)
    assert planned["time_base"] == "index" and planned["overlay"] is False
    with pytest.raises(ValueError, match="both num_frames and pixels_per_frame"):
        policy.clip_arguments(duration_seconds=30.0, num_frames=6)


def _request(clips, prefix=""):
    msgs = build_messages(
        fast_view=_frames(), clips=clips, duration_seconds=321.5,
        question_text="Which?\n(C) one\n(D) two",
    )
    return GenerationRequest(messages=msgs, assistant_prefix=prefix, session_id="s")


def test_dummy_policy():
    assert dummy_reply(_request([])) == (
        "I need to zoom in on the video.\n\nThe middle of the video may hold the answer.\\boxed{[155, 165]}"
    )
    assert dummy_reply(_request([(Interval(150.0, 170.0), _frames())])).endswith("\\boxed{C}")
    assert dummy_reply(_request([(Interval(150.0, 170.0), _frames())])).startswith("I get the answer.\n\n")
    forced = dummy_reply(_request([], prefix=constants.FORCED_ANSWER_PREFIX))
    assert not forced.startswith("I get") and forced.endswith("\\boxed{C}")


def test_scripted_list_runs_out_with_backend_error():
    from love_r1.backends import BackendError

    backend = ScriptedBackend(["one"])
    assert backend.generate([_request([])])[0].text == "one"
    with pytest.raises(BackendError, match="ran out"):
        backend.generate([_request([])])
    with pytest.raises(TypeError, match="list"):
        ScriptedBackend("just one string")  # type: ignore[arg-type]
