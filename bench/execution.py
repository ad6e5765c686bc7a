"""Execute every notebook headless, as a student's "Run All" would, and measure it.

Per notebook: seconds to run all cells (kernel start excluded, reported apart), the kernel's
peak resident memory (VmHWM from /proc, Linux only), and whether every cell ran without error.
"""

from __future__ import annotations

import time
from pathlib import Path

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"


def _peak_rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_notebook(path: Path, timeout: int = 600, km=None, env: dict | None = None) -> dict:
    """Execute a notebook in a fresh kernel (the course's, or the unstarted KernelManager `km`, with `env`)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        km=km,
        resources={"metadata": {"path": str(path.parent)}},
    )
    row = {"notebook": path.name, "ok": False, "error": ""}
    t0 = time.perf_counter()
    try:
        with client.setup_kernel(**({"env": env} if env is not None else {})):
            row["kernel_start_s"] = time.perf_counter() - t0
            pid = client.km.provisioner.process.pid
            start = time.perf_counter()
            try:
                for index, cell in enumerate(nb.cells):
                    client.execute_cell(cell, index)
                row["ok"] = True
            except CellExecutionError as exc:
                row["error"] = str(exc).strip().splitlines()[-1][:120]
            row["seconds"] = time.perf_counter() - start
            row["peak_rss_mib"] = _peak_rss_mib(pid)
    finally:
        # nbclient shuts down only kernels it created itself; one we handed it (km) is ours to stop
        if km is not None and km.has_kernel:
            km.shutdown_kernel(now=True)
    return row


def notebooks(only: str | None = None) -> list[Path]:
    paths = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    if only:
        paths = [p for p in paths if only in p.name]
    return paths


def execution_table(only: str | None = None) -> tuple[list[dict], str]:
    rows = [run_notebook(p) for p in notebooks(only)]
    lines = [
        "| notebook | seconds (cells) | kernel start s | peak RSS MiB | goal <= 60 s | result |",
        "|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        rss = f"{r['peak_rss_mib']:.0f}" if r["peak_rss_mib"] else "n/a"
        goal = "met" if r["seconds"] <= 60 else "MISSED"
        result = "pass" if r["ok"] else f"FAIL: {r['error']}"
        lines.append(
            f"| {r['notebook']} | {r['seconds']:.1f} | {r['kernel_start_s']:.1f} | {rss} | {goal} | {result} |"
        )
    total = sum(r["seconds"] for r in rows)
    lines.append(
        f"| **all {len(rows)}** | **{total:.1f}** | | | {'met' if total <= 480 else 'MISSED'} (<= 8 min) | "
        f"{sum(r['ok'] for r in rows)}/{len(rows)} pass |"
    )
    return rows, "\n".join(lines)
