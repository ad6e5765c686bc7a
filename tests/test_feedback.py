"""Live feedback is paid for by the work it reports (course_lib.feedback): on a crowded machine it
redraws less often, never more - the bug that made 16 kernels take 326 s for a 1.9 s fit cell."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from course_lib.feedback import Budget, Progress, live

ROOT = Path(__file__).resolve().parent.parent


class FakeClocks:
    """A CPU clock and a wall clock the test moves by hand."""

    def __init__(self):
        self.cpu, self.wall = 0.0, 0.0


def _run(clocks, steps, work_cpu, slowdown, draw_cpu, share=0.05, min_work=0.2):
    """`steps` training steps of `work_cpu` CPU seconds each; a starved machine stretches every CPU
    second over `slowdown` wall seconds. Returns the number of redraws and the CPU spent drawing."""
    budget = Budget(share, min_work, cpu=lambda: clocks.cpu)
    for _ in range(steps):
        clocks.cpu += work_cpu
        clocks.wall += work_cpu * slowdown
        if budget.due():
            with budget.drawing():
                clocks.cpu += draw_cpu
                clocks.wall += draw_cpu * slowdown
    return budget.redraws, budget.drawing_cpu


@pytest.mark.parametrize("draw_cpu", [0.002, 0.03])
def test_a_starved_machine_redraws_no_more_than_an_idle_one(draw_cpu):
    alone = _run(FakeClocks(), 3000, 0.001, 1, draw_cpu)
    crowded = _run(FakeClocks(), 3000, 0.001, 16, draw_cpu)  # 16 kernels on one CPU
    assert crowded[0] <= alone[0], "a slower machine never redraws more"
    work = 3000 * 0.001
    for _, drawing in (alone, crowded):
        assert drawing <= 0.05 * work + draw_cpu, "drawing stays under its share (plus the first)"


def test_the_number_of_redraws_follows_the_work_not_the_time():
    short = _run(FakeClocks(), 1000, 0.001, 40, 0.01, min_work=0.0)
    long = _run(FakeClocks(), 4000, 0.001, 40, 0.01, min_work=0.0)
    assert short[0] >= 1 and 3 <= long[0] / short[0] <= 5  # 4x the work: about 4x the redraws


def test_a_wall_clock_timer_would_not_have_held(capsys):
    """The old rule (redraw every 0.5 s of wall time) on the same starved run: redraws grow with the
    slowdown and the drawing eats the work - what the budget prevents."""
    clocks, redraws, last = FakeClocks(), 0, 0.0
    for _ in range(3000):
        clocks.cpu += 0.001
        clocks.wall += 0.001 * 16
        if clocks.wall - last >= 0.5:
            redraws, last = redraws + 1, clocks.wall
            clocks.cpu += 0.03
            clocks.wall += 0.03 * 16
    budgeted = _run(FakeClocks(), 3000, 0.001, 16, 0.03)
    assert redraws * 0.03 > 0.3 * 3.0 and budgeted[1] <= 0.05 * 3.0 + 0.03


def test_budget_rejects_a_share_outside_0_1():
    with pytest.raises(ValueError, match="share must be between 0 and 1"):
        Budget(5)


def test_who_is_watching():
    assert live({"COURSE_LIVE": "1"}) and not live({"COURSE_LIVE": "off"})
    import ipykernel  # noqa: F401 - in a kernel, a notebook UI's session is what watches

    assert live({"JPY_SESSION_NAME": "/home/ann/course/notebooks/05_gan.ipynb"})
    assert live({"VSCODE_PID": "123"})
    assert not live(
        {}
    )  # nbclient, the test suite, a kernel started over the REST API (the hub's load test)


def test_progress_prints_one_line_and_draws_no_bar_unwatched(capsys):
    bar = Progress(50, "demo", show=False)
    for _ in range(50):
        bar.step(loss="0.1")
    bar.close()
    assert bar.bar is None and capsys.readouterr().out.startswith("demo: 50 of 50 steps in")


CROWDED = textwrap.dedent(
    """
    import os, json, time
    os.environ["COURSE_LIVE"] = "1"
    from IPython.core.interactiveshell import InteractiveShell
    InteractiveShell.instance()  # display() with a handle, as in a kernel
    import course_lib
    import torch
    from torch import nn
    from course_lib import plot
    from course_lib.train import fit
    x = torch.rand(2000, 64); y = torch.randint(0, 10, (2000,))
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    live = plot.LiveLossPlot()
    start = time.process_time()
    fit(model, (x, y), nn.CrossEntropyLoss(), epochs=20, batch_size=32, callbacks=[live])
    total = time.process_time() - start
    summary = {"total": total, "drawing": live.budget.drawing_cpu, "redraws": live.budget.redraws}
    print("RESULT " + json.dumps(summary))
    """
)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU pinning (Linux)")
def test_a_cpu_starved_fit_spends_a_small_share_on_its_live_plot():
    """A real fit with a live plot, pinned to one CPU beside three busy loops: the live plot's
    drawing stays a small share of the process's CPU time."""
    import json

    pin = {min(os.sched_getaffinity(0))}
    busy = [
        subprocess.Popen(
            [sys.executable, "-c", "while True: pass"],
            preexec_fn=lambda: os.sched_setaffinity(0, pin),
        )
        for _ in range(3)
    ]
    try:
        out = subprocess.run(
            [sys.executable, "-c", CROWDED],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            preexec_fn=lambda: os.sched_setaffinity(0, pin),
        )
    finally:
        for p in busy:
            p.kill()
            p.wait()
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(next(ln for ln in out.stdout.splitlines() if ln.startswith("RESULT "))[7:])
    assert got["redraws"] >= 1, got  # the live picture follows training...
    assert got["drawing"] <= 0.1 * got["total"], got  # ...for a small share of its CPU
