"""The grading kernel's launcher: a student's code runs as the unprivileged account `course-grader`,
with limits, in an empty private folder - never as the instructor or root who grades.

nbgrader's autograder starts a Jupyter kernel and runs the submission in it. The course's grading
kernelspec ("course-grader", see `install_kernelspec`) starts this file instead of ipykernel:

    python sandbox.py kernel -f CONNECTION_FILE [ipykernel arguments]     (stage 1, the grader)
      -> as course-grader: python sandbox.py run                          (stage 2)
           rlimits, private folder, clean environment -> exec ipykernel

Stage 1 runs as whoever grades. As root it changes account with `setpriv`; as the instructor on
the class hub with `sudo -n -u course-grader` (hub/course_hub.py allows exactly this file). The
connection file (the kernel's ports and signing key) travels through a pipe on stdin, so it is
never in a file or an argument another user could read.

Stage 2 sets, before the student's code exists:
- RLIMIT_AS (memory, address space), RLIMIT_NPROC (processes and threads of the account, which
  stops a fork bomb), RLIMIT_CPU (a last resort against spinning children), RLIMIT_FSIZE (largest
  file it may write), RLIMIT_NOFILE, RLIMIT_CORE = 0;
- its working folder: a new mode-700 folder under /tmp owned by course-grader, with HOME there;
- a clean environment (no variable of the grader's leaks in), with the course's thread policy set
  to one thread.

`python sandbox.py sweep` (as course-grader) ends every process of the account and deletes its
files under /tmp, /var/tmp and /dev/shm; the grading kernel manager runs it after each submission
(course_lib/grading/autograde.py), so nothing a submission started outlives its grading.

Only the standard library is used here: this file runs as a script (no `import course_lib`, which
would load torch twice per kernel start).
"""

from __future__ import annotations

import json
import os
import pwd
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

GRADER_USER = "course-grader"
# Limits of one submission's kernel (a graded training task needs <= 60 s on one core and well
# under 1 GiB; torch alone maps ~0.6 GiB of address space).
LIMITS = {
    "memory": 3 * 2**30,  # bytes of address space per process
    "processes": 64,  # processes + threads of the account
    "cpu_seconds": 900,  # per process
    "file_size": 256 * 2**20,  # bytes, largest file
    "open_files": 256,
}
WORK_PREFIX = "course-grade-"
SCRATCH = ("/tmp", "/var/tmp", "/dev/shm")
THIS = os.path.abspath(__file__)


def _stage2_command(python: str) -> list[str]:
    """How to become course-grader and run stage 2, from the current account."""
    target = pwd.getpwnam(GRADER_USER)
    if os.geteuid() == target.pw_uid:
        return [python, THIS, "run"]
    if os.geteuid() == 0:
        return [
            "setpriv",
            f"--reuid={target.pw_uid}",
            f"--regid={target.pw_gid}",
            "--init-groups",
            "--",
            python,
            THIS,
            "run",
        ]
    sudo = shutil.which("sudo") or "/usr/bin/sudo"
    return [sudo, "-n", "-u", GRADER_USER, python, THIS, "run"]


def _as_grader(action: str, python: str) -> list[str]:
    return _stage2_command(python)[:-1] + [action]


def _connection(argv: list[str], action: str) -> tuple[dict, list[str]]:
    """The kernelspec's `-f CONNECTION_FILE`, read; and the other arguments (for ipykernel)."""
    if "-f" not in argv:
        raise SystemExit(f"sandbox {action}: expected -f CONNECTION_FILE (from the kernelspec)")
    i = argv.index("-f")
    with open(argv[i + 1]) as f:
        return json.load(f), argv[:i] + argv[i + 2 :]


def kernel(argv: list[str]) -> None:
    """Stage 1: read the connection file, hand it to stage 2 through stdin, exec stage 2."""
    connection, extra = _connection(argv, "kernel")
    try:
        command = _stage2_command(sys.executable)
    except KeyError:
        raise SystemExit(
            f"sandbox kernel: there is no account {GRADER_USER!r} to grade as; create it "
            "(as root: python -m course_lib.grading setup) or grade without the sandbox"
        ) from None
    payload = json.dumps({"connection": connection, "extra": extra}).encode()
    r, w = os.pipe()
    os.write(w, payload)  # far below a pipe's buffer: written before exec, read by stage 2
    os.close(w)
    os.dup2(r, 0)
    os.close(r)
    os.execvp(command[0], command)


def set_limits(limits: dict = LIMITS) -> None:
    for which, value in (
        (resource.RLIMIT_AS, limits["memory"]),
        (resource.RLIMIT_NPROC, limits["processes"]),
        (resource.RLIMIT_CPU, limits["cpu_seconds"]),
        (resource.RLIMIT_FSIZE, limits["file_size"]),
        (resource.RLIMIT_NOFILE, limits["open_files"]),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(which, (value, value))


def run() -> None:
    """Stage 2, as course-grader: read what stage 1 sent, then start the kernel."""
    me = pwd.getpwuid(os.getuid())
    if me.pw_name != GRADER_USER or os.geteuid() == 0:
        raise SystemExit(f"sandbox run: must run as {GRADER_USER}, not {me.pw_name}")
    payload = json.loads(sys.stdin.buffer.read())
    start_kernel(payload["connection"], payload["extra"])


def local(argv: list[str]) -> None:
    """A student grading their own copy: the same limits, folder and environment, as themselves."""
    start_kernel(*_connection(argv, "local"))


def start_kernel(connection: dict, extra: list[str]) -> None:
    """Limits, a private folder, a clean environment, then exec ipykernel in place of this process."""
    os.umask(0o077)
    work = tempfile.mkdtemp(prefix=WORK_PREFIX, dir="/tmp")
    connection_file = os.path.join(work, ".kernel.json")
    with open(connection_file, "w") as f:
        json.dump(connection, f)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.chdir(work)
    env = {
        "PATH": os.path.dirname(sys.executable) + ":/usr/local/bin:/usr/bin:/bin",
        "HOME": work,
        "TMPDIR": work,
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": os.path.join(work, ".matplotlib"),
        "OMP_WAIT_POLICY": "PASSIVE",
        "COURSE_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "COURSE_GRADING": "1",
    }
    # the kernel's own chatter (its banner, the TCP note) goes to a file in its folder, not into
    # the grader's terminal or log
    log = os.open(os.path.join(work, ".kernel.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    set_limits()
    command = [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file]
    os.execve(sys.executable, command + list(extra), env)


def sweep() -> int:
    """As course-grader: end every process of the account but this one, delete its scratch
    files. Returns how many processes were ended."""
    me = os.getuid()
    if pwd.getpwuid(me).pw_name != GRADER_USER:
        raise SystemExit(f"sandbox sweep: must run as {GRADER_USER}")
    ended = 0
    for _ in range(50):
        others = [
            int(p)
            for p in os.listdir("/proc")
            if p.isdigit() and int(p) != os.getpid() and _uid_of(p) == me
        ]
        if not others:
            break
        ended = max(ended, len(others))
        try:  # every process this account may signal: its own (a fork bomb's children too)
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        time.sleep(0.05)
    for top in SCRATCH:
        try:
            names = os.listdir(top)
        except OSError:
            continue
        for name in names:
            path = os.path.join(top, name)
            try:
                if os.lstat(path).st_uid != me:
                    continue
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.unlink(path)
            except OSError:
                pass
    return ended


def ensure_account(sudo_for: list[str] = (), python: str = sys.executable) -> str:
    """As root: create the account course-grader (a system account: no login, no home) and let
    each user in `sudo_for` (the class hub's instructor) start this file as it and nothing else.
    Returns what was done, in a line."""
    if os.geteuid() != 0:
        raise SystemExit("sandbox setup: run as root (it creates the account course-grader)")
    done = []
    try:
        pwd.getpwnam(GRADER_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                "--user-group",
                GRADER_USER,
            ],
            check=True,
            capture_output=True,
        )
        done.append(f"created the account {GRADER_USER}")
    if sudo_for:
        # every name this environment's Python goes by (bin/python, python3, python3.11): sudo
        # compares the command's path as the grader starts it
        bindir = os.path.dirname(python)
        pythons = sorted(
            os.path.join(bindir, n)
            for n in os.listdir(bindir)
            if n.startswith("python") and not n.endswith("-config")
        )
        commands = ", ".join(f"{p} {THIS} {action}" for p in pythons for action in ("run", "sweep"))
        rules = "".join(f"{user} ALL=({GRADER_USER}) NOPASSWD: {commands}\n" for user in sudo_for)
        path = "/etc/sudoers.d/course-grader"
        tmp = path + ".new"
        os.makedirs("/etc/sudoers.d", exist_ok=True)
        with open(tmp, "w") as f:
            f.write(
                "# written by course_lib/grading/sandbox.py: the instructor grades as course-grader\n"
            )
            f.write(rules)
        os.chmod(tmp, 0o440)
        if shutil.which("visudo"):
            subprocess.run(["visudo", "-cqf", tmp], check=True)
        os.replace(tmp, path)
        done.append(f"{', '.join(sudo_for)} may grade as {GRADER_USER} ({path})")
    return "; ".join(done) or f"the account {GRADER_USER} exists"


def _uid_of(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def run_sweep(python: str = sys.executable) -> None:
    """From the grading side (root or the instructor): run `sweep` as course-grader."""
    subprocess.run(
        _as_grader("sweep", python),
        check=False,
        timeout=60,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit(
            "usage: sandbox.py kernel -f FILE [...] | local -f FILE [...] | run | sweep"
        )
    if argv[0] == "kernel":
        kernel(argv[1:])
    elif argv[0] == "run":
        run()
    elif argv[0] == "local":
        local(argv[1:])
    elif argv[0] == "setup":
        print("sandbox setup: " + ensure_account(argv[1:]))
    elif argv[0] == "sweep":
        n = sweep()
        print(f"sandbox sweep: ended {n} process(es) of {GRADER_USER}")
    else:
        raise SystemExit(f"sandbox.py: unknown action {argv[0]!r}; expected kernel, run or sweep")


if __name__ == "__main__":
    main(sys.argv[1:])
