"""python -m course_lib COMMAND: small helpers around the course.

python -m course_lib kernel [--user | --prefix DIR]   install the course's Jupyter kernel
python -m course_lib threads                          show the CPU thread policy and why
python -m course_lib notebooks DIR                    copy the course's notebooks into DIR
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

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
    return install(
        user=user,
        prefix=prefix,
        kernel_name=KERNEL_NAME,
        display_name=KERNEL_DISPLAY_NAME,
        env=dict(KERNEL_ENV),
    )


def notebook_sources() -> tuple[Path, list[Path]]:
    """Where the course's notebooks are: notebooks/ of a checkout, else the copy in the installed package."""
    from . import REPO_ROOT

    here = Path(__file__).resolve().parent
    for folder in (REPO_ROOT / "notebooks", here / "_notebooks"):
        found = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
        if found:
            return folder, found
    raise FileNotFoundError(
        f"no course notebooks found in {REPO_ROOT / 'notebooks'} or {here / '_notebooks'}; "
        "reinstall the package (pip install course_lib) or clone the repository"
    )


def copy_notebooks(dest) -> tuple[list[str], list[str]]:
    """Copy every course notebook into dest. A file already there (a student's edited copy) is kept.

    Returns (copied, kept): file names.
    """
    dest = Path(dest).expanduser()
    if dest.exists() and not dest.is_dir():
        raise NotADirectoryError(
            f"expected a folder to copy the notebooks into, got the file {dest}"
        )
    _, sources = notebook_sources()
    dest.mkdir(parents=True, exist_ok=True)
    copied, kept = [], []
    for src in sources:
        target = dest / src.name
        try:
            with (
                open(target, "xb") as out,
                open(src, "rb") as inp,
            ):  # "x": never replace an existing file
                shutil.copyfileobj(inp, out)
        except FileExistsError:
            kept.append(src.name)
        else:
            copied.append(src.name)
    return copied, kept


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib", description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    k = sub.add_parser(
        "kernel", help="install the course's Jupyter kernel (thread policy in its environment)"
    )
    where = k.add_mutually_exclusive_group()
    where.add_argument(
        "--user",
        action="store_true",
        help="into ~/.local/share/jupyter (default: this environment)",
    )
    where.add_argument("--prefix", help="into PREFIX/share/jupyter")
    sub.add_parser("threads", help="print the thread policy in force and why")
    nb = sub.add_parser(
        "notebooks", help="copy the course's notebooks into DIR (files already there are kept)"
    )
    nb.add_argument("dir", help="folder to copy the notebooks into (created if needed)")
    args = parser.parse_args(argv)
    if args.command == "kernel":
        path = install_kernel(user=args.user, prefix=args.prefix)
        print(f"installed the kernel '{KERNEL_DISPLAY_NAME}' in {path} (environment: {KERNEL_ENV})")
    elif args.command == "threads":
        from . import threads

        print(threads.current().describe())
    elif args.command == "notebooks":
        try:
            copied, kept = copy_notebooks(args.dir)
        except (OSError, FileNotFoundError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        dest = Path(args.dir).expanduser().resolve()
        print(
            f"copied {len(copied)} notebook(s) into {dest}"
            + (": " + ", ".join(copied) if copied else "")
        )
        if kept:
            print(f"kept {len(kept)} already there (not overwritten): " + ", ".join(kept))
        print(f"open them with: jupyter lab {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
