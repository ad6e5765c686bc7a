"""Helpers only the tests use (the drivers they share with the benchmarks are in bench/:
browser.JupyterLabSession for JupyterLab in Chromium, hub_client for the class hub)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from bench.browser import INSTALL_HINT, JupyterLabSession, chromium_available
from bench.hub_client import KernelClient, Student

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "browser"


def require_chromium() -> None:
    """Skip a browser test module without Chromium - except in CI, where it must run."""
    if chromium_available():
        return
    if os.environ.get("CI"):
        pytest.fail(
            f"CI must run the browser tests, but Chromium is missing: {INSTALL_HINT}", pytrace=False
        )
    pytest.skip(f"Chromium not found; {INSTALL_HINT}", allow_module_level=True)


def wait_quiet(locator, quiet: float = 1.5, timeout: float = 15) -> str | None:
    """The image's src once it has not changed for `quiet` seconds (a live view that was paused
    may still show a round that was under way); None if it kept changing for `timeout` s."""
    deadline = time.time() + timeout
    src, since = JupyterLabSession.image_src(locator), time.time()
    while time.time() < deadline:
        time.sleep(0.2)
        now = JupyterLabSession.image_src(locator)
        if now != src:
            src, since = now, time.time()
        elif time.time() - since >= quiet:
            return src
    return None


def run_in_kernel(student: Student, code: str, timeout: float = 300) -> dict:
    """Start a kernel, run one cell, shut the kernel down (synchronous helper)."""

    async def go():
        kid = student.start_kernel()
        k = await KernelClient(student, kid).connect()
        try:
            return await k.execute(code, timeout)
        finally:
            k.close()
            student.server("DELETE", f"/api/kernels/{kid}")

    return asyncio.run(go())


def student_processes(name: str) -> list:
    import psutil

    out = []
    for p in psutil.process_iter(["username", "memory_info", "cmdline"]):
        if p.info["username"] == name:
            out.append(p)
    return out
