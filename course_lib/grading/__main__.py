"""python -m course_lib.grading release [--out build/release] [LAB ...]   (what `make labs` runs)"""

from __future__ import annotations

import argparse
from pathlib import Path

from .autograde import release


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.grading", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="generate the student versions of the labs")
    rel.add_argument("labs", nargs="*", help="lab names (default: every lab in labs/)")
    rel.add_argument("--out", default="build/release", help="where the student versions go")
    args = parser.parse_args(argv)
    if args.command == "release":
        for path in release(Path(args.out), args.labs or None):
            print(f"student version: {path}")
        print(f"nbgrader course folder (gradebook, source, release): {Path(args.out).parent / 'labs'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
