"""Fit every slide onto a 1280x720 projector:  python tools/fit_slides.py [NAME ...] [--dry-run]

For each notebook: execute it, render its deck (tools/build_slides.py) in headless Chromium, and
measure every cell's height as shown on a slide. Where the cells of one slide add up to more than
the slide holds, the cell that would overflow starts a new subslide (the next slide down), so a
slide never needs scrolling. Writes the slideshow metadata back into the notebook; then run
`.venv/bin/jupytext --sync notebooks/*.ipynb` so the paired scripts follow. Cells that are taller
than a slide on their own are listed: shorten them, or mark long code the class need not read as
`skip` (it still runs). With --split, such code cells are split once at a statement boundary
(where the plotting starts, else near the middle); run it again until nothing is too tall.

Only '-' (continue) and 'fragment' cells are ever turned into 'subslide'; slide, subslide, skip
and notes cells keep what their author chose. bench/slides.py checks the result in the static
decks and in the live RISE slideshow.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from build_slides import SLIDE_HEIGHT, execute, export, local_assets  # noqa: E402

# room a slide keeps free at its bottom (reveal's own margin, the slide number)
BUDGET = SLIDE_HEIGHT - 24

CELL_HEIGHTS_JS = """() => {
  const out = {};
  for (const slide of Reveal.getSlides()) {
    const i = Reveal.getIndices(slide);
    Reveal.slide(i.h, i.v || 0, 1e6);            // every fragment shown: the slide at its fullest
    slide.querySelectorAll('.fragment').forEach(f => f.classList.add('visible'));
    const scale = Reveal.getScale();
    for (const cell of slide.querySelectorAll('.jp-Cell[id^="cell-id="]')) {
      out[cell.id.slice(8)] = Math.ceil(cell.getBoundingClientRect().height / scale);
    }
  }
  return out;
}"""


def slide_type(cell) -> str:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")


def cell_heights(deck: Path) -> dict:
    from playwright.sync_api import sync_playwright

    from bench.slides import offline_browser

    with sync_playwright() as pw:
        browser, context, _ = offline_browser(pw)
        try:
            page = context.new_page()
            page.goto(deck.resolve().as_uri())
            page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
            page.wait_for_function("() => document.body.dataset.mathjax === 'done'", timeout=60_000)
            return page.evaluate(CELL_HEIGHTS_JS)
        finally:
            browser.close()


def paginate(cells: list[dict], heights: dict, budget: int = BUDGET) -> tuple[list, list]:
    """New slide types (one per cell) and the cells taller than a slide on their own."""
    types = [slide_type(c) for c in cells]
    too_tall = []
    used = 0
    for i, cell in enumerate(cells):
        t = types[i]
        if t in ("skip", "notes"):
            continue
        h = heights.get(cell.get("id"), 0)
        if t in ("slide", "subslide"):
            used = h
        elif used and used + h > budget:
            types[i] = "subslide"
            used = h
        else:
            used += h
        if h > budget:
            too_tall.append((i, cell.get("id"), h, "".join(cell["source"])[:60]))
    return types, too_tall


PLOT_STARTS = ("fig, ", "fig = ", "plot.", "_, ax", "ax = ", "plt.")
FIGURE_MADE = re.compile(r"plt\.(subplots|figure)\(")
FIGURE_USED = re.compile(r"\b(fig|ax|axes|plt|bars)\b")


def split_point(source: str) -> int | None:
    """Where to split a code cell that is too tall for a slide: the 0-based line of a top-level
    statement boundary - where the plotting starts if there is such a boundary, else the one nearest
    the middle. Never after a bare expression (its value would be shown as output)."""
    import ast

    try:
        body = ast.parse(source).body
    except SyntaxError:
        return None
    lines = source.split("\n")
    candidates = []
    for before, stmt in zip(body, body[1:]):
        if isinstance(before, ast.Expr):
            continue
        start = stmt.lineno - 1
        if getattr(stmt, "decorator_list", None):
            start = min(d.lineno for d in stmt.decorator_list) - 1
        candidates.append(start)
    if not candidates:
        return None
    plots = [c for c in candidates if lines[c].startswith(PLOT_STARTS)]
    if plots:
        return plots[0]
    # never inside a figure: once a cell makes one, the inline backend shows and closes it at the
    # end of that cell, so drawing into it from the next cell would be lost
    made = [i for i, line in enumerate(lines) if FIGURE_MADE.search(line)]
    if made:
        # before the figure is made, or after the last line that draws on it (prints, asserts)
        drawn = [i for i, line in enumerate(lines) if FIGURE_USED.search(line)]
        candidates = [c for c in candidates if c <= made[0] or c > max(drawn)]
        if not candidates:
            return None
        after = [c for c in candidates if c > max(drawn)]
        if after:
            return after[0]
    middle = len(lines) / 2
    return min(candidates, key=lambda c: abs(c - middle))


def split_too_tall(nb, too_tall: list) -> int:
    """Split each too-tall code cell once at split_point; the second part starts a subslide."""
    import uuid

    import nbformat

    done = 0
    for _, cell_id, _, _ in too_tall:
        i = next(k for k, c in enumerate(nb.cells) if c.get("id") == cell_id)
        cell = nb.cells[i]
        if cell.cell_type != "code":
            continue
        at = split_point(cell.source)
        if not at:
            continue
        lines = cell.source.split("\n")
        cell.source = "\n".join(lines[:at]).rstrip("\n")
        new = nbformat.v4.new_code_cell("\n".join(lines[at:]).strip("\n"))
        new.id = uuid.uuid4().hex[:8]
        new.metadata["slideshow"] = {"slide_type": "subslide"}
        nb.cells.insert(i + 1, new)
        done += 1
    return done


def fit(notebook: Path, dry_run: bool = False, split: bool = False) -> tuple[int, list]:
    with tempfile.TemporaryDirectory(prefix="fit-slides-") as tmp:
        out = Path(tmp)
        assets = local_assets(ROOT / "build" / "slides")
        for name in ("reveal.js", "mathjax"):
            (out / name).symlink_to(ROOT / "build" / "slides" / name)
        deck = export(execute(notebook), notebook.stem, out, assets)
        heights = cell_heights(deck)
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    types, too_tall = paginate(nb.cells, heights)
    changed = 0
    for cell, t in zip(nb.cells, types):
        if slide_type(cell) != t:
            cell.setdefault("metadata", {}).setdefault("slideshow", {})["slide_type"] = t
            changed += 1
    if split and too_tall:
        changed += split_too_tall(nb, too_tall)
    if changed and not dry_run:
        nbformat.write(nb, notebook)
    return changed, too_tall


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument(
        "--split", action="store_true", help="split code cells taller than a slide (then run again)"
    )
    args = parser.parse_args(argv)
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.names:
        notebooks = [p for p in notebooks if any(n in p.name for n in args.names)]
    for nb in notebooks:
        changed, too_tall = fit(nb, args.dry_run, args.split)
        print(f"{nb.name}: {changed} cell(s) now start a subslide", flush=True)
        for i, cid, h, text in too_tall:
            print(f"  cell {i} ({cid}) is {h} px on its own: {text!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
