"""Sharing the CPU: the course beside other work, under each thread setting, measured side by side.

(a) two Jupyter kernels run the same training cell at once, vs one after the other
    (concurrent wall time / sequential wall time; 1.0 = perfect sharing, goal <= 1.15);
(b) a notebook executed while the live GAN view plays in another kernel: slowdown vs alone
    (goal <= 2.3x on 2 cores) and the GAN's training steps/s meanwhile (goal >= 15);
(c) the same small training loop under PyTorch's defaults (spinning OpenMP threads), a passive
    wait policy, one thread and the course's policy, alone and in pairs: the data behind the policy.

Every row runs both ways in the same call, so the ratios hold when the machine's speed drifts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from course_lib import threads

ROOT = Path(__file__).resolve().parent.parent

POLICY_VARS = threads.POLICY_VARS  # removed to get PyTorch's own defaults


def default_env() -> dict:
    """This process's environment without any thread setting: what a plain `import torch` gets."""
    env = {k: v for k, v in os.environ.items() if k not in POLICY_VARS}
    env["COURSE_THREAD_POLICY"] = "off"
    return env


# ------------------------------------------------------------------------------------------------
# (c) one training loop in separate processes, per thread setting
# ------------------------------------------------------------------------------------------------
# A small conv net, 60 SGD steps on a 128-image batch: the kind of cell a lecture runs. The worker
# imports and warms up, says "ready", and starts timing when the parent says "go", so that a pair
# really overlaps and import time is not measured.
WORKER = r"""
import json, sys, time
mode, steps = sys.argv[1], int(sys.argv[2])
if mode == "course":
    import course_lib
import torch
from torch import nn
if mode == "one":
    torch.set_num_threads(1)
torch.manual_seed(0)
net = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Flatten(), nn.Linear(32 * 7 * 7, 10))
x, y = torch.rand(128, 1, 28, 28), torch.randint(0, 10, (128,))
opt = torch.optim.SGD(net.parameters(), lr=0.01)
def step():
    loss = nn.functional.cross_entropy(net(x), y)
    opt.zero_grad(); loss.backward(); opt.step()
for _ in range(5):
    step()
print("ready", flush=True)
sys.stdin.readline()
start = time.perf_counter()
for _ in range(steps):
    step()
print(json.dumps({"seconds": time.perf_counter() - start, "threads": torch.get_num_threads()}), flush=True)
"""

MODES = {
    "default": ("PyTorch defaults (spinning OpenMP threads)", lambda: default_env()),
    "passive": (
        "OMP_WAIT_POLICY=PASSIVE only",
        lambda: {**default_env(), "OMP_WAIT_POLICY": "PASSIVE"},
    ),
    "one": ("1 thread", lambda: default_env()),
    "course": (
        "course policy (`import course_lib`)",
        lambda: {k: v for k, v in os.environ.items() if k not in POLICY_VARS},
    ),
}


def run_workers(
    mode: str, count: int, steps: int = 60, timeout: float = 300
) -> tuple[list[dict], float]:
    """Start `count` workers of one mode, let them train at the same moment; (per-worker results, wall s)."""
    env = MODES[mode][1]()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, mode, str(steps)],
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    try:
        for p in procs:
            line = p.stdout.readline()
            if line.strip() != "ready":
                raise RuntimeError(f"worker ({mode}) did not start: {line!r}")
        start = time.perf_counter()
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        results = [json.loads(p.stdout.readline()) for p in procs]
        wall = time.perf_counter() - start
        for p in procs:
            p.wait(timeout)
        return results, wall
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()


def policy_rows(repeats: int = 3, steps: int = 60) -> list[dict]:
    rows = []
    for mode, (label, _) in MODES.items():
        alone, pair_each, ratios = [], [], []
        threads = None
        for _ in range(repeats):
            # alone twice (the sequential reference), then the same pair at once
            a1, wall1 = run_workers(mode, 1, steps)
            a2, wall2 = run_workers(mode, 1, steps)
            pair, wall_pair = run_workers(mode, 2, steps)
            threads = a1[0]["threads"]
            alone += [a1[0]["seconds"], a2[0]["seconds"]]
            pair_each += [r["seconds"] for r in pair]
            ratios.append(wall_pair / (wall1 + wall2))
        rows.append(
            {
                "mode": mode,
                "label": label,
                "threads": threads,
                "alone": float(np.median(alone)),
                "pair": float(np.median(pair_each)),
                "concurrent_vs_sequential": float(np.median(ratios)),
            }
        )
    return rows


def policy_table(quick: bool = False) -> tuple[list[dict], str]:
    rows = policy_rows(repeats=1 if quick else 2, steps=20 if quick else 60)
    lines = [
        "| setting | threads | alone s | each of a pair s | pair / alone (fair share 2.0) | "
        "concurrent / sequential wall (goal <= 1.15) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['threads']} | {r['alone']:.2f} | {r['pair']:.2f} | "
            f"{r['pair'] / r['alone']:.2f} | {r['concurrent_vs_sequential']:.2f} |"
        )
    return rows, "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# Real Jupyter kernels
# ------------------------------------------------------------------------------------------------
class Kernels:
    """Start Jupyter kernels of the course ("course") or of plain PyTorch defaults ("default"); stop them all."""

    def __init__(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="course-bench-kernels-")
        spec_dir = Path(self._tmp.name) / "kernels" / "plain-defaults"
        spec_dir.mkdir(parents=True)
        (spec_dir / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    "display_name": "plain Python (PyTorch defaults)",
                    "language": "python",
                }
            )
        )
        self._managers = []

    def manager(self, kind: str):
        """An unstarted KernelManager of that kind, and the environment to start it with."""
        from jupyter_client import KernelManager
        from jupyter_client.kernelspec import KernelSpecManager

        if kind == "course":
            km = KernelManager(
                kernel_name="python3"
            )  # the kernelspec `make` installs (with the policy's env)
            return km, {k: v for k, v in os.environ.items() if k not in POLICY_VARS}
        ksm = KernelSpecManager(kernel_dirs=[str(Path(self._tmp.name) / "kernels")])
        env = default_env()
        if (
            kind == "passive-all"
        ):  # the policy without the spare CPU: passive waiting, a thread per CPU
            from course_lib import threads

            env.update(OMP_WAIT_POLICY="PASSIVE", OMP_NUM_THREADS=str(threads.affinity_cpus()))
        return KernelManager(kernel_name="plain-defaults", kernel_spec_manager=ksm), env

    def start(self, kind: str, extra_env: dict | None = None):
        km, env = self.manager(kind)
        km.start_kernel(env={**env, **(extra_env or {})}, cwd=str(ROOT / "notebooks"))
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=120)
        self._managers.append((km, kc))
        return kc

    def close(self):
        for km, kc in self._managers:
            try:
                kc.stop_channels()
                km.shutdown_kernel(now=True)
            except Exception:  # noqa: BLE001 - best effort, every kernel gets its turn
                pass
        self._managers.clear()
        self._tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def execute(kc, code: str, timeout: float = 300) -> dict:
    """Run `code` in a kernel, wait for it, raise if it failed; returns the execute_reply content."""
    return _wait(kc, kc.execute(code, silent=True), timeout)


def evaluate(kc, expression: str, timeout: float = 60):
    """The value of a JSON-able expression in a kernel (read from the shell reply: a widget playing in that
    kernel floods its output channel, which is never read here)."""
    msg_id = kc.execute(
        "", silent=True, user_expressions={"v": f"__import__('json').dumps({expression})"}
    )
    content = _wait(kc, msg_id, timeout)
    return json.loads(content["user_expressions"]["v"]["data"]["text/plain"].strip("'"))


TRAINING_SETUP = """
import course_lib as cl
from torch import nn
from course_lib import data
from course_lib.models import LeNet
from course_lib.train import fit
x, y = data.make_digits28({n}, seed=0)
"""
TRAINING_CELL = (
    "cl.seed_everything(0); "
    "fit(LeNet(), (x, y), nn.CrossEntropyLoss(), epochs={epochs}, batch_size=64, progress=False)"
)


def _wait(kc, msg_id: str, timeout: float = 600) -> dict:
    """Wait for the shell reply to `msg_id`; raise if the cell failed. Returns the reply's content."""
    deadline = time.monotonic() + timeout
    while True:
        msg = kc.get_shell_msg(timeout=max(1.0, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == msg_id:
            if msg["content"]["status"] != "ok":
                raise RuntimeError(
                    f"kernel cell failed: {msg['content'].get('ename')}: {msg['content'].get('evalue')}"
                )
            return msg["content"]


def two_kernel_rows(repeats: int = 3, n: int = 4_000, epochs: int = 2) -> list[dict]:
    """(a): the same training cell in two kernels, at once vs one after the other."""
    rows = []
    for kind, label in (
        ("default", "plain kernels, PyTorch defaults"),
        ("course", "course kernel (thread policy)"),
    ):
        with Kernels() as kernels:
            k1, k2 = kernels.start(kind), kernels.start(kind)
            for kc in (k1, k2):
                execute(kc, TRAINING_SETUP.format(n=n))
                execute(kc, TRAINING_CELL.format(epochs=1))  # warm-up
            cell = TRAINING_CELL.format(epochs=epochs)
            seq, conc = [], []
            for _ in range(repeats):
                start = time.perf_counter()
                execute(k1, cell)
                execute(k2, cell)
                seq.append(time.perf_counter() - start)
                start = time.perf_counter()
                ids = [k1.execute(cell, silent=True), k2.execute(cell, silent=True)]
                _wait(k1, ids[0])
                _wait(k2, ids[1])
                conc.append(time.perf_counter() - start)
            threads = evaluate(k1, "__import__('torch').get_num_threads()")
        rows.append(
            {
                "kind": kind,
                "label": label,
                "threads": threads,
                "sequential": float(np.median(seq)),
                "concurrent": float(np.median(conc)),
                "ratio": float(np.median(conc) / np.median(seq)),
            }
        )
    return rows


def two_kernel_table(quick: bool = False) -> tuple[list[dict], str]:
    rows = two_kernel_rows(
        repeats=1 if quick else 3, n=1_000 if quick else 4_000, epochs=1 if quick else 2
    )
    lines = [
        "| two kernels, same training cell (LeNet) | threads each | one after the other s | at once s | "
        "at once / one after the other | goal <= 1.15 |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        goal = (
            ("met" if r["ratio"] <= 1.15 else "MISSED") if r["kind"] == "course" else "(reference)"
        )
        lines.append(
            f"| {r['label']} | {r['threads']} | {r['sequential']:.2f} | {r['concurrent']:.2f} | "
            f"{r['ratio']:.2f} | {goal} |"
        )
    return rows, "\n".join(lines)


GAN_SETUP = """
import course_lib as cl
from course_lib import data
from course_lib.models.gan import MLPDiscriminator, MLPGenerator
from course_lib.train import GANTrainer, batch_sampler
from course_lib.widgets import GANLab
cl.seed_everything(0)
ring = data.make_toy2d("ring", 5_000, seed=0)
lab = GANLab(GANTrainer(MLPGenerator(2, 2, 64), MLPDiscriminator(2, 64), batch_sampler(ring), 2, lr=1e-3), "2d", ring)
"""


KIND_LABELS = {
    "course": "course kernels (thread policy)",
    "passive-all": "passive waiting, one thread per CPU (no spare CPU)",
    "default": "plain kernels, PyTorch defaults",
}


def gan_beside_rows(
    notebook: str = "01_dropout_batchnorm.ipynb", kinds=("course", "passive-all", "default")
) -> list[dict]:
    """(b): a notebook alone, then again while the live GAN view plays in another kernel."""
    from .execution import NOTEBOOK_DIR, run_notebook

    path = NOTEBOOK_DIR / notebook
    rows = []
    with (
        Kernels() as kernels
    ):  # one untimed run first: caches (matplotlib's font list, the OS's files) warm up
        run_notebook(path, **dict(zip(("km", "env"), kernels.manager("course"))))
    for kind in kinds:
        with Kernels() as kernels:  # the notebook's kernel is of the same kind as the GAN's
            alone = run_notebook(path, **dict(zip(("km", "env"), kernels.manager(kind))))
            gan = kernels.start(kind)
            execute(gan, GAN_SETUP)
            execute(gan, "lab.start()")
            time.sleep(1.0)
            steps0, t0 = evaluate(gan, "lab.trainer.steps"), time.perf_counter()
            shared = run_notebook(path, **dict(zip(("km", "env"), kernels.manager(kind))))
            steps1, t1 = evaluate(gan, "lab.trainer.steps"), time.perf_counter()
            n_threads = evaluate(gan, "__import__('torch').get_num_threads()")
            execute(gan, "lab.pause()")
        rows.append(
            {
                "kind": kind,
                "notebook": notebook,
                "alone": alone["seconds"],
                "shared": shared["seconds"],
                "ok": alone["ok"] and shared["ok"],
                "gan_steps_per_s": (steps1 - steps0) / (t1 - t0),
                "threads": n_threads,
            }
        )
    return rows


def gan_beside_table(quick: bool = False) -> tuple[list[dict], str]:
    notebook = "00_getting_started.ipynb" if quick else "01_dropout_batchnorm.ipynb"
    rows = gan_beside_rows(
        notebook, kinds=("course",) if quick else ("course", "passive-all", "default")
    )
    lines = [
        "| notebook while the live GAN view plays in another kernel | threads | alone s | beside the GAN s | slowdown "
        "(goal <= 2.3x) | GAN steps/s meanwhile (goal >= 15) | goals |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        slow = r["shared"] / r["alone"]
        label = KIND_LABELS[r["kind"]]
        ok = slow <= 2.3 and r["gan_steps_per_s"] >= 15 and r["ok"]
        goal = ("met" if ok else "MISSED") if r["kind"] == "course" else "(reference)"
        lines.append(
            f"| {r['notebook']}, {label} | {r['threads']} | {r['alone']:.1f} | {r['shared']:.1f} | {slow:.2f}x | "
            f"{r['gan_steps_per_s']:.0f} | {goal} |"
        )
    return rows, "\n".join(lines)


def sharing_section(quick: bool = False) -> str:
    """The three tables of the "Sharing the CPU" section, with a line on how they were measured."""
    from course_lib import threads

    parts = [
        f"This process: {threads.current().describe()}",
        "",
        "(a) Two kernels, the same training cell:",
        "",
        two_kernel_table(quick)[1],
        "",
        "(b) A notebook beside the live GAN view:",
        "",
        gan_beside_table(quick)[1],
        "",
        "(c) The thread settings compared (a small conv net, 60 SGD steps per process):",
        "",
        policy_table(quick)[1],
    ]
    return "\n".join(parts)
