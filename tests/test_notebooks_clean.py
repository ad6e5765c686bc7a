"""Notebooks are committed clean: no outputs, no execution counts, slideshow metadata on every cell.

Running them is the root conftest.py's job: `pytest` runs notebooks/*.ipynb cell by cell and measures their slides.
"""

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}


def test_there_are_notebooks_in_teaching_order():
    assert NOTEBOOKS, "notebooks/ holds the course"
    for nb in NOTEBOOKS:
        assert nb.name[:2].isdigit() and nb.name[2] == "_", f"{nb.name}: name it NN_topic.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], (
                f"{path.name} cell {i} has outputs: clear them before committing"
            )
            assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_can_be_presented(path):
    nb = nbformat.read(path, as_version=4)
    types = [cell.metadata.get("slideshow", {}).get("slide_type") for cell in nb.cells]
    assert all(t in SLIDE_TYPES for t in types), f"{path.name}: every cell needs slideshow metadata"
    assert types[0] == "slide" and types.count("slide") >= 3, (
        f"{path.name}: a title slide and sections"
    )
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    starts = [i for i, t in enumerate(types) if t in ("slide", "subslide")] + [len(types)]
    for i, t in enumerate(types):
        if t != "notes":
            continue
        # speaker notes are about the demo on their own slide (the notes window shows them with it)
        begin = max(s for s in starts if s <= i)
        end = min(s for s in starts if s > i)
        shown = [
            j for j in range(begin, end) if nb.cells[j].cell_type == "code" and types[j] != "skip"
        ]
        assert shown, (
            f"{path.name} cell {i}: these speaker notes sit on a slide with no demo; move them onto its slide"
        )
    rise = nb.metadata.get("rise", {})
    assert (rise.get("width"), rise.get("height")) == (1280, 720), (
        f"{path.name}: slides for 1280x720"
    )
    # reveal's "simple" theme (RISE's default) asks fonts.googleapis.com for its fonts; "white"
    # uses fonts shipped with RISE, so the slideshow loads nothing from the internet
    assert rise.get("theme") == "white", f"{path.name}: rise theme 'white' (offline fonts)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_seeds_and_has_a_checked_exercise(path):
    source = "\n".join(
        c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"
    )
    assert "seed_everything(" in source, f"{path.name}: seed at the top, so numbers repeat"
    assert "check." in source and "assert check." in source, (
        f"{path.name}: exercises checked by course_lib.check"
    )


SCRIPTS = NOTEBOOKS[0].parent / "scripts" if NOTEBOOKS else None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_and_its_paired_script_say_the_same(path):
    """jupytext.toml pairs each notebook with notebooks/scripts/NN_name.py; after editing either, run
    `.venv/bin/jupytext --sync notebooks/*.ipynb`."""
    import jupytext

    script = SCRIPTS / f"{path.stem}.py"
    assert script.exists(), f"{script} is missing: run .venv/bin/jupytext --sync {path}"
    nb, text = nbformat.read(path, as_version=4), jupytext.read(script)

    def cells(notebook):
        return [
            (
                c.cell_type,
                c.source.strip(),
                c.metadata.get("slideshow", {}).get("slide_type"),
                tuple(c.metadata.get("tags", ())),
            )
            for c in notebook.cells
        ]

    assert cells(nb) == cells(text), (
        f"{path.name} and {script.name} differ: run .venv/bin/jupytext --sync {path}"
    )


# ----------------------------------------------------------------------------- the graded labs
LABS = sorted((Path(__file__).resolve().parent.parent / "labs").glob("*.ipynb"))


@pytest.mark.parametrize("path", LABS, ids=lambda p: p.name)
def test_lab_is_clean_paired_and_its_grade_cells_are_sound(path):
    """labs/NN_..._lab.ipynb: no outputs; the same cells as labs/scripts/NN_..._lab.py (after
    editing either, `.venv/bin/jupytext --sync labs/*.ipynb`); every answer cell has solution
    markers (code) or a model answer (markdown), every test cell points and a unique grade_id, and
    the notebook says which lab it is (what `python -m course_lib grade` reads)."""
    import jupytext

    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("course_lab") == path.stem
    script = path.parent / "scripts" / f"{path.stem}.py"
    pair = jupytext.read(script)

    def cells(notebook):
        return [(c.cell_type, c.source.strip(), c.metadata.get("nbgrader")) for c in notebook.cells]

    assert cells(nb) == cells(pair), f"run .venv/bin/jupytext --sync {path}"
    ids = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "clear the outputs"
        meta = cell.metadata.get("nbgrader")
        if not meta:
            continue
        ids.append(meta["grade_id"])
        if meta["solution"] and cell.cell_type == "code":
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
        if meta["grade"]:
            assert meta["points"] > 0
        if meta["grade"] and not meta["solution"]:
            assert meta["locked"], f"{meta['grade_id']}: test cells are locked"
    assert len(ids) == len(set(ids)), "grade_ids must be unique"
