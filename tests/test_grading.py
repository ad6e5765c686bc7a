"""Every graded lab (labs/): its source scores full marks, its student version scores nothing, and an
answer made to pass only the visible tests loses the points of the hidden ones. Graded as a student
does on a laptop (`python -m course_lib grade`: nbgrader's autograde with the course's settings, as
this user); tests/test_grading_sandbox.py grades as the class hub does."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest
from lab_support import LABS, released, source, submission, write

from course_lib.grading import autograde

LAB_NAMES = autograde.lab_names(LABS)

# For each lab, answers that pass every visible test but not the hidden ones (grade_id -> code),
# and the test cells whose points they must lose. Most are a network of the right form, never
# trained (its interface test passes; the held-out bar does not).
VISIBLE_ONLY = {
    "01_dropout_batchnorm_lab": (
        {
            "t3_answer": "model = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.BatchNorm1d(64), nn.ReLU(),\n"
            "                      nn.Dropout(0.3), nn.Linear(64, 10))\n"
        },
        {"t3_accuracy"},
    ),
    "02_convolution_pooling_lenet_lab": (
        {
            # the four layers of LeNet the visible test asks about, looked up
            "t3_answer": "def output_size(n, k, padding, stride):\n"
            "    table = {(28, 5, 2, 1): 28, (28, 2, 0, 2): 14, (14, 5, 0, 1): 10, (10, 2, 0, 2): 5}\n"
            "    return table[(n, k, padding, stride)]\n",
            "t4_answer": "model = nn.Sequential(nn.Conv2d(1, 4, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),\n"
            "                      nn.Linear(4 * 12 * 12, 10))\n",
        },
        {"t3_test", "t4_accuracy"},
    ),
    "03_autoencoders_lab": (
        {
            "t3_answer": "class DAE(nn.Module):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.enc, self.dec = nn.Sequential(nn.Flatten(), nn.Linear(784, 32)), nn.Linear(32, 784)\n"
            "    def encode(self, x):\n"
            "        return self.enc(x)\n"
            "    def decode(self, z):\n"
            "        return torch.sigmoid(self.dec(z)).view(-1, 1, 28, 28)\n"
            "model = DAE()\n"
        },
        {"t3_denoising"},
    ),
    "04_variational_autoencoders_lab": (
        {
            # sigma capped at 0.25: the lecture's checker draws sigma in [0.1, 0.2]
            "t1_answer": "def reparameterize(mu, logvar):\n"
            "    return mu + torch.exp(0.5 * logvar).clamp(max=0.25) * torch.randn_like(mu)\n",
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
    "05_gan_lab": (
        {
            # through sigmoid then log: right for the visible test's small logits, inf for large ones
            "t1_answer": "def discriminator_loss(real, fake):\n"
            "    return -(torch.log(torch.sigmoid(real)) + torch.log(1 - torch.sigmoid(fake))).mean()\n",
            "t3_answer": "G = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))\n",
        },
        {"t1_test", "t3_coverage"},
    ),
    "06_conditional_gan_lab": (
        {
            "t3_answer": "class CondG(nn.Module):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.net = nn.Linear(10, 2)\n"
            "    def forward(self, z, y):\n"
            "        return self.net(torch.cat([z, y], 1))\n"
            "G = CondG()\n"
        },
        {"t3_agreement"},
    ),
    "07_diffusion_lab": (
        {
            # images of the right shape and range, without the chain
            "t4_answer": "def ddpm_sample(model, schedule, n):\n    return torch.rand(n, 1, 28, 28)\n"
        },
        {"t4_judge"},
    ),
    "08_rnn_lstm_lab": (
        {
            "t3_answer": "class Recall(nn.Module):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.lstm, self.head = nn.LSTM(9, 16, batch_first=True), nn.Linear(16, 4)\n"
            "    def forward(self, x):\n"
            "        return self.head(self.lstm(x)[0][:, -1])\n"
            "model = Recall()\n"
        },
        {"t3_accuracy"},
    ),
    "09_self_supervised_lab": (
        {"t3_answer": "encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 64))\n"},
        {"t3_probe"},
    ),
    "10_transfer_learning_lab": (
        {"t3_answer": "model = TransferNet(copy_blocks(pretrained, 3))\n"},
        {"t3_accuracy"},
    ),
}


def test_every_lecture_01_to_10_has_a_lab_and_a_visible_only_answer():
    assert [name[:2] for name in LAB_NAMES] == [f"{i:02d}" for i in range(1, 11)]
    assert set(VISIBLE_ONLY) == set(LAB_NAMES)


def _points(report):
    return {p.name: p.points for p in report.parts if not p.manual}


@pytest.mark.parametrize("lab", LAB_NAMES)
def test_source_full_blank_nothing_and_hidden_tests_catch_visible_only_answers(lab, tmp_path):
    """Three copies of the lab graded in one nbgrader course folder, as `python -m course_lib
    grade` grades one (the same settings, as this user): the source (the instructor's solutions)
    scores full marks, the student version as fetched scores 0, and the visible-only answers lose
    exactly the points of the hidden tests they were made to dodge - while the visible parts of
    those tests passed (each printed its PASS line before the hidden part failed)."""
    answers, caught = VISIBLE_ONLY[lab]
    course = tmp_path / "course"
    autograde.build_course(course, [lab], LABS, sandbox=False)
    subs = {"source": source(lab), "blank": released(lab), "visible": submission(lab, answers)}
    for student, nb in subs.items():
        write(nb, course / "submitted" / student / lab / f"{lab}.ipynb")
    reports = {
        r.student: r for r in autograde.autograde_course(course, lab, list(subs), sandbox=False)
    }
    assert not any(r.error for r in reports.values()), {
        s: r.error[-2000:] for s, r in reports.items()
    }
    full = reports["source"]
    assert full.score == full.max_auto > 0, full.text()
    assert full.max_manual > 0, "every lab has a written answer graded by hand"
    assert 4 <= len({p.name.split("_")[0] for p in full.parts}) <= 6, "4-6 graded tasks"
    assert any(p.max_points >= 3 and not p.manual for p in full.parts), (
        "a training task with partial credit"
    )
    assert reports["blank"].score == 0, reports["blank"].text()
    points = _points(reports["visible"])
    lost = {
        name
        for name, pts in points.items()
        if pts < {p.name: p.max_points for p in full.parts}[name]
    }
    assert lost == caught, reports["visible"].text()
    graded = nbformat.read(
        str(course / "autograded" / "visible" / lab / f"{lab}.ipynb"), as_version=4
    )
    for cell in graded.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in caught and "require(" in cell.source.split("### BEGIN HIDDEN TESTS")[0]:
            printed = "".join(o.get("text", "") for o in cell.get("outputs", []))
            assert printed.startswith("[PASS]"), (
                f"{gid}: the visible part did not pass: {printed[:500]}"
            )


def test_a_student_grades_their_copy_with_one_command(tmp_path):
    """README "Grading": `python -m course_lib grade MY_COPY.ipynb` on a renamed copy anywhere."""
    lab = "06_conditional_gan_lab"
    mine = write(submission(lab, VISIBLE_ONLY[lab][0]), tmp_path / "my work" / "cgan (1).ipynb")
    r = subprocess.run(
        [sys.executable, "-m", "course_lib", "grade", str(mine)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.startswith(f"{lab} (local): 3 of 6 autograded points"), r.stdout
    assert (
        "t3_agreement" in r.stdout and "(+ 2 points of written answers, graded by hand)" in r.stdout
    )
    other = write(nbformat.v4.new_notebook(), tmp_path / "not_a_lab.ipynb")
    r = subprocess.run(
        [sys.executable, "-m", "course_lib", "grade", str(other)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert r.returncode != 0 and "is not one of the course's labs" in r.stderr


def test_the_hubs_nbgrader_config_sets_the_grading_without_importing_torch():
    """Every student's Jupyter server reads hub/nbgrader_config.py (the Assignments tab): it must
    not load torch into that process, and it must give the same settings as local grading."""
    code = (
        "import sys, os\n"
        "from traitlets.config import Config\n"
        "c = Config()\n"
        "os.environ['COURSE_INSTRUCTOR'] = 'nobody-here'\n"
        "exec(open('hub/nbgrader_config.py').read(), {'get_config': lambda: c})\n"
        "print('torch' in sys.modules, 'course_lib' in sys.modules)\n"
        "print(c.Autograde.autograde_preprocessors[0], c.Execute.timeout, c.CourseDirectory.course_id)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=LABS.parent
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "False False",
        f"course_lib.grading.kernel.SandboxedExecute {autograde.CELL_TIMEOUT} {autograde.COURSE_ID}",
    ]
