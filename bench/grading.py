"""Autograding time, sandboxed as on the class hub:  sudo python -m bench.grading [--out bench/results.md]

As root, with the class environment's Python (`make hub-setup` builds it): for every lab, one
correct submission autograded in an nbgrader course folder with the course's settings, as the
account course-grader with its limits (course_lib/grading/sandbox.py); then a class of 30 correct
submissions of one lab autograded in one `autograde` run, as an instructor does after the deadline.
Submissions are graded one after another (the sweep after each ends every process of
course-grader, so two gradings must not overlap). Writes section 10 of bench/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

CLASS_LAB = "04_variational_autoencoders_lab"
CLASS_SIZE = 30


def _autograde(course: Path, lab: str, python: Path) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    r = subprocess.run(
        [
            str(python),
            "-m",
            "course_lib.grading",
            "autograde",
            "--json",
            "--course",
            str(course),
            lab,
        ],
        capture_output=True,
        text=True,
        cwd="/",
    )
    seconds = time.perf_counter() - start
    if r.returncode:
        raise RuntimeError(r.stderr[-3000:])
    return seconds, json.loads(r.stdout)


def _course(top: Path, lab: str, students: int) -> Path:
    from lab_support import LABS, submission, write

    from course_lib.grading.autograde import build_course

    course = top / lab
    build_course(course, [lab], LABS)
    nb = submission(lab)
    for i in range(students):
        write(nb, course / "submitted" / f"student{i:02d}" / lab / f"{lab}.ipynb")
    return course


def measure(python: Path, class_size: int = CLASS_SIZE) -> dict:
    from course_lib.grading.autograde import lab_names

    top = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        per_lab = {}
        for lab in lab_names():
            seconds, (report,) = _autograde(_course(top, lab, 1), lab, python)
            per_lab[lab] = (seconds, report["score"], report["max_auto"])
        seconds, reports = _autograde(
            _course(top / "class", CLASS_LAB, class_size), CLASS_LAB, python
        )
        full = sum(r["score"] == r["max_auto"] for r in reports)
        return {"per_lab": per_lab, "class": (seconds, len(reports), full)}
    finally:
        shutil.rmtree(top, ignore_errors=True)


def table(result: dict) -> str:
    lines = [
        "One correct submission per lab, autograded as course-grader with the course's limits (the "
        "time includes nbgrader's bookkeeping and starting the kernel, ~3 s):",
        "",
        "| lab | autograde, s | score |",
        "|---|---:|---:|",
    ]
    for lab, (seconds, score, most) in result["per_lab"].items():
        lines.append(f"| {lab} | {seconds:.1f} | {score:g} / {most:g} |")
    seconds, n, full = result["class"]
    lines += [
        "",
        f"A class: {n} submissions of {CLASS_LAB} in one `autograde` run: **{seconds / 60:.1f} min** "
        f"({seconds / n:.1f} s each, one after another); {full} of {n} scored full marks.",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.grading", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", default="", help="write section 10 of this results file")
    parser.add_argument("--class-size", type=int, default=CLASS_SIZE)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit(
            "bench.grading: run as root (grading changes to the account course-grader)"
        )
    from bench.hub_client import HUB_ENV

    python = HUB_ENV / "bin" / "python"
    result = measure(python, args.class_size)
    body = table(result)
    print(body)
    if args.out:
        from bench.__main__ import write_section

        title = "10. Autograding the labs (`python -m bench.grading`)"
        write_section(args.out, "10", title, body, "python -m bench.grading --out bench/results.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
