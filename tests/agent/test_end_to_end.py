"""One episode on a real generated video: the real video engine, the scripted dummy policy."""

from __future__ import annotations

import pytest

from love_r1.agent.api import ask
from love_r1.agent.policy import ZoomPolicy
from love_r1.backends import VideoPart
from love_r1.backends.scripted import ScriptedBackend, dummy_reply
from tests.helpers.markers import requires_av

pytestmark = requires_av


@pytest.fixture(scope="module")
def indexed_video(tmp_path_factory):
    from love_r1 import synth
    path = tmp_path_factory.mktemp("e2e") / "indexed.mp4"
    synth.write_indexed_video(path, duration_seconds=12.0, fps=10.0, width=320, height=240, gop_seconds=2.0)
    return path


def test_real_video_episode_decodes_the_right_frames(indexed_video):
    from love_r1.synth import read_frame_index

    seen = []

    def reply(request):
        seen.append(request)
        return dummy_reply(request)

    # overlay off so that the frame-index pattern is not covered by the burned-in digits
    policy = ZoomPolicy(overlay=False)
    episode = ask(indexed_video, "Which frame is this?", options=["A. first", "B. last"],
                  backend=ScriptedBackend(reply), policy=policy, episode_id="e2e")
    assert episode.error is None, episode.error
    assert episode.answer == "A"
    assert [s.kind for s in episode.steps] == ["zoom", "answer"]
    # dummy zooms [1, 11] on a 12 s video -> padded and clamped to [0, 12] (no widening: L = 1.5 s)
    assert [c.as_list() for c in episode.clips] == [[0.0, 12.0]]
    assert episode.video.duration_seconds == pytest.approx(12.0, abs=0.11)
    fast = seen[0].messages[1].content[1].frames
    assert fast.num_frames == episode.fast_view.num_frames == 24  # min(int(2 * 12), 768)
    # each decoded frame shows the frame index its timestamp says (10 fps source)
    clip = [p for p in seen[1].messages[1].content if isinstance(p, VideoPart)][1].frames
    for frames in (fast, clip):
        for rgb, ts in zip(frames.data, frames.timestamps_seconds, strict=True):
            assert read_frame_index(rgb) == round(ts * 10.0)
    assert episode.ledger.frames_decoded == fast.num_frames + clip.num_frames
    assert seen[0].messages[1].content[0].text == "Full video [0, 12]:"
    assert seen[1].messages[1].content[2].text == "Subset zoom-in video clip [0, 12]:"
    assert fast.sample_fps == pytest.approx(24 / 119 * 10.0, abs=0.006)  # round(n / (N - 1) * fps, 2)


def test_unreadable_file_gives_failed_episode(tmp_path):
    bad = tmp_path / "not_a_video.mp4"
    bad.write_bytes(b"this is not a video")
    episode = ask(bad, "Q?", backend=ScriptedBackend(), episode_id="bad")
    assert episode.error is not None and "not_a_video.mp4" in episode.error
    assert episode.steps == [] and episode.answer == ""
