"""Pages and screenshots of the explorer and the trace page, shared by the browser tests and
``scripts/screenshots.py`` (which writes docs/img/explorer.png, comparison.png and trace.png)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# every visible text node's rendered size (CSS px, SVG scaling included) below 12 px, as "tag:size:text"
SMALL_TEXT_JS = """() => {
  const bad = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el || el.closest('script,style,title,[hidden]')) continue;
    const box = el.getBoundingClientRect();
    if (!box.width && !box.height) continue;
    let size = parseFloat(getComputedStyle(el).fontSize);
    if (el instanceof SVGElement && el.getScreenCTM()) {
      const m = el.getScreenCTM();
      size *= Math.hypot(m.a, m.b);
    }
    if (size < 11.95) bad.push(el.tagName + ':' + size.toFixed(1) + ':' + node.textContent.trim().slice(0, 30));
  }
  return bad;
}"""


def write_pages(run_a: Path, run_b: Path, out_dir: Path, *, trace_qid: str) -> dict[str, Path]:
    """``explorer`` (run A), ``comparison`` (A vs B) and ``trace`` (one item of run A, via ``love-r1 trace``)."""
    from love_r1.cli import main
    from love_r1.eval.explorer import render_explorer
    from love_r1.eval.store import read_run

    out_dir.mkdir(parents=True, exist_ok=True)
    pages = {"explorer": out_dir / "explorer.html", "comparison": out_dir / "comparison.html",
             "trace": out_dir / "trace.html"}
    pages["explorer"].write_text(render_explorer(read_run(run_a), frame_items=3), encoding="utf-8")
    pages["comparison"].write_text(render_explorer(read_run(run_a), read_run(run_b), frame_items=3), encoding="utf-8")
    if main(["trace", str(run_a), trace_qid, "--output", str(pages["trace"])]) != 0:
        raise RuntimeError(f"love-r1 trace {run_a} {trace_qid} failed")
    return pages


def open_page(page: Any, path: Path, fragment: str = "") -> None:
    """Load a page from file:// and wait until the explorer (if it is one) has drawn itself."""
    page.goto(path.resolve().as_uri() + fragment)
    if page.locator("#app").count():
        page.wait_for_selector("body[data-ready='1']")


def click_chip(page: Any, facet_id: str, value_name: str) -> None:
    page.locator(f".facet[data-facet-id='{facet_id}'] .chip", has_text=value_name).first.click()


def capture(pages: dict[str, Path], out_dir: Path) -> list[Path]:
    """The three documentation screenshots (PNG) of ``pages`` into ``out_dir``; returns their paths."""
    from tests.browser import browser_page

    out_dir.mkdir(parents=True, exist_ok=True)
    shots = []
    with browser_page(viewport=(1280, 900)) as (page, errors):
        open_page(page, pages["explorer"])
        click_chip(page, "resultA", "wrong")
        page.evaluate("window.scrollTo(0, 0)")
        shot = out_dir / "explorer.png"
        page.screenshot(path=str(shot), full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": 2300})
        shots.append(shot)

        open_page(page, pages["comparison"])
        click_chip(page, "flip", "A right → B wrong")
        page.evaluate("window.scrollTo(0, 0)")
        shot = out_dir / "comparison.png"
        items = page.locator("#sec-items").bounding_box()  # from the title to the end of the item table
        page.screenshot(path=str(shot), full_page=True, clip={"x": 0, "y": 0, "width": 1280,
                                                               "height": items["y"] + items["height"] + 10})
        shots.append(shot)

        open_page(page, pages["trace"])
        shot = out_dir / "trace.png"
        page.screenshot(path=str(shot), full_page=True)
        shots.append(shot)
        if errors:
            raise RuntimeError(f"console errors while taking screenshots: {errors}")
    return shots
