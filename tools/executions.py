"""One execution of each lecture, shared by the tests, the slide decks and the website.

    executed(path) -> the notebook with its outputs and saved widget state

The executed copy is kept in build/executed/, keyed on the content it depends on: the notebook, the
library's sources and the shipped checkpoints' manifest. A second build without changes executes
nothing; any change executes again. The test suite runs every lecture anyway (conftest.py at the
root) and stores its executions here, so `make slides` and `make site` after `make test` reuse them.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "executed"


def content_key(notebook: Path) -> str:
    """sha256 (first 16 hex digits) of what an execution of `notebook` depends on."""
    h = hashlib.sha256(Path(notebook).read_bytes())
    library = sorted((ROOT / "course_lib").rglob("*.py"))
    for path in [*library, ROOT / "data" / "MANIFEST.json"]:
        if path.exists():
            h.update(path.relative_to(ROOT).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def cached_path(notebook: Path) -> Path:
    return CACHE / f"{Path(notebook).stem}-{content_key(notebook)}.ipynb"


def store(notebook: Path, nb) -> Path:
    """Keep an executed copy (written whole or not at all); older copies of the notebook go."""
    import nbformat

    target = cached_path(notebook)
    CACHE.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=CACHE)
    os.close(fd)
    nbformat.write(nb, tmp)
    os.replace(tmp, target)
    for old in CACHE.glob(f"{Path(notebook).stem}-*.ipynb"):
        if old != target:
            old.unlink(missing_ok=True)
    return target


def new_client(nb, notebook: Path, timeout: int = 600):
    """The NotebookClient every execution uses: the course kernel, widget state saved (the decks and
    the site draw each widget from it), run from the notebook's folder, nobody watching (COURSE_LIVE
    unset: live feedback draws only its final picture)."""
    from nbclient import NotebookClient

    os.environ.pop("MPLBACKEND", None)  # a non-inline backend in the kernel would drop every figure
    return NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(Path(notebook).parent)}},
    )


FRAMES_KEY = "course_frames"


def _frames_cell(path: str):
    import nbformat

    # only where the lecture showed course widgets (their module is loaded); nothing to import otherwise
    return nbformat.v4.new_code_cell(
        "import sys as _sys\n"
        "if 'course_lib.widgets.base' in _sys.modules:\n"
        f"    _sys.modules['course_lib.widgets.base'].export_frames({path!r})"
    )


def _with_frames_cell(nb, run) -> None:
    """run(index) with the frames cell appended to the notebook (nbclient writes a cell back at its
    index), then the cell removed and the frames it exported kept in the notebook's metadata."""
    with tempfile.NamedTemporaryFile(suffix=".json", prefix="course-frames-") as frames:
        nb.cells.append(_frames_cell(frames.name))
        try:
            run(len(nb.cells) - 1)
        finally:
            nb.cells.pop()
        nb.metadata[FRAMES_KEY] = json.loads(Path(frames.name).read_text() or "{}")


def collect_frames(client, nb) -> int:
    """After the last cell, in the same kernel: every shown course widget's precomputed pictures
    (course_lib.widgets.base.export_frames) go into the notebook's metadata, for the website's
    figures that move without a kernel. Returns how many widgets gave frames."""
    _with_frames_cell(nb, lambda index: client.execute_cell(nb.cells[index], index))
    return len(nb.metadata[FRAMES_KEY])


def executed(notebook: Path, timeout: int = 600):
    """The executed notebook: from the cache when nothing it depends on changed, else run now."""
    import nbformat

    notebook = Path(notebook)
    path = cached_path(notebook)
    if path.exists():
        return nbformat.read(path, as_version=4)
    nb = nbformat.read(notebook, as_version=4)
    _with_frames_cell(nb, lambda _: new_client(nb, notebook, timeout).execute())
    # what was stored, read back: a fresh execution and a cached one give the same notebook
    return nbformat.read(store(notebook, nb), as_version=4)
