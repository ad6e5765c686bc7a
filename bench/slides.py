"""Does every slide fit a 1280x720 projector?  python -m bench.slides [--decks build/slides] [--live]

Opens each slide of each deck in headless Chromium at 1280x720, in the static decks (make slides)
and, with --live, in the live RISE slideshow in JupyterLab (every cell run first), and counts the
slides that overflow: content taller than the slide (it would need scrolling), a code line or a
widget that reaches past the right edge (cut off). Every fragment is shown while measuring (the
last state of a slide is its fullest). The static decks are opened with the network blocked, so a
deck that needs anything from the internet shows it here as well.

Used by tests/test_slides.py and the "Slides fit the projector" section of bench/results.md.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from bench.browser import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 1280, 720

# Measured in slide coordinates (reveal scales the 1280x720 slide to the window): for the slide
# shown, the bottom of its lowest element and the right edge of its widest one, and code blocks
# whose text is wider than their box.
MEASURE_JS = """([width, height]) => {
  const slide = document.querySelector('.reveal .slides section.present:not(.stack)')
             || document.querySelector('.reveal .slides section.present');
  if (!slide) return null;
  const box = document.querySelector('.reveal .slides');
  // elements with no area (MathJax's glyph boxes, empty wrappers) take no room on the slide
  const scale = (window.Reveal && Reveal.getScale) ? Reveal.getScale()
              : box.getBoundingClientRect().width / box.offsetWidth;   // RISE keeps Reveal private
  const top = slide.getBoundingClientRect().top, left = slide.getBoundingClientRect().left;
  let bottom = 0, right = 0, cut = [];
  for (const el of slide.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    if (el.closest('aside.notes')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    bottom = Math.max(bottom, (r.bottom - top) / scale);
    right = Math.max(right, (r.right - left) / scale);
    if ((el.matches('pre, .cm-content, .cm-line') || el.classList.contains('highlight'))
        && el.scrollWidth > el.clientWidth + 2 && style.overflowX !== 'visible') cut.push(el.tagName);
  }
  const title = (slide.querySelector('h1, h2, h3') || {}).textContent || '';
  return {bottom: Math.round(bottom), right: Math.round(right), cut: cut.length,
          title: title.trim().slice(0, 60)};
}"""


@dataclass
class SlideReport:
    notebook: str
    slides: int = 0
    overflowing: list = field(default_factory=list)  # (index, title, why)
    math: int = 0
    raw_math: int = 0

    @property
    def ok(self) -> bool:
        return not self.overflowing


def _verdict(m: dict) -> str | None:
    why = []
    if m["bottom"] > HEIGHT + 2:
        why.append(f"{m['bottom']} px tall")
    if m["right"] > WIDTH + 2:
        why.append(f"{m['right']} px wide")
    if m["cut"]:
        why.append(f"{m['cut']} code block(s) cut")
    return ", ".join(why) or None


def _measure_shown(page, report: SlideReport, n: int) -> None:
    """Measure the slide on screen (slide n, from 0) against WIDTH x HEIGHT; count it in report."""
    m = page.evaluate(MEASURE_JS, [WIDTH, HEIGHT])
    report.slides += 1
    why = _verdict(m) if m else "no slide shown"
    if why:
        report.overflowing.append((n + 1, m["title"] if m else "", why))


def measure_deck(page, deck: Path) -> SlideReport:
    """Every slide of a static deck (file://, network blocked by the caller)."""
    page.goto(deck.resolve().as_uri())
    page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
    page.wait_for_function("() => document.body.dataset.mathjax === 'done'", timeout=60_000)
    report = SlideReport(deck.name.split(".")[0])
    slides = page.evaluate(
        "() => Reveal.getSlides().map(s => Reveal.getIndices(s)).map(i => [i.h, i.v || 0])"
    )
    for n, (h, v) in enumerate(slides):
        page.evaluate(
            "([h, v]) => { Reveal.slide(h, v, 1e6); document.querySelectorAll("
            "'.reveal .present .fragment').forEach(f => f.classList.add('visible')); }",
            [h, v],
        )
        page.wait_for_timeout(30)
        _measure_shown(page, report, n)
    report.math = page.evaluate("() => document.querySelectorAll('mjx-container').length")
    report.raw_math = page.evaluate(
        r"""() => [...document.querySelectorAll('.jp-RenderedMarkdown')]
            .filter(e => /\$[^$\s][^$]*\$/.test(e.textContent)).length"""
    )
    return report


def live_slides(page) -> list[str]:
    """The ids of every slide of the RISE slideshow shown in `page` ("slide-H-V"), in order."""
    return page.evaluate("""() => {
        const out = [];
        for (const top of document.querySelectorAll('.reveal .slides > section')) {
            const inner = top.querySelectorAll(':scope > section');
            for (const s of (inner.length ? inner : [top])) out.push(s.id);
        }
        return out; }""")


def go_to_live_slide(page, slide_id: str, timeout_ms: int = 15_000) -> None:
    """Show one slide of the RISE slideshow (reveal follows the URL's #/id). If reveal was moved
    without the URL (the hash already names the slide), the hash is set away and back; one retry."""
    shown = "(id) => { const s = document.getElementById(id); return s && s.classList.contains('present'); }"
    for attempt in range(2):
        page.evaluate(
            "(id) => { if (location.hash === '#/' + id) location.hash = '#/'; location.hash = '#/' + id; }",
            slide_id,
        )
        try:
            page.wait_for_function(shown, arg=slide_id, timeout=timeout_ms)
            return
        except Exception:
            if attempt:
                raise


def measure_live(page, notebook: str) -> SlideReport:
    """Every slide of the RISE slideshow open in `page` (its cells already run)."""
    report = SlideReport(notebook)
    for n, slide_id in enumerate(live_slides(page)):
        go_to_live_slide(page, slide_id)
        page.wait_for_timeout(150)
        _measure_shown(page, report, n)
    report.math = page.evaluate("() => document.querySelectorAll('mjx-container').length")
    return report


def offline_browser(pw):
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    blocked: list[str] = []

    def route(r):
        if r.request.url.startswith(("file://", "data:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    return browser, context, blocked


def measure_decks(decks: list[Path]) -> tuple[list[SlideReport], list[str]]:
    from playwright.sync_api import sync_playwright

    reports = []
    with sync_playwright() as pw:
        browser, context, blocked = offline_browser(pw)
        try:
            page = context.new_page()
            for deck in decks:
                reports.append(measure_deck(page, deck))
        finally:
            browser.close()
    return reports, blocked


def table(reports: list[SlideReport], where: str) -> str:
    rows = [
        f"| {where} | notebook | slides | overflowing | math rendered | worst |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in reports:
        worst = "; ".join(f"#{i} {t!r}: {w}" for i, t, w in r.overflowing[:2]) or "-"
        rows.append(f"| | {r.notebook} | {r.slides} | {len(r.overflowing)} | {r.math} | {worst} |")
    total = sum(len(r.overflowing) for r in reports)
    rows.append(
        f"| **all** | | **{sum(r.slides for r in reports)}** | **{total}** | | goal 0: "
        f"{'met' if total == 0 else 'MISSED'} |"
    )
    return "\n".join(rows)


def measure_live_all(notebooks: list[str]) -> list[SlideReport]:
    """Each notebook as a live RISE slideshow in JupyterLab: every cell run (the instructor's one
    key), then every slide measured with the widgets live."""
    from bench.browser import JupyterLabSession

    reports = []
    with JupyterLabSession() as lab:
        for name in notebooks:
            page = lab.open_slideshow(f"notebooks/{name}.ipynb")
            try:
                lab.run_all_in_slideshow(page)
                reports.append(measure_live(page, name))
            except Exception as e:  # one lecture's failure is a row of the table, not the end
                report = SlideReport(name)
                report.overflowing.append((0, "", f"not measured: {type(e).__name__}: {e}"[:200]))
                reports.append(report)
            print(
                f"  live {name}: {reports[-1].slides} slides, {len(reports[-1].overflowing)} overflowing",
                flush=True,
            )
            page.close()
    return reports


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.slides", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--decks", default=str(ROOT / "build" / "slides"))
    parser.add_argument("--live", action="store_true", help="also measure the live RISE slideshows")
    parser.add_argument("--out", default="", help="write section 7 of this results file")
    args = parser.parse_args(argv)
    decks = sorted(Path(args.decks).glob("[0-9][0-9]_*.slides.html"))
    if not decks:
        parser.exit(1, f"no decks in {args.decks}: run `make slides` first\n")
    reports, blocked = measure_decks(decks)
    text = [table(reports, "static deck")]
    print(text[0], flush=True)
    if args.live:
        live = measure_live_all([d.name.split(".")[0] for d in decks])
        text += ["", table(live, "live RISE")]
        reports += live
    text.append("")
    text.append(
        "Every slide at 1280x720 in Chromium, every fragment shown. Overflowing: taller than the "
        "slide, wider than it, or a code block cut at the right edge. Static decks opened with the "
        "network blocked: "
        + (
            f"they asked for {sorted(set(blocked))}."
            if blocked
            else "they asked the network for nothing."
        )
    )
    body = "\n".join(text)
    print(body)
    for r in reports:
        for i, t, w in r.overflowing:
            print(f"  {r.notebook} slide {i} {t!r}: {w}")
    if args.out:
        from bench.__main__ import machine_line, merge_sections

        out = Path(args.out)
        title = "7. Slides fit the projector (`python -m bench.slides --live`)"
        text = merge_sections(
            out.read_text(), {"7": (title, body)}, machine_line(), "python -m bench.slides --live"
        )
        out.write_text(text)
        print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
