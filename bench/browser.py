"""A real JupyterLab in headless Chromium, for the browser tests and the latency benchmark.

    with JupyterLabSession() as lab:          # starts `jupyter lab` on localhost and Chromium
        page = lab.open("notebooks/04_variational_autoencoders.ipynb")
        lab.run_all(page)                      # Run > Run All Cells, waits until the kernel is done
        ...

Debian's /usr/bin/chromium is driven by PyPI's playwright (no browser download). The server and
the browser are always stopped when the `with` block ends, also when a test fails.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
INSTALL_HINT = "install it with: sudo apt-get update && sudo apt-get install -y chromium"


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLabSession:
    def __init__(
        self,
        root: Path | None = None,
        timeout: float = 90,
        present: str | None = None,
        env: dict | None = None,
    ):
        """present="07": start the server as `make present NB=07` does (python -m course_lib present,
        which keeps its working copy in root) instead of plain JupyterLab on a copy of notebooks/."""
        # Serve a copy of notebooks/: JupyterLab autosaves what it runs, and the repository's
        # notebooks must stay without outputs.
        import tempfile

        self._tmp = None
        self.present, self.env = present, dict(env or {})
        if root is None and present:
            self._tmp = tempfile.TemporaryDirectory(prefix="course-present-")
            root = Path(self._tmp.name) / "presenting"
        elif root is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="course-lab-")
            root = Path(self._tmp.name)
            shutil.copytree(ROOT / "notebooks", root / "notebooks")
        self.root, self.timeout = Path(root), timeout
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.server = self._pw = self.browser = None

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self):
        try:
            self._start_server()
            self._start_browser()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def _start_server(self) -> None:
        env = dict(os.environ, JUPYTER_NO_CONFIG="1", **self.env)
        if self.present:  # what make present runs; it sets the root (its working copy) itself
            start = [
                sys.executable,
                "-m",
                "course_lib",
                "present",
                self.present,
                "--dir",
                str(self.root),
            ]
        else:
            start = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={self.root}"]
        self.server = subprocess.Popen(
            start
            + [
                "--no-browser",
                f"--port={self.port}",
                "--ip=127.0.0.1",
                f"--IdentityProvider.token={self.token}",
                "--ServerApp.open_browser=False",
                "--allow-root",
                "--LabApp.news_url=",
                "--LabApp.expose_app_in_browser=True",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                # the live slideshow (JUPYTER_NO_CONFIG skips the config file that enables it)
                "--ServerApp.jpserver_extensions=jupyterlab_rise=True",
            ],
            cwd=self.root.parent if self.present else self.root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.time() + self.timeout
        url = f"http://127.0.0.1:{self.port}/api/status?token={self.token}"
        while time.time() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(
                    "jupyter lab exited: " + self.server.stderr.read().decode()[-2000:]
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(
            f"jupyter lab did not answer on port {self.port} within {self.timeout} s"
        )

    def _start_browser(self) -> None:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )

    def close(self) -> None:
        for action in (
            lambda: self.browser and self.browser.close(),
            lambda: self._pw and self._pw.stop(),
        ):
            try:
                action()
            except Exception:
                pass
        if self.server is not None and self.server.poll() is None:
            try:
                os.killpg(self.server.pid, signal.SIGTERM)
                self.server.wait(10)
            except Exception:
                try:
                    os.killpg(self.server.pid, signal.SIGKILL)
                except Exception:
                    pass
        self.server = self.browser = self._pw = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # ------------------------------------------------------------------ notebooks
    def open(self, notebook: str, width: int = 1400, height: int = 1000):
        page = self.browser.new_page(viewport={"width": width, "height": height})
        page.set_default_timeout(60_000)
        page.goto(f"http://127.0.0.1:{self.port}/lab/tree/{notebook}?token={self.token}&reset")
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
        # JupyterLab may ask which kernel to start: accept its choice (the course's python3)
        deadline = time.time() + 15
        while time.time() < deadline:
            dialog = page.locator(".jp-Dialog .jp-mod-accept")
            if dialog.count():
                dialog.first.click()
                break
            time.sleep(0.3)
        self._wait_kernel_idle(page, 90)
        toast = page.locator(
            ".jp-toast-button", has_text="No"
        )  # "get notified about Jupyter news?"
        if toast.count():
            toast.first.click()
        return page

    def open_slideshow(self, notebook: str, width: int = 1280, height: int = 720):
        """The notebook as a live RISE slideshow (what `make present` opens), at projector size."""
        page = self.browser.new_page(viewport={"width": width, "height": height})
        page.set_default_timeout(60_000)
        page.goto(f"http://127.0.0.1:{self.port}/rise/{notebook}?token={self.token}")
        page.wait_for_selector(".reveal .slides section.present", timeout=90_000)
        self._wait_kernel_idle(page, 90)
        return page

    def run_all_in_slideshow(self, page, keys: str = "Control+Shift+Enter", timeout: float = 300):
        """Press the course's run-everything key inside the slideshow, as an instructor does once
        before teaching - with no click first: the slideshow has the keyboard from the start (the
        course's presenter plugin). Wait until every code cell (the skipped ones too) has run."""
        page.keyboard.press(keys)
        time.sleep(1.0)
        started = time.time()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if time.time() - started > 15 and not page.evaluate(
                r"""() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                .some(p => /\[(\*|\d+)\]/.test(p.textContent))"""
            ):
                raise RuntimeError(
                    f"{keys} did nothing in the slideshow for 15 s: it did not have the keyboard"
                )
            # "[ ]" not run yet, "[*]" running; a cell whose input is collapsed shows no prompt
            pending = page.evaluate(r"""() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                .filter(p => /\[[ *]?\]/.test(p.textContent)).length""")
            if pending == 0:
                return
            errors = self.error_outputs(page)
            if errors:  # run-all stops at the first error: the rest would wait forever
                raise RuntimeError(f"a cell failed in the slideshow: {errors[0]}")
            time.sleep(0.5)
        raise TimeoutError(f"cells still waiting or running after {timeout} s in the slideshow")

    @staticmethod
    def _wait_kernel_idle(page, timeout: float) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            state = page.evaluate("""() => {
                const el = document.querySelector('.jp-Notebook-ExecutionIndicator');
                return el ? el.getAttribute('data-status') : null; }""")
            if state == "idle":
                return
            time.sleep(0.3)

    def run_all(self, page, timeout: float = 300) -> None:
        """Run > Run All Cells, then wait until no cell is queued or running (and every code cell ran)."""
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        self._wait_done(page, timeout)

    def run_through(self, page, text: str, timeout: float = 300) -> int:
        """Run the notebook from the top through the first cell whose source contains `text` (JupyterLab's
        "Run All Above" with the next cell selected); wait until it is done; return that cell's index.
        The browser tests need the cells up to a widget; nbval runs every cell of every notebook anyway."""
        index = page.evaluate(
            """async (text) => {
            const app = window.jupyterapp;
            const notebook = app.shell.currentWidget.content;
            const i = notebook.widgets.findIndex(c => c.model.sharedModel.getSource().includes(text));
            if (i < 0) return -1;
            notebook.activeCellIndex = Math.min(i + 1, notebook.widgets.length - 1);
            const last = i + 1 >= notebook.widgets.length;
            await app.commands.execute(last ? 'notebook:run-all-cells' : 'notebook:run-all-above');
            return i;
        }""",
            text,
        )
        if index < 0:
            raise LookupError(f"no cell of this notebook contains {text!r}")
        self._wait_done(page, timeout)
        return index

    @staticmethod
    def _wait_done(page, timeout: float) -> None:
        time.sleep(1.0)
        deadline = time.time() + timeout
        while time.time() < deadline:
            busy = page.evaluate(r"""() => {
                const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent);
                const ind = document.querySelector('.jp-Notebook-ExecutionIndicator');
                const idle = !ind || ind.getAttribute('data-status') === 'idle';
                const ran = prompts.some(t => /\[\d+\]/.test(t));
                return !idle || !ran || prompts.some(t => t.includes('[*]'));
            }""")
            if not busy:
                return
            time.sleep(0.5)
        raise TimeoutError(f"the notebook was still running after {timeout} s")

    @staticmethod
    def error_outputs(page) -> list[str]:
        """Texts of error outputs (tracebacks) shown in the notebook."""
        return page.evaluate("""() => [...document.querySelectorAll(
                '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
                .map(e => e.innerText).filter(t => t.includes('Traceback') || t.includes('Error'))
                .map(t => t.slice(0, 300))""")

    @staticmethod
    def image_src(locator) -> str:
        return locator.evaluate("el => el.src || el.querySelector('img').src")

    @staticmethod
    def wait_for_change(locator, old: str, timeout: float = 10) -> str:
        deadline = time.time() + timeout
        while time.time() < deadline:
            src = JupyterLabSession.image_src(locator)
            if src != old:
                return src
            time.sleep(0.05)
        raise TimeoutError("the image did not change")


KEY_LATENCY_JS = """async ([sliderSel, imageSel, presses, key]) => {
    // key press on the slider handle -> the widget's <img> shows new bytes (its src changes)
    const handle = document.querySelector(sliderSel + ' .noUi-handle');
    const img = document.querySelector(imageSel);
    const times = [];
    for (let i = 0; i < presses; i++) {
        const before = img.src;
        const k = (i % 2 === 0) ? key : (key === 'ArrowRight' ? 'ArrowLeft' : 'ArrowRight');  // never stuck at an end
        handle.focus();
        const t0 = performance.now();
        const changed = new Promise(resolve => {
            const obs = new MutationObserver(() => { if (img.src !== before) { obs.disconnect(); resolve(); } });
            obs.observe(img, {attributes: true, attributeFilter: ['src']});
            setTimeout(() => { obs.disconnect(); resolve(); }, 5000);
        });
        handle.dispatchEvent(new KeyboardEvent('keydown', {key: k, bubbles: true}));
        await changed;
        // wait for the new image to be decoded and painted
        await img.decode().catch(() => {});
        await new Promise(r => requestAnimationFrame(() => r()));
        times.push(performance.now() - t0);
        await new Promise(r => setTimeout(r, 30));
    }
    return times;
}"""


def key_to_image_latency(
    page, slider_selector: str, image_selector: str, presses: int = 40, key: str = "ArrowRight"
):
    """Milliseconds from a key press on a slider to the new image shown, measured in the page."""
    return page.evaluate(KEY_LATENCY_JS, [slider_selector, image_selector, presses, key])
