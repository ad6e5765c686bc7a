"""The pieces of the class hub that JupyterHub does not ship: Unix accounts for students and
per-student limits the kernel enforces.

`jupyterhub_config.py` imports this file. The hub runs as root; each student is a Unix user that
the spawner creates on their first start (as The Littlest JupyterHub does), in the group
``course-students``, with a home directory only they can open (mode 700). A hub name that is
already a system account the hub did not create (``root``, ``daemon``, a staff login) is refused,
so nobody can sign up as ``root`` and get a root server.

Limits: where the machine lets root create cgroups (v1 or v2), every student server runs in its
own cgroup with a memory ceiling, a CPU quota and a process cap. The kernel enforces them: a
notebook that takes more memory than its share is killed inside that student's cgroup, not the
neighbours'. The course's thread policy reads the CPU quota, so a student's PyTorch uses as many
threads as the quota allows. Where cgroups cannot be written (an unprivileged container), the
hub logs that and the limits are only advertised (``MEM_LIMIT``/``CPU_LIMIT``, which
jupyter-resource-usage shows); README "Teaching a class" says what to use instead.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import re
import subprocess
import time
from pathlib import Path

STUDENT_GROUP = "course-students"
# Unix-safe, lower case, starts with a letter: what useradd accepts and a class roster needs.
USERNAME_PATTERN = r"^[a-z][a-z0-9_-]{1,30}$"
_USERNAME_RE = re.compile(USERNAME_PATTERN)


class AccountError(RuntimeError):
    """A hub user that cannot be mapped to a student account."""


def check_username(name: str) -> str:
    if not _USERNAME_RE.match(name or ""):
        raise AccountError(
            f"user name {name!r} is not allowed: expected lower-case letters, digits, '_' or '-', "
            "starting with a letter, 2-31 characters"
        )
    return name


def is_student_account(name: str) -> bool:
    """True when `name` exists and is one of the accounts this hub created."""
    try:
        entry = pwd.getpwnam(name)
        group = grp.getgrnam(STUDENT_GROUP)
    except KeyError:
        return False
    return entry.pw_uid != 0 and (entry.pw_gid == group.gr_gid or name in group.gr_mem)


def ensure_student_account(name: str, home_root: str = "/home") -> pwd.struct_passwd:
    """Create the Unix account for a hub user on first use; refuse foreign system accounts."""
    check_username(name)
    try:
        grp.getgrnam(STUDENT_GROUP)
    except KeyError:
        subprocess.run(["groupadd", "--system", STUDENT_GROUP], check=True)
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--create-home",
                "--base-dir",
                home_root,
                "--shell",
                "/bin/bash",
                "--gid",
                STUDENT_GROUP,
                "--comment",
                "course hub student",
                name,
            ],
            check=True,
            capture_output=True,
        )
    if not is_student_account(name):
        raise AccountError(
            f"{name!r} is an existing system account that this hub did not create "
            f"(not in group {STUDENT_GROUP}); refusing to start a server as it"
        )
    entry = pwd.getpwnam(name)
    # Students cannot list or read each other's files.
    os.chmod(entry.pw_dir, 0o700)
    return entry


def remove_student_account(name: str) -> None:
    """Delete a student's account, home and cgroups (used by the tests and the load test)."""
    if is_student_account(name):
        subprocess.run(["pkill", "-KILL", "-u", name], check=False)
        for _ in range(50):  # the processes are gone before the account and its cgroups go
            if subprocess.run(["pgrep", "-u", name], capture_output=True).returncode:
                break
            time.sleep(0.1)
        subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)
        remove_student_cgroups(name)


def remove_student_cgroups(name: str, dirs: dict[str, Path] | None = None) -> None:
    """Remove the (empty) cgroups `setup_student_cgroups` made for `name`."""
    check_username(name)
    try:
        dirs = _own_cgroup_dirs() if dirs is None else dirs
    except OSError:
        return
    for parent in set(dirs.values()):
        try:
            (parent / "course-hub" / name).rmdir()
        except OSError:
            pass


# --- cgroups -----------------------------------------------------------------------------------


def parse_size(text: str | int) -> int:
    """'2G' -> bytes (K, M, G, T; powers of 1024); an int is returned as is."""
    if isinstance(text, int):
        return text
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", str(text), re.I)
    if not m:
        raise ValueError(f"memory size {text!r}: expected a number with K, M, G or T, e.g. '2G'")
    scale = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}[m.group(2).upper()]
    return int(float(m.group(1)) * scale)


def _own_cgroup_dirs(
    mountinfo: str = "/proc/self/mountinfo", cgroup: str = "/proc/self/cgroup"
) -> dict[str, Path]:
    """Where this process's cgroup sits, per controller: {'memory': Path, 'cpu': ..., 'pids': ...}
    for v1, or {'unified': Path} for v2."""
    mounts: dict[str, Path] = {}
    unified = None
    for line in Path(mountinfo).read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields, rfields = left.split(), right.split()
        if len(fields) < 5 or not rfields:
            continue
        if rfields[0] == "cgroup2":
            unified = Path(fields[4])
        elif rfields[0] == "cgroup":
            for opt in rfields[-1].split(","):
                if opt in ("memory", "cpu", "pids"):
                    mounts[opt] = Path(fields[4])
    found: dict[str, Path] = {}
    for line in Path(cgroup).read_text().splitlines():
        hid, controllers, path = line.split(":", 2)
        rel = path.lstrip("/")
        if hid == "0" and unified is not None:
            found["unified"] = unified / rel
        for c in controllers.split(","):
            if c in mounts:
                found[c] = mounts[c] / rel
    return found


def setup_student_cgroups(
    name: str, mem_bytes: int, cpu_limit: float, max_pids: int, dirs: dict[str, Path] | None = None
) -> tuple[list[Path], str]:
    """Create (or reuse) a cgroup per controller for `name` with the limits; return the
    cgroup.procs files to join and a one-line account of what is enforced."""
    dirs = _own_cgroup_dirs() if dirs is None else dirs
    procs: list[Path] = []
    done: list[str] = []
    period = 100_000

    def make(parent: Path) -> Path:
        d = parent / "course-hub" / name
        d.mkdir(parents=True, exist_ok=True)
        return d

    if {"memory", "cpu", "pids"} & dirs.keys():  # cgroup v1
        for ctl, fname, value, label in (
            ("memory", "memory.limit_in_bytes", str(mem_bytes), f"memory {mem_bytes >> 20} MiB"),
            (
                "cpu",
                "cpu.cfs_quota_us",
                str(int(cpu_limit * period)),
                f"cpu {cpu_limit:g} cores",
            ),
            ("pids", "pids.max", str(max_pids), f"{max_pids} processes"),
        ):
            if ctl not in dirs:
                continue
            try:
                d = make(dirs[ctl])
                if ctl == "cpu":
                    (d / "cpu.cfs_period_us").write_text(str(period))
                (d / fname).write_text(value)
            except OSError:
                continue
            procs.append(d / "cgroup.procs")
            done.append(label)
    elif "unified" in dirs:  # cgroup v2: needs the controllers delegated to our subtree
        try:
            base = dirs["unified"] / "course-hub"
            base.mkdir(exist_ok=True)
            (base / "cgroup.subtree_control").write_text("+memory +cpu +pids")
            d = make(dirs["unified"])
            (d / "memory.max").write_text(str(mem_bytes))
            (d / "cpu.max").write_text(f"{int(cpu_limit * period)} {period}")
            (d / "pids.max").write_text(str(max_pids))
            procs.append(d / "cgroup.procs")
            done = [
                f"memory {mem_bytes >> 20} MiB",
                f"cpu {cpu_limit:g} cores",
                f"{max_pids} processes",
            ]
        except OSError:
            pass
    return procs, ", ".join(done)


# --- the instructor's graded labs (nbgrader) ---------------------------------------------------

# nbgrader's instructor tools: the formgrader, the assignment creator, the course list. hub/setup.sh
# turns them off in the class environment; the instructor's own Jupyter config turns them back on.
INSTRUCTOR_LAB_PLUGINS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
)
INSTRUCTOR_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
)
COURSE_FOLDER = "course-labs"


def prepare_instructor(name: str, labs_source: str | Path, env: str | Path) -> Path:
    """As root, before the instructor's server starts: their nbgrader course folder (~/course-labs,
    mode 700) with every lab's source copied in (never overwriting their edits), their Jupyter
    config enabling the formgrader, and the sudo rule that lets their autograder run students' code
    as course-grader. Returns the course folder."""
    entry = pwd.getpwnam(check_username(name))
    home = Path(entry.pw_dir)
    course = home / COURSE_FOLDER
    course.mkdir(mode=0o700, exist_ok=True)
    for lab in sorted(Path(labs_source).glob("[0-9][0-9]_*_lab.ipynb")):
        dest = course / "source" / lab.stem / lab.name
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(lab.read_bytes())
    jupyter = home / ".jupyter"
    (jupyter / "labconfig").mkdir(parents=True, exist_ok=True)
    (jupyter / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": dict.fromkeys(INSTRUCTOR_LAB_PLUGINS, False)}, indent=1)
    )
    (jupyter / "jupyter_server_config.d").mkdir(exist_ok=True)
    (jupyter / "jupyter_server_config.d" / "course-instructor.json").write_text(
        json.dumps(
            {
                "ServerApp": {
                    "jpserver_extensions": dict.fromkeys(INSTRUCTOR_SERVER_EXTENSIONS, True)
                }
            }
        )
    )
    for top in (course, jupyter):
        for path in [top, *top.rglob("*")]:
            os.chown(path, entry.pw_uid, entry.pw_gid)
    os.chmod(course, 0o700)
    subprocess.run(
        [str(Path(env) / "bin" / "python"), "-m", "course_lib.grading", "setup", name],
        check=True,
        capture_output=True,
    )
    return course
