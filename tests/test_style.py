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


def test_the_notebooks_are_linted_and_formatted_too():
    """The code students read is held to the same rules: ruff reads every lecture's .ipynb."""
    run = _run("check", "--no-cache", "--show-files", ".")
    linted = {Path(line.strip()).name for line in run.stdout.splitlines() if line.strip()}
    lectures = {p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert lectures and lectures <= linted, f"not linted: {sorted(lectures - linted)}"


def test_each_notebook_imports_course_lib_before_anything_else():
    """The thread policy must be set before torch loads (course_lib/threads.py): sorted imports
    stop at an `# isort: split` line under `import course_lib`, which says why."""
    import json

    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        imports = [line for line in code.splitlines() if line.startswith(("import ", "from "))]
        assert imports[0].startswith("import course_lib"), (
            f"{path.name}: first import {imports[0]!r}"
        )
        lines = code.splitlines()
        after = [line for line in lines[lines.index(imports[0]) + 1 :] if line.strip()]
        assert after[0] == "# isort: split", path.name
