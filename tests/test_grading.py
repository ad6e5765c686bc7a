"""Every graded lab (labs/): its source scores full marks, its student version scores nothing, and an
answer made to pass only the visible tests loses the points of the hidden ones. Graded as a student
does on a laptop (`python -m course_lib grade`: nbgrader's autograde with the course's settings, as
this user); tests/test_grading_sandbox.py grades as the class hub does."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from course_lib.grading import autograde

from lab_support import LABS, ROOT, released, submission, write

LAB_NAMES = autograde.lab_names(LABS)

# For each lab, answers that pass every visible test but not the hidden ones (grade_id -> code),
# and the test cells whose points they must lose.
VISIBLE_ONLY = {
    "04_variational_autoencoders_lab": (
        {
            # sigma capped at 0.25: the lecture's checker draws sigma in [0.1, 0.2]
            "t1_answer": "def reparameterize(mu, logvar):\n"
            "    return mu + torch.exp(0.5 * logvar).clamp(max=0.25) * torch.randn_like(mu)\n",
            # the right network, never trained
            "t4_answer": "class VAE(nn.Module):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.enc = nn.Sequential(nn.Flatten(), nn.Linear(784, 16))\n"
            "        self.dec = nn.Linear(8, 784)\n"
            "    def encode(self, x):\n"
            "        return self.enc(x).chunk(2, dim=1)\n"
            "    def decode(self, z):\n"
            "        return self.dec(z).view(-1, 1, 28, 28)\n"
            "model = VAE()\n",
        },
        {"t1_test", "t4_elbo"},
    ),
}


def test_every_lab_has_a_visible_only_answer_and_sources_for_lectures_01_to_10():
    assert set(VISIBLE_ONLY) == set(LAB_NAMES)


def _grade(path):
    r = subprocess.run(
        [sys.executable, "-m", "course_lib", "grade", "--json", str(path)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout)


def _points(report):
    return {p["name"]: p["points"] for p in report["parts"] if not p["manual"]}


@pytest.mark.parametrize("lab", LAB_NAMES)
def test_source_scores_full_marks_and_the_student_version_scores_nothing(lab, tmp_path):
    full = _grade(LABS / f"{lab}.ipynb")
    assert full["score"] == full["max_auto"] > 0, full
    assert full["max_manual"] > 0, "every lab has a written answer graded by hand"
    assert 4 <= len({p["name"].split("_")[0] for p in full["parts"]}) <= 6, "4-6 graded tasks"
    # the copy a student fetches: stubs everywhere
    blank = _grade(write(released(lab), tmp_path / "blank" / f"{lab}.ipynb"))
    assert blank["score"] == 0, blank


@pytest.mark.parametrize("lab", LAB_NAMES)
def test_the_hidden_tests_catch_an_answer_that_only_passes_the_visible_ones(lab, tmp_path):
    answers, caught = VISIBLE_ONLY[lab]
    nb = submission(lab, answers)
    # the student's own run: every visible test passes (no test cell fails)
    run = nbformat.from_dict(nb)
    NotebookClient(
        run,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
        allow_errors=True,
    ).execute()
    failed = [
        c.metadata["nbgrader"]["grade_id"]
        for c in run.cells
        if c.cell_type == "code" and any(o.output_type == "error" for o in c.get("outputs", []))
    ]
    assert failed == [], f"visible tests failed in the student's run: {failed}"
    report = _grade(write(nb, tmp_path / "sub" / f"{lab}.ipynb"))
    points = _points(report)
    full = {p["name"]: p["max_points"] for p in report["parts"]}
    lost = {name for name in points if points[name] < full[name]}
    assert lost == caught, report
