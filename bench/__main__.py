"""python -m bench [--only SUBSTRING] [--out bench/results.md]

Measures on this machine, in one run, and prints Markdown tables; the same text goes to
bench/results.md. Numbers are measured, never typed in.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

import torch

from .execution import execution_table
from .interactivity import interactivity_table


def machine_line() -> str:
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none used"
    return (f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), GPU: {gpu}, Python {platform.python_version()}; "
            f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only notebooks whose name contains this")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results.md"))
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (for the test that keeps bench working)")
    args = parser.parse_args(argv)
    sections = ["# Course benchmarks", "", machine_line(), ""]
    print(sections[2], flush=True)
    rows, table = execution_table(args.only)
    sections += ["## 1. Notebook execution (headless, all cells)", "", table, ""]
    print(table, flush=True)
    _, table = interactivity_table(quick=args.quick)
    sections += ["## 2. Interactivity: state change -> new image bytes, in the kernel", "", table, ""]
    print(table, flush=True)
    if args.out:
        Path(args.out).write_text("\n".join(sections))
        print(f"\nwritten to {args.out}")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
