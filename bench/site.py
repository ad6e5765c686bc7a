"""The course website in Chromium, offline:  python -m bench.site [--out bench/results.md]

Builds the site twice (cold: the executions may come from the shared cache, the Sphinx build is
fresh; cached: nothing changed), serves build/site on 127.0.0.1 and opens every page in Chromium
with every request that leaves the site blocked. Per page: console errors, requests that left,
images that did not load or have no alt text, math rendered by MathJax, the width at 390 px (a
phone), axe-core's critical and serious violations. The moving figures: time from a slider move
(or button press) to the new picture decoded and painted. Writes section 9 of bench/results.md.
The tests (tests/test_site.py) run the same checks on a smaller build.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import re
import shutil
import sys
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .browser import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "build" / "site-tools"
AXE_VERSION = "4.10.3"
PHONE_WIDTH = 390


# ----------------------------------------------------------------------------- serving
class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(folder: Path):
    """http://127.0.0.1:PORT serving `folder` (as `python -m http.server` does), stopped on exit."""
    handler = functools.partial(_Quiet, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def axe_source() -> str:
    """axe-core's browser script, from the npm registry once (build/site-tools)."""
    script = TOOLS / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        sys.path.insert(0, str(ROOT / "tools"))
        from build_slides import npm_install

        npm_install(TOOLS, [f"axe-core@{AXE_VERSION}"])
    return script.read_text()


# ----------------------------------------------------------------------------- one page
@dataclass
class PageReport:
    path: str
    console_errors: list = field(default_factory=list)
    outside: list = field(default_factory=list)
    broken_images: list = field(default_factory=list)
    no_alt: list = field(default_factory=list)
    math: int = 0  # formulas MathJax rendered
    raw_math: int = 0  # formulas left as TeX
    width_390: int = 0  # the page's scroll width on a 390 px screen
    axe: list = field(default_factory=list)  # (rule, impact, count) critical or serious
    links: list = field(default_factory=list)  # internal links, resolved against the page

    @property
    def ok(self) -> bool:
        return not (
            self.console_errors
            or self.outside
            or self.broken_images
            or self.no_alt
            or self.raw_math
            or self.width_390 > PHONE_WIDTH
            or self.axe
        )


PAGE_FACTS_JS = """() => {
  const imgs = [...document.images];
  const math = document.querySelectorAll('.math');
  return {
    broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => (i.currentSrc || i.src).slice(0, 80)),
    noAlt: imgs.filter(i => !i.hasAttribute('alt')
                            || (i.getAttribute('alt').trim() === '' && i.getAttribute('role') !== 'presentation'))
               .map(i => (i.currentSrc || i.src).slice(0, 80)),
    math: [...math].filter(m => m.querySelector('mjx-container')).length,
    rawMath: [...math].filter(m => !m.querySelector('mjx-container')).length,
    links: [...document.querySelectorAll('a[href]')].map(a => a.href)
             .filter(h => h.startsWith(location.origin)).map(h => h.split('#')[0]),
  };
}"""

AXE_JS = """async () => {
  // preload off: axe's own stylesheet fetch resolves @import against the page, not the sheet (a false 404)
  const r = await axe.run(document, {resultTypes: ['violations'], preload: false});
  return r.violations.filter(v => v.impact === 'critical' || v.impact === 'serious')
                     .map(v => [v.id, v.impact, v.nodes.length, v.nodes.slice(0, 2).map(n => n.target.join(' '))]);
}"""


def wait_for_math(page, seconds: float = 20) -> None:
    page.wait_for_function(
        "() => !window.MathJax || !MathJax.startup || !MathJax.startup.promise ? true : "
        "MathJax.startup.promise.then(() => true)",
        timeout=seconds * 1000,
    )


def check_page(context, base: str, path: str, axe: str | None) -> PageReport:
    report = PageReport(path)
    page = context.new_page()
    page.on(
        "console", lambda m: report.console_errors.append(m.text) if m.type == "error" else None
    )
    page.on("pageerror", lambda e: report.console_errors.append(str(e)))
    try:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{base}/{path}", wait_until="load")
        wait_for_math(page)
        page.wait_for_timeout(300)
        facts = page.evaluate(PAGE_FACTS_JS)
        report.broken_images, report.no_alt = facts["broken"], facts["noAlt"]
        report.math, report.raw_math = facts["math"], facts["rawMath"]
        report.links = sorted(set(facts["links"]))
        if axe:
            page.add_script_tag(content=axe)
            report.axe = [tuple(v) for v in page.evaluate(AXE_JS)]
        page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
        page.wait_for_timeout(200)
        report.width_390 = page.evaluate("document.documentElement.scrollWidth")
    finally:
        page.close()
    return report


def offline_context(browser):
    """A context where every request that leaves 127.0.0.1 is blocked and recorded."""
    context = browser.new_context()
    outside: list[str] = []

    def route(r):
        url = r.request.url
        if url.startswith(("http://127.0.0.1", "data:", "blob:")):
            r.continue_()
        else:
            outside.append(url)
            r.abort()

    context.route("**/*", route)
    return context, outside


def site_pages(site: Path) -> list[str]:
    """Every HTML page a reader reaches (Sphinx's genindex and search included)."""
    return sorted(
        p.relative_to(site).as_posix() for p in site.rglob("*.html") if "_static" not in p.parts
    )


def check_site(
    site: Path, pages: list[str] | None = None, with_axe: bool = True
) -> tuple[list[PageReport], list[str]]:
    """Every page checked; returns the reports and the internal links that do not resolve."""
    from playwright.sync_api import sync_playwright

    pages = pages or site_pages(site)
    axe = axe_source() if with_axe else None
    with serve(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context, outside = offline_context(browser)
            reports = []
            for path in pages:
                before = len(outside)
                report = check_page(context, base, path, axe)
                report.outside = outside[before:]
                reports.append(report)
            dead = []
            for link in sorted({link for r in reports for link in r.links}):
                response = context.request.get(link)
                if response.status != 200:
                    dead.append(f"{link.removeprefix(base)} ({response.status})")
        finally:
            browser.close()
    return reports, dead


# ----------------------------------------------------------------------------- moving figures
MOVE_JS = """async ([index, moves]) => {
  const fig = document.querySelectorAll('.course-figure')[index];
  const img = fig.querySelector('img.course-frame');
  const slider = fig.querySelector('input[type=range]');
  const buttons = [...fig.querySelectorAll('.course-figure-buttons button')];
  const times = [], changed = [];
  const ready = [];
  for (let i = 0; i < moves; i++) {
    // a person's move lands anywhere in a display frame, not just after one: wait a random part of a frame
    await new Promise(r => setTimeout(r, Math.random() * 16));
    const before = img.src;
    const t0 = performance.now();
    if (slider) {
      const max = Number(slider.max);
      slider.value = String((Number(slider.value) + 1 + Math.floor(max / 7)) % (max + 1));
      slider.dispatchEvent(new Event('input', {bubbles: true}));
    } else {
      buttons[(i + 1) % buttons.length].click();
    }
    await img.decode();
    ready.push(performance.now() - t0);  // the new picture decoded, ready for the next frame
    await new Promise(r => requestAnimationFrame(() => r()));
    times.push(performance.now() - t0);  // ... and that frame has begun: it is on the screen
    changed.push(img.src !== before);
  }
  return {times, ready, changed, title: fig.querySelector('.course-figure-title')?.textContent || '',
          frames: JSON.parse(fig.querySelector('script[type="application/json"]').textContent).frames.length,
          bytes: fig.querySelector('script[type="application/json"]').textContent.length};
}"""


def move_figures(site: Path, pages: list[str], moves: int = 30) -> list[dict]:
    """Every moving figure on these pages: each move, did the picture change, and how long until the
    new picture was decoded and painted (ms)."""
    from playwright.sync_api import sync_playwright

    rows = []
    with serve(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context, _ = offline_context(browser)
            for path in pages:
                page = context.new_page()
                page.goto(f"{base}/{path}", wait_until="load")
                count = page.evaluate("document.querySelectorAll('.course-figure').length")
                page.wait_for_timeout(
                    1500
                )  # the figures decode their pictures when the page is idle
                for i in range(count):
                    page.locator(".course-figure").nth(i).scroll_into_view_if_needed()
                    result = page.evaluate(MOVE_JS, [i, moves])
                    rows.append({"page": path, **result})
                page.close()
        finally:
            browser.close()
    return rows


# ----------------------------------------------------------------------------- weights and the bench table
def page_weight(site: Path, path: str) -> int:
    """Bytes of a page with the pictures and data it carries itself (the theme's shared files,
    cached after the first page, are not counted)."""
    page = site / path
    text = page.read_text(encoding="utf-8", errors="replace")
    total = len(text.encode())
    for ref in set(re.findall(r'<img[^>]+src="([^"]+)"', text)):
        if ref.startswith("data:"):
            continue
        target = (page.parent / ref.split("?")[0]).resolve()
        if target.exists():
            total += target.stat().st_size
    return total


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def table(
    build_cold: float, build_cached: float, executed: int, reports, dead, figures, site: Path
) -> str:
    pages = [r.path for r in reports]
    weights = {p: page_weight(site, p) for p in pages}
    heaviest = max(weights, key=weights.get)
    lines = [
        "| build | seconds |",
        "|---|---:|",
        f"| cold (Sphinx from scratch; {executed} lectures executed, the rest from the execution "
        f"cache) | {build_cold:.0f} |",
        f"| cached (nothing changed: nothing executed, Sphinx reads nothing again) | {build_cached:.0f} |",
        "",
        "| pages | total weight | heaviest page | console errors | requests leaving | broken images | "
        "images without alt | math rendered / left as TeX | wider than 390 px | axe critical+serious | "
        "dead internal links |",
        "|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---:|",
        f"| {len(pages)} | {sum(weights.values()) / 1e6:.1f} MB | {heaviest} ({weights[heaviest] / 1e6:.1f} MB) | "
        f"{sum(len(r.console_errors) for r in reports)} | {sum(len(r.outside) for r in reports)} | "
        f"{sum(len(r.broken_images) for r in reports)} | {sum(len(r.no_alt) for r in reports)} | "
        f"{sum(r.math for r in reports)} / {sum(r.raw_math for r in reports)} | "
        f"{sum(r.width_390 > PHONE_WIDTH for r in reports)} | {sum(len(r.axe) for r in reports)} | "
        f"{len(dead)} |",
        "",
        "| moving figure | page | frames | data | moves that changed the picture | "
        "picture ready p95 ms | shown (next frame) p50 ms | shown p95 ms | goal: ready p95 <= 16 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for f in figures:
        p95 = _percentile(f["ready"], 95)
        lines.append(
            f"| {f['title'].split(':')[0]} | {f['page']} | {f['frames']} | {f['bytes'] / 1e6:.2f} MB | "
            f"{sum(f['changed'])} of {len(f['changed'])} | {_percentile(f['ready'], 95):.1f} | "
            f"{_percentile(f['times'], 50):.1f} | {_percentile(f['times'], 95):.1f} | "
            f"{'met' if p95 <= 16 else 'MISSED'} |"
        )
    lines.append(
        '\nA move lands at a random point of a display frame. "Ready": the handler swapped the picture '
        'and it is decoded; "shown": the next frame has begun, so it is on the screen. Chromium paints at '
        "60 Hz (16.7 ms a frame): a picture ready within the frame it was asked in is shown in the next "
        'one, so the goal is checked on "ready"; "shown" adds the wait for that frame.'
    )
    problems = [r for r in reports if not r.ok]
    for r in problems[:5]:
        lines.append(
            f"\n{r.path}: {r.console_errors[:2]} {r.outside[:2]} {r.axe[:2]} width {r.width_390}"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.site", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", default="", help="write section 9 of this results file")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "tools"))
    import build_site

    shutil.rmtree(build_site.OUT, ignore_errors=True)
    shutil.rmtree(ROOT / "build" / "site-src-doctrees", ignore_errors=True)
    cold = build_site.build()
    cached = build_site.build()
    site = build_site.OUT
    reports, dead = check_site(site)
    lectures = [r.path for r in reports if r.path.startswith("lectures/")]
    figures = move_figures(site, lectures)
    body = table(cold["seconds"], cached["seconds"], cold["executed"], reports, dead, figures, site)
    print(body)
    if args.out:
        from bench.__main__ import write_section

        title = "9. The course website (`python -m bench.site`)"
        write_section(args.out, "9", title, body, "python -m bench.site --out bench/results.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
