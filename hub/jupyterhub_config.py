# JupyterHub for a class on one machine: `make hub` starts it (as root) with this file.
#
# Each student signs up at /hub/signup and the instructor (the admin) approves them at
# /hub/authorize. On a student's first start the hub creates their Unix account (home mode 700),
# starts their own JupyterLab with the course kernel, and nbgitpuller brings them the notebooks
# from the course repository that `make hub-publish` updates. Idle servers are stopped after
# CULL_MINUTES so memory returns; jupyter-resource-usage shows each student their memory.
#
# ---------------------------------------------------------------------------------------------
# Settings an instructor edits: change the default here, or set the variable when starting,
# e.g.  make hub HUB_PORT=80 HUB_ADMIN=smith HUB_CULL_MINUTES=20
# ---------------------------------------------------------------------------------------------
import os
import sys
from pathlib import Path

SETTINGS = {
    # where students connect: http://<this machine>:<port>/  ("" = every interface)
    "HUB_IP": "",
    "HUB_PORT": "8000",
    # the instructor's hub user name: approves sign-ups, sees every server (/hub/admin)
    "HUB_ADMIN": "instructor",
    # stop a student's server after this many minutes without activity
    "HUB_CULL_MINUTES": "30",
    # at most this many student servers at once (later ones are asked to wait)
    "HUB_CLASS_SIZE": "30",
    # each student's share, enforced with cgroups where the machine allows (see README)
    "HUB_MEM_LIMIT": "2G",
    "HUB_CPU_LIMIT": "1",
    # True: a sign-up works at once, without the instructor approving it
    "HUB_OPEN_SIGNUP": "false",
    # the class environment (`make hub-setup` builds it) and the hub's own state
    "HUB_ENV": "/opt/course-hub/env",
    "HUB_STATE": "/srv/course-hub",
    # internal ports (loopback only); change them to run two hubs on one machine
    "HUB_API_PORT": "8081",
    "HUB_PROXY_API_PORT": "8001",
    # "native" for a class. "dummy" (any password) is refused unless the hub listens on 127.0.0.1
    "HUB_AUTH": "native",
}
S = {key: os.environ.get(key, default) for key, default in SETTINGS.items()}
# ---------------------------------------------------------------------------------------------

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from course_hub import USERNAME_PATTERN  # noqa: E402
from spawner import CourseSpawner  # noqa: E402

c = get_config()  # noqa: F821  (provided by JupyterHub when it loads this file)

ENV = Path(S["HUB_ENV"])
STATE = Path(S["HUB_STATE"])
STATE.mkdir(parents=True, exist_ok=True)
os.chmod(STATE, 0o755)  # students read the course repository in here ...
SECRETS = STATE / "hub"  # ... but never the hub's database (password hashes, tokens) or cookie key
SECRETS.mkdir(exist_ok=True)
os.chmod(SECRETS, 0o700)
COURSE_REPO = STATE / "course.git"
# nbgrader's exchange (hub/nbgrader_config.py): the instructor releases into it, students fetch from
# and submit into it. Everyone writes here; nbgrader makes each course's inbound folder write-only
# for students, so nobody lists or reads another's submission.
EXCHANGE = STATE / "exchange"
EXCHANGE.mkdir(exist_ok=True)
os.chmod(EXCHANGE, 0o1777)
CULL_SECONDS = int(float(S["HUB_CULL_MINUTES"]) * 60)

# --- where the hub listens and keeps its state ---------------------------------------------
c.JupyterHub.bind_url = f"http://{S['HUB_IP']}:{S['HUB_PORT']}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(S["HUB_API_PORT"])
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{S['HUB_PROXY_API_PORT']}"
# configurable-http-proxy from npm, installed into hub/node_modules by `make hub-setup`
c.ConfigurableHTTPProxy.command = [str(HERE / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(SECRETS / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{SECRETS / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(SECRETS / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(SECRETS / "jupyterhub.pid")
# student servers keep running (and their kernels keep their state) when the hub restarts
c.JupyterHub.cleanup_servers = False
c.JupyterHub.active_server_limit = int(S["HUB_CLASS_SIZE"])

# --- who may log in ----------------------------------------------------------------------------
c.Authenticator.admin_users = {S["HUB_ADMIN"]}
c.Authenticator.username_pattern = USERNAME_PATTERN
if S["HUB_AUTH"] == "dummy":
    # for tests on loopback only: any password logs in
    if S["HUB_IP"] != "127.0.0.1":
        raise SystemExit("HUB_AUTH=dummy is only allowed with HUB_IP=127.0.0.1 (tests)")
    c.JupyterHub.authenticator_class = "dummy"
    c.Authenticator.allow_all = True
elif S["HUB_AUTH"] == "native":
    # jupyterhub-nativeauthenticator: students sign up; the admin approves at /hub/authorize
    c.JupyterHub.authenticator_class = "native"
    c.NativeAuthenticator.open_signup = S["HUB_OPEN_SIGNUP"].lower() in ("1", "true", "yes")
    c.NativeAuthenticator.minimum_password_length = 8
    c.NativeAuthenticator.check_common_password = True
    c.NativeAuthenticator.allowed_failed_logins = 5  # then wait:
    c.NativeAuthenticator.seconds_before_next_try = 120
    # nativeauthenticator lets in only the users the admin approved
    c.Authenticator.allow_all = True
else:
    raise SystemExit(f"HUB_AUTH={S['HUB_AUTH']!r}: expected 'native' or 'dummy'")

# --- each student's server ---------------------------------------------------------------------
c.JupyterHub.spawner_class = CourseSpawner
c.Spawner.cmd = [str(ENV / "bin" / "jupyterhub-singleuser")]
c.Spawner.mem_limit = S["HUB_MEM_LIMIT"]
c.Spawner.cpu_limit = float(S["HUB_CPU_LIMIT"])
c.Spawner.start_timeout = 180  # a busy machine starts servers slowly
c.Spawner.http_timeout = 120
c.Spawner.poll_interval = 10  # a crashed server shows as stopped within ~10 s (default 30)
c.Spawner.environment = {
    "PATH": f"{ENV / 'bin'}:/usr/local/bin:/usr/bin:/bin",
    # the course's thread policy (course_lib/threads.py) reads the CPU quota of the cgroup;
    # where there is none, this keeps one student's PyTorch to their share
    "COURSE_THREADS": str(max(1, round(float(S["HUB_CPU_LIMIT"])))),
    "OMP_WAIT_POLICY": "PASSIVE",
    # lets students' git (nbgitpuller) read the root-owned course repository
    "GIT_CONFIG_SYSTEM": str(STATE / "gitconfig"),
    # graded labs (hub/nbgrader_config.py): where the exchange is, who grades
    "COURSE_EXCHANGE": str(EXCHANGE),
    "COURSE_INSTRUCTOR": S["HUB_ADMIN"],
}
# The instructor's server gets the formgrader and their course folder with the labs' sources
# (spawner.py); students get the Assignments tab only.
c.CourseSpawner.instructor = S["HUB_ADMIN"]
c.CourseSpawner.labs_source = str(HERE.parent / "labs")
# Every visit pulls the course with nbgitpuller (new notebooks arrive, a student's edits are kept)
# into ~/course and opens the first lecture. README "Teaching a class" gives the link format.
c.Spawner.default_url = (
    f"/git-pull?repo=file://{COURSE_REPO}&branch=main&targetpath=course"
    "&urlpath=lab/tree/course/notebooks/00_getting_started.ipynb"
)

# --- stop idle servers so their memory returns (jupyterhub-idle-culler) -----------------------
c.JupyterHub.services = [
    {
        "name": "idle-culler",
        "command": [
            str(ENV / "bin" / "python"),
            "-m",
            "jupyterhub_idle_culler",
            f"--timeout={CULL_SECONDS}",
            f"--cull-every={max(10, min(300, CULL_SECONDS // 3))}",
        ],
    }
]
c.JupyterHub.load_roles = [
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }
]
