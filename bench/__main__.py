"""python -m bench [--only SUBSTRING] [--quick] [--skip-notebooks] [--sections 5] [--out bench/results.md]

Measures on this machine, in one run, and prints Markdown tables; the same text goes to
bench/results.md. Numbers are measured, never typed in.
  1. notebook execution  2. interactivity (kernel, live GAN, and Chromium when installed)
  3. quality vs baselines  4. training throughput of fit vs a bare loop  5. sharing the CPU
  (6. the class hub: make bench-hub; 7. slides: python -m bench.slides)  8. live feedback under load
`--sections 5` (or `2b,5`) measures only those sections and replaces them in the existing
results file, each stamped with the machine line of its own run; the other sections stay as they were.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from .execution import execution_table
from .feedback import feedback_section
from .interactivity import gan_table, interactivity_table
from .quality import quality_table
from .sharing import sharing_section
from .throughput import throughput_table


def machine_line() -> str:
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none used"
    return (
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), GPU: {gpu}, Python {platform.python_version()}; "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC."
    )


def browser_table(presses: int = 40) -> str:
    from .browser import JupyterLabSession, chromium_available, key_to_image_latency

    if not chromium_available():
        return "Chromium not installed here: key press -> image shown was not measured."
    rows = []
    with JupyterLabSession() as lab:
        for notebook, widget, title in (
            ("04_variational_autoencoders.ipynb", ".course-latent-explorer", "VAE latent explorer"),
            ("07_diffusion.ipynb", ".course-noise-stepper", "diffusion stepper (forward t)"),
        ):
            page = lab.open(f"notebooks/{notebook}")
            lab.run_all(page)
            page.locator(widget).first.scroll_into_view_if_needed()
            times = np.array(
                key_to_image_latency(
                    page, f"{widget} .course-slider", f"{widget} img.course-image", presses
                )
            )
            rows.append(
                f"| {title} | {len(times)} | {np.percentile(times, 50):.1f} | {np.percentile(times, 95):.1f} | "
                f"{'met' if np.percentile(times, 95) <= 100 else 'MISSED'} |"
            )
            page.close()
    return "\n".join(
        [
            "| widget in JupyterLab + Chromium | key presses | p50 ms | p95 ms | goal p95 <= 100 ms |",
            "|---|---:|---:|---:|---|",
            *rows,
        ]
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only notebooks whose name contains this")
    parser.add_argument(
        "--quick", action="store_true", help="small sizes (the test that keeps bench working)"
    )
    parser.add_argument(
        "--skip-notebooks", action="store_true", help="skip the (slow) notebook execution table"
    )
    parser.add_argument(
        "--skip-browser", action="store_true", help="skip the Chromium latency table"
    )
    parser.add_argument(
        "--skip-sharing",
        action="store_true",
        help="skip the 'Sharing the CPU' section (several minutes)",
    )
    parser.add_argument(
        "--sections",
        help="comma-separated section numbers to measure (e.g. 5 or 2b,5); "
        "they replace the same sections of the existing --out file",
    )
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results.md"))
    args = parser.parse_args(argv)
    wanted = {w.strip() for w in args.sections.split(",")} if args.sections else None
    machine = machine_line()
    sections = ["# Course benchmarks", "", machine, ""]
    measured = {}
    print(machine, flush=True)
    ok = True

    def want(number):
        return wanted is None or number in wanted or number.rstrip("abc") in wanted

    def add(title, table):
        sections.extend([f"## {title}", "", table, ""])
        measured[title.split(".")[0]] = (title, table)
        print(f"\n## {title}\n{table}", flush=True)

    if not args.skip_notebooks and want("1"):
        rows, table = execution_table(args.only)
        ok &= all(r["ok"] for r in rows)
        add("1. Notebook execution (headless, all cells)", table)
    if want("2a"):
        add(
            "2a. Interactivity in the kernel: state change -> new image bytes",
            interactivity_table(quick=args.quick)[1],
        )
    if want("2b"):
        add("2b. Live GAN view while training", gan_table(1.5 if args.quick else 4.0)[1])
    if not args.skip_browser and want("2c"):
        add(
            "2c. Interactivity in a real JupyterLab (headless Chromium)",
            browser_table(10 if args.quick else 40),
        )
    if want("3"):
        add("3. Quality vs baselines (held-out data)", quality_table(quick=args.quick)[1])
    if want("4"):
        add(
            "4. Training throughput: fit vs a bare PyTorch loop",
            throughput_table(quick=args.quick)[1],
        )
    if not args.skip_sharing and want("5"):
        add("5. Sharing the CPU", sharing_section(quick=args.quick))
    if not args.skip_sharing and want("8"):
        add("8. Live feedback under load", feedback_section(quick=args.quick))
    if args.out:
        out = Path(args.out)
        if wanted is not None and out.exists():
            text = merge_sections(out.read_text(), measured, machine)
        else:
            text = "\n".join(sections)
        out.write_text(text)
        print(f"\nwritten to {args.out}")
    return 0 if ok else 1


def merge_sections(old: str, measured: dict, machine: str, command: str | None = None) -> str:
    """Replace (or append, in number order) the measured sections of an existing results file.

    measured: {"5": (title, table)}. Each replaced section says it was measured in a later run,
    by `command` (default: python -m bench --sections N)."""
    head, *blocks = old.split("\n## ")
    parts = {}
    for block in blocks:
        title, _, body = block.partition("\n")
        parts[title.split(".")[0]] = (title, body)
    for number, (title, table) in measured.items():
        parts[number] = (
            title,
            f"\n_Measured separately (`{command or f'python -m bench --sections {number}'}`). "
            f"{machine}_\n\n{table}\n",
        )
    ordered = sorted(parts, key=lambda n: (int(n.rstrip("abc")), n))
    return head + "".join(f"\n## {parts[n][0]}\n{parts[n][1]}" for n in ordered)


def write_section(path, number: str, title: str, body: str, command: str) -> None:
    """Replace (or add) section `number` of the results file at `path`, stamped with this machine
    and the command that measured it (the benchmarks that run on their own use this)."""
    from pathlib import Path

    out = Path(path)
    out.write_text(
        merge_sections(out.read_text(), {number: (title, body)}, machine_line(), command)
    )
    print(f"written to {out}")


if __name__ == "__main__":
    sys.exit(main())
