"""Request parsing: options, chat messages, video paths (pure functions, no server)."""

from __future__ import annotations

import pytest

from love_r1.serve._errors import ApiError
from love_r1.serve._requests import (
    normalize_options,
    parse_chat_request,
    parse_episode_request,
    resolve_video,
    split_options,
)


@pytest.mark.parametrize(("text", "question", "options", "instruction"), [
    ("What is it?", "What is it?", (), None),
    ("What is it?\nA. red\nB. blue", "What is it?", ("A. red", "B. blue"), None),
    ("What is it?\n\nA) red\n\n(B) blue\nAnswer with a letter.\n", "What is it?", ("A) red", "(B) blue"),
     "\nAnswer with a letter."),
    ("Line one.\nLine two?\nA. x\nB. y", "Line one.\nLine two?", ("A. x", "B. y"), None),
    ("A. only options", "A. only options", (), None),  # no question before them: all question
    ("I think so.\nWhy?", "I think so.\nWhy?", (), None),  # "I think" is not an option line
])
def test_split_options(text, question, options, instruction):
    assert split_options(text) == (question, options, instruction)


@pytest.mark.parametrize(("given", "expected"), [
    (None, ()),
    (["A. red", "B. blue"], ("A. red", "B. blue")),
    (["A) red", "(b) blue"], ("A. red", "B. blue")),
    (["red", "blue"], ("A. red", "B. blue")),
    (["A. red", "A. blue"], ("A. red", "B. blue")),
])
def test_normalize_options(given, expected):
    assert normalize_options(given) == expected


def test_too_many_options():
    with pytest.raises(ApiError, match="at most 26"):
        normalize_options([f"option {i}" for i in range(27)])


def test_resolve_video_without_root_and_bad_values(tmp_path, monkeypatch):
    video = tmp_path / "v.mp4"
    video.write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    assert resolve_video("v.mp4", video_root=None) == video.resolve()
    for value in ("", None, 3, "bad\x00name.mp4"):
        with pytest.raises(ApiError) as info:
            resolve_video(value, video_root=None)
        assert info.value.status == 400 and info.value.param == "video"


def test_chat_video_sources(tmp_path):
    video = tmp_path / "my clip.mp4"
    video.write_bytes(b"x")
    uri = video.as_uri()  # percent-encoded space
    assert "%20" in uri
    for part in ({"type": "video_url", "video_url": {"url": uri}}, {"type": "video", "video": str(video)},
                 {"type": "video_url", "video_url": "my clip.mp4"}):
        request = parse_chat_request({"messages": [{"role": "user", "content": [part, {"type": "text", "text": "Q?"}]}]},
                                     video_root=tmp_path)
        episode = request.episode
        assert episode.video_path == video.resolve() and episode.question == "Q?" and episode.options == ()
        assert not request.stream
    with pytest.raises(ApiError, match="only file:// URLs"):
        parse_chat_request({"video": "https://example.com/v.mp4", "messages": [{"role": "user", "content": "Q?"}]},
                           video_root=tmp_path)
    with pytest.raises(ApiError, match="exactly one video"):
        parse_chat_request({"messages": [{"role": "user", "content": "Q?"}]}, video_root=tmp_path)
    with pytest.raises(ApiError, match="supported part types"):
        parse_chat_request({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, video_root=tmp_path)
    with pytest.raises(ApiError, match="no user message"):
        parse_chat_request({"messages": [{"role": "system", "content": "x"}]}, video_root=tmp_path)


def test_episode_request_instruction_defaults(tmp_path):
    (tmp_path / "v.mp4").write_bytes(b"x")
    mcq = parse_episode_request({"video": "v.mp4", "question": " Q? ", "options": ["A. x"]}, video_root=tmp_path)
    open_ended = parse_episode_request({"video": "v.mp4", "question": "Q?"}, video_root=tmp_path)
    custom = parse_episode_request({"video": "v.mp4", "question": "Q?", "answer_instruction": "\nBe brief."},
                                   video_root=tmp_path)
    assert mcq.question == "Q?" and mcq.resolved_instruction is None  # the policy's letter instruction
    assert open_ended.resolved_instruction == ""
    assert custom.resolved_instruction == "\nBe brief."
