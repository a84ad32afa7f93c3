"""Regenerate the explorer and trace screenshots in docs/img/ (explorer.png, comparison.png, trace.png).

Launch (from the repository root; needs the ``dev`` extra and Chromium):

    python scripts/screenshots.py                 # writes docs/img/{explorer,comparison,trace}.png
    python scripts/screenshots.py --out /tmp/img  # somewhere else

It builds the same runs as the browser tests (``tests/viz/runs.py``: generated needle videos, the real eval
runner, a scripted policy; one broken video) and takes the pictures with the same helper the test
``tests/viz/test_explorer_browser.py::test_screenshots_come_from_the_test_helper`` runs
(``tests/viz/screens.py``), so the pictures show what the tests check.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests/ helpers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="folder for the PNG files")
    args = parser.parse_args()
    from tests.viz.runs import build_runs
    from tests.viz.screens import capture, write_pages

    with tempfile.TemporaryDirectory() as scratch:
        _, run_a, run_b = build_runs(Path(scratch))
        pages = write_pages(run_a, run_b, Path(scratch) / "pages", trace_qid="needle_0000_q1")
        for shot in capture(pages, args.out):
            print(f"wrote {shot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
