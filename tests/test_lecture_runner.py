"""The runner that executes every lecture in the test suite (the root conftest.py): a failing cell is
reported with its error and stops the lecture, and a slide taller than the projector fails the
suite - tried on small lectures of a scratch repository, with pytest started for real."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _lecture(cells):
    return {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"c{i}",
                "metadata": meta,
                "outputs": [],
                "source": src,
            }
            for i, (src, meta) in enumerate(cells)
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _repo(tmp_path, name, cells):
    for part in ("conftest.py",):
        shutil.copy(ROOT / part, tmp_path / part)
    shutil.copytree(
        ROOT / "tools", tmp_path / "tools", ignore=shutil.ignore_patterns("__pycache__")
    )
    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / "rise.css", tmp_path / "notebooks" / "rise.css")
    (tmp_path / "notebooks" / f"{name}.ipynb").write_text(json.dumps(_lecture(cells)))
    assets = ROOT / "build" / "test-decks"
    if (assets / "reveal.js").exists():  # the suite fetched them already: no second npm install
        shutil.copytree(assets / "reveal.js", tmp_path / "build" / "test-decks" / "reveal.js")
        shutil.copytree(assets / "mathjax", tmp_path / "build" / "test-decks" / "mathjax")
    return tmp_path


def _pytest(repo):
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "notebooks", "-rs"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )


def test_a_failing_cell_is_named_with_its_error_and_stops_the_lecture(tmp_path):
    repo = _repo(tmp_path, "01_broken", [("x = 1", {}), ("1 / 0", {}), ("y = 2", {})])
    out = _pytest(repo)
    assert out.returncode == 1, out.stdout
    assert "01_broken.ipynb, Cell 1 raised" in out.stdout and "ZeroDivisionError" in out.stdout
    assert "1 failed, 1 passed, 2 skipped" in out.stdout, out.stdout
    assert "an earlier cell failed (Cell 1)" in out.stdout
    assert not list((repo / "build" / "executed").glob("*.ipynb")), "a failed run is not cached"


@pytest.mark.browser
def test_a_slide_taller_than_the_projector_fails_the_suite(tmp_path):
    from bench.browser import chromium_available

    if not chromium_available():
        pytest.skip("needs Chromium")
    tall = "\\n".join(f"print('line {i}')" for i in range(60))
    cells = [("x = 1", {"slideshow": {"slide_type": "slide"}}), (f"exec('''{tall}''')", {})]
    repo = _repo(tmp_path, "02_tall", cells)
    out = _pytest(repo)
    assert out.returncode == 1, out.stdout[-3000:]
    assert "02_tall.ipynb: slides taller than 720 px" in out.stdout, out.stdout[-3000:]
    assert len(list((repo / "build" / "executed").glob("02_tall-*.ipynb"))) == 1, (
        "the run was cached"
    )
