"""Graded labs on the class hub, end to end, as README "Grading" tells an instructor to run them: a
real hub on 127.0.0.1 (hub/jupyterhub_config.py), an instructor and three students, each with
their own Unix account and server. Everything runs in their own servers' kernels, as them:

the instructor generates and releases lab 04 (nbgrader, in ~/course-labs); three students fetch it
from the exchange, answer it (one correctly, one partly wrong, one hostile) and submit; the
instructor collects, autogrades (sandboxed as course-grader, through sudo), releases feedback and
exports the grades; each student fetches only their own feedback.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import nbformat
import pytest
from lab_support import solutions, submission

from bench.hub_client import Hub, Student, cleanup_students, hub_unavailable_reason, setup_hub

from support import ROOT, run_in_kernel

LAB = "04_variational_autoencoders_lab"
REASON = hub_unavailable_reason()
if REASON:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the hub grading test: {REASON}", pytrace=False)
    pytest.skip(f"class hub: {REASON}", allow_module_level=True)

TAG = uuid.uuid4().hex[:4]
ADMIN = f"prof{TAG}"
GOOD, PARTLY, HOSTILE = f"sgood{TAG}", f"spart{TAG}", f"sbad{TAG}"
PASSWORD = "lab-pass-1234"

PARTLY_WRONG = {
    # the KL term without its 1/2, and a reconstruction averaged over pixels: tasks 2 and 3 lost
    "t2_answer": "def kl_gaussian(mu, logvar):\n    return -(1 + logvar - mu**2 - logvar.exp()).sum(1).mean()\n",
    "t3_answer": "def neg_elbo(x, logits, mu, logvar):\n"
    "    return F.binary_cross_entropy_with_logits(logits, x) + kl_gaussian(mu, logvar)\n",
}
SNOOP = """
import glob, os
found = []
for pattern in ("/home/{good}/*", "/home/{admin}/course-labs/*", "{exchange}/dl-course/inbound/*",
                "{exchange}/dl-course/feedback/*"):
    try:
        found += glob.glob(pattern) + ([] if os.listdir(os.path.dirname(pattern)) is None else [])
        print("SNOOP listed", pattern)
    except OSError as exc:
        print("SNOOP", type(exc).__name__, pattern)
print("SNOOP found", len(found))
"""


def _py(lines: str) -> str:
    """Code for a kernel that runs shell commands as its user and fails loudly."""
    return (
        "import subprocess, os\n"
        "def sh(*cmd, cwd=None):\n"
        "    r = subprocess.run(cmd, cwd=cwd or os.path.expanduser('~'), capture_output=True, text=True)\n"
        "    if r.returncode:\n"
        "        raise RuntimeError(' '.join(cmd) + ' failed: ' + r.stdout[-2000:] + r.stderr[-3000:])\n"
        "    return r.stdout + r.stderr\n" + lines
    )


def _run(student: Student, code: str, timeout: float = 600, prefix: str = "") -> str:
    res = run_in_kernel(student, prefix + _py(code), timeout)
    assert res["status"] == "ok", res
    return res["stdout"]


@pytest.fixture(scope="module")
def semester():
    state = Path(tempfile.mkdtemp(prefix="course-hub-grading-", dir="/tmp"))
    state.chmod(0o755)
    hub = Hub(state, admin=ADMIN)
    names = [ADMIN, GOOD, PARTLY, HOSTILE]
    try:
        setup_hub(state)
        hub.start()
        hub.signup(ADMIN, PASSWORD)
        admin_session = hub.login(ADMIN, PASSWORD)
        people = {ADMIN: Student(hub, ADMIN, PASSWORD, hub.token(ADMIN, PASSWORD))}
        for name in (GOOD, PARTLY, HOSTILE):
            people[name] = hub.enrol(admin_session, name, PASSWORD)
        for person in people.values():
            person.start_server()
        yield {"hub": hub, "people": people, "state": state}
    finally:
        hub.stop()
        cleanup_students(names)
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="module")
def graded(semester):
    people, exchange = semester["people"], semester["state"] / "exchange"
    teacher = people[ADMIN]
    # 1. the instructor generates and releases the lab
    _run(
        teacher,
        f"print(sh('nbgrader', 'generate_assignment', '{LAB}', '--force', cwd=os.path.expanduser('~/course-labs')))\n"
        f"print(sh('nbgrader', 'release_assignment', '{LAB}', '--force', cwd=os.path.expanduser('~/course-labs')))\n",
    )
    # 2. each student fetches it, answers it and submits
    snoop = (
        SNOOP.replace("{good}", GOOD).replace("{admin}", ADMIN).replace("{exchange}", str(exchange))
    )
    answers = {
        GOOD: submission(LAB),
        PARTLY: submission(LAB, PARTLY_WRONG),
        HOSTILE: submission(
            LAB,
            {
                "t1_answer": snoop + solutions(LAB)["t1_answer"],
                "t2_answer": "def kl_gaussian(mu, logvar):\n    return mu.sum() * 0\n",
            },
            edit={"t2_test": "pass\n"},
        ),
    }
    listed = {}
    for name, nb in answers.items():
        text = json.dumps(nbformat.writes(nb))
        out = _run(
            people[name],
            f"print(sh('nbgrader', 'list'))\n"
            f"sh('nbgrader', 'fetch_assignment', '{LAB}')\n"
            f"open(os.path.expanduser('~/{LAB}/{LAB}.ipynb'), 'w').write(json.loads({text!r}))\n"
            f"print(sh('nbgrader', 'submit', '{LAB}'))\n",
            prefix="import json\n",
        )
        listed[name] = out
    # 3. the instructor collects, autogrades, releases feedback, exports the grades
    out = _run(
        teacher,
        "\n".join(
            f"print(sh('nbgrader', {args}, cwd=os.path.expanduser('~/course-labs')))"
            for args in (
                f"'collect', '{LAB}'",
                f"'autograde', '{LAB}'",
                f"'generate_feedback', '{LAB}'",
                f"'release_feedback', '{LAB}'",
                "'export', '--to', 'grades.csv'",
            )
        )
        + "\nprint('CSV', open(os.path.expanduser('~/course-labs/grades.csv')).read().replace(chr(10), '|'))\n",
        timeout=900,
    )
    grades = out.split("CSV ", 1)[1].strip().replace("|", "\n")
    # 4. each student fetches their feedback
    feedback = {}
    for name in (GOOD, PARTLY, HOSTILE):
        feedback[name] = _run(
            people[name],
            f"sh('nbgrader', 'fetch_feedback', '{LAB}')\n"
            "import glob\n"
            f"for f in sorted(glob.glob(os.path.expanduser('~/{LAB}/feedback/*/*.html'))):\n"
            "    print('FEEDBACK', f, open(f).read().count('Score:'))\n",
        )
    # 5. the same files graded on a laptop (python -m course_lib grade), for comparison
    local = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, nb in answers.items():
            path = Path(tmp) / name / f"{LAB}.ipynb"
            path.parent.mkdir()
            nbformat.write(nb, str(path))
            r = subprocess.run(
                [sys.executable, "-m", "course_lib", "grade", "--json", str(path)],
                capture_output=True,
                text=True,
                timeout=600,
                cwd=ROOT,
            )
            assert r.returncode == 0, r.stderr[-3000:]
            local[name] = json.loads(r.stdout)["score"]
    return {
        "listed": listed,
        "grades": list(csv.DictReader(io.StringIO(grades))),
        "feedback": feedback,
        "local": local,
        "autograde_log": out,
    }


def test_students_see_the_released_lab_in_their_assignment_list(graded):
    for name in (GOOD, PARTLY, HOSTILE):
        assert LAB in graded["listed"][name]


def test_autograde_gives_the_expected_scores(graded):
    scores = {
        row["student_id"]: float(row["raw_score"])
        for row in graded["grades"]
        if row["assignment"] == LAB
    }
    # 8 autograded points; the written answer (2 points) waits for the instructor
    assert scores[GOOD] == 8
    # kl (1) and neg_elbo (2) lost, and the VAE trained with that loss misses the ELBO bars (3)
    assert scores[PARTLY] == 2
    # the hostile one edited task 2's test to pass its wrong KL: the gradebook's test ran instead
    assert scores[HOSTILE] < 8


def test_a_student_grading_their_file_on_a_laptop_gets_the_autograders_score(graded):
    scores = {
        row["student_id"]: float(row["raw_score"])
        for row in graded["grades"]
        if row["assignment"] == LAB
    }
    assert {name: scores[name] for name in graded["local"]} == graded["local"]


def test_each_student_gets_only_their_own_feedback(graded):
    for name in (GOOD, PARTLY, HOSTILE):
        lines = [
            line for line in graded["feedback"][name].splitlines() if line.startswith("FEEDBACK")
        ]
        assert len(lines) == 1, graded["feedback"][name]
        assert f"/home/{name}/" in lines[0]


@pytest.mark.browser
def test_in_chromium_the_instructor_has_the_formgrader_and_students_the_assignment_list(
    semester, graded
):
    """README "Grading", in the browser: log in, open the Nbgrader menu. The instructor's lists the
    Formgrader and the Assignment List; a student's the Assignment List only, and its list shows
    the released lab with its submission."""
    from playwright.sync_api import sync_playwright

    from bench.browser import CHROMIUM, CHROMIUM_ARGS

    from support import ARTIFACTS, require_chromium

    require_chromium()
    hub = semester["hub"]
    seen = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for name in (ADMIN, GOOD):
                page = browser.new_context().new_page()
                page.goto(f"{hub.url}/hub/login")
                page.fill("input[name=username]", name)
                page.fill("input[name=password]", PASSWORD)
                page.click("input[type=submit], button[type=submit]")
                page.wait_for_url("**/user/**", timeout=60_000)
                page.goto(f"{hub.url}/user/{name}/lab")
                page.get_by_role("menuitem", name="Nbgrader").click(timeout=60_000)
                items = page.locator(".lm-Menu-content .lm-Menu-itemLabel")
                items.first.wait_for(timeout=20_000)
                seen[name] = items.all_inner_texts()
                page.keyboard.press("Escape")
                if name == ADMIN:  # step 1 of README "Grading": the Formgrader's Manage Assignments
                    page.goto(f"{hub.url}/user/{name}/formgrader/manage_assignments")
                    page.get_by_text(LAB).first.wait_for(timeout=60_000)
                    seen["formgrader"] = page.inner_text("body")
                if name == GOOD:
                    page.get_by_role("menuitem", name="Nbgrader").click()
                    page.get_by_text("Assignment List", exact=True).click()
                    page.get_by_text(LAB).first.wait_for(timeout=60_000)
                    ARTIFACTS.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(ARTIFACTS / "hub-assignment-list.png"))
                page.keyboard.press("Escape")
        finally:
            browser.close()
    assert "Formgrader" in seen[ADMIN] and "Assignment List" in seen[ADMIN], seen
    assert "Assignment List" in seen[GOOD] and "Formgrader" not in seen[GOOD], seen
    page_text = seen["formgrader"]
    assert "Manage Assignments" in page_text and "Generate" in page_text and "Release" in page_text
