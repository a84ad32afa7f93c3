"""Subtitle parsers (SRT, LongVideoBench JSON), the frame-time selection rule and the prompt format."""

from __future__ import annotations

import json

import pytest

from love_r1.eval.subtitles import (
    SkippedBlock,
    SubtitleError,
    SubtitleLine,
    SubtitleProvider,
    format_clock,
    lines_at,
    lines_in,
    parse_lvb_detailed,
    parse_lvb_subtitles,
    parse_srt,
    parse_srt_detailed,
    read_subtitle_file,
    subtitle_context,
)
from love_r1.interval import Interval

L = SubtitleLine

SRT_CASES = [
    ("basic",
     "1\n00:00:01,000 --> 00:00:02,500\nHello there\n\n2\n00:00:03,000 --> 00:00:04,000\nbye\n",
     [L(1.0, 2.5, "Hello there"), L(3.0, 4.0, "bye")], []),
    ("bom_crlf",
     "\ufeff1\r\n00:00:01,000 --> 00:00:02,000\r\nfirst\r\n\r\n2\r\n00:00:02,000 --> 00:00:03,000\r\nsecond\r\n",
     [L(1.0, 2.0, "first"), L(2.0, 3.0, "second")], []),
    ("cr_only_no_final_newline",
     "1\r00:00:01,000 --> 00:00:02,000\rfirst",
     [L(1.0, 2.0, "first")], []),
    ("missing_blank_lines",  # the next index follows the text directly
     "1\n00:00:01,000 --> 00:00:02,000\nfirst\n2\n00:00:02,000 --> 00:00:03,000\nsecond\n3\n"
     "00:00:03,000 --> 00:00:04,000\nthird",
     [L(1.0, 2.0, "first"), L(2.0, 3.0, "second"), L(3.0, 4.0, "third")], []),
    ("no_indices",
     "00:00:01,000 --> 00:00:02,000\nfirst\n\n00:00:02,000 --> 00:00:03,000\nsecond\n",
     [L(1.0, 2.0, "first"), L(2.0, 3.0, "second")], []),
    ("videomme_font_tags",
     '1\n00:00:00,000 --> 00:00:01,200\n<font color="white" size=".72c">Welcome back</font>\n\n'
     "2\n00:00:01,200 --> 00:00:02,000\n<i>whisper</i> and <b>bold</b> {\\an8}top\n",
     [L(0.0, 1.2, "Welcome back"), L(1.2, 2.0, "whisper and bold top")], []),
    ("html_entities",
     "1\n00:00:01,000 --> 00:00:02,000\nTom &amp; Jerry&#39;s &quot;show&quot;&nbsp;now &lt;i&gt;\n",
     [L(1.0, 2.0, "Tom & Jerry's \"show\" now <i>")], []),
    ("dot_and_short_millis",
     "1\n00:00:01.250 --> 00:00:01,5\na\n\n2\n00:00:02 --> 00:00:03\nb\n",
     [L(1.25, 1.5, "a"), L(2.0, 3.0, "b")], []),
    ("hours_over_99_and_no_hours",
     "1\n123:04:05,600 --> 123:04:06,000\nlate\n\n2\n01:02,000 --> 01:03,000\nshort clock\n",
     [L(123 * 3600 + 245.6, 123 * 3600 + 246.0, "late"), L(62.0, 63.0, "short clock")], []),
    ("multiline_text_and_position_suffix",
     "1\n00:00:01,000 --> 00:00:02,000  X1:10 X2:20 Y1:1 Y2:2\n  line one  \nline   two\n",
     [L(1.0, 2.0, "line one line two")], []),
    ("malformed_timing_skipped",  # the broken cue's text is swallowed, not reported twice
     "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:xx,000 --> 00:00:03,000\nlost\n\n"
     "3\n00:00:05,000 --> 00:00:04,000\nbackwards\n\n4\n00:00:06,000 --> 00:00:07,000\nalso ok\n",
     [L(1.0, 2.0, "ok"), L(6.0, 7.0, "also ok")], [6, 10]),
    ("empty_text_and_stray_text",
     "1\n00:00:01,000 --> 00:00:02,000\n<font></font>\n\nstray words here\nmore stray\n\n"
     "2\n00:00:03,000 --> 00:00:04,000\nfine\n",
     [L(3.0, 4.0, "fine")], [2, 5]),
    ("empty_file", "", [], []),
]


@pytest.mark.parametrize(("text", "expected", "skipped_lines"), [c[1:] for c in SRT_CASES],
                         ids=[c[0] for c in SRT_CASES])
def test_parse_srt_table(text, expected, skipped_lines):
    parsed = parse_srt_detailed(text, source="x.srt")
    assert list(parsed.lines) == expected
    assert [s.line_number for s in parsed.skipped] == skipped_lines
    assert parse_srt(text) == expected


def test_parse_srt_skip_reasons():
    parsed = parse_srt_detailed("1\n00:00:05,000 --> 00:00:04,000\nx\n\n2\n0:0:a --> 1\ny\n")
    assert parsed.skipped == (SkippedBlock(2, "ends (4.000 s) before it starts (5.000 s)"),
                              SkippedBlock(6, "unreadable timing line '0:0:a --> 1'"))


LVB_CASES = [
    ("timestamp_form", [{"timestamp": [12.0, 14.5], "text": " hello "}], 10.0, [L(2.0, 4.5, "hello")], []),
    ("clock_form", [{"start": "00:01:02.500", "end": "00:01:03.000", "line": "<i>hi</i> &amp; bye"}], 0.0,
     [L(62.5, 63.0, "hi & bye")], []),
    ("both_forms_mixed_and_offset", [{"timestamp": [30, 31], "text": "a"},
                                     {"start": "00:00:40,250", "end": "00:00:41", "line": "b"},
                                     {"start": 50, "end": "51.5", "line": "c"}], 30.0,
     [L(0.0, 1.0, "a"), L(10.25, 11.0, "b"), L(20.0, 21.5, "c")], []),
    ("before_the_offset_kept_negative", [{"timestamp": [1.0, 2.0], "text": "early"}], 5.0,
     [L(-4.0, -3.0, "early")], []),
    ("malformed_entries_skipped", [{"timestamp": [1.0, None], "text": "open end"}, "just text",
                                   {"text": "no times"}, {"timestamp": [3.0, 2.0], "text": "backwards"},
                                   {"timestamp": [4.0, 5.0], "text": "   "}, {"timestamp": [1.0], "text": "x"},
                                   {"timestamp": [6.0, 7.0], "text": "good"}], 0.0,
     [L(6.0, 7.0, "good")], [0, 1, 2, 3, 4, 5]),
]


@pytest.mark.parametrize(("obj", "offset", "expected", "skipped"), [c[1:] for c in LVB_CASES],
                         ids=[c[0] for c in LVB_CASES])
def test_parse_lvb_table(obj, offset, expected, skipped):
    parsed = parse_lvb_detailed(obj, offset_seconds=offset)
    assert list(parsed.lines) == expected
    assert [s.line_number for s in parsed.skipped] == skipped
    assert parse_lvb_subtitles(obj, offset_seconds=offset) == expected


def test_parse_lvb_rejects_non_list():
    with pytest.raises(SubtitleError, match="vid.json: a LongVideoBench subtitle file must hold a JSON list"):
        parse_lvb_detailed({"timestamp": [0, 1]}, source="vid.json")


def test_read_subtitle_file_formats_and_errors(tmp_path):
    srt = tmp_path / "a.srt"
    srt.write_bytes("1\n00:00:01,000 --> 00:00:02,000\ncafé\n".encode("utf-16"))  # BOM-marked UTF-16
    assert read_subtitle_file(srt).lines == (L(1.0, 2.0, "café"),)

    bad = tmp_path / "bad.srt"
    bad.write_bytes(b"1\n00:00:01,000 --> 00:00:02,000\ncaf\xe9\n")  # cp1252, not UTF-8
    with pytest.raises(SubtitleError, match=r"bad\.srt:3: not valid UTF-8 .*re-encode"):
        read_subtitle_file(bad)

    broken = tmp_path / "broken.json"
    broken.write_text('[\n{"timestamp": [1, 2], "text": "a"},\n{oops}\n]', encoding="utf-8")
    with pytest.raises(SubtitleError, match=r"broken\.json:3: not valid JSON"):
        read_subtitle_file(broken)

    good = tmp_path / "v_en.json"
    good.write_text(json.dumps([{"timestamp": [11, 12], "text": "x"}]), encoding="utf-8")
    assert read_subtitle_file(good, offset_seconds=10.0).lines == (L(1.0, 2.0, "x"),)

    with pytest.raises(SubtitleError, match=r"a\.vtt: subtitle format must be one of \['\.srt', '\.json'\]; got '\.vtt'"):
        read_subtitle_file(tmp_path / "a.vtt")
    with pytest.raises(SubtitleError, match="cannot read subtitle file"):
        read_subtitle_file(tmp_path / "missing.srt")


LINES = [L(0.5, 0.9, "a"), L(1.0, 2.0, "b"), L(1.5, 3.0, "overlap"), L(3.0, 3.0, "instant"), L(4.0, 5.0, "e")]

AT_CASES = [
    ("start_inclusive_end_exclusive", [1.0, 2.0], True, ["b", "overlap"]),
    ("between_lines", [0.95, 3.5], True, []),
    ("dedupe_orders_by_start", [2.5, 1.2, 4.0, 1.6], True, ["b", "overlap", "e"]),
    ("one_per_frame_time", [1.2, 1.6, 2.5, 4.9], False, ["b", "b", "overlap", "overlap", "e"]),
    ("zero_length_never_active", [3.0], True, []),
    ("no_times", [], True, []),
]


@pytest.mark.parametrize(("times", "dedupe", "expected"), [c[1:] for c in AT_CASES], ids=[c[0] for c in AT_CASES])
def test_lines_at(times, dedupe, expected):
    assert [line.text for line in lines_at(LINES, times, dedupe=dedupe)] == expected


@pytest.mark.parametrize(("interval", "expected"), [
    (Interval(0.0, 1.0), ["a"]),  # b starts at 1.0: outside the half-open [0, 1)
    (Interval(0.9, 1.5), ["b"]),  # a ends at 0.9: not overlapping
    (Interval(2.5, 4.0), ["overlap", "instant"]),
    ((3.0, 10.0), ["instant", "e"]),
    (Interval(5.0, 9.0), []),
])
def test_lines_in(interval, expected):
    assert [line.text for line in lines_in(LINES, interval)] == expected


@pytest.mark.parametrize(("seconds", "text"), [(0.0, "00:00"), (75.9, "01:15"), (-3.0, "00:00"),
                                               (3599.99, "59:59"), (3723.0, "1:02:03"), (360000.0, "100:00:00")])
def test_format_clock(seconds, text):
    assert format_clock(seconds) == text


def test_subtitle_context_snapshots():
    lines = [L(0.5, 2.0, "Hello there"), L(65.0, 70.0, "in the clip"), L(66.0, 68.0, "also in the clip"),
             L(3725.0, 3730.0, "after an hour")]
    fast = [1.0, 1.5, 3726.0]
    assert subtitle_context(lines, fast_view_seconds=fast) == (
        "Subtitles:\n[00:00] Hello there\n[1:02:05] after an hour\n")
    clips = [Interval(64.6, 90.0), Interval(0.0, 1.0)]  # sorted by start in the text
    assert subtitle_context(lines, fast_view_seconds=fast, clips=clips, mode="fast") == (
        "Subtitles:\n[00:00] Hello there\n[1:02:05] after an hour\n")
    assert subtitle_context(lines, fast_view_seconds=fast, clips=clips, mode="fast+clips") == (
        "Subtitles:\n[00:00] Hello there\n[1:02:05] after an hour\n"
        "Subtitles of zoom-in clip [0, 1]:\n[00:00] Hello there\n"
        "Subtitles of zoom-in clip [64, 90]:\n[01:05] in the clip\n[01:06] also in the clip\n")
    assert subtitle_context(lines, fast_view_seconds=[30.0], clips=[Interval(100, 200)], mode="fast+clips") == ""
    with pytest.raises(ValueError, match="subtitle mode"):
        subtitle_context(lines, fast_view_seconds=fast, mode="clips")


def test_provider_records_status_and_reads_each_file_once(tmp_path, monkeypatch):
    import love_r1.eval.subtitles as subtitles

    good = tmp_path / "v.srt"
    good.write_text("1\n00:00:01,000 --> 00:00:02,000\nhi\n\nbroken\n\n2\n00:00:05,000 --> 00:00:09,000\nlater\n",
                    encoding="utf-8")
    bad = tmp_path / "bad.srt"
    bad.write_bytes(b"\xff\xff\xff not text")
    reads = []
    real = subtitles.read_subtitle_file
    monkeypatch.setattr(subtitles, "read_subtitle_file", lambda path, **kw: reads.append(path) or real(path, **kw))

    provider = SubtitleProvider(mode="fast+clips")
    first = provider.hook(item_id="q1", path=good)
    second = provider.hook(item_id="q2", path=good)
    assert len(reads) == 1  # same video, read once
    assert first([1.5], ()) == "Subtitles:\n[00:01] hi\n"
    assert first([1.5], (Interval(4.0, 6.0),)) == (
        "Subtitles:\n[00:01] hi\nSubtitles of zoom-in clip [4, 6]:\n[00:05] later\n")
    assert provider.items["q1"] == {"mode": "fast+clips", "path": str(good), "status": "ok", "num_lines": 2,
                                    "num_skipped": 1, "fast_view_lines": 1, "clip_lines": [0, 1]}
    assert second([0.0], ()) == "" and provider.items["q2"]["fast_view_lines"] == 0

    assert provider.hook(item_id="q3", path=None) is None
    assert provider.hook(item_id="q4", path=tmp_path / "nope.srt") is None
    assert provider.items["q3"]["status"] == provider.items["q4"]["status"] == "missing"
    assert provider.hook(item_id="q5", path=bad) is None
    assert provider.items["q5"]["status"] == "unreadable"
    assert provider.items["q5"]["detail"].startswith(f"{bad}:1: not valid UTF-8")
    with pytest.raises(ValueError, match="subtitle mode"):
        SubtitleProvider(mode="all")
