"""The CPU thread policy (course_lib/threads.py): limits read from fake cgroup files, the decision,
and what a real process gets (pinned to one CPU, torch imported too early, the kernelspec)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib import threads

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- cgroup v2 cpu.max
@pytest.mark.parametrize(
    "text, expected",
    [
        ("max 100000\n", None),  # no limit
        ("100000 100000\n", 1.0),
        ("250000 100000\n", 2.5),
        ("50000 100000", 0.5),
        ("200000", 2.0),  # period left out: the kernel's default 100000
        ("", None),  # empty
        ("lots of cpus please", None),  # garbage
        ("-1 100000", None),
        ("100000 0", None),
    ],
)
def test_cgroup_v2_cpu_max(tmp_path, text, expected):
    f = tmp_path / "cpu.max"
    f.write_text(text)
    assert threads.read_cgroup_v2_quota(f) == expected


def test_cgroup_files_missing_or_unreadable_mean_no_quota(tmp_path):
    assert threads.read_cgroup_v2_quota(tmp_path / "absent") is None
    assert threads.read_cgroup_v1_quota(tmp_path / "a", tmp_path / "b") is None
    binary = tmp_path / "cpu.max"
    binary.write_bytes(b"\xff\xfe\x00")
    assert threads.read_cgroup_v2_quota(binary) is None


@pytest.mark.parametrize(
    "quota, period, expected",
    [
        ("-1", "100000", None),
        ("200000", "100000", 2.0),
        ("150000", "100000", 1.5),
        ("garbage", "100000", None),
        ("100000", "", None),
    ],
)
def test_cgroup_v1_quota(tmp_path, quota, period, expected):
    (tmp_path / "q").write_text(quota + "\n")
    (tmp_path / "p").write_text(period + "\n")
    assert threads.read_cgroup_v1_quota(tmp_path / "q", tmp_path / "p") == expected


def _fake_v2(tmp_path, own: str | None, parent: str | None, path="kubepods/pod1/ctr"):
    root = tmp_path / "cgroup"
    d = root / path
    d.mkdir(parents=True)
    if own is not None:
        (d / "cpu.max").write_text(own)
    if parent is not None:
        (d.parent / "cpu.max").write_text(parent)
    proc = tmp_path / "proc_cgroup"
    proc.write_text(f"0::/{path}\n")
    return proc, root


def test_cgroup_quota_v2_takes_the_tightest_ancestor(tmp_path):
    proc, root = _fake_v2(tmp_path, own="max 100000", parent="150000 100000")
    assert threads.cgroup_cpu_quota(proc, root) == 1.5
    proc, root = _fake_v2(tmp_path / "b", own="300000 100000", parent="max 100000")
    assert threads.cgroup_cpu_quota(proc, root) == 3.0


def test_cgroup_quota_v2_inside_a_container_namespace(tmp_path):
    # The container sees its own cgroup as "/" and the limit at the mount's root.
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cpu.max").write_text("200000 100000\n")
    proc = tmp_path / "proc_cgroup"
    proc.write_text("0::/\n")
    assert threads.cgroup_cpu_quota(proc, root) == 2.0


def test_cgroup_quota_v1(tmp_path):
    root = tmp_path / "cgroup"
    d = root / "cpu,cpuacct" / "docker" / "abc"
    d.mkdir(parents=True)
    (d / "cpu.cfs_quota_us").write_text("100000\n")
    (d / "cpu.cfs_period_us").write_text("100000\n")
    proc = tmp_path / "proc_cgroup"
    proc.write_text("4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n")
    assert threads.cgroup_cpu_quota(proc, root) == 1.0


def test_cgroup_quota_unlimited_missing_or_garbage_proc_file(tmp_path):
    root = tmp_path / "cgroup"
    (root / "cpu").mkdir(parents=True)
    (root / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    (root / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    proc = tmp_path / "proc_cgroup"
    proc.write_text("1:cpu:/\n0::/\n")
    assert threads.cgroup_cpu_quota(proc, root) is None
    assert threads.cgroup_cpu_quota(tmp_path / "no_such_file", root) is None
    proc.write_text("this is not a cgroup file\n\x00\n")
    assert threads.cgroup_cpu_quota(proc, root) is None


def test_this_machine_reads_without_error():
    q = threads.cgroup_cpu_quota()
    assert q is None or q > 0
    assert threads.affinity_cpus() >= 1


# ---------------------------------------------------------------- the decision
@pytest.mark.parametrize(
    "affinity, quota, expected",
    [
        (2, None, 1),
        (64, 2.0, 1),
        (64, 2.5, 1),
        (64, 3.5, 2),
        (64, 0.5, 1),
        (4, 8.0, 3),
        (1, None, 1),
        (8, 1.0, 1),
        (8, None, 7),
    ],
)
def test_decide_takes_the_smaller_of_affinity_and_quota_less_one(affinity, quota, expected):
    policy = threads.decide({}, affinity=affinity, quota=quota)
    assert policy.threads == expected
    assert policy.wait_policy == "PASSIVE"
    assert str(expected) in policy.describe()
    if quota is not None and quota < affinity:
        assert "quota" in policy.reason


def test_course_threads_overrides_and_bad_values_are_named():
    assert threads.decide({"COURSE_THREADS": "3"}, affinity=64, quota=2.0).threads == 3
    for bad in ("0", "-2", "two", "1.5"):
        with pytest.raises(ValueError, match="COURSE_THREADS must be a whole number >= 1"):
            threads.decide({"COURSE_THREADS": bad}, affinity=2, quota=None)


def test_a_persons_omp_num_threads_is_honoured_but_an_inherited_one_is_not():
    assert threads.decide({"OMP_NUM_THREADS": "1"}, affinity=8, quota=None).threads == 1
    inherited = {
        "OMP_NUM_THREADS": "8",
        "COURSE_THREADS_APPLIED": "8",
    }  # written by a parent's course_lib
    assert threads.decide(inherited, affinity=3, quota=None).threads == 2
    assert threads.decide({"OMP_NUM_THREADS": "junk"}, affinity=3, quota=None).threads == 2


def test_apply_writes_the_environment_children_inherit():
    env = {}
    with pytest.warns(RuntimeWarning, match="torch was imported before course_lib"):
        policy = threads.apply(
            env
        )  # torch is loaded in this test process: too late for *this* process...
    assert env["OMP_WAIT_POLICY"] == "PASSIVE"  # ...but the children it starts get the policy
    assert env["OMP_NUM_THREADS"] == env["COURSE_THREADS_APPLIED"] == str(policy.threads)
    env = {"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_NUM_THREADS": "7"}
    threads.apply(env)
    assert env["OPENBLAS_NUM_THREADS"] == "7", "a person's setting is kept"


# ---------------------------------------------------------------- real processes
def _python(code: str, env_extra=None, pin=None, drop=()):
    env = {k: v for k, v in os.environ.items() if k not in (*threads.POLICY_VARS, *drop)}
    env.update(env_extra or {})
    preexec = (lambda: os.sched_setaffinity(0, pin)) if pin is not None else None
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=preexec,
    )


REPORT = (
    "import json, os, torch; from course_lib import threads; p = threads.current(); "
    "print(json.dumps({'torch': torch.get_num_threads(), 'policy': p.threads, "
    "'wait': os.environ.get('OMP_WAIT_POLICY'), "
    "'late': p.applied_late}))"
)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux-only")
def test_a_process_pinned_to_one_cpu_runs_torch_with_one_thread():
    out = _python("import course_lib; " + REPORT, pin={0})
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {"torch": 1, "policy": 1, "wait": "PASSIVE", "late": False}


def test_course_threads_in_a_real_process_and_a_typo_warns_without_breaking_the_import():
    asked = min(2, threads.affinity_cpus())  # an override the machine can honour
    got = json.loads(
        _python("import course_lib; " + REPORT, {"COURSE_THREADS": str(asked)}).stdout.strip()
    )
    assert got["torch"] == asked
    out = _python("import course_lib; " + REPORT, {"COURSE_THREADS": "many"})
    assert out.returncode == 0 and "COURSE_THREADS must be a whole number" in out.stderr


def test_importing_torch_first_is_reported_with_what_to_do():
    out = _python("import torch; import course_lib; " + REPORT)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["late"] is True and got["torch"] == got["policy"]
    assert (
        "torch was imported before course_lib" in out.stderr and "import course_lib" in out.stderr
    )
    # with the wait policy already in the environment (the course kernel), nothing is too late
    quiet = _python("import torch; import course_lib; " + REPORT, {"OMP_WAIT_POLICY": "PASSIVE"})
    assert (
        "before course_lib" not in quiet.stderr
        and json.loads(quiet.stdout.strip())["late"] is False
    )


def test_the_policy_can_be_switched_off_for_comparisons():
    out = _python(
        "import course_lib; print(course_lib.threads.current().describe())",
        {"COURSE_THREAD_POLICY": "off"},
    )
    assert "PyTorch's own defaults" in out.stdout


def test_limited_never_exceeds_the_policy():
    import torch

    before = torch.get_num_threads()
    try:
        assert threads.limited(1) == 1 and torch.get_num_threads() == 1
        assert threads.limited(10_000) == threads.current().threads
    finally:
        torch.set_num_threads(before)


# ---------------------------------------------------------------- the course's kernel
def test_the_installed_course_kernel_carries_the_policy(tmp_path):
    from course_lib.__main__ import install_kernel

    path = Path(install_kernel(prefix=str(tmp_path)))
    spec = json.loads((path / "kernel.json").read_text())
    assert spec["env"]["OMP_WAIT_POLICY"] == "PASSIVE"
    assert spec["display_name"] == "Python 3 (course)"
    assert spec["argv"][0] == sys.executable


def test_the_kernel_make_installed_carries_the_policy():
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    if Path(spec.argv[0]).resolve().parent != Path(sys.executable).resolve().parent:
        pytest.skip("the python3 kernel here is not this environment's (run through `make test`)")
    assert spec.env.get("OMP_WAIT_POLICY") == "PASSIVE", (
        "run `make setup`: it installs the course kernel"
    )


def test_import_course_lib_applies_the_policy_in_one_logged_step():
    out = _python(
        "import logging; logging.basicConfig(level=logging.INFO, format='%(name)s: %(message)s')\n"
        "import course_lib, torch\n"
        "print(torch.get_num_threads(), course_lib.POLICY.threads)",
        {"COURSE_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"},
    )
    assert "course_lib: course_lib.threads.apply: 1 thread(s)" in out.stderr
    assert "Flush-denormal on" in out.stderr and out.stderr.count("threads.apply") == 1
    assert out.stdout.split() == ["1", "1"]
    off = _python(
        "import logging; logging.basicConfig(level=logging.INFO)\nimport course_lib, os\n"
        "print(os.environ.get('OMP_NUM_THREADS'), os.environ.get('OMP_WAIT_POLICY'))",
        {"COURSE_THREAD_POLICY": "off"},
    )
    assert "PyTorch's own defaults" in off.stderr and off.stdout.split() == ["None", "None"]


def test_a_huge_thread_count_is_capped_at_the_cpus_available():
    """COURSE_THREADS=100000 crashed the kernel (torch segfaults); it is capped, with a warning."""
    with pytest.warns(RuntimeWarning, match="COURSE_THREADS=100000 is more than the 2 CPU"):
        policy = threads.decide({"COURSE_THREADS": "100000"}, affinity=2, quota=None)
    assert policy.threads == 2 and "capped" in policy.reason
    assert threads.decide({"COURSE_THREADS": "2"}, affinity=4, quota=None).threads == 2
    assert threads.decide({"COURSE_THREADS": "8"}, affinity=16, quota=2.5).threads == 8  # a choice
    assert threads.decide({"OMP_NUM_THREADS": "20000"}, affinity=2, quota=None).threads == 2
    out = _python(
        "import course_lib, torch; print(torch.get_num_threads())", {"COURSE_THREADS": "100000"}
    )
    assert out.returncode == 0 and out.stdout.split()[-1] == str(threads.affinity_cpus())
