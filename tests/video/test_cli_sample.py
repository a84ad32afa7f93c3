from __future__ import annotations

import re

from PIL import Image

from love_r1.cli import main
from love_r1.video import open_video, sample_clip, sample_fast_view


def test_sample_cli_prints_metadata_and_writes_contact_sheets(cfr_video, tmp_path, capsys):
    code = main(["sample", str(cfr_video), "--start-seconds", "3", "--end-seconds", "5", "--out", str(tmp_path),
                 "--columns", "5"])
    out = capsys.readouterr().out
    assert code == 0
    assert "300 (header 300)" in out and "160x120 px, rotation 0 deg" in out
    assert re.search(r"fast view frames +20 at 280x196 px", out) and re.search(r"zoom clip frames +4 at", out)
    assert "2.01 (rate given to the processor)" in out
    with open_video(cfr_video) as reader:  # the same requests on a fresh reader give the printed counters
        sample_fast_view(reader)
        sample_clip(reader, 3.0, 5.0)
        stats = reader.stats
    assert (f"frames decoded {stats.frames_decoded}, packets skipped {stats.packets_skipped}, "
            f"in {stats.seeks} seeks (mode exact, decoder pyav)") in re.sub(r" {2,}", " ", out)
    fast = Image.open(tmp_path / "cfr_fast.png")
    assert fast.size == (5 * (280 + 2), 4 * (196 + 2))
    assert (tmp_path / "cfr_zoom_3-5.png").is_file()


def test_sample_cli_reports_bad_video(tmp_path, capsys):
    bad = tmp_path / "bad.mp4"
    bad.write_text("nope")
    assert main(["sample", str(bad), "--no-overlay"]) == 1
    assert "bad.mp4" in capsys.readouterr().err
