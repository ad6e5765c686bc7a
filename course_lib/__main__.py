"""python -m course_lib COMMAND: small helpers around the course.

  python -m course_lib kernel [--user | --prefix DIR]   install the course's Jupyter kernel
  python -m course_lib threads                          show the CPU thread policy and why
"""
from __future__ import annotations

import argparse
import sys

KERNEL_NAME = "python3"
KERNEL_DISPLAY_NAME = "Python 3 (course)"
# What the kernel's environment carries: OpenMP reads its wait policy once, when torch loads, which can be
# before `import course_lib` runs in a notebook; the thread count is decided at import (course_lib/threads.py).
KERNEL_ENV = {"OMP_WAIT_POLICY": "PASSIVE"}


def install_kernel(user: bool = False, prefix: str | None = None) -> str:
    """Install this Python as the Jupyter kernel "Python 3 (course)", with the thread policy's environment."""
    from ipykernel.kernelspec import install

    if prefix is None and not user:
        prefix = sys.prefix
    return install(user=user, prefix=prefix, kernel_name=KERNEL_NAME, display_name=KERNEL_DISPLAY_NAME,
                   env=dict(KERNEL_ENV))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    k = sub.add_parser("kernel", help="install the course's Jupyter kernel (thread policy in its environment)")
    where = k.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="into ~/.local/share/jupyter (default: this environment)")
    where.add_argument("--prefix", help="into PREFIX/share/jupyter")
    sub.add_parser("threads", help="print the thread policy in force and why")
    args = parser.parse_args(argv)
    if args.command == "kernel":
        path = install_kernel(user=args.user, prefix=args.prefix)
        print(f"installed the kernel '{KERNEL_DISPLAY_NAME}' in {path} (environment: {KERNEL_ENV})")
    elif args.command == "threads":
        from . import threads

        print(threads.current().describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())
