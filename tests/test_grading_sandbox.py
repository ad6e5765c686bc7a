"""Safe autograding: the class hub's autograder runs each submission as the account course-grader,
with limits (course_lib/grading/sandbox.py). One course folder, laid out as the instructor's is
(mode 700, gradebook inside), gets a correct submission and six hostile or broken ones, autograded
in one run as root with the class environment's Python (what `make hub-setup` builds). Each hostile
one loses what it broke and nothing else happens: the correct one scores full marks, no file of
the instructor or another student is read or changed, and no process of theirs outlives grading.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat
import pytest
from lab_support import LABS, solutions, submission, write

from bench.hub_client import HUB_ENV, hub_unavailable_reason, setup_hub
from course_lib.grading import sandbox
from course_lib.grading.autograde import build_course

LAB = "04_variational_autoencoders_lab"
TIMEOUT = 15  # the cell timeout for this test (the course's is 180 s): the loops are cut sooner

if os.geteuid() != 0 or hub_unavailable_reason():
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the sandbox tests: {hub_unavailable_reason()}", pytrace=False)
    pytest.skip("safe autograding needs root and the class environment", allow_module_level=True)


SNOOP = (
    """
import glob, os
def attempt(what, action):
    try:
        action()
        print(f"SNOOP {what}: DONE")
    except Exception as exc:
        print(f"SNOOP {what}: {type(exc).__name__}")
attempt("read the gradebook", lambda: open("{course}/gradebook.db", "rb").read())
attempt("read alice's submission", lambda: open("{course}/submitted/alice/{lab}/{lab}.ipynb").read())
attempt("read the hidden tests", lambda: open("{course}/source/{lab}/{lab}.ipynb").read())
attempt("read the lab's source", lambda: open("{labs}/{lab}.ipynb").read())
attempt("list the course", lambda: os.listdir("{course}"))
attempt("write into the course", lambda: open("{course}/evil.txt", "w").write("x"))
attempt("write into alice's feedback", lambda: open("{course}/autograded/alice/evil.txt", "w").write("x"))
attempt("write into root's home", lambda: open("/root/evil.txt", "w").write("x"))
attempt("write into the environment", lambda: open("{env}/evil.txt", "w").write("x"))
attempt("signal the grader", lambda: os.kill(os.getppid() if os.getppid() > 1 else 1, 9))
print("SNOOP running as", os.getuid(), "in", os.getcwd())
"""
    + "\n"
)


def _solution(gid):
    return solutions(LAB)[gid]


HOSTILE = {
    # an infinite loop in task 1: that cell is cut off at the time limit, the rest is graded
    "looper": {"t1_answer": "while True:\n    pass\n"},
    # an infinite loop that ignores the interrupt: the kernel is restarted, so everything after
    # it fails at once (no state) instead of each cell waiting out its time limit
    "deaf": {
        "t1_answer": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n"
    },
    # a fork bomb: stopped by the account's process limit; its children are swept after grading
    "forker": {
        "t1_answer": "import os, time\nfor _ in range(10_000):\n    if os.fork() == 0:\n"
        "        time.sleep(600)\n        os._exit(0)\n"
    },
    # 20 GB at once: refused by the memory limit, the kernel lives on
    "hog": {"t1_answer": "import torch\nhog = torch.ones(5 * 2**30)\n"},
    # reads and writes where it must not, then answers task 1 correctly
    "snoop": {"t1_answer": None},
    # edits the visible test of task 1 to pass anything, and answers it wrongly
    "tamper": {"t1_answer": "def reparameterize(mu, logvar):\n    return mu\n"},
}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def graded():
    setup_hub(Path(os.environ.get("HUB_STATE", "/srv/course-hub")))
    subprocess.run(
        [str(HUB_ENV / "bin" / "python"), "-m", "course_lib.grading", "setup"], check=True
    )
    top = Path(tempfile.mkdtemp(prefix="grading-sandbox-"))
    os.chmod(top, 0o755)  # only the course folder's own mode protects it, as a home folder does
    course = top / "course"
    try:
        build_course(course, [LAB], LABS)
        write(submission(LAB), course / "submitted" / "alice" / LAB / f"{LAB}.ipynb")
        for student, answers in HOSTILE.items():
            if student == "snoop":
                code = SNOOP.replace("{course}", str(course)).replace("{lab}", LAB)
                code = code.replace("{labs}", str(LABS)).replace("{env}", str(HUB_ENV))
                answers = {"t1_answer": code + _solution("t1_answer")}
            edit = {"t1_test": "pass\n"} if student == "tamper" else None
            write(
                submission(LAB, answers, edit),
                course / "submitted" / student / LAB / f"{LAB}.ipynb",
            )
        before = {p: _digest(p) for p in course.rglob("*") if p.is_file() and p.suffix != ".db"}
        env = dict(os.environ, COURSE_GRADING_CELL_TIMEOUT=str(TIMEOUT))
        r = subprocess.run(
            [
                str(HUB_ENV / "bin" / "python"),
                "-m",
                "course_lib.grading",
                "autograde",
                "--json",
                "--course",
                str(course),
                LAB,
            ],
            capture_output=True,
            text=True,
            timeout=1200,
            env=env,
            cwd="/",
        )
        assert r.returncode == 0, r.stderr[-4000:]
        by_student = {rep["student"]: rep for rep in json.loads(r.stdout)}
        yield {"course": course, "reports": by_student, "before": before, "log": r.stderr}
    finally:
        sandbox.run_sweep(str(HUB_ENV / "bin" / "python"))
        shutil.rmtree(top, ignore_errors=True)


def _points(report):
    return {p["name"]: p["points"] for p in report["parts"] if not p["manual"]}


def _outputs(graded, student, gid):
    nb = nbformat.read(str(graded["course"] / "autograded" / student / LAB / f"{LAB}.ipynb"), 4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
    return "".join(o.get("text", "") + o.get("ename", "") for o in cell.get("outputs", []))


def test_the_correct_submission_scores_full_marks_beside_hostile_ones(graded):
    alice = graded["reports"]["alice"]
    assert alice["score"] == alice["max_auto"] == 8


@pytest.mark.parametrize("student", ["looper", "forker", "hog"])
def test_a_hostile_task_loses_its_own_points_and_nothing_else(graded, student):
    # task 1's answer cell loops, forks or hogs instead of defining reparameterize: its test and
    # the training of task 4 (which samples with it) lose their points, the rest is graded
    points = _points(graded["reports"][student])
    assert points == {"t1_test": 0, "t2_test": 1, "t3_test": 2, "t4_interface": 1, "t4_elbo": 0}


def test_what_broke_it_is_named_in_the_feedback(graded):
    assert "CellTimeoutError" in _outputs(graded, "looper", "t1_answer")
    assert "BlockingIOError" in _outputs(graded, "forker", "t1_answer") or "Resource" in _outputs(
        graded, "forker", "t1_answer"
    )
    hog = _outputs(graded, "hog", "t1_answer")
    assert "RuntimeError" in hog or "MemoryError" in hog


def test_a_kernel_that_ignores_the_interrupt_is_restarted_and_loses_the_rest(graded):
    points = _points(graded["reports"]["deaf"])
    assert sum(points.values()) == 0, points


def test_the_snoop_reads_and_writes_nothing_of_anyone_else(graded):
    assert graded["reports"]["snoop"]["score"] == 8  # it answered correctly after snooping
    out = _outputs(graded, "snoop", "t1_answer")
    lines = [line for line in out.splitlines() if line.startswith("SNOOP") and ":" in line]
    assert len(lines) == 10, out
    assert not [line for line in lines if line.endswith("DONE")], out
    grader = pwd.getpwnam(sandbox.GRADER_USER).pw_uid
    assert f"running as {grader} in /tmp/{sandbox.WORK_PREFIX}" in out
    course = graded["course"]
    assert not (course / "evil.txt").exists() and not Path("/root/evil.txt").exists()
    assert not (HUB_ENV / "evil.txt").exists()
    for path, digest in graded["before"].items():
        assert path.exists() and _digest(path) == digest, f"{path} changed"


def test_editing_a_test_cell_changes_nothing(graded):
    points = _points(graded["reports"]["tamper"])
    assert points["t1_test"] == 0
    # the autograder ran the instructor's test, not the edited one
    assert "reparameterize" in _outputs(graded, "tamper", "t1_test")


def test_no_process_or_scratch_file_of_the_grader_outlives_grading(graded):
    uid = pwd.getpwnam(sandbox.GRADER_USER).pw_uid
    left = [p for p in os.listdir("/proc") if p.isdigit() and sandbox._uid_of(p) == uid]
    assert left == []
    assert not [
        p
        for p in Path("/tmp").iterdir()
        if p.name.startswith(sandbox.WORK_PREFIX) and p.lstat().st_uid == uid
    ]
