"""Build the course website:  python tools/build_site.py [NAME ...] [--out build/site]

Every lecture as a page with its outputs and figures, read in a browser without a kernel, offline.
The pages come from the executed notebooks the tests and the slide decks share (tools/executions.py:
a cache keyed on the notebook's content, so a second build without changes executes nothing), built
by Sphinx with myst-nb and sphinx-book-theme (website/conf.py; README "The course website" says
why not mystmd). The four flagship widgets move on the page from pictures they precomputed after the
lecture ran (course_lib.widgets.base.Frames, website/_static/course-figures.js); every other widget
shows its saved picture with its controls' values, as the static decks do. MathJax comes from the
npm registry at build time and sits next to the pages. The API reference is generated from
course_lib's docstrings; Sphinx's own search index makes the search.

Links on each lecture page: the notebook to download, the class hub (an nbgitpuller link, hub/)
and, when the course has a public repository, Binder. Settings (environment variables):
    COURSE_HUB_URL      the class hub's address (default http://localhost:8000, as `make hub` starts it)
    COURSE_HUB_REPO     the repository the hub pulls from (default the one `make hub-publish` fills)
    COURSE_BINDER_REPO  a public GitHub repository "owner/name" for Binder links (default: none)
"""

from __future__ import annotations

import argparse
import copy
import filecmp
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from executions import FRAMES_KEY, executed  # noqa: E402
from static_widgets import WIDGET_STATE, WIDGET_VIEW, static_widget_html  # noqa: E402

WEBSITE = ROOT / "website"
SOURCE = (
    ROOT / "build" / "site-src"
)  # the staged pages Sphinx reads (kept: Sphinx rebuilds what changed)
OUT = ROOT / "build" / "site"
HUB_URL = os.environ.get("COURSE_HUB_URL", "http://localhost:8000")
HUB_REPO = os.environ.get("COURSE_HUB_REPO", "file:///srv/course-hub/course.git")
BINDER_REPO = os.environ.get("COURSE_BINDER_REPO", "")

# The library's parts, in the order the API reference lists them
API_MODULES = [
    ("course_lib", "seeds, devices, evaluation mode"),
    ("course_lib.data", "datasets, offline and seeded"),
    ("course_lib.train", "the training loop: fit, Trainer, EMA, guards, GANTrainer"),
    ("course_lib.models", "the lectures' models"),
    ("course_lib.widgets", "interactive views"),
    ("course_lib.check", "exercise checkers"),
    ("course_lib.plot", "figures"),
    ("course_lib.metrics", "judging generators"),
    ("course_lib.probes", "linear probes"),
    ("course_lib.features", "handcrafted features"),
    ("course_lib.checkpoints", "shipped weights, sha256-checked"),
    ("course_lib.feedback", "live feedback paid for by the work"),
    ("course_lib.threads", "the CPU thread policy"),
]


# ----------------------------------------------------------------------------- lecture pages
def lecture_title(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, re.M)
            if match:
                return match.group(1).strip()
    return "lecture"


def topics_from_readme() -> dict[str, str]:
    """{notebook stem: topic} from README's table "The course" (one place says what each lecture is)."""
    topics = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        match = re.match(r"\|\s*`(\d\d_[a-z_]+)`\s*\|\s*(.+?)\s*\|\s*$", line)
        if match:
            topics[match.group(1)] = match.group(2)
    return topics


def hub_link(name: str) -> str:
    query = urlencode(
        {
            "repo": HUB_REPO,
            "branch": "main",
            "targetpath": "course",
            "urlpath": f"lab/tree/course/notebooks/{name}.ipynb",
        },
        quote_via=quote,
        safe="",
    )
    return f"{HUB_URL.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def binder_link(name: str) -> str | None:
    if not BINDER_REPO:
        return None
    return f"https://mybinder.org/v2/gh/{BINDER_REPO}/HEAD?labpath=notebooks%2F{name}.ipynb"


def links_cell(name: str):
    import nbformat

    items = [
        f'<a href="../notebooks/{name}.ipynb" download>Download the notebook</a>',
        f'<a href="{html.escape(hub_link(name))}">Open on the class hub</a>',
    ]
    binder = binder_link(name)
    if binder:
        items.append(f'<a href="{html.escape(binder)}">Open in Binder</a>')
    body = "\n".join(items)
    note = (
        "Read here without a kernel: the outputs are those of the course's own run. Pictures with a "
        "slider or buttons move here too; the other widgets show the picture they saved. To change "
        "a number and run it again, open the notebook."
    )
    cell = nbformat.v4.new_markdown_cell(
        f'<nav class="course-lecture-links" aria-label="this lecture elsewhere">\n{body}\n</nav>\n\n'
        f'<p class="course-static-note">{note}</p>'
    )
    cell.id = "course-links"  # the same page twice is the same file (Sphinx then rebuilds nothing)
    return cell


def interactive_html(model_id: str, frames: dict, saved_png: str | None) -> str:
    """A moving figure: its data for course-figures.js and, for readers without JavaScript, the
    saved picture."""
    data = json.dumps(frames, separators=(",", ":")).replace("</", "<\\/")
    saved = ""
    if saved_png:
        saved = (
            '<img class="course-figure-saved" alt="the saved picture of this figure" '
            f'src="data:image/png;base64,{saved_png}">'
        )
    return (
        f'<div class="course-figure" data-model="{html.escape(model_id)}">'
        f'<script type="application/json">{data}</script>{saved}</div>'
    )


ALT_PATTERNS = [
    r"suptitle\(\s*f?\"([^\"]+)\"",
    r"set_title\(\s*f?\"([^\"]+)\"",
    r"title=f?\"([^\"]+)\"",
    r"plt\.title\(\s*f?\"([^\"]+)\"",
]


def alt_text(source: str, heading: str) -> str:
    """What a figure shows, in words, from the titles its cell gives it (f-string fields left as
    "..."); else the section it belongs to."""
    titles = []
    for pattern in ALT_PATTERNS:
        for text in re.findall(pattern, source):
            text = re.sub(r"\{[^}]*\}", "...", text).strip()
            if text and text not in titles:
                titles.append(text)
    if titles:
        return "Figure: " + "; ".join(titles[:3])
    return f"Figure of the section '{heading}'" if heading else "Figure produced by the code above"


def static_img_alts(body: str, alt: str) -> str:
    """Saved widget pictures get the widget's alt text."""
    return re.sub(r"<img (?![^>]*\balt=)", f'<img alt="{html.escape(alt)}" ', body)


def prepare(nb, name: str):
    """The executed notebook as the site shows it: widgets drawn (moving or saved), no speaker
    notes (they are for the presenter), links to the notebook, alt text on every figure."""
    nb = copy.deepcopy(nb)
    states = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    frames = nb.metadata.get(FRAMES_KEY, {})
    cells, heading, moving = [], "", 0
    for cell in nb.cells:
        slide = cell.get("metadata", {}).get("slideshow", {}).get("slide_type")
        if cell.cell_type == "markdown" and slide == "notes":
            continue
        if cell.cell_type == "markdown":
            # links to the repository's files (../bench/results.md) name the file instead
            cell.source = re.sub(
                r"\[([^\]]+)\]\(\.\./([^)#]+)[^)]*\)",
                r"\1 (`\2` in the course's repository)",
                cell.source,
            )
            match = re.search(r"^#+\s+(.+)$", cell.source, re.M)
            heading = match.group(1).strip() if match else heading
        if cell.cell_type == "code":
            alt = alt_text(cell.source, heading)
            cell.metadata.setdefault("mystnb", {})["image"] = {"alt": alt}
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                view = data.get(WIDGET_VIEW)
                if not view:
                    continue
                model_id = view.get("model_id", "")
                if model_id in frames:
                    body = interactive_html(model_id, frames[model_id], data.get("image/png"))
                    moving += 1
                else:
                    body = static_widget_html(model_id, states)
                    body = f'<div class="course-static-widget">{static_img_alts(body, alt)}</div>'
                output["data"] = {"text/html": body}
                output.setdefault("metadata", {})
        cells.append(cell)
    title_at = next((i for i, c in enumerate(cells) if c.cell_type == "markdown"), 0)
    cells.insert(title_at + 1, links_cell(name))
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    nb.metadata.pop(FRAMES_KEY, None)
    return nb, moving


# ----------------------------------------------------------------------------- labs
def release_labs(numbers: list[str]) -> list[Path]:
    """The graded labs' student versions (as `make labs` makes them, in build/release/) of the
    lectures numbered `numbers`: solutions and hidden tests are never on the site."""
    from course_lib.grading.autograde import lab_names, release

    labs = [name for name in lab_names() if name[:2] in numbers]
    return release(ROOT / "build" / "release", labs) if labs else []


def lab_page(path: Path):
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    note = nbformat.v4.new_markdown_cell(
        f'<nav class="course-lecture-links" aria-label="this lab elsewhere">\n'
        f'<a href="../lab-files/{path.name}" download>Download the lab</a>\n</nav>\n\n'
        '<p class="course-static-note">A graded lab: the tasks as students get them. Fetch it from '
        "the Assignments tab on the class hub, or download it, work in JupyterLab and grade your copy "
        'with <code>python -m course_lib grade</code> (README "Grading").</p>'
    )
    note.id = "course-lab-links"
    nb.cells.insert(1, note)
    for cell in nb.cells:  # nbgrader's bookkeeping is not for readers
        cell.metadata.pop("nbgrader", None)
    return nb


# ----------------------------------------------------------------------------- other pages
def home_page(lectures: list[tuple[str, str]], labs: list[tuple[str, str]] = ()) -> str:
    topics = topics_from_readme()
    rows = "\n".join(
        f"| {name[:2]} | [{title}](lectures/{name}.ipynb) | {topics.get(name, '')} |"
        for name, title in lectures
    )
    toctree = "\n".join(f"lectures/{name}" for name, _ in lectures)
    lab_rows = "\n".join(f"| {name[:2]} | [{title}](labs/{name}.ipynb) |" for name, title in labs)
    lab_toctree = "\n".join(f"labs/{name}" for name, _ in labs)
    labs_part = (
        f"""
## The graded labs

After each lecture, a lab: 4-5 tasks from a formula to a trained model judged on data it never saw,
graded by the course's autograder (nbgrader) on the class hub, or on your own machine with
`python -m course_lib grade`.

| | lab |
|---|---|
{lab_rows}
"""
        if labs
        else ""
    )
    labs_toctree = (
        f"\n```{{toctree}}\n:hidden:\n:caption: Graded labs\n\n{lab_toctree}\n```\n" if labs else ""
    )
    return f"""# Deep learning architectures, hands-on

One Jupyter notebook per lecture, from dropout and convolutions to GANs, diffusion, LSTMs and
self-supervised learning. Each runs offline on a laptop CPU in about a minute, with sliders and
buttons to play with and exercises that check your answer. This site shows every lecture as the
course ran it: read it before or after class, on a laptop or a phone, without installing anything.
The figures with a slider or buttons still move here.

## The lectures

| | lecture | what it covers |
|---|---|---|
{rows}

## How to run it

The site cannot run code. To change a number and run a lecture again, open it on the class hub
(the link at the top of each lecture) or on your own machine: with Python 3.11 and `make`, in a
copy of the course's repository,

```bash
make lab     # set everything up (.venv), then open the course in JupyterLab
```

Each lecture page also links its notebook to download; it needs the course's library, `course_lib`,
which `make lab` installs. The [API reference](api.md) lists what the library offers.
{labs_part}
```{{toctree}}
:hidden:
:caption: Lectures

{toctree}
```
{labs_toctree}
```{{toctree}}
:hidden:
:caption: Reference

api
```
"""


def api_page() -> str:
    parts = [
        "# API reference: `course_lib`",
        "",
        "What the notebooks import, generated from the library's docstrings. Use the search "
        "(top of the page) to find a function by name.",
        "",
    ]
    for module, what in API_MODULES:
        parts += [
            f"## `{module}`: {what}",
            "",
            "```{eval-rst}",
            f".. automodule:: {module}",
            "```",
            "",
        ]
    return "\n".join(parts)


# ----------------------------------------------------------------------------- building
def write_if_changed(path: Path, text: str) -> bool:
    """Sphinx rebuilds the pages whose files changed: leave unchanged ones alone. True if written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def copy_if_changed(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if not dst.exists() or not filecmp.cmp(src, dst, shallow=False):
        shutil.copy2(src, dst)


def mathjax(static: Path) -> None:
    """MathJax from the npm registry (fetched once, shared with the slide decks)."""
    from build_slides import MATHJAX_FILE, local_assets

    assets = ROOT / "build" / "slides"
    local_assets(assets)
    copy_if_changed(assets / "mathjax" / MATHJAX_FILE, static / "mathjax" / MATHJAX_FILE)


def stage(notebooks: list[Path], source: Path = SOURCE, timeout: int = 600) -> dict:
    """Write the pages Sphinx reads into `source`; returns what was staged."""
    import nbformat
    from executions import cached_path

    for src in WEBSITE.rglob("*"):
        if src.is_file():
            copy_if_changed(src, source / src.relative_to(WEBSITE))
    mathjax(source / "_static")
    lectures, moving, executed_now = [], {}, 0
    for path in notebooks:
        executed_now += not cached_path(path).exists()
        nb = executed(path, timeout)
        page, moving[path.stem] = prepare(nb, path.stem)
        write_if_changed(source / "lectures" / f"{path.stem}.ipynb", nbformat.writes(page))
        copy_if_changed(path, source / "downloads" / "notebooks" / path.name)
        lectures.append((path.stem, lecture_title(nb)))
    labs = []
    for path in release_labs([p.stem[:2] for p in notebooks]):
        write_if_changed(source / "labs" / path.name, nbformat.writes(lab_page(path)))
        copy_if_changed(path, source / "downloads" / "lab-files" / path.name)
        labs.append((path.stem, lecture_title(nbformat.read(str(path), as_version=4))))
    contents_changed = write_if_changed(source / "index.md", home_page(lectures, labs))
    write_if_changed(source / "api.md", api_page())
    return {
        "lectures": lectures,
        "labs": labs,
        "moving": moving,
        "executed": executed_now,
        "contents_changed": contents_changed,
    }


def sphinx(source: Path, out: Path, fresh: bool = False) -> subprocess.CompletedProcess:
    """sphinx-build; `fresh` when the table of contents changed (every page's sidebar lists the
    lectures, and an incremental build would leave the old list on the pages it does not rewrite)."""
    env = dict(os.environ, COURSE_ROOT=str(ROOT))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-b",
            "html",
            "-q",
            *(["-E", "-a"] if fresh else []),
            "-d",
            str(source.parent / f"{source.name}-doctrees"),
            str(source),
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
    )


def build(
    names: list[str] | None = None, out: Path = OUT, source: Path = SOURCE, timeout: int = 600
) -> dict:
    """Stage the pages in `source` and build the site into `out`; what was built, and how long it took."""
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if names:
        notebooks = [p for p in notebooks if any(n in p.name for n in names)]
        if not notebooks:
            raise ValueError(f"no lecture matches {names}")
    start = time.perf_counter()
    staged = stage(notebooks, source, timeout)
    # a lecture no longer asked for leaves the staged pages
    keep = {f"{name}.ipynb" for name, _ in staged["lectures"]}
    keep |= {f"{name}.ipynb" for name, _ in staged["labs"]}
    for old in [*(source / "lectures").glob("*.ipynb"), *(source / "labs").glob("*.ipynb")]:
        if old.name not in keep:
            old.unlink()
    result = sphinx(source, out, fresh=staged["contents_changed"])
    if result.returncode != 0:
        raise RuntimeError(f"sphinx-build failed:\n{result.stderr[-4000:]}")
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line or "ERROR" in line]
    return {
        **staged,
        "seconds": time.perf_counter() - start,
        "warnings": warnings,
        "out": out,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="lecture names (or parts of them); default: all")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    report = build(args.names or None, Path(args.out))
    for line in report["warnings"]:
        print(line, file=sys.stderr)
    print(
        f"{len(report['lectures'])} lectures and {len(report['labs'])} labs "
        f"({report['executed']} executed now, the rest from the cache), "
        f"{sum(report['moving'].values())} moving figures, {len(report['warnings'])} warnings, "
        f"{report['seconds']:.0f} s -> {report['out']}/index.html"
    )
    print(
        f"preview: cd {report['out']} && python -m http.server 8000  (then open http://localhost:8000)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
