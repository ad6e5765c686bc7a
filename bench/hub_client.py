"""Drive the class hub (hub/) as students and an instructor would, over HTTP only: start a hub
on loopback, sign up, approve, log in, start servers, pull the course with nbgitpuller, and run
code in a student's course kernel over the Jupyter websocket. Used by tests/test_hub.py and the
load test (bench/hub.py); everything it starts it stops (`Hub.stop`, `cleanup_students`)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import requests
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from bench.browser import free_port

ROOT = Path(__file__).resolve().parent.parent
HUB_ENV = Path(os.environ.get("HUB_ENV", "/opt/course-hub/env"))
COURSE_KERNEL = (
    "python3"  # "Python 3 (course)" in the class environment (course_lib kernel --prefix)
)


class HubError(RuntimeError):
    pass


def hub_unavailable_reason() -> str | None:
    """Why a hub cannot be started here (None when it can)."""
    if os.geteuid() != 0:
        return "the class hub runs as root (it creates a Unix account per student)"
    for tool in ("useradd", "userdel", "git", "npm"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def setup_hub(state: Path, timeout: float = 900) -> None:
    """Build the class environment and the proxy (skipped when current) and publish the course
    into `state`, with the project's own hub/setup.sh."""
    env = dict(os.environ, HUB_ENV=str(HUB_ENV), HUB_STATE=str(state))
    r = subprocess.run(
        ["bash", str(ROOT / "hub" / "setup.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if r.returncode:
        raise HubError(
            f"hub/setup.sh failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
        )


@dataclass
class Hub:
    """A hub started from hub/jupyterhub_config.py on 127.0.0.1 with its own state folder."""

    state: Path
    admin: str = "teacher"
    settings: dict = field(default_factory=dict)
    port: int = 0
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> Hub:
        self.state.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        if "HUB_API_PORT" not in self.settings:
            self.settings["HUB_API_PORT"] = str(free_port())
            self.settings["HUB_PROXY_API_PORT"] = str(free_port())
        env = dict(
            os.environ,
            HUB_ENV=str(HUB_ENV),
            HUB_STATE=str(self.state),
            HUB_IP="127.0.0.1",
            HUB_PORT=str(self.port),
            HUB_ADMIN=self.admin,
            **self.settings,
        )
        self.log_path = self.state / "hub.log"
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(HUB_ENV / "bin" / "jupyterhub"), "-f", str(ROOT / "hub" / "jupyterhub_config.py")],
            cwd=self.state,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HubError(f"the hub exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/hub/api/", timeout=2).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise HubError(f"the hub did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except (OSError, AttributeError):
            return ""

    def stop(self, timeout: float = 20) -> None:
        """Stop the hub and its proxy and services (their process group); student servers run
        in their own sessions and are stopped by `cleanup_students`."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        except ProcessLookupError:
            pass

    # --- accounts ----------------------------------------------------------------------------

    def browser(self) -> requests.Session:
        """A session with the hub's xsrf cookie, as a browser that opened the login page has."""
        s = requests.Session()
        s.get(f"{self.url}/hub/login", timeout=30)
        return s

    def _xsrf(self, s: requests.Session) -> str:
        return s.cookies.get("_xsrf", "")

    def signup(self, name: str, password: str) -> str:
        s = self.browser()
        s.get(f"{self.url}/hub/signup", timeout=30)
        r = s.post(
            f"{self.url}/hub/signup",
            data={
                "username": name,
                "signup_password": password,
                "signup_password_confirmation": password,
                "_xsrf": self._xsrf(s),
            },
            timeout=30,
        )
        r.raise_for_status()
        return r.text

    def login(self, name: str, password: str) -> requests.Session:
        """Log in through the login form; raises HubError when the hub refuses."""
        s = self.browser()
        r = s.post(
            f"{self.url}/hub/login",
            data={"username": name, "password": password, "_xsrf": self._xsrf(s)},
            allow_redirects=False,
            timeout=30,
        )
        if r.status_code != 302:
            raise HubError(f"login of {name!r} refused ({r.status_code})")
        return s

    def authorize(self, admin: requests.Session, name: str) -> None:
        """The instructor approves a sign-up (nativeauthenticator's /hub/authorize page)."""
        page = admin.get(f"{self.url}/hub/authorize", timeout=30).text
        if f"/authorize/{name}" not in page:
            raise HubError(f"{name!r} is not waiting for approval")
        if re.search(rf'authorize/{re.escape(name)}"[^>]*>\s*Unauthorize', page):
            return
        admin.get(f"{self.url}/hub/authorize/{quote(name)}", timeout=30).raise_for_status()

    def token(self, name: str, password: str) -> str:
        """An API token for `name`: log in through the form as a browser does, then ask the REST
        API for a token with that session (JupyterHub checks the xsrf header)."""
        s = self.login(name, password)
        r = s.post(
            f"{self.url}/hub/api/users/{name}/tokens",
            json={"note": "course client", "expires_in": 24 * 3600},
            headers={"X-XSRFToken": self._xsrf(s), "Referer": f"{self.url}/hub/token"},
            timeout=30,
        )
        if r.status_code not in (200, 201):
            raise HubError(f"token for {name!r} refused ({r.status_code}): {r.text[:200]}")
        return r.json()["token"]

    def enrol(self, admin_session: requests.Session, name: str, password: str) -> Student:
        self.signup(name, password)
        self.authorize(admin_session, name)
        return Student(self, name, password, self.token(name, password))


@dataclass
class Student:
    hub: Hub
    name: str
    password: str
    token: str

    @property
    def headers(self) -> dict:
        return {"Authorization": f"token {self.token}"}

    def api(self, method: str, path: str, **kw) -> requests.Response:
        return requests.request(
            method, f"{self.hub.url}/hub/api{path}", headers=self.headers, timeout=60, **kw
        )

    def info(self) -> dict:
        r = self.api("GET", f"/users/{self.name}")
        r.raise_for_status()
        return r.json()

    def server_ready(self) -> bool:
        server = self.info().get("servers", {}).get("")
        return bool(server and server.get("ready"))

    def start_server(self, timeout: float = 240) -> float:
        """Start the student's server; return the seconds until the hub says it is ready."""
        t0 = time.monotonic()
        r = self.api("POST", f"/users/{self.name}/server")
        if r.status_code not in (201, 202, 400):  # 400: already running
            raise HubError(f"spawn of {self.name} refused ({r.status_code}): {r.text[:300]}")
        while time.monotonic() - t0 < timeout:
            if self.server_ready():
                return time.monotonic() - t0
            time.sleep(0.25)
        raise HubError(
            f"{self.name}'s server not ready after {timeout:.0f} s:\n{self.hub.log_tail()}"
        )

    def stop_server(self, timeout: float = 60) -> None:
        self.api("DELETE", f"/users/{self.name}/server")
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout and self.info().get("servers"):
            time.sleep(0.25)

    def server(self, method: str, path: str, **kw) -> requests.Response:
        """A call to the student's own Jupyter server, through the hub's proxy."""
        kw.setdefault("timeout", 60)
        return requests.request(
            method, f"{self.hub.url}/user/{self.name}{path}", headers=self.headers, **kw
        )

    def pull_course(self, timeout: float = 120) -> list[dict]:
        """What a visit to the default URL does: nbgitpuller syncs the course into ~/course."""
        q = urlencode(
            {
                "repo": f"file://{self.hub.state / 'course.git'}",
                "branch": "main",
                "targetpath": "course",
            }
        )
        r = self.server("GET", f"/git-pull/api?{q}", stream=True, timeout=timeout)
        r.raise_for_status()
        events = []
        for line in r.iter_lines(decode_unicode=True):
            if line and line.startswith("data:"):
                ev = json.loads(line[5:])
                events.append(ev)
                if ev.get("phase") in ("finished", "error"):
                    break
        if not events or events[-1].get("phase") != "finished":
            raise HubError(f"nbgitpuller did not finish for {self.name}: {events[-3:]}")
        return events

    def start_kernel(self) -> str:
        r = self.server("POST", "/api/kernels", json={"name": COURSE_KERNEL})
        r.raise_for_status()
        return r.json()["id"]


class KernelClient:
    """Execute code in a student's kernel over the Jupyter server's websocket (async)."""

    def __init__(self, student: Student, kernel_id: str):
        self.student, self.kernel_id, self.ws = student, kernel_id, None
        self.session = uuid.uuid4().hex

    async def connect(self) -> KernelClient:
        url = self.student.hub.url.replace("http", "ws", 1)
        req = HTTPRequest(
            f"{url}/user/{self.student.name}/api/kernels/{self.kernel_id}/channels",
            headers=self.student.headers,
            request_timeout=60,
        )
        self.ws = await websocket_connect(req)
        return self

    async def execute(self, code: str, timeout: float = 300) -> dict:
        """Run `code`; return {'status', 'stdout', 'error', 'seconds'}."""
        msg_id = uuid.uuid4().hex
        msg = {
            "header": {
                "msg_id": msg_id,
                "username": self.student.name,
                "session": self.session,
                "msg_type": "execute_request",
                "version": "5.3",
            },
            "parent_header": {},
            "metadata": {},
            "content": {"code": code, "silent": False, "store_history": True, "allow_stdin": False},
            "channel": "shell",
            "buffers": [],
        }
        t0 = time.monotonic()
        await self.ws.write_message(json.dumps(msg))
        out, error, status, idle = [], None, None, False
        while status is None or not idle:
            left = timeout - (time.monotonic() - t0)
            if left <= 0:
                raise HubError(f"cell did not finish within {timeout:.0f} s: {code[:80]!r}")
            raw = await asyncio.wait_for(self.ws.read_message(), left)
            if raw is None:
                raise HubError("the kernel's websocket closed")
            if isinstance(raw, bytes):
                continue  # binary frames carry widget buffers
            m = json.loads(raw)
            if m.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = m["msg_type"]
            if kind == "stream":
                out.append(m["content"]["text"])
            elif kind == "error":
                error = f"{m['content']['ename']}: {m['content']['evalue']}"
            elif kind == "execute_reply":
                status = m["content"]["status"]
            elif kind == "status" and m["content"]["execution_state"] == "idle":
                idle = True
        return {
            "status": status,
            "stdout": "".join(out),
            "error": error,
            "seconds": time.monotonic() - t0,
        }

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()


def cleanup_students(names) -> None:
    """Remove the Unix accounts (and their processes and homes) the hub created."""
    import sys

    sys.path.insert(0, str(ROOT / "hub"))
    from course_hub import remove_student_account

    for name in names:
        remove_student_account(name)


def rss_mb(processes) -> float:
    total = 0
    for p in processes:
        try:
            total += p.memory_info().rss
        except Exception:  # the process ended meanwhile
            pass
    return total / 2**20
