"""``love-r1 ask``: step-by-step output, input handling, JSON/trace files, offline failure, HTTP backend."""

from __future__ import annotations

import json

import pytest

from love_r1.cli import main
from love_r1.cli.ask import format_ledger
from tests.fixtures.openai_server import FakeOpenAIServer

ZOOM = "I need to zoom in on the video.\n\nThe box is early on.\\boxed{[4, 8]}"
ANSWER = "I get the answer.\n\nThe box shows a six.\\boxed{B}"


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    from love_r1.synth import write_indexed_video

    return write_indexed_video(tmp_path_factory.mktemp("ask") / "clip.mp4", duration_seconds=40.0, fps=10.0,
                               width=160, height=120, gop_seconds=2.0)


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "replies.json"
    path.write_text(json.dumps([ZOOM, ANSWER]), encoding="utf-8")
    return path


def test_ask_prints_steps_answer_and_ledger_and_writes_json(video, script, tmp_path, capsys):
    out_json = tmp_path / "out" / "episode.json"
    code = main(["ask", str(video), "Which digit? ½ «é»", "--option", "A) five", "--option", "(B) six",
                 "--backend", "scripted", "--script", str(script), "--json", str(out_json), "--gold", "B",
                 "--evidence", "4", "6"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    out = captured.out
    step1, step2 = out.index("step 1  zoom"), out.index("step 2  answer")
    assert step1 < step2 < out.index("answer    B  (correct)") < out.index("cost ledger")
    assert "requested [4, 8] s -> applied" in out
    assert "The box is early on." in out
    assert "clip plan" not in out  # the reference preset plans no clips
    assert "note: options rewritten as 'A. text'" in captured.err
    record = json.loads(out_json.read_text(encoding="utf-8"))
    assert record["question"] == "Which digit? ½ «é»"
    assert record["options"] == ["A. five", "B. six"]
    assert record["answer"] == "B" and record["gold"] == "B"
    assert record["evidence"] == [[4.0, 6.0]]
    assert [s["kind"] for s in record["steps"]] == ["zoom", "answer"]
    assert record["steps"][0]["requested_interval"] == [4.0, 8.0]
    assert record["ledger"]["num_model_calls"] == 2
    run = record["run"]
    assert run["config"]["backend"] == "scripted" and run["policy"]["name"] == "reference"
    assert run["versions"]["numpy"] and "love-r1" in run["versions"]
    assert run["overlay_font"]
    # a stand-in run names no checkpoint anywhere in the file
    assert run["model"] == "scripted" and run["stand_in"] is True and run["config"]["model"] is None
    assert "love-r1-stage3" not in out_json.read_text(encoding="utf-8")
    assert "--backend scripted is a stand-in" in captured.err
    assert "model     scripted stand-in" in out
    from love_r1.agent import Episode

    assert Episode.from_dict(record).answer == "B"  # the file reads back as an episode


def test_ask_open_question_without_options_and_trace(video, tmp_path, capsys):
    trace = tmp_path / "trace.html"
    script = tmp_path / "replies.txt"
    script.write_text("I get the answer.\n\nA white box with <b>bold</b> text.\\boxed{a box}\n---\n", encoding="utf-8")
    code = main(["ask", str(video), "What is shown?", "--backend", "scripted", "--script", str(script),
                 "--trace", str(trace)])
    out = capsys.readouterr().out
    assert code == 0
    assert "answer    a box" in out
    page = trace.read_text(encoding="utf-8")
    assert "A white box with &lt;b&gt;bold&lt;/b&gt; text." in page
    assert "<b>bold</b>" not in page
    assert page.count('src="data:image/jpeg;base64,') == 24  # thumbnails decoded from the video


def test_max_zoom_steps_zero_forces_the_answer(video, tmp_path, capsys):
    script = tmp_path / "r.json"
    script.write_text(json.dumps(["\\boxed{A}"]), encoding="utf-8")
    code = main(["ask", str(video), "Q?", "--option", "x", "--option", "y", "--backend", "scripted",
                 "--script", str(script), "--max-zoom-steps", "0"])
    out = capsys.readouterr().out
    assert code == 0
    assert "step 1  forced answer" in out and "answer    A" in out


@pytest.mark.parametrize(("args", "message"), [
    (["   "], "the question is empty"),
    (["Q?", "--option", ""], "--option: option 1 must be a non-empty string"),
    (["Q?", "--evidence", "1", "2", "3"], "pairs START END"),
    (["Q?", "--evidence", "5", "2"], "0 <= start < end"),
    (["Q?", "--evidence", "5", "inf"], "not two finite numbers"),
    (["Q?", "--evidence", "41", "45"], "--evidence: evidence interval 1 [41, 45] starts after the video ends (40 s)"),
    (["Q?", "--base-url", "http://x"], "--base-url not used by --backend scripted"),
    (["Q?", "--option", "A. x", "--option", "B. y", "--gold", "Z"],
     "--gold: gold answer 'Z' is not one of the option letters A, B"),
    (["Q?", "--option", "A. x", "--gold", " "], "--gold: the gold answer is empty"),
    (["Q?", "--max-zoom-steps", "-1"], "max_free_steps must be >= 0"),
    (["Q?", "--max-new-tokens", "0"], "max_new_tokens must be >= 1"),
])
def test_bad_input_exits_2_without_traceback(video, args, message, capsys):
    code = main(["ask", str(video), *args, "--backend", "scripted"])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_missing_video_exits_2(tmp_path, capsys):
    code = main(["ask", str(tmp_path / "nope.mp4"), "Q?", "--backend", "scripted"])
    assert code == 2 and "does not exist" in capsys.readouterr().err


def test_offline_default_model_fails_fast_with_a_hint(video, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    code = main(["ask", str(video), "Q?"])
    err = capsys.readouterr().err
    assert code == 2
    assert "iSEE-Laboratory/love-r1-stage3" in err and "--model /path/to/local/checkpoint" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("content", [b"not a video at all", b""])
def test_an_unreadable_video_is_one_clear_error_exit_1(tmp_path, video, content, capsys):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(content)
    code = main(["ask", str(bad), "Q?", "--backend", "scripted"])
    captured = capsys.readouterr()
    assert code == 1
    (line,) = captured.err.strip().splitlines()  # once, not also as a logged warning
    assert line.startswith("error: ") and line.count("bad.mp4") == 1
    assert captured.out == ""  # nothing ran: no header, no ledger
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(video.read_bytes()[:3000])
    assert main(["ask", str(truncated), "Q?", "--backend", "scripted"]) == 1
    err = capsys.readouterr().err
    assert err.count("truncated.mp4") == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_gold_letter_is_normalised_and_judged(video, script, capsys):
    code = main(["ask", str(video), "Which?", "--option", "five", "--option", "six", "--gold", "(b)",
                 "--backend", "scripted", "--script", str(script)])
    assert code == 0
    assert "answer    B  (correct)" in capsys.readouterr().out


def test_header_names_every_run_setting(video, script, capsys):
    code = main(["ask", str(video), "Q?", "--option", "A. x", "--option", "B. y", "--backend", "scripted",
                 "--script", str(script), "--policy-preset", "longvideobench", "--time-base", "index",
                 "--max-new-tokens", "77", "--temperature", "0.5", "--seed", "3"])
    out = capsys.readouterr().out
    assert code == 0
    header = out[: out.index("step 1")]
    assert "video     " in header and "(40.0 s, 160x120, 10 fps)" in header
    assert ("policy    longvideobench: up to 2 free steps, fast view <= 768 frames, zoom clips <= 16 frames; "
            "time base index") in header
    assert "sampling  temperature 0.5, <= 77 new tokens, seed 3" in header


def test_sampling_flags_reach_every_request_and_the_episode_file(video, script, tmp_path, capsys):
    from love_r1.backends.scripted import ScriptedBackend

    seen = []

    class Recording(ScriptedBackend):
        def generate(self, requests):
            seen.extend(r.sampling for r in requests)
            return super().generate(requests)

    out_json = tmp_path / "e.json"
    import love_r1.cli._backends as backends

    original = backends.make_backend
    backends.make_backend = lambda options, **kw: Recording(backends.load_script(options.script))
    try:
        code = main(["ask", str(video), "Q?", "--option", "A. x", "--option", "B. y", "--backend", "scripted",
                     "--script", str(script), "--max-new-tokens", "64", "--temperature", "0.7", "--top-p", "0.9",
                     "--top-k", "20", "--repetition-penalty", "1.1", "--seed", "5", "--json", str(out_json)])
    finally:
        backends.make_backend = original
    assert code == 0, capsys.readouterr().err
    assert len(seen) == 2 and {(s.max_new_tokens, s.temperature, s.top_p, s.top_k, s.repetition_penalty, s.seed)
                               for s in seen} == {(64, 0.7, 0.9, 20, 1.1, 5)}
    record = json.loads(out_json.read_text(encoding="utf-8"))
    assert record["policy"]["sampling"]["max_new_tokens"] == 64  # the episode itself records it
    assert record["run"]["policy"]["sampling"]["temperature"] == 0.7


def test_old_preset_flag_warns_and_still_works(video, script, tmp_path, capsys):
    out_json = tmp_path / "e.json"
    with pytest.warns(FutureWarning, match="--preset is deprecated and will be removed in love-r1 0.2.0; use "
                                           "--policy-preset"):
        code = main(["ask", str(video), "Q?", "--backend", "scripted", "--script", str(script), "--preset",
                     "budget", "--json", str(out_json)])
    assert code == 0
    assert json.loads(out_json.read_text(encoding="utf-8"))["policy"]["name"] == "budget"


def test_ask_over_http_sends_the_fast_view_as_images(video, tmp_path, monkeypatch, capsys):
    secret = "sk-ask-test-0123456789SECRET"
    monkeypatch.setenv("ASK_TEST_KEY", secret)
    out_json = tmp_path / "e.json"
    with FakeOpenAIServer([ZOOM, ANSWER]) as server:
        code = main(["ask", str(video), "Which digit?", "--option", "A. five", "--option", "B. six",
                     "--backend", "openai", "--base-url", server.base_url, "--model", "served",
                     "--api-key-env", "ASK_TEST_KEY", "--json", str(out_json)])
    captured = capsys.readouterr()
    out = captured.out
    assert code == 0 and "answer    B" in out
    assert server.chat_requests[0].headers["authorization"] == f"Bearer {secret}"
    for text in (out, captured.err, out_json.read_text(encoding="utf-8")):
        assert secret not in text
    first, second = server.chat_requests
    assert first.payload["model"] == "served"
    labels = [p["text"] for p in first.content_parts() if p["type"] == "text"]
    assert labels[0] == "Full video [0, 40]:"
    images_first = sum(p["type"] == "image_url" for p in first.content_parts())
    images_second = sum(p["type"] == "image_url" for p in second.content_parts())
    assert images_first == 80  # 40 s at 2 frames per second
    assert images_second > images_first  # the zoom clip was added
    assert any(t.startswith("Subset zoom-in video clip [") for p in second.content_parts()
               for t in [p.get("text", "")])


def test_format_ledger_aligns_columns():
    table = format_ledger({"num_model_calls": 3, "prompt_tokens": 12345, "total_seconds": 1.5})
    lines = table.splitlines()
    assert lines[0] == "cost ledger"
    assert "12,345" in table and "1.50 s" in table
    assert len({len(line) for line in lines[1:]}) == 1  # every row has the same width


def test_budget_preset_prints_each_clip_plan(video, script, tmp_path, capsys):
    out_json = tmp_path / "episode.json"
    code = main(["ask", str(video), "Which digit?", "--option", "A. five", "--option", "B. six", "--policy-preset",
                 "budget",
                 "--backend", "scripted", "--script", str(script), "--json", str(out_json)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    record = json.loads(out_json.read_text(encoding="utf-8"))
    assert record["policy"]["clip_token_budget"] == 4032
    plan = record["steps"][0]["clip_plan"]  # the zoom step's plan, as the loop recorded it
    assert 1 <= plan["tokens"] <= 4032
    expected = (f"clip plan: {plan['num_frames']} frames at {plan['resized_width']}x{plan['resized_height']} px "
                f"(budget {plan['pixels_per_frame']:,} px/frame), {plan['tokens']:,} vision tokens")
    lines = captured.out.splitlines()
    step1 = next(i for i, line in enumerate(lines) if line.startswith("step 1  zoom"))
    step2 = next(i for i, line in enumerate(lines) if line.startswith("step 2  answer"))
    assert [line.strip() for line in lines[step1:step2] if "clip plan" in line] == [expected]
    assert "clip plan" not in "\n".join(lines[step2:])  # the answer step carries no plan
    assert "clip plan" not in "".join(lines[:step1])


def test_max_new_tokens_bounds_a_real_model_and_is_recorded(video, tmp_path, capsys):
    """A tiny random checkpoint writes until its bound: the flag reaches the hf backend (2 x 2048 tokens before)."""
    from tests.fixtures import tiny_qwen as tq

    directory = tq.save_tiny(*tq.build_tiny("qwen2_5_vl"), tmp_path / "tiny")
    out_json = tmp_path / "e.json"
    code = main(["ask", str(video), "Which digit?", "--option", "A. five", "--option", "B. six", "--model",
                 str(directory), "--device", "cpu", "--dtype", "float32", "--max-new-tokens", "6",
                 "--max-zoom-steps", "1", "--json", str(out_json)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "sampling  greedy, <= 6 new tokens" in captured.out
    assert f"model     hf {directory} (position rule max_plus_one, device cpu)" in captured.out
    assert "policy    reference: up to 1 free step, fast view" in captured.out and "time base presentation" in captured.out
    record = json.loads(out_json.read_text(encoding="utf-8"))
    assert record["policy"]["sampling"]["max_new_tokens"] == 6
    assert record["run"]["model"] == str(directory) and record["run"]["stand_in"] is False
    completions = [step["usage"]["completion_tokens"] for step in record["steps"]]
    assert completions and all(1 <= n <= 6 for n in completions)
