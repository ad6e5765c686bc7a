"""Build reveal.js decks of the notebooks, executed:  python tools/build_slides.py [NAME ...] [--out build/slides]

Each notebook is executed headless, then exported with nbconvert's slides exporter using the
cells' slideshow metadata. Widget state is not stored, so each widget shows the static PNG of its
current view (course_lib widgets put one in their output) instead of an empty box.
reveal.js comes from the npm registry into build/reveal.js when `npm` is available (decks then
work offline); otherwise the decks load it from a CDN.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import course_lib  # noqa: F401  the course's thread policy; the kernels started here inherit it

ROOT = Path(__file__).resolve().parent.parent
REVEAL_VERSION = "5.1.0"


def local_reveal(out: Path) -> str | None:
    """Install reveal.js next to the decks (once); return the relative URL prefix, or None."""
    target = out / "reveal.js"
    if (target / "dist" / "reveal.js").exists():
        return "reveal.js"
    npm = shutil.which("npm")
    if npm is None:
        return None
    tmp = out / ".npm"
    tmp.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            npm,
            "install",
            "--silent",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(tmp),
            f"reveal.js@{REVEAL_VERSION}",
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        print("npm could not fetch reveal.js; the decks will load it from a CDN", file=sys.stderr)
        return None
    shutil.move(str(tmp / "node_modules" / "reveal.js"), str(target))
    shutil.rmtree(tmp, ignore_errors=True)
    return "reveal.js"


def build(notebook: Path, out: Path, reveal_prefix: str | None, timeout: int = 600) -> Path:
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import SlidesExporter

    nb = nbformat.read(notebook, as_version=4)
    os.environ.pop("MPLBACKEND", None)  # a non-inline backend in the kernel would drop every figure
    NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        store_widget_state=False,
        resources={"metadata": {"path": str(notebook.parent)}},
    ).execute()
    exporter = SlidesExporter()
    if reveal_prefix:
        exporter.reveal_url_prefix = reveal_prefix
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": notebook.stem}})
    target = out / f"{notebook.stem}.slides.html"
    target.write_text(body, encoding="utf-8")
    return target


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
    prefix = local_reveal(out)
    for nb in notebooks:
        print(f"{nb.name} -> {build(nb, out, prefix)}", flush=True)
    print(f"open {out}/<name>.slides.html in a browser (arrow keys to move, S for speaker notes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
