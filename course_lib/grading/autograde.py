"""The graded labs (labs/) with nbgrader: the course's grading settings, the student versions, and a
local grade that equals the instructor's autograder.

    python -m course_lib grade MY_COPY.ipynb          a student grades their own copy (any folder)
    python -m course_lib.grading release              `make labs`: build/labs/ (nbgrader's course
                                                      folder) and build/release/ (student versions)

One function, `settings.configure`, holds every setting that decides a score (the stubs, the
timeouts, the grading kernel); the instructor's nbgrader (hub/nbgrader_config.py,
build/labs/nbgrader_config.py) and `grade` all use it, so a submission gets the same points
wherever it is graded.

`grade` does what nbgrader does on the hub, in a private temporary course folder: the lab's source
(labs/) becomes the assignment (generate_assignment: its gradebook holds the test cells, hidden
tests included, and the checksums), the copy is submitted as the student "local", and autograde runs
it - test cells and locked cells restored from the gradebook, so editing them changes nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .settings import CELL_TIMEOUT, COURSE_ID, STUB, TEXT_STUB, configure  # noqa: F401

LOCAL_STUDENT = "local"


def labs_dir() -> Path:
    """labs/ of the course's checkout: the source versions (with solutions and hidden tests)."""
    from .. import REPO_ROOT

    chosen = os.environ.get("COURSE_LABS_DIR")
    path = Path(chosen) if chosen else REPO_ROOT / "labs"
    if not path.is_dir():
        raise FileNotFoundError(
            f"the labs' source versions are not at {path}: grading needs a checkout of the course "
            "repository (labs/), or COURSE_LABS_DIR naming that folder"
        )
    return path


def lab_names(source: Path | None = None) -> list[str]:
    """Every lab, e.g. ['01_dropout_batchnorm_lab', ..., '10_transfer_learning_lab']."""
    source = source or labs_dir()
    return sorted(p.stem for p in source.glob("[0-9][0-9]_*_lab.ipynb"))


def _alembic_on_path() -> None:
    """nbgrader runs the `alembic` command to check its gradebook: the one beside this Python,
    also when the environment was not activated (make labs, a kernel's subprocess)."""
    here = str(Path(sys.executable).parent)
    if here not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = here + os.pathsep + os.environ.get("PATH", "")


def _api(course_dir: Path, sandbox: bool):
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    _alembic_on_path()
    c = Config()
    configure(c, course_dir, sandbox)
    return NbGraderAPI(config=c)


def _check(result: dict, what: str) -> None:
    if not result.get("success"):
        raise RuntimeError(
            f"nbgrader {what} failed:\n{result.get('log', '')}\n{result.get('error', '')}"
        )


def build_course(
    course_dir: Path,
    labs: list[str] | None = None,
    source: Path | None = None,
    sandbox: bool = True,
):
    """An nbgrader course folder (mode 700) with the labs generated: source/, release/, gradebook."""
    source = source or labs_dir()
    labs = labs or lab_names(source)
    course_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(course_dir, 0o700)
    api = _api(course_dir, sandbox)
    for lab in labs:
        src = source / f"{lab}.ipynb"
        if not src.is_file():
            raise FileNotFoundError(f"no lab {lab!r}: expected {src}")
        dest = course_dir / "source" / lab / f"{lab}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        _check(api.generate_assignment(lab, force=True), f"generate_assignment {lab}")
    return api


@dataclass
class Part:
    """One graded cell: a task's test, or a free-text answer the instructor grades."""

    name: str
    points: float
    max_points: float
    manual: bool = False

    def line(self) -> str:
        got = "instructor grades" if self.manual else f"{self.points:g}"
        return f"  {self.name:<34} {got:>18} / {self.max_points:g}"


@dataclass
class Report:
    lab: str
    student: str = LOCAL_STUDENT
    parts: list[Part] = field(default_factory=list)
    error: str = ""  # the submission could not be graded at all (nbgrader's log)

    @property
    def score(self) -> float:
        return sum(p.points for p in self.parts if not p.manual)

    @property
    def max_auto(self) -> float:
        return sum(p.max_points for p in self.parts if not p.manual)

    @property
    def max_manual(self) -> float:
        return sum(p.max_points for p in self.parts if p.manual)

    def text(self) -> str:
        if self.error:
            return (
                f"{self.lab} ({self.student}): NOT GRADED - {self.error.strip().splitlines()[-1]}"
            )
        lines = [
            f"{self.lab} ({self.student}): {self.score:g} of {self.max_auto:g} autograded points"
        ]
        lines += [p.line() for p in self.parts]
        if self.max_manual:
            lines.append(f"  (+ {self.max_manual:g} points of written answers, graded by hand)")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {
            "lab": self.lab,
            "student": self.student,
            "score": self.score,
            "max_auto": self.max_auto,
            "max_manual": self.max_manual,
            "parts": [vars(p) for p in self.parts],
            "error": self.error,
        }


def read_report(api, lab: str, student: str) -> Report:
    """The points nbgrader's gradebook holds for one student's lab (auto scores; manual ones pending)."""
    from nbgrader.api import Gradebook

    report = Report(lab, student)
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        notebook = gb.find_submission_notebook(lab, lab, student)
        for grade in sorted(notebook.grades, key=lambda g: g.cell.cell_type + g.name):
            manual = grade.cell.cell_type == "markdown"
            points = grade.score if grade.score is not None else 0.0
            report.parts.append(Part(grade.name, float(points), float(grade.max_score), manual))
    report.parts.sort(key=lambda p: p.name)
    return report


def lab_of(path: Path, nb=None) -> str:
    """Which lab a notebook is: its metadata says (a renamed copy still grades)."""
    import nbformat

    nb = nb if nb is not None else nbformat.read(str(path), as_version=4)
    lab = nb.metadata.get("course_lab")
    if not lab:
        raise ValueError(
            f"{path} is not one of the course's labs (its metadata has no 'course_lab'): grade "
            "a copy of a lab from build/release/ or the hub's Assignments tab"
        )
    return lab


def grade(path: Path | str, sandbox: bool = False, source: Path | None = None) -> Report:
    """Autograde one copy of a lab exactly as the instructor's nbgrader does; returns its Report."""
    import warnings

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no notebook at {path}")
    lab = lab_of(path)
    with (
        tempfile.TemporaryDirectory(prefix="course-grade-local-") as tmp,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")  # nbgrader's SQLAlchemy warnings are not the student's
        course = Path(tmp) / "course"
        api = build_course(course, [lab], source, sandbox)
        dest = course / "submitted" / LOCAL_STUDENT / lab / f"{lab}.ipynb"
        dest.parent.mkdir(parents=True)
        shutil.copyfile(path, dest)
        _check(api.autograde(lab, LOCAL_STUDENT, force=True, create=True), f"autograde {lab}")
        return read_report(api, lab, LOCAL_STUDENT)


def autograde_course(
    course_dir: Path, lab: str, students: list[str] | None = None, sandbox: bool = True
) -> list[Report]:
    """The instructor's autograde of a course folder (what the formgrader's button does, with the
    course's settings): every submission of `lab`, or those of `students`. Returns their reports."""
    import warnings

    api = _api(course_dir, sandbox)
    submitted = course_dir / "submitted"
    students = students or sorted(p.parent.name for p in submitted.glob(f"*/{lab}") if p.is_dir())
    reports = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for student in students:
            _check(
                api.autograde(lab, student, force=True, create=True), f"autograde {lab} {student}"
            )
            reports.append(read_report(api, lab, student))
    return reports


def release(out: Path, labs: list[str] | None = None) -> list[Path]:
    """`make labs`: build/labs/ (the instructor's nbgrader course folder, generated) and the student
    versions in `out` (build/release/NN_..._lab.ipynb). Returns the student versions' paths."""
    course = out.parent / "labs"
    build_course(course, labs)
    (course / "nbgrader_config.py").write_text(
        "# written by `make labs`: the course's grading settings (course_lib/grading/autograde.py)\n"
        "from course_lib.grading.autograde import configure\n\n"
        "configure(get_config())  # noqa: F821\n"
    )
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for lab in labs or lab_names():
        student = course / "release" / lab / f"{lab}.ipynb"
        shutil.copyfile(student, out / student.name)
        written.append(out / student.name)
    return written


def summary(reports: list[Report]) -> str:
    return json.dumps([r.as_dict() for r in reports], indent=1)
