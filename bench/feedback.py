"""Live feedback under load: does a class that oversubscribes the CPU slow down in proportion to its
size? (section 8 of bench/results.md; `python -m bench --sections 8`)

Fair share: with k processes on c CPUs each gets c/k of a CPU, so a run that needs one CPU alone
takes k/c times as long. The goal: 16 at once within 1.3x of that.
  (a) notebook 00's fit cell (30 epochs of the 8x8 digits, progress bar and live loss plot) in 16
      kernels at once vs one alone, with live feedback drawn (COURSE_LIVE=1: as when a browser
      watches) and with none (COURSE_LIVE=0: nbclient, nbval, the hub's load test);
  (b) the whole of notebook 00 (nbclient, as CI and `make slides` run it) 16 at once vs alone;
  (c) the live GAN view playing alone, and beside 15 busy processes: its training at its fair share,
      its refreshes fewer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .sharing import GAN_SETUP, Kernels, evaluate, execute

ROOT = Path(__file__).resolve().parent.parent
CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

FIT_SETUP = """
import time
import course_lib as cl
from torch import nn
from course_lib import data, plot
from course_lib.models import MLPClassifier
from course_lib.train import accuracy, fit
x8_train, y8_train = data.load_digits8("train")
x8_test, y8_test = data.load_digits8("test")
"""
# notebook 00's fit cell, timed inside the kernel (wall and this kernel's CPU)
FIT_CELL = """
cl.seed_everything(0)
model = MLPClassifier(in_features=64, hidden=[128, 64], classes=10)
__wall, __cpu = time.perf_counter(), time.process_time()
live = plot.LiveLossPlot()
history = fit(model, (x8_train, y8_train), nn.CrossEntropyLoss(), epochs={epochs}, lr=2e-3,
              batch_size=64, eval_data=(x8_test, y8_test), metrics={{"acc": accuracy}}, callbacks=[live])
live.close(history)
__wall, __cpu = time.perf_counter() - __wall, time.process_time() - __cpu
__redraws = live.budget.redraws
"""


def fit_cells(n: int, live: bool, epochs: int = 30) -> list[dict]:
    """The fit cell in n course kernels at once: [{"wall", "cpu", "redraws"}] per kernel."""
    with Kernels() as kernels:
        clients = [kernels.start("course", {"COURSE_LIVE": "1" if live else "0"}) for _ in range(n)]
        for kc in clients:
            execute(kc, FIT_SETUP)
            execute(kc, FIT_CELL.format(epochs=1))  # warm: first-call costs are not the cell's
        with ThreadPoolExecutor(n) as pool:  # all at once, as a class pressing "run" together
            list(pool.map(lambda kc: execute(kc, FIT_CELL.format(epochs=epochs), 1800), clients))
        return [
            dict(zip(("wall", "cpu", "redraws"), evaluate(kc, "[__wall, __cpu, __redraws]")))
            for kc in clients
        ]


NOTEBOOK_RUN = (
    "import json, sys; from pathlib import Path; from bench.execution import run_notebook; "
    "print('ROW ' + json.dumps(run_notebook(Path(sys.argv[1]))))"
)


def notebooks_at_once(n: int, live: bool, notebook: str = "00_getting_started.ipynb") -> list[dict]:
    """The whole notebook in n nbclient runs at once (each its own process and kernel)."""
    env = {**os.environ, "COURSE_LIVE": "1" if live else "0"}
    path = str(ROOT / "notebooks" / notebook)

    def one(_):
        out = subprocess.run(
            [sys.executable, "-c", NOTEBOOK_RUN, path],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
        )
        line = next((ln for ln in out.stdout.splitlines() if ln.startswith("ROW ")), None)
        if line is None:
            raise RuntimeError(f"notebook run failed: {out.stderr[-500:]}")
        return json.loads(line[4:])

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


BUSY = "import course_lib, torch\na = torch.rand(256, 256)\nwhile True:\n    a @ a"


def gan_view(busy: int, seconds: float) -> dict:
    """The live GAN view playing for `seconds`, beside `busy` processes that each keep one CPU busy."""
    # each its own session, as every Jupyter kernel is: Linux's scheduler (autogroup) shares the CPU
    # between sessions, so busy loops of one session would count as one process beside the kernel
    procs = [
        subprocess.Popen([sys.executable, "-c", BUSY], cwd=ROOT, start_new_session=True)
        for _ in range(busy)
    ]
    try:
        with Kernels() as kernels:
            gan = kernels.start("course")
            execute(gan, GAN_SETUP + "\nimport time")
            execute(gan, "lab.start()")
            time.sleep(3.0)  # past the first refreshes, and the neighbours are busy by now
            probe = "[lab.trainer.steps, lab.budget.redraws, time.process_time(), lab.budget.drawing_cpu]"
            s0, r0, c0, d0 = evaluate(gan, probe)
            t0 = time.perf_counter()
            time.sleep(seconds)
            s1, r1, c1, d1 = evaluate(gan, probe)
            t1 = time.perf_counter()
            execute(gan, "lab.pause()")
    finally:
        for p in procs:
            p.kill()
            p.wait()
    wall, steps = t1 - t0, max(s1 - s0, 1)
    return {
        "steps_per_s": (s1 - s0) / wall,
        "refreshes_per_s": (r1 - r0) / wall,
        "cpu_per_s": (c1 - c0) / wall,  # CPU the kernel received per second
        "cpu_ms_per_step": 1000 * (c1 - c0) / steps,
        "drawing_share": (d1 - d0) / max(c1 - c0, 1e-9),
    }


def _median(values):
    values = sorted(values)
    return values[len(values) // 2]


def feedback_section(quick: bool = False) -> str:
    n = 4 if quick else 16
    fair = n / min(n, CPUS)  # each of n processes gets CPUS / n of a CPU
    lines = [
        f"{n} at once on {CPUS} CPUs: fair share = {fair:g} x the time alone. Goal: within 1.3x of it.",
        "",
        f"(a) Notebook 00's fit cell (30 epochs, progress bar and live loss plot), {n} kernels at once:",
        "",
        "| live feedback | alone s | CPU s alone | redraws alone | "
        f"{n} at once s (median) | CPU s each | redraws each | CPU each vs alone | vs fair share | goal |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    epochs = 8 if quick else 30
    for live in (True, False):
        alone = fit_cells(1, live, epochs)[0]
        crowd = fit_cells(n, live, epochs)
        wall = _median([r["wall"] for r in crowd])
        ratio = wall / (fair * alone["wall"])
        label = "drawn (COURSE_LIVE=1)" if live else "none (COURSE_LIVE=0)"
        cpu = _median([r["cpu"] for r in crowd])
        lines.append(
            f"| {label} | {alone['wall']:.2f} | {alone['cpu']:.2f} | {alone['redraws']} | {wall:.1f} | "
            f"{cpu:.2f} | {_median([r['redraws'] for r in crowd])} | {cpu / alone['cpu']:.2f}x | "
            f"{ratio:.2f}x | {'met' if ratio <= 1.3 else 'MISSED'} |"
        )
    lines += [
        "",
        f"(b) Notebook 00 executed whole by nbclient, {n} at once (cells only, kernel start excluded):",
        "",
        f"| live feedback | alone s | {n} at once s (median) | slowest s | vs fair share | goal |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for live in (False, True):
        alone = notebooks_at_once(1, live)[0]["seconds"]
        crowd = [r["seconds"] for r in notebooks_at_once(n, live)]
        ratio = _median(crowd) / (fair * alone)
        label = "drawn (COURSE_LIVE=1)" if live else "none (nbclient's default)"
        lines.append(
            f"| {label} | {alone:.1f} | {_median(crowd):.1f} | {max(crowd):.1f} | {ratio:.2f}x | "
            f"{'met' if ratio <= 1.3 else 'MISSED'} |"
        )
    seconds = 4.0 if quick else 15.0
    alone, beside = gan_view(0, seconds), gan_view(n - 1, seconds)
    share = min(1, CPUS / n)  # the GAN's kernel is one of n busy processes; alone it has a CPU
    ratio = alone["steps_per_s"] * share / beside["steps_per_s"]
    cpu_ratio = share * alone["cpu_per_s"] / beside["cpu_per_s"]
    lines += [
        "",
        f"(c) The live GAN view playing (2D ring), alone and beside {n - 1} busy processes (each its own",
        "session, as kernels are; Linux shares the CPU between sessions):",
        "",
        "| | training steps/s | view refreshes/s | CPU the kernel gets, per s | CPU ms per step | "
        "drawing, share of its CPU |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, r in (("alone", alone), (f"beside {n - 1} busy processes", beside)):
        lines.append(
            f"| {label} | {r['steps_per_s']:.1f} | {r['refreshes_per_s']:.2f} | {r['cpu_per_s']:.3f} | "
            f"{r['cpu_ms_per_step']:.2f} | {r['drawing_share']:.1%} |"
        )
    lines += [
        "",
        f"Beside them the kernel gets {cpu_ratio:.2f}x less CPU than its fair share ({share:.3g} of what it "
        f"used alone) and trains {ratio:.2f}x slower than its fair share "
        f"({'met' if ratio <= 1.3 else 'MISSED'}, goal <= 1.3x): each step costs "
        f"{beside['cpu_ms_per_step'] / alone['cpu_ms_per_step']:.2f}x the CPU it costs alone (caches and "
        "time slices shared with the busy neighbours), while drawing stays near its 10% budget and the "
        "refreshes drop with the training.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(feedback_section(quick="--quick" in sys.argv))
