"""python -m course_lib.grading COMMAND

release [--out build/release] [LAB ...]      what `make labs` runs: the student versions
autograde --course DIR LAB [STUDENT ...]     autograde submissions in an nbgrader course folder
                                             with the course's settings, sandboxed (as root or
                                             the hub's instructor); prints a report per student
setup [INSTRUCTOR ...]                       as root: the account course-grader, and sudo rules
                                             letting INSTRUCTOR grade as it
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .autograde import autograde_course, release, summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.grading", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="generate the student versions of the labs")
    rel.add_argument("labs", nargs="*", help="lab names (default: every lab in labs/)")
    rel.add_argument("--out", default="build/release", help="where the student versions go")
    ag = sub.add_parser("autograde", help="autograde submissions of a lab, sandboxed")
    ag.add_argument("--course", required=True, help="the nbgrader course folder")
    ag.add_argument(
        "--no-sandbox", action="store_true", help="run as yourself (your own code only)"
    )
    ag.add_argument("--json", action="store_true", help="print the reports as JSON")
    ag.add_argument("lab")
    ag.add_argument("students", nargs="*", help="default: every student who submitted the lab")
    st = sub.add_parser("setup", help="as root: create course-grader, allow INSTRUCTOR to grade")
    st.add_argument("instructors", nargs="*")
    args = parser.parse_args(argv)
    if args.command == "release":
        for path in release(Path(args.out), args.labs or None):
            print(f"student version: {path}")
        print(
            f"nbgrader course folder (gradebook, source, release): {Path(args.out).parent / 'labs'}"
        )
    elif args.command == "autograde":
        reports = autograde_course(
            Path(args.course), args.lab, args.students or None, sandbox=not args.no_sandbox
        )
        print(summary(reports) if args.json else "\n".join(r.text() for r in reports))
    elif args.command == "setup":
        from .sandbox import ensure_account

        print(ensure_account(args.instructors))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
