"""The class hub (hub/, `make hub`): a real JupyterHub with configurable-http-proxy from npm, the
native authenticator, one Unix account per student, nbgitpuller and the idle culler, on loopback.

The unit tests at the top run anywhere. The rest need root (the hub creates Unix accounts), as
`make hub` does; they build the class environment with the project's hub/setup.sh (skipped when
current), start one hub for the module and stop it, every student server and every account they
made at the end, also when a test fails. .ci/run installs what they need (npm, git).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil
import pytest
import requests

from bench.hub_client import (
    HUB_ENV,
    Hub,
    HubError,
    cleanup_students,
    hub_unavailable_reason,
    setup_hub,
)

from support import run_in_kernel, student_processes

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "hub"))
import course_hub  # noqa: E402

# --- the pieces of course_hub.py, anywhere ----------------------------------------------------


def test_parse_size_and_its_errors():
    assert course_hub.parse_size("2G") == 2 * 2**30
    assert course_hub.parse_size("512M") == 512 * 2**20
    assert course_hub.parse_size("1.5GiB") == int(1.5 * 2**30)
    assert course_hub.parse_size(1234) == 1234
    with pytest.raises(ValueError, match="expected a number with K, M, G or T"):
        course_hub.parse_size("two gigs")


@pytest.mark.parametrize("name", ["Alice", "a", "x" * 40, "1abc", "a b", "../etc", ""])
def test_user_names_that_are_not_student_accounts_are_refused(name):
    with pytest.raises(course_hub.AccountError, match="not allowed"):
        course_hub.check_username(name)


@pytest.mark.parametrize("name", ["root", "daemon"])
def test_existing_system_account_is_never_used_for_a_student(name):
    # these pass the name pattern but are system accounts the hub did not create
    assert not course_hub.is_student_account(name)
    if os.geteuid() == 0 and shutil.which("useradd"):
        with pytest.raises(course_hub.AccountError, match="existing system account"):
            course_hub.ensure_student_account(name)


def _fake_v1(tmp_path):
    mounts = "\n".join(
        f"{30 + i} 31 0:{30 + i} / /fake/{c} rw - cgroup cgroup rw,{c}"
        for i, c in enumerate(["cpu", "memory", "pids"])
    )
    (tmp_path / "mountinfo").write_text(mounts + "\n")
    (tmp_path / "cgroup").write_text("4:memory:/box/1\n2:pids:/\n1:cpu:/\n0::/\n")
    return course_hub._own_cgroup_dirs(tmp_path / "mountinfo", tmp_path / "cgroup")


def test_cgroup_dirs_are_found_from_mountinfo_v1_and_v2(tmp_path):
    assert _fake_v1(tmp_path) == {
        "cpu": Path("/fake/cpu"),
        "memory": Path("/fake/memory/box/1"),
        "pids": Path("/fake/pids"),
    }
    (tmp_path / "mountinfo").write_text("41 31 0:38 / /fake2 rw - cgroup2 cgroup2 rw\n")
    (tmp_path / "cgroup").write_text("0::/user.slice/hub\n")
    found = course_hub._own_cgroup_dirs(tmp_path / "mountinfo", tmp_path / "cgroup")
    assert found == {"unified": Path("/fake2/user.slice/hub")}


def test_student_cgroups_get_the_limits_v1(tmp_path):
    dirs = {c: tmp_path / c for c in ("memory", "cpu", "pids")}
    for d in dirs.values():
        d.mkdir()
    procs, enforced = course_hub.setup_student_cgroups("ana", 2 * 2**30, 1.5, 256, dirs)
    assert (dirs["memory"] / "course-hub/ana/memory.limit_in_bytes").read_text() == str(2 * 2**30)
    assert (dirs["cpu"] / "course-hub/ana/cpu.cfs_quota_us").read_text() == "150000"
    assert (dirs["cpu"] / "course-hub/ana/cpu.cfs_period_us").read_text() == "100000"
    assert (dirs["pids"] / "course-hub/ana/pids.max").read_text() == "256"
    assert sorted(p.parent.parent.parent.name for p in procs) == ["cpu", "memory", "pids"]
    assert enforced == "memory 2048 MiB, cpu 1.5 cores, 256 processes"
    for d in dirs.values():  # real cgroup files vanish with the directory; fake ones must go first
        for f in (d / "course-hub/ana").iterdir():
            f.unlink()
    course_hub.remove_student_cgroups("ana", dirs)
    assert not any((d / "course-hub/ana").exists() for d in dirs.values())


def test_student_cgroups_get_the_limits_v2(tmp_path):
    procs, enforced = course_hub.setup_student_cgroups("bo", 2**30, 1, 64, {"unified": tmp_path})
    d = tmp_path / "course-hub/bo"
    assert (tmp_path / "course-hub/cgroup.subtree_control").read_text() == "+memory +cpu +pids"
    assert (d / "memory.max").read_text() == str(2**30)
    assert (d / "cpu.max").read_text() == "100000 100000"
    assert (d / "pids.max").read_text() == "64"
    assert procs == [d / "cgroup.procs"] and "memory 1024 MiB" in enforced


def test_unwritable_cgroups_mean_advertised_limits_only(tmp_path):
    missing = {"memory": tmp_path / "nope" / "memory"}
    (tmp_path / "nope").write_text("a file where a folder should be")
    procs, enforced = course_hub.setup_student_cgroups("cy", 2**30, 1, 64, missing)
    assert procs == [] and enforced == ""


# --- a real hub on loopback (root) -------------------------------------------------------------

REASON = hub_unavailable_reason()
needs_hub = pytest.mark.skipif(REASON is not None, reason=f"class hub: {REASON}")

TAG = uuid.uuid4().hex[:4]
ADMIN = f"teach{TAG}"
A, B = f"sa{TAG}", f"sb{TAG}"
PASSWORDS = {ADMIN: "teacher-pass-1", A: "alpha-pass-12", B: "bravo-pass-12"}


@pytest.fixture(scope="module")
def world():
    """One hub, two approved students with tokens; all stopped and removed at the end."""
    state = Path(tempfile.mkdtemp(prefix="course-hub-test-", dir="/tmp"))
    state.chmod(0o755)  # students read the published course repository in here
    hub = Hub(state, admin=ADMIN)
    w = {"hub": hub, "state": state}
    try:
        setup_hub(state)
        hub.start()
        hub.signup(ADMIN, PASSWORDS[ADMIN])  # the admin's sign-up is approved at once
        w["admin"] = hub.login(ADMIN, PASSWORDS[ADMIN])
        w["admin_token"] = hub.token(ADMIN, PASSWORDS[ADMIN])
        w[A] = hub.enrol(w["admin"], A, PASSWORDS[A])
        w[B] = hub.enrol(w["admin"], B, PASSWORDS[B])
        yield w
    finally:
        hub.stop()
        cleanup_students([A, B, ADMIN])
        shutil.rmtree(state, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for a parent that is gone (the hub restarted)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _ready(student, timeout=240):
    if not student.server_ready():
        student.start_server(timeout)
        student.pull_course()


@needs_hub
def test_the_hub_runs_the_pinned_versions_and_the_culler_service(world):
    hub = world["hub"]
    assert requests.get(f"{hub.url}/hub/api/", timeout=10).json()["version"] == "5.5.4"
    r = requests.get(
        f"{hub.url}/hub/api/services",
        headers={"Authorization": f"token {world['admin_token']}"},
        timeout=10,
    )
    r.raise_for_status()
    culler = r.json()["idle-culler"]
    assert "--timeout=1800" in culler["command"]  # HUB_CULL_MINUTES' default, 30 min
    running = [
        p.info["cmdline"]
        for p in psutil.process_iter(["cmdline"])
        if p.info["cmdline"] and "jupyterhub_idle_culler" in p.info["cmdline"]
    ]
    assert any("--timeout=1800" in cmd for cmd in running), "the culler process is not running"
    proxy = hub.state / "hub" / "proxy.pid"
    assert psutil.pid_exists(int(proxy.read_text())), "configurable-http-proxy is not running"
    # the hub's secrets are root's alone; students only read the course repository
    assert (hub.state / "hub").stat().st_mode & 0o777 == 0o700


@needs_hub
def test_wrong_password_and_unapproved_signup_are_refused(world):
    hub = world["hub"]
    with pytest.raises(HubError, match="refused"):
        hub.login(A, "not-the-password")
    stranger = f"sx{TAG}"
    hub.signup(stranger, "stranger-pass-1")  # signed up, never approved by the instructor
    with pytest.raises(HubError, match="refused"):
        hub.login(stranger, "stranger-pass-1")
    # without logging in, a student's server URL leads to the login page
    r = requests.get(f"{hub.url}/user/{A}/api/status", timeout=30)
    assert "/hub/login" in r.url and "password" in r.text


@needs_hub
def test_two_students_get_servers_with_the_course_kernel_and_limits(world):
    for name in (A, B):
        student = world[name]
        seconds = student.start_server()
        assert seconds < 240
        events = student.pull_course()
        assert events[-1]["phase"] == "finished"
        res = run_in_kernel(
            student,
            "import course_lib, torch, os, pwd\n"
            "print(pwd.getpwuid(os.getuid()).pw_name, os.path.expanduser('~'))\n"
            "print(torch.get_num_threads(), os.environ['OMP_WAIT_POLICY'], course_lib.DATA_SOURCE)\n"
            "print(sorted(os.listdir(os.path.expanduser('~/course/notebooks')))[0])\n"
            "print(os.environ.get('MEM_LIMIT'))",
        )
        assert res["status"] == "ok", res
        lines = res["stdout"].split("\n")
        assert lines[0] == f"{name} /home/{name}"
        assert lines[1] == "1 PASSIVE the installed package"  # one CPU each; the class env
        assert lines[2] == "00_getting_started.ipynb"  # nbgitpuller brought the course
        assert int(lines[3]) == 2 * 2**30
        # jupyter-resource-usage shows the student their memory and their limit
        metrics = student.server("GET", "/api/metrics/v1").json()
        assert metrics["rss"] > 50 * 2**20 and metrics["limits"]["memory"]["rss"] == 2 * 2**30


@needs_hub
def test_a_student_cannot_read_or_change_another_students_files(world):
    _ready(world[A])
    _ready(world[B])
    res = run_in_kernel(world[B], "open('/home/%s/secret.txt', 'w').write('mine')" % B)
    assert res["status"] == "ok", res
    probe = (
        "import os\n"
        "for what, f in [('list', lambda: os.listdir('/home/{b}')),\n"
        "                ('read', lambda: open('/home/{b}/secret.txt').read()),\n"
        "                ('write', lambda: open('/home/{b}/x.txt', 'w').write('x'))]:\n"
        "    try:\n"
        "        f(); print(what, 'ALLOWED')\n"
        "    except PermissionError:\n"
        "        print(what, 'denied')\n"
    ).format(b=B)
    res = run_in_kernel(world[A], probe)
    assert res["stdout"].split() == ["list", "denied", "read", "denied", "write", "denied"], res
    assert os.stat(f"/home/{A}").st_mode & 0o777 == 0o700


@needs_hub
def test_a_killed_server_is_reported_and_restarts_with_the_files_intact(world):
    student, hub = world[A], world["hub"]
    _ready(student)
    res = run_in_kernel(student, "open('notes.txt', 'w').write('before the crash')")
    assert res["status"] == "ok", res
    servers = [p for p in student_processes(A) if "jupyterhub-singleuser" in " ".join(p.cmdline())]
    assert servers, "no server process for the student"
    for p in servers:
        p.kill()
    deadline = time.monotonic() + 90  # the hub polls its servers every 10 s
    while time.monotonic() < deadline and student.server_ready():
        time.sleep(1)
    assert not student.server_ready(), "the hub still reports the killed server as running"
    admin_view = requests.get(
        f"{hub.url}/hub/api/users/{A}",
        headers={"Authorization": f"token {world['admin_token']}"},
        timeout=30,
    ).json()
    assert admin_view["servers"] == {}, admin_view  # the instructor's admin page shows it stopped
    # the student's next visit: log in, the hub home starts the server again
    s = hub.login(A, PASSWORDS[A])
    s.get(f"{hub.url}/hub/spawn", timeout=120)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not student.server_ready():
        time.sleep(0.5)
    assert student.server_ready()
    res = run_in_kernel(student, "print(open('notes.txt').read())")
    assert res["stdout"].strip() == "before the crash"


@needs_hub
def test_load_test_runs_a_level_of_two_students(world):
    from bench.hub import HEADER, level_row, run_level

    level = run_level(world["hub"], world["admin"], 2, moves=10, train_n=300, epochs=1)
    assert level["failures"] == [] and level["ok"] == 2
    assert len(level["slider_ms"]) == 20 and all(0 < t < 1000 for t in level["slider_ms"])
    assert all(s > 0 for s in level["spawn_s"] + level["train_s"] + level["notebook_s"])
    assert all(200 < m < 2048 for m in level["idle_mb"] + level["busy_mb"]), level
    assert 20 < level["hub_mb"] < 1000
    row = level_row(level, alone_train_s=level["train_s"][0])
    assert row.count("|") == HEADER.splitlines()[0].count("|") and "nan" not in row
    assert not any(n.startswith("ld") for n in os.listdir("/home")), "load-test accounts remain"


@needs_hub
def test_hub_restart_keeps_files_and_servers_then_the_culler_stops_idle_ones(world):
    hub, student = world["hub"], world[B]
    _ready(student)
    res = run_in_kernel(student, "open('draft.txt', 'w').write('kept')")
    assert res["status"] == "ok", res
    hub.stop()
    hub.settings["HUB_CULL_MINUTES"] = "0.25"  # cull after 15 s idle, checked every 10 s
    hub.start()
    assert student.server_ready(), "the student's server did not survive the hub's restart"
    res = run_in_kernel(student, "print(open('draft.txt').read())")
    assert res["stdout"].strip() == "kept"
    pids = [p.pid for p in student_processes(B)]
    assert pids
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and student.server_ready():
        time.sleep(2)
    assert not student.server_ready(), "the idle culler did not stop the idle server"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(1)
    left = [psutil.Process(p).cmdline() for p in pids if _alive(p)]
    assert not left, f"the culled server's processes remain: {left}"
    assert os.path.exists(f"/home/{B}/draft.txt")


@needs_hub
def test_dummy_login_is_refused_unless_the_hub_listens_on_loopback(world):
    env = dict(
        os.environ,
        HUB_AUTH="dummy",
        HUB_IP="",
        HUB_STATE=str(world["state"] / "cfgcheck"),
        HUB_ENV=str(HUB_ENV),
    )
    code = (
        "from traitlets.config.loader import PyFileConfigLoader\n"
        f"PyFileConfigLoader('jupyterhub_config.py', path={str(ROOT / 'hub')!r}).load_config()\n"
    )
    r = subprocess.run(
        [str(HUB_ENV / "bin" / "python"), "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode != 0 and "only allowed with HUB_IP=127.0.0.1" in r.stderr + r.stdout


# --- past one machine: Zero to JupyterHub values, checked against the chart's schema -----------

Z2JH = ROOT / "hub" / "z2jh"


def _without_required(schema):
    """The chart merges a values file over its own defaults, so a values file need not repeat
    the keys the schema requires; everything else (types, no unknown keys) still applies."""
    if isinstance(schema, dict):
        return {k: _without_required(v) for k, v in schema.items() if k != "required"}
    if isinstance(schema, list):
        return [_without_required(v) for v in schema]
    return schema


def _z2jh_validator():
    import jsonschema
    import yaml

    schema = _without_required(yaml.safe_load((Z2JH / "values.schema.yaml").read_text()))
    return jsonschema.Draft7Validator(schema)


def test_z2jh_values_match_the_chart_schema():
    import yaml

    values = yaml.safe_load((Z2JH / "values.yaml").read_text())
    errors = [f"{list(e.path)}: {e.message}" for e in _z2jh_validator().iter_errors(values)]
    assert errors == []


@pytest.mark.parametrize(
    "broken",
    [
        {"singleuser": {"memory": {"limt": "2G"}}},  # a misspelt key
        {"cull": {"enabled": "yes"}},  # a string where a boolean belongs
        {"singleuser": {"cpu": {"limit": "one"}}},
    ],
)
def test_the_schema_check_catches_mistakes(broken):
    assert list(_z2jh_validator().iter_errors(broken))


def test_z2jh_values_carry_the_class_settings_of_the_one_machine_hub():
    import yaml

    v = yaml.safe_load((Z2JH / "values.yaml").read_text())
    one = (ROOT / "hub" / "jupyterhub_config.py").read_text()
    assert v["cull"]["enabled"] is True and v["cull"]["timeout"] == 30 * 60
    assert '"HUB_CULL_MINUTES": "30"' in one
    assert v["singleuser"]["memory"]["limit"] == "2G" and '"HUB_MEM_LIMIT": "2G"' in one
    assert v["singleuser"]["cpu"]["limit"] == 1 and '"HUB_CPU_LIMIT": "1"' in one
    assert v["singleuser"]["cpu"]["guarantee"] <= v["singleuser"]["cpu"]["limit"]
    assert v["singleuser"]["extraEnv"]["OMP_WAIT_POLICY"] == "PASSIVE"
    assert v["singleuser"]["defaultUrl"].startswith("/git-pull?repo=")
    assert v["hub"]["config"]["JupyterHub"]["authenticator_class"].startswith("nativeauthenticator")
    # the image repo2docker builds carries what a student's server needs
    env = (ROOT / "environment.yml").read_text()
    for package in ("jupyterhub==", "nbgitpuller==", "jupyter-resource-usage=="):
        assert package in env
    assert "course_lib kernel" in (ROOT / "postBuild").read_text()
