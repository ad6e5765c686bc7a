"""Every lecture runs in the test suite, cell by cell in one kernel (what nbval did), through nbclient:
each code cell is a test item that fails with the cell's error, and the notebook's last item builds
its static slide deck from that same execution and checks that every slide fits a 1280x720
projector (issue: a change that makes a slide overflow must fail the tests, not wait for a bench).

The execution is stored in the shared cache (tools/executions.py), so `make slides` and `make site`
after `make test` execute nothing again. This file sits at the repository's root because pytest
only applies a conftest to the folders below it (one inside notebooks/ would ship in the wheel).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
from pathlib import Path

import pytest

# The lectures' kernels inherit this process's environment: the CPU, and the course's thread policy
# (import course_lib sets it before anything loads torch).
os.environ.setdefault("COURSE_DEVICE", "cpu")
import course_lib  # noqa: E402,F401

ROOT = Path(__file__).resolve().parent
LECTURE = "[0-9][0-9]_*.ipynb"
DECKS = ROOT / "build" / "test-decks"


def pytest_collect_file(parent, file_path):
    if file_path.parent == ROOT / "notebooks" and file_path.match(LECTURE):
        return LectureFile.from_parent(parent, path=file_path)
    return None


class LectureFile(pytest.File):
    """A lecture: its code cells in order, then its slides."""

    def collect(self):
        import nbformat

        self.nb = nbformat.read(self.path, as_version=4)
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type == "code":
                yield LectureCell.from_parent(self, name=f"Cell {index}", index=index)
        yield SlidesFit.from_parent(self, name="slides fit 1280x720")

    def setup(self):
        sys.path.insert(0, str(ROOT / "tools"))
        from executions import new_client

        self.failed: str | None = None
        self.client = new_client(self.nb, self.path)
        self._kernel = contextlib.ExitStack()
        self._kernel.enter_context(self.client.setup_kernel())

    def teardown(self):
        try:
            if self.failed is None:
                from executions import collect_frames, store

                collect_frames(self.client, self.nb)
                self.client.set_widgets_metadata()
                self.stored = store(self.path, self.nb)
        finally:
            self._kernel.close()  # the kernel stops, also after a failure


class LectureCell(pytest.Item):
    def __init__(self, *, index: int, **kwargs):
        super().__init__(**kwargs)
        self.index = index

    def runtest(self):
        from nbclient.exceptions import CellExecutionError

        lecture = self.parent
        if lecture.failed is not None:
            pytest.skip(f"an earlier cell failed ({lecture.failed})")
        try:
            lecture.client.execute_cell(lecture.nb.cells[self.index], self.index)
        except CellExecutionError as exc:
            lecture.failed = self.name
            raise CellError(str(exc)) from None
        except Exception:
            lecture.failed = self.name
            raise

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, CellError):
            return f"{self.parent.path.name}, {self.name} raised:\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::{self.name}"


class CellError(Exception):
    pass


class SlidesFit(pytest.Item):
    """The lecture's static deck, built from this execution, opened offline in Chromium: every slide
    inside 1280x720 (bench.slides.measure_decks measures each cell as shown)."""

    def runtest(self):
        from bench.browser import INSTALL_HINT, chromium_available

        lecture = self.parent
        if lecture.failed is not None:
            pytest.skip(f"the lecture did not run ({lecture.failed} failed)")
        if not chromium_available():
            if os.environ.get("CI"):
                pytest.fail(f"CI must measure the slides, but Chromium is missing: {INSTALL_HINT}")
            pytest.skip(f"Chromium not found; {INSTALL_HINT}")
        import copy

        from build_slides import export, local_assets

        from bench.slides import measure_decks

        DECKS.mkdir(parents=True, exist_ok=True)
        with open(DECKS / ".lock", "w") as lock:  # two test workers fetch the assets once
            fcntl.flock(lock, fcntl.LOCK_EX)
            assets = local_assets(DECKS)
        lecture.client.set_widgets_metadata()
        deck = export(copy.deepcopy(lecture.nb), lecture.path.stem, DECKS, assets)
        reports, blocked = measure_decks([deck])
        assert blocked == [], f"the deck asked the network for {blocked}"
        (report,) = reports
        assert report.slides >= 1, f"{deck.name}: no slides"
        assert report.overflowing == [], (
            f"{lecture.path.name}: slides taller than 720 px (number, first words, height): "
            f"{report.overflowing}. Shorten them, or run python tools/fit_slides.py "
            f"{lecture.path.stem[:2]}"
        )

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::{self.name}"
