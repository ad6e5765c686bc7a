"""Build reveal.js decks of the notebooks, executed:  python tools/build_slides.py [NAME ...] [--out build/slides]

Handouts and a fallback for a room without the live slideshow (README "Presenting"). Each notebook
is executed headless, then exported with nbconvert's slides exporter and the course's template
(tools/slides_template/course_reveal): the cells' slideshow metadata makes the slides, fragments
and speaker notes (press S), `notebooks/rise.css` sizes them for a 1280x720 projector like the
live RISE slideshow, and every widget is drawn from its saved state with its controls' current
values (tools/static_widgets.py).

Decks work offline: reveal.js and MathJax come from the npm registry once, at build time, into
build/slides/reveal.js and build/slides/mathjax; the decks load nothing else (no CDN).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

import course_lib  # noqa: F401  the course's thread policy; the kernels started here inherit it

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "slides_template"
REVEAL_VERSION = "5.1.0"
MATHJAX_VERSION = "3.2.2"
MATHJAX_FILE = "tex-svg-full.js"  # SVG output: one file, no web fonts to fetch
SLIDE_WIDTH, SLIDE_HEIGHT = 1280, 720
THEME = "course-white"


class AssetError(RuntimeError):
    pass


def npm_install(prefix: Path, packages: list[str]) -> Path:
    """Fetch npm packages (pinned "name@version") into prefix/node_modules; returns prefix.
    The decks' and the website's browser assets come from the npm registry this way, at build time."""
    npm = shutil.which("npm")
    if npm is None:
        raise AssetError(
            f"{', '.join(packages)} come from the npm registry, but npm is not installed "
            "(sudo apt-get install npm)"
        )
    prefix.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(prefix), *packages],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise AssetError(f"npm could not fetch {', '.join(packages)}:\n{result.stderr[-2000:]}")
    return prefix


def local_assets(out: Path) -> dict:
    """reveal.js and MathJax next to the decks (fetched once with npm); their relative URLs."""
    reveal, mathjax = out / "reveal.js", out / "mathjax" / MATHJAX_FILE
    if not (reveal / "dist" / "reveal.js").exists() or not mathjax.exists():
        tmp = npm_install(
            out / ".npm", [f"reveal.js@{REVEAL_VERSION}", f"mathjax@{MATHJAX_VERSION}"]
        )
        shutil.rmtree(reveal, ignore_errors=True)
        shutil.move(str(tmp / "node_modules" / "reveal.js"), str(reveal))
        mathjax.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp / "node_modules" / "mathjax" / "es5" / MATHJAX_FILE, mathjax)
        shutil.rmtree(tmp, ignore_errors=True)
    theme = reveal / "dist" / "theme" / f"{THEME}.css"
    if not theme.exists():
        # reveal's white theme without its web fonts (an @import from fonts.googleapis.com): the
        # decks fall back to the system's sans-serif and load nothing from the internet
        white = (reveal / "dist" / "theme" / "white.css").read_text()
        theme.write_text(re.sub(r"@import url\([^)]*\);?", "", white))
    return {"reveal": "reveal.js", "mathjax": f"mathjax/{MATHJAX_FILE}", "theme": THEME}


def execute(notebook: Path, timeout: int = 600):
    """The executed notebook, from the shared cache (tools/executions.py) when nothing changed."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from executions import executed

    return executed(notebook, timeout)


def export(nb, name: str, out: Path, assets: dict) -> Path:
    from nbconvert import SlidesExporter

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from static_widgets import replace_widget_outputs

    replace_widget_outputs(nb)
    exporter = SlidesExporter(
        template_name="course_reveal", extra_template_basedirs=[str(TEMPLATES)]
    )
    exporter.reveal_url_prefix = assets["reveal"]
    exporter.reveal_width = str(SLIDE_WIDTH)
    exporter.reveal_height = str(SLIDE_HEIGHT)
    exporter.reveal_number = "c/t"
    exporter.reveal_transition = "none"
    exporter.reveal_theme = assets.get("theme", THEME)
    resources = {
        "metadata": {"name": name},
        "course": {
            "mathjax_url": assets["mathjax"],
            "css": (ROOT / "notebooks" / "rise.css").read_text(),
        },
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    target = out / f"{name}.slides.html"
    target.write_text(body, encoding="utf-8")
    return target


def build(notebook: Path, out: Path, assets: dict | None = None, timeout: int = 600) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    assets = assets or local_assets(out)
    return export(execute(notebook, timeout), notebook.stem, out, assets)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook names (or parts of them); default: all")
    parser.add_argument("--out", default=str(ROOT / "build" / "slides"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if args.names:
        notebooks = [p for p in notebooks if any(n in p.name for n in args.names)]
    if not notebooks:
        parser.error("no notebook matches")
    try:
        assets = local_assets(out)
    except AssetError as e:
        parser.exit(1, f"build_slides: {e}\n")
    for nb in notebooks:
        print(f"{nb.name} -> {build(nb, out, assets)}", flush=True)
    print(f"open {out}/<name>.slides.html in a browser (arrow keys to move, S for speaker notes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
