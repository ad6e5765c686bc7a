"""The course's CPU thread policy: share the machine instead of fighting over it.

PyTorch starts one OpenMP thread per core, and by default idle OpenMP threads *spin* (busy-wait)
for a while after every parallel region. Alone on a machine that is a little faster; beside any
other process (a second notebook, `make test`, 30 kernels on a class server) every process slows
down far more than its fair share (measured here: 7.5x instead of 2x for two processes on 2 cores;
see `bench/results.md`, "Sharing the CPU"). The policy, applied by `import course_lib`:

1. OpenMP threads wait *passively* (``OMP_WAIT_POLICY=PASSIVE``): they sleep instead of spinning.
   This has to be in the environment before torch is imported (OpenMP reads it once, when torch
   loads), which is why `course_lib` sets it before its own ``import torch`` and why the course's
   Jupyter kernel carries it in its kernelspec.
2. One thread fewer than the CPUs this process may really use, at least 1 (`usable_threads`). The
   usable CPUs are the smaller of its CPU affinity (taskset, cpuset, Kubernetes' static CPU manager)
   and its cgroup CPU quota (docker ``--cpus``, Kubernetes CPU limits), rounded down.
   ``os.cpu_count()`` would say 64 in a container limited to 2 CPUs on a 64-core host. The spare CPU
   is for the Jupyter server, the browser and the other kernels; on 2 CPUs it makes one thread,
   which measured best both alone and beside other work (see `usable_threads`).
3. ``COURSE_THREADS=N`` overrides the count (an explicit ``OMP_NUM_THREADS`` is honoured too).
   ``COURSE_THREAD_POLICY=off`` leaves PyTorch's defaults alone (the benchmark uses it to compare).

`apply()` does all of it, in one step that `import course_lib` runs first and logs in one line.
Nothing in this module imports torch at import time: it runs before torch loads.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

# Environment variables of the thread libraries the course loads (torch's OpenMP, numpy/scipy's BLAS).
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# Marks the counts this policy wrote into the environment (children inherit it), so that a child process
# can tell "a parent's course_lib set OMP_NUM_THREADS" from "a person set OMP_NUM_THREADS".
_MARK = "COURSE_THREADS_APPLIED"
# Every environment variable the policy reads or writes: remove them all to get PyTorch's own defaults
# (the sharing benchmark and the tests start processes without any thread setting this way).
POLICY_VARS = (
    "OMP_WAIT_POLICY",
    *THREAD_VARS,
    "COURSE_THREADS",
    _MARK,
    "COURSE_THREAD_POLICY",
)


# ----------------------------------------------------------------------------------------------
# Reading the limits. Each reader takes its file paths, so tests can feed it fake cgroup files.
# ----------------------------------------------------------------------------------------------
def read_cgroup_v2_quota(cpu_max: str | os.PathLike) -> float | None:
    """CPUs allowed by a cgroup v2 ``cpu.max`` file ("QUOTA PERIOD" or "max PERIOD").

    Returns e.g. 2.5 for "250000 100000"; None when there is no limit ("max") or the file is
    missing or unreadable (the caller then falls back to the affinity alone).
    """
    try:
        fields = Path(cpu_max).read_text().split()
    except (OSError, UnicodeDecodeError):
        return None
    if not fields or fields[0] == "max":
        return None
    try:
        quota = int(fields[0])
        period = int(fields[1]) if len(fields) > 1 else 100_000  # the kernel's default period
    except ValueError:
        return None
    if quota <= 0 or period <= 0:
        return None
    return quota / period


def read_cgroup_v1_quota(
    quota_file: str | os.PathLike, period_file: str | os.PathLike
) -> float | None:
    """CPUs allowed by cgroup v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``; None if unlimited (-1) or unreadable."""
    try:
        quota = int(Path(quota_file).read_text().strip())
        period = int(Path(period_file).read_text().strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if quota <= 0 or period <= 0:
        return None
    return quota / period


def cgroup_cpu_quota(
    proc_cgroup: str | os.PathLike = "/proc/self/cgroup", root: str | os.PathLike = "/sys/fs/cgroup"
) -> float | None:
    """The tightest CPU quota over this process's cgroup and its ancestors (v2 and v1); None if unlimited.

    A limit set on a parent cgroup (a Kubernetes pod, a systemd slice) binds every child, so the
    whole path up to the root is checked, and the smallest quota wins.
    """
    try:
        lines = Path(proc_cgroup).read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    root = Path(root)
    quotas: list[float] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, rel = parts
        rel = rel.strip().lstrip("/")
        if controllers == "":  # cgroup v2 (the unified hierarchy)
            bases = [root, root / "unified"]
            reader = lambda d: read_cgroup_v2_quota(d / "cpu.max")  # noqa: E731
        elif "cpu" in controllers.split(","):  # cgroup v1: the cpu controller
            bases = [root / controllers, root / "cpu", root / "cpu,cpuacct"]
            reader = lambda d: read_cgroup_v1_quota(d / "cpu.cfs_quota_us", d / "cpu.cfs_period_us")  # noqa: E731
        else:
            continue
        for base in dict.fromkeys(bases):  # unique, in order
            if not base.is_dir():
                continue
            # In a container the cgroup namespace often shows the own cgroup as "/", or the mount is the
            # container's own cgroup while /proc/self/cgroup names the host path: try both.
            directory = base / rel
            chain = [directory, *directory.parents] if rel else [directory]
            for d in chain:
                q = reader(d)
                if q is not None:
                    quotas.append(q)
                if d == base:
                    break
            else:
                q = reader(base)
                if q is not None:
                    quotas.append(q)
            break
    return min(quotas) if quotas else None


def affinity_cpus() -> int:
    """CPUs this process may be scheduled on (its affinity mask), or the machine's count where unknown."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS, Windows
        return os.cpu_count() or 1


# ----------------------------------------------------------------------------------------------
# The decision
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ThreadPolicy:
    threads: int  # the thread count the course uses
    reason: str  # one line: why this count
    affinity: int  # CPUs in the affinity mask
    quota: float | None  # CPUs allowed by the cgroup quota (None: no quota)
    wait_policy: (
        str  # OMP_WAIT_POLICY in force for this process ("PASSIVE" unless someone chose otherwise)
    )
    applied_late: bool = False  # torch was already loaded when the policy was applied

    def describe(self) -> str:
        if self.threads == 0:
            return self.reason
        late = (
            " torch was imported before course_lib, so its OpenMP threads may still spin"
            if self.applied_late
            else ""
        )
        return (
            f"{self.threads} thread(s): {self.reason}; OpenMP wait policy {self.wait_policy}.{late}"
        )


def _positive_int(name: str, value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"{name} must be a whole number >= 1 (threads for PyTorch), got {value!r}")
    return n


def usable_threads(cpus: int) -> int:
    """Threads for `cpus` usable CPUs: all but one, at least 1.

    Measured on 2 CPUs (bench/results.md, "Sharing the CPU"): with 2 passive threads, a notebook of
    many small operations ran 2x slower alone than with PyTorch's defaults (every parallel region has
    to wake a sleeping thread), while 1 thread was as fast as the defaults alone and the fastest
    beside other work; spinning threads (the defaults, or a short GOMP_SPINCOUNT) were up to 19x
    slower beside other work. Leaving one CPU free costs little on bigger machines (7 of 8 threads)."""
    return max(1, int(cpus) - 1)


def decide(
    environ: dict | None = None, affinity: int | None = None, quota: float | None | str = "read"
) -> ThreadPolicy:
    """Choose the thread count: COURSE_THREADS, else a person's OMP_NUM_THREADS, else
    usable_threads(min(affinity, quota)).

    `affinity` and `quota` default to this process's; tests pass their own.
    """
    env = os.environ if environ is None else environ
    affinity = affinity_cpus() if affinity is None else affinity
    quota = cgroup_cpu_quota() if quota == "read" else quota
    wait = env.get("OMP_WAIT_POLICY", "PASSIVE").upper()
    # a count asked for is capped at the CPUs this process may be scheduled on (torch crashes at
    # 100,000); above a cgroup quota it is still honoured: a person may oversubscribe on purpose
    most = max(1, affinity)
    if env.get("COURSE_THREADS", "").strip():
        n = _positive_int("COURSE_THREADS", env["COURSE_THREADS"].strip())
        if n > most:
            warnings.warn(
                f"course_lib: COURSE_THREADS={n} is more than the {most} CPU(s) this process may "
                f"use; using {most}",
                RuntimeWarning,
                stacklevel=3,
            )
            return ThreadPolicy(
                most,
                f"COURSE_THREADS={n} capped at the {most} CPU(s) available",
                affinity,
                quota,
                wait,
            )
        return ThreadPolicy(n, f"COURSE_THREADS={n} set in the environment", affinity, quota, wait)
    omp = env.get("OMP_NUM_THREADS", "").strip()
    if omp and omp != env.get(
        _MARK
    ):  # set by a person (or a hub's config), not inherited from course_lib
        try:
            n = _positive_int("OMP_NUM_THREADS", omp)
            if n > most:
                return ThreadPolicy(
                    most,
                    f"OMP_NUM_THREADS={n} capped at the {most} CPU(s) available",
                    affinity,
                    quota,
                    wait,
                )
            return ThreadPolicy(
                n, f"OMP_NUM_THREADS={n} set in the environment", affinity, quota, wait
            )
        except ValueError:
            pass  # OpenMP itself ignores a malformed value; so does the course
    if quota is not None and quota < affinity:
        usable = max(1, math.floor(quota))
        why = f"the cgroup CPU quota allows {quota:g} CPU(s) (of {affinity} in this process's affinity)"
    else:
        usable = max(1, affinity)
        why = f"{affinity} CPU(s) in this process's affinity" + (
            "" if quota is None else f", cgroup quota {quota:g}"
        )
        if quota is None:
            why += ", no cgroup CPU quota"
    n = usable_threads(usable)
    if n < usable:
        why += "; one is left for the Jupyter server, the browser and other kernels"
    return ThreadPolicy(n, why, affinity, quota, wait)


# ----------------------------------------------------------------------------------------------
# Applying it
# ----------------------------------------------------------------------------------------------
_current: ThreadPolicy | None = None
_log = logging.getLogger("course_lib")

LATE_MESSAGE = (
    "course_lib: torch was imported before course_lib, so PyTorch's OpenMP threads already run with "
    "the default wait policy (they spin while idle and slow down every other process on a shared CPU). "
    "The thread count was still set to {n}. To fix it: restart the kernel and run `import course_lib` "
    "before `import torch`, or use the course's kernel 'Python 3 (course)' (`python -m course_lib kernel` "
    "installs it), or start Python with OMP_WAIT_POLICY=PASSIVE in the environment."
)


def apply(environ: dict | None = None) -> ThreadPolicy:
    """The course's CPU policy in one step; `import course_lib` runs it first, before numpy and torch.

    1. The environment (this process before torch loads, and every process it starts):
       OMP_WAIT_POLICY=PASSIVE unless already chosen, and the thread counts (THREAD_VARS).
    2. This process's torch: torch.set_num_threads, and flush-denormal on - tiny "denormal" floats
       make CPU arithmetic 5-10x slower (measured here: a DCGAN step 1.4 s -> 0.16 s), and flushing
       them to zero changes no result that matters.
    3. One line on the "course_lib" logger saying what it did (logging.INFO; `python -m course_lib
       threads` prints the same).
    COURSE_THREAD_POLICY=off opts out: nothing is changed. With torch imported before course_lib,
    the thread count is still set, with a warning (RuntimeWarning) that the wait policy came too late.
    `environ` (a dict) writes step 1 into it instead of this process's environment (for a child).
    """
    global _current
    env = os.environ if environ is None else environ
    if env.get("COURSE_THREAD_POLICY", "").strip().lower() == "off":
        policy = ThreadPolicy(
            0,
            "COURSE_THREAD_POLICY=off: PyTorch's own defaults",
            affinity_cpus(),
            None,
            env.get("OMP_WAIT_POLICY", "default (spinning)"),
        )
        if environ is None:
            _current = policy
            _log.info("course_lib.threads.apply: %s", policy.describe())
        return policy
    try:
        policy = decide(env)
    except (
        ValueError
    ) as exc:  # a typo in COURSE_THREADS must not stop every notebook from importing
        warnings.warn(
            f"course_lib: {exc}; using the automatic thread count instead",
            RuntimeWarning,
            stacklevel=3,
        )
        policy = decide({k: v for k, v in env.items() if k != "COURSE_THREADS"})
    torch_loaded = "torch" in sys.modules
    # a wait policy someone chose is respected, not reported
    late = torch_loaded and "OMP_WAIT_POLICY" not in env
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    n = str(policy.threads)
    for var in THREAD_VARS:
        # A count written by a parent's course_lib is ours to replace; one a person chose is not.
        if var not in env or env[var] == env.get(_MARK):
            env[var] = n
    env[_MARK] = n
    policy = ThreadPolicy(
        policy.threads,
        policy.reason,
        policy.affinity,
        policy.quota,
        env.get("OMP_WAIT_POLICY", "PASSIVE").upper() if not late else "default (spinning)",
        applied_late=late,
    )
    if late:
        warnings.warn(LATE_MESSAGE.format(n=policy.threads), RuntimeWarning, stacklevel=3)
    if environ is not None:  # a child's environment: this process stays as it is
        if torch_loaded:
            set_torch_threads(policy.threads)
        return policy
    import torch  # only now: OpenMP reads the environment written above when torch loads

    set_torch_threads(policy.threads)
    torch.set_flush_denormal(True)  # per thread: course threads (widgets.KernelPlayer) set it too
    if "numpy" in sys.modules:  # its BLAS read the environment before we wrote it
        _limit_blas(policy.threads)
    _current = policy
    _log.info("course_lib.threads.apply: %s Flush-denormal on.", policy.describe())
    return policy


def set_torch_threads(n: int) -> None:
    """torch.set_num_threads(n), and the inter-op pool too while torch still allows it (n < 1: leave as is)."""
    if n < 1:
        return
    import torch

    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(n)
    except RuntimeError:  # only possible before any inter-op work started; harmless to skip
        pass


def _limit_blas(n: int) -> None:
    """Cap numpy/scipy's BLAS pool where it was loaded before the environment said so."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings threadpoolctl
        return
    threadpool_limits(limits=n, user_api="blas")


def current() -> ThreadPolicy:
    """The policy applied by `import course_lib` (applied now if it was not)."""
    return _current if _current is not None else apply()


def limited(threads: int) -> int:
    """At most `threads` torch threads, never more than the policy allows; returns the count set.

    For code that wants fewer threads than the machine offers (e.g. bit-reproducible pretraining
    on one thread), without ever taking more than the CPUs really available.
    """
    cap = current().threads or affinity_cpus()  # 0 = policy off
    n = max(1, min(int(threads), cap))
    set_torch_threads(n)
    return n


@contextlib.contextmanager
def limit(threads: int):
    """`with limit(2): ...` runs the block with at most that many torch threads (as `limited`), then
    restores the count that was set before, so one step of a script does not change the next ones."""
    import torch

    before = torch.get_num_threads()
    try:
        yield limited(threads)
    finally:
        set_torch_threads(before)
