"""`make bench-hub` (python -m bench.hub, as root): how many students one machine holds.

Starts the class hub (hub/) on loopback with its own state folder and, for N = 1, 2, 4, 8, 16
simulated students at once (as far as memory allows), has every student do what a student does
in the first minutes of a class, all at the same time, over HTTP and the Jupyter websocket only:

  1. sign up (the instructor approves), log in, get an API token;
  2. start a server (spawn time), pull the course with nbgitpuller;
  3. open a course kernel in ~/course/notebooks and run every code cell of 00_getting_started;
  4. move the VAE latent explorer's slider 100 times (the same trait change the widget's comm
     makes; milliseconds from the change until the new PNG bytes are set, timed in the kernel);
  5. run one training cell (LeNet, 3 epochs on 6,000 digits), all students pressing run at
     the same moment, and time it.

Measured: spawn time p50/p95, slider latency p50/p95, the training cell's time against one
student alone, the hub's memory (hub, proxy, culler), each student's memory (server and kernel:
idle after the work, and peak while busy) and failures. Every request and cell has a time limit,
each level ends within `level_timeout` s, and every account it made is removed at the end.
The table is section 6 of bench/results.md; README "Teaching a class" turns it into students per node.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import psutil

from bench.hub_client import (
    Hub,
    HubError,
    KernelClient,
    Student,
    cleanup_students,
    hub_unavailable_reason,
    rss_mb,
    setup_hub,
)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "00_getting_started.ipynb"

SLIDER_CELL = """
import course_lib  # first: the thread policy before torch loads
import json, time
import numpy as np, torch
from course_lib import checkpoints
from course_lib.models.vae import VAE
from course_lib.widgets import LatentExplorer
_vae = checkpoints.load_checkpoint("vae_digits", VAE)
_explorer = LatentExplorer(_vae, codes=torch.randn(500, 2), labels=torch.randint(0, 10, (500,)))
_times = []
for _i, _v in enumerate(np.linspace(-2.5, 2.5, {moves})):
    _before = _explorer.image.value
    _t0 = time.perf_counter()
    _explorer.sliders[_i % 2].value = float(_v)   # what the slider's comm message does
    assert _explorer.image.value is not _before
    _times.append((time.perf_counter() - _t0) * 1e3)
print("SLIDER_MS", json.dumps(_times))
"""

# The data is made first; the class then presses "run" on the training cell at the same moment.
TRAIN_DATA_CELL = """
import course_lib as cl
from course_lib.data import make_digits28
_x, _y = make_digits28({n}, seed=1)
"""
TRAIN_CELL = """
import time, torch
from course_lib.models.cnn import LeNet
from course_lib.train import fit
cl.seed_everything(0)
_t0 = time.perf_counter()
_hist = fit(LeNet(), (_x, _y), torch.nn.functional.cross_entropy, epochs={epochs}, progress=False)
print("TRAIN_S", time.perf_counter() - _t0, "LOSS", _hist.last("train_loss"))
"""


def notebook_cells(path: Path = ROOT / "notebooks" / NOTEBOOK) -> list[str]:
    """The code cells of a course notebook, as a student's Run All sends them."""
    nb = json.loads(path.read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def _pct(values, q) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


class MemorySampler:
    """Samples the memory of the students' processes and the hub's every `every` seconds."""

    def __init__(self, names: list[str], hub: Hub, every: float = 0.5):
        self.names, self.hub, self.every = names, hub, every
        self.peak = {n: 0.0 for n in names}
        self.hub_peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            # one pass over the process table per sample, so the sampler itself stays cheap
            by_user = rss_by_user(self.names)
            for n in self.names:
                self.peak[n] = max(self.peak[n], by_user.get(n, 0.0))
            self.hub_peak = max(self.hub_peak, hub_rss_mb(self.hub))
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)


def rss_by_user(names) -> dict[str, float]:
    """MiB of resident memory per user name, for the given names."""
    wanted, out = set(names), {}
    for p in psutil.process_iter(["username", "memory_info"]):
        user, mem = p.info["username"], p.info["memory_info"]
        if user in wanted and mem is not None:
            out[user] = out.get(user, 0.0) + mem.rss / 2**20
    return out


def hub_rss_mb(hub: Hub) -> float:
    """The hub, its proxy and its services (one process group)."""
    if hub.proc is None:
        return 0.0
    try:
        pgid = os.getpgid(hub.proc.pid)
    except ProcessLookupError:
        return 0.0
    root = psutil.Process(hub.proc.pid)
    procs = [root, *root.children(recursive=True)]  # hub, proxy, culler
    return rss_mb([p for p in procs if _pgid(p.pid) == pgid])


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def one_student(
    student: Student,
    start: threading.Barrier,
    train_now: threading.Barrier,
    moves: int,
    train_n: int,
    epochs: int,
    cell_timeout: float,
) -> dict:
    """Everything one simulated student does; returns their figures or the failure."""
    out = {"name": student.name}
    waited = False

    def wait_for_class():
        nonlocal waited
        if not waited:
            waited = True
            try:
                train_now.wait(cell_timeout)
            except threading.BrokenBarrierError:
                pass

    try:
        start.wait(120)
        out["spawn_s"] = student.start_server()
        student.pull_course()
        r = student.server("POST", "/api/kernels", json={"path": "course/notebooks"})
        r.raise_for_status()
        kernel_id = r.json()["id"]

        async def drive():
            k = await KernelClient(student, kernel_id).connect()
            try:
                t0 = time.monotonic()
                for cell in notebook_cells():
                    res = await k.execute(cell, cell_timeout)
                    if res["status"] != "ok":
                        raise HubError(f"{NOTEBOOK} cell failed: {res['error']}")
                out["notebook_s"] = time.monotonic() - t0
                res = await k.execute(SLIDER_CELL.format(moves=moves), cell_timeout)
                if res["status"] != "ok":
                    raise HubError(f"slider cell failed: {res['error']}")
                line = next(x for x in res["stdout"].splitlines() if x.startswith("SLIDER_MS"))
                out["slider_ms"] = json.loads(line.split(" ", 1)[1])
                res = await k.execute(TRAIN_DATA_CELL.format(n=train_n), cell_timeout)
                if res["status"] != "ok":
                    raise HubError(f"data cell failed: {res['error']}")
                wait_for_class()
                res = await k.execute(TRAIN_CELL.format(epochs=epochs), cell_timeout)
                if res["status"] != "ok":
                    raise HubError(f"training cell failed: {res['error']}")
                line = next(x for x in res["stdout"].splitlines() if x.startswith("TRAIN_S"))
                out["train_s"] = float(line.split()[1])
            finally:
                k.close()

        asyncio.run(drive())
    except Exception as e:  # a failure is a figure of the load test, not its end
        out["error"] = f"{type(e).__name__}: {e}"[:300]
    finally:
        wait_for_class()  # a student who failed does not hold the others back
    return out


def run_level(
    hub: Hub,
    admin,
    n: int,
    moves: int = 100,
    train_n: int = 6000,
    epochs: int = 3,
    cell_timeout: float = 600,
    level_timeout: float = 1500,
) -> dict:
    """N students at once on a running hub; returns the level's figures (accounts removed after)."""
    tag = uuid.uuid4().hex[:4]
    names = [f"ld{tag}-{i:02d}" for i in range(n)]
    students: list[Student] = []
    results: list[dict] = []
    try:
        for name in names:
            students.append(hub.enrol(admin, name, f"pw-{name}-{tag}x"))
        barrier, train_now = threading.Barrier(n), threading.Barrier(n)
        with MemorySampler(names, hub) as mem, ThreadPoolExecutor(n) as pool:
            futures = [
                pool.submit(
                    one_student, s, barrier, train_now, moves, train_n, epochs, cell_timeout
                )
                for s in students
            ]
            deadline = time.monotonic() + level_timeout
            for f in futures:
                try:
                    results.append(f.result(max(1.0, deadline - time.monotonic())))
                except Exception as e:
                    results.append({"error": f"{type(e).__name__}: {e}"[:300]})
        time.sleep(2)  # kernels idle again
        by_user = rss_by_user(names)
        idle = [by_user.get(name, 0.0) for name in names]
        ok = [r for r in results if "error" not in r]
        return {
            "n": n,
            "ok": len(ok),
            "failures": [r["error"] for r in results if "error" in r],
            "spawn_s": [r["spawn_s"] for r in ok],
            "notebook_s": [r["notebook_s"] for r in ok],
            "slider_ms": [t for r in ok for t in r["slider_ms"]],
            "train_s": [r["train_s"] for r in ok],
            "idle_mb": idle,
            "busy_mb": list(mem.peak.values()),
            "hub_mb": mem.hub_peak,
        }
    finally:
        for s in students:
            try:
                s.stop_server(30)
            except Exception:
                pass
        cleanup_students(names)


def level_row(level: dict, alone_train_s: float) -> str:
    train = np.median(level["train_s"]) if level["train_s"] else float("nan")
    fails = len(level["failures"])
    return (
        f"| {level['n']} | {_pct(level['spawn_s'], 50):.1f} / {_pct(level['spawn_s'], 95):.1f} "
        f"| {_pct(level['notebook_s'], 50):.1f} "
        f"| {_pct(level['slider_ms'], 50):.1f} / {_pct(level['slider_ms'], 95):.1f} "
        f"| {train:.1f} | {train / alone_train_s:.2f} "
        f"| {level['hub_mb']:.0f} | {np.median(level['idle_mb']):.0f} | {np.median(level['busy_mb']):.0f} "
        f"| {fails} |"
    )


HEADER = (
    "| students at once | spawn s p50 / p95 | 00 notebook s (p50) | slider ms p50 / p95 "
    "| training cell s (median) | vs alone | hub MiB | per student idle MiB | per student busy MiB "
    "| failures |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def students_per_node(ram_gib: float, cores: int, busy_mb: float, hub_mb: float, slowdown: float):
    """The README's rule: memory for every student's busy peak (plus the hub and 2 GiB for the
    system), and at most `slowdown` students per core training at the same moment."""
    by_memory = int((ram_gib * 1024 - 2048 - hub_mb) // busy_mb)
    by_cpu = int(cores * slowdown)
    return by_memory, by_cpu


def load_test(
    levels=(1, 2, 4, 8, 16),
    moves: int = 100,
    train_n: int = 6000,
    epochs: int = 3,
    state: Path | None = None,
) -> tuple[list[dict], str]:
    reason = hub_unavailable_reason()
    if reason:
        raise SystemExit(f"bench.hub: {reason}")
    own_state = state is None
    state = state or Path(tempfile.mkdtemp(prefix="course-hub-bench-", dir="/tmp"))
    state.chmod(0o755)
    setup_hub(state)
    admin_name = f"teach{uuid.uuid4().hex[:4]}"
    hub = Hub(state, admin=admin_name, settings={"HUB_CLASS_SIZE": "64"})
    levels_done: list[dict] = []
    skipped: list[str] = []
    try:
        hub.start()
        hub.signup(admin_name, "instructor-pass-1")
        admin = hub.login(admin_name, "instructor-pass-1")
        for n in levels:
            if levels_done and levels_done[-1]["busy_mb"]:
                # every student at their busy peak at once, with 1 GiB to spare
                need = n * max(levels_done[-1]["busy_mb"]) / 1024
                free = psutil.virtual_memory().available / 2**30
                if need > free - 1:
                    skipped.append(f"N = {n}: needs about {need:.1f} GiB, {free:.1f} GiB free")
                    continue
            print(f"bench.hub: {n} student(s) at once ...", flush=True)
            level = run_level(hub, admin, n, moves=moves, train_n=train_n, epochs=epochs)
            levels_done.append(level)
            print(f"  {json.dumps({k: v for k, v in level.items() if k != 'slider_ms'})[:600]}")
    finally:
        hub.stop()
        cleanup_students([admin_name])
        if own_state:
            shutil.rmtree(state, ignore_errors=True)
    alone = np.median(levels_done[0]["train_s"]) if levels_done and levels_done[0]["train_s"] else 1
    mem = psutil.virtual_memory().total / 2**30
    cores = len(os.sched_getaffinity(0))
    busy = max(max(lv["busy_mb"]) for lv in levels_done if lv["busy_mb"])
    hub_mb = max(lv["hub_mb"] for lv in levels_done)
    by_mem, by_cpu = students_per_node(mem, cores, busy, hub_mb, slowdown=4)
    lines = [
        f"Each student: spawn, nbgitpuller, all code cells of `{NOTEBOOK}`, {moves} latent-slider "
        f"moves (timed in the kernel), one training cell (LeNet, {epochs} epochs on {train_n} digits, "
        "started by all at the same moment); all students at once. Per-student limits: 2 GiB, 1 CPU (cgroups). "
        f"This machine: {mem:.0f} GiB, {cores} cores.",
        "",
        HEADER,
        *[level_row(lv, alone) for lv in levels_done],
        "",
    ]
    if skipped:
        lines += ["Not run: " + "; ".join(skipped) + ".", ""]
    fails = [f for lv in levels_done for f in lv["failures"]]
    if fails:
        lines += ["Failures: " + "; ".join(sorted(set(fails))[:5]), ""]
    top = levels_done[-1]
    top_ratio = (np.median(top["train_s"]) / alone) if top["train_s"] else float("nan")
    lines += [
        f"Students per node here (README 'Teaching a class'): memory ({mem:.0f} GiB - 2 GiB system - "
        f"{hub_mb:.0f} MiB hub) / {busy:.0f} MiB busy peak per student = **{by_mem}** students; "
        f"CPU: with {top['n']} students training at the same moment on {cores} cores the training cell "
        f"took {top_ratio:.1f}x its time alone, so a slowdown of at most 4x when everybody trains at "
        f"once allows **{by_cpu}** on {cores} cores. The smaller of the two is the class size.",
    ]
    return levels_done, "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.hub", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--levels", default="1,2,4,8,16", help="students at once, e.g. 1,2,4")
    parser.add_argument("--moves", type=int, default=100, help="slider moves per student")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.md"))
    args = parser.parse_args(argv)
    from bench.__main__ import machine_line, merge_sections

    levels = [int(x) for x in args.levels.split(",")]
    # a stopped run (kill, Ctrl-C) still removes the accounts and servers it made: its finally blocks run
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    _, table = load_test(levels, moves=args.moves)
    machine = machine_line()
    print(f"\n{machine}\n\n{table}")
    out = Path(args.out)
    if args.out:
        title = "6. A class on one hub (load test, `make bench-hub`)"
        old = out.read_text() if out.exists() else "# Course benchmarks\n"
        out.write_text(merge_sections(old, {"6": (title, table)}, machine, "make bench-hub"))
        print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
