"""The code style is checked, not only configured: ruff (pyproject.toml [tool.ruff]) must pass.

Fix with `.venv/bin/ruff format . && .venv/bin/ruff check --fix .`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _ruff() -> list[str]:
    exe = Path(sys.executable).with_name("ruff")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("ruff")
    if found:
        return [found]
    pytest.skip("ruff is not installed (it is in the [test] extra: make test installs it)")


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([*_ruff(), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_ruff_lint_is_clean():
    run = _run("check", "--no-cache", ".")
    assert run.returncode == 0, f"ruff check found problems:\n{run.stdout}{run.stderr}"


def test_ruff_format_is_applied():
    run = _run("format", "--check", "--no-cache", ".")
    assert run.returncode == 0, f"files need `ruff format`:\n{run.stdout}{run.stderr}"


def test_ruff_catches_a_problem(tmp_path):
    """The check can fail: an unused import and unsorted imports in a scratch file are reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("import sys\nimport os\n\nx = 1\n")
    run = _run(
        "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(bad), cwd=tmp_path
    )
    assert run.returncode != 0 and "F401" in run.stdout and "I001" in run.stdout, run.stdout
