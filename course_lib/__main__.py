"""python -m course_lib COMMAND: small helpers around the course.

python -m course_lib kernel [--user | --prefix DIR]   install the course's Jupyter kernel (and the
                                                      JupyterLab settings and the small extension
                                                      for presenting, see below)
python -m course_lib threads                          show the CPU thread policy and why
python -m course_lib notebooks DIR                    copy the course's notebooks into DIR
python -m course_lib warmup                           before class: load what the first demo needs
python -m course_lib present 07 [--dir DIR] [LAB ARGS] open lecture 07 as a live slideshow, run from a
                                                      working copy (presenting/): the course's notebooks
                                                      are never written to (course_lib/present.py)
python -m course_lib grade MY_LAB.ipynb [--json]      grade your copy of a lab as the instructor's
                                                      autograder does (README "Grading")
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import shutil
import sys
import time
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


# JupyterLab settings installed beside the kernel (PREFIX/share/jupyter/lab/settings/overrides.json,
# merged with what is there): one key runs the whole lecture, also inside the RISE slideshow, so an
# instructor who opens a lecture as slides (make present) brings every widget to life at once.
RUN_ALL_KEYS = "Ctrl Shift Enter"
LAB_SETTINGS = {
    "@jupyterlab/shortcuts-extension:shortcuts": {
        "shortcuts": [
            {
                "command": "notebook:run-all-cells",
                "keys": [RUN_ALL_KEYS],
                "selector": ".jp-Notebook",
            }
        ]
    },
}


def install_lab_settings(prefix: str | None = None) -> Path:
    """Merge LAB_SETTINGS into PREFIX/share/jupyter/lab/settings/overrides.json; returns its path."""
    path = Path(prefix or sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    try:
        current = json.loads(path.read_text()) if path.exists() else {}
    except ValueError as exc:
        raise ValueError(
            f"{path} is not valid JSON ({exc}); fix or remove it, then run again"
        ) from exc
    if not isinstance(current, dict):
        raise ValueError(f"{path} must hold a JSON object, found {type(current).__name__}")
    for plugin, settings in LAB_SETTINGS.items():
        merged = dict(current.get(plugin, {}))
        for key, value in settings.items():
            if key == "shortcuts":
                mine = {(s["command"], tuple(s["keys"])) for s in value}
                kept = [
                    s
                    for s in merged.get("shortcuts", [])
                    if (s.get("command"), tuple(s.get("keys", ()))) not in mine
                ]
                merged["shortcuts"] = kept + value
            else:
                merged[key] = value
        current[plugin] = merged
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, indent=2) + "\n")
    return path


# A tiny JupyterLab extension shipped in course_lib/labextension (hand-written, no build step): the
# jupyterlab-rise slideshow lacks a shared module the ipywidgets manager asks for, so without it every
# widget shows as a still picture in the slideshow (jupyterlab-contrib/rise#119). See its remoteEntry.js.
RISE_WIDGETS_EXTENSION = "course-rise-widgets"


def install_rise_widgets(prefix: str | None = None, user: bool = False) -> Path:
    """Copy the course-rise-widgets extension into Jupyter's labextensions folder of PREFIX (default:
    this environment) or, with user=True, of the user's Jupyter data folder; returns where it went."""
    if user:
        from jupyter_core.paths import jupyter_data_dir

        base = Path(jupyter_data_dir())
    else:
        base = Path(prefix or sys.prefix) / "share" / "jupyter"
    source = Path(__file__).resolve().parent / "labextension"
    if not (source / "package.json").exists():
        raise FileNotFoundError(f"{source}/package.json is missing: reinstall course_lib")
    dest = base / "labextensions" / RISE_WIDGETS_EXTENSION
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(source, dest)
    return dest


def warmup() -> list[str]:
    """What the first demo of a class waits for, done before class: torch, matplotlib (its font
    cache), ipywidgets, every shipped checkpoint (sha256 checked, read into the disk cache), and one
    picture of the widgets the lectures open with. Returns one line per step with its time."""
    lines = []

    def step(what, fn):
        t0 = time.perf_counter()
        fn()
        lines.append(f"{what}: {time.perf_counter() - t0:.1f} s")

    step("import torch, matplotlib, ipywidgets", _import_stack)
    step("load every shipped checkpoint (sha256 checked)", _load_checkpoints)
    step("draw the widgets' first pictures", _first_pictures)
    return lines


def _import_stack():
    import ipywidgets  # noqa: F401
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch  # noqa: F401

    fig, ax = plt.subplots()
    ax.set_title("warm-up $x^2$")
    fig.canvas.draw()
    plt.close(fig)


def _load_checkpoints():
    from . import checkpoints

    for name in checkpoints.manifest()["checkpoints"]:
        checkpoints.load_state(name)


def _first_pictures():
    import torch

    from . import checkpoints
    from .models.vae import VAE
    from .widgets import LatentExplorer

    vae = checkpoints.load_checkpoint("vae_digits", VAE)
    LatentExplorer(vae, codes=torch.randn(100, 2), labels=torch.randint(0, 10, (100,))).render()


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


def _readable_notebook(path: Path) -> bool:
    """Whether a notebook file parses (a copy cut short by a full disk does not)."""
    try:
        return isinstance(json.loads(path.read_text(encoding="utf-8")).get("cells"), list)
    except (OSError, ValueError, UnicodeDecodeError, AttributeError):
        return False


def _copy_new(src: Path, target: Path) -> bool:
    """Copy src to target through a temporary file in the same folder, so a target is either whole
    or absent (a full disk leaves no half notebook). Never replaces a file that exists: False then."""
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
            shutil.copyfileobj(inp, out)
        try:
            os.link(tmp, target)  # fails if target exists: never overwrites a student's file
        except FileExistsError:
            return False
        except OSError:  # a filesystem without hard links
            if target.exists():
                return False
            os.replace(tmp, target)
        return True
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def copy_notebooks(dest) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """Copy every course notebook into dest. A file already there (a student's edited copy) is kept;
    a notebook there that does not parse (damaged, e.g. cut short by a full disk) is moved aside as
    NAME.damaged-N.ipynb and copied afresh.

    Returns (copied, kept, repaired): file names, and (name, where the damaged copy went) pairs.
    """
    dest = Path(dest).expanduser()
    if dest.exists() and not dest.is_dir():
        raise NotADirectoryError(
            f"expected a folder to copy the notebooks into, got the file {dest}"
        )
    _, sources = notebook_sources()
    dest.mkdir(parents=True, exist_ok=True)
    copied, kept, repaired = [], [], []
    style = sources[0].parent / "rise.css"  # the slideshow's look (make present, RISE)
    for src in sources + ([style] if style.exists() else []):
        target = dest / src.name
        if target.suffix == ".ipynb" and target.exists() and not _readable_notebook(target):
            n = 1
            while (aside := target.with_name(f"{target.stem}.damaged-{n}.ipynb")).exists():
                n += 1
            os.replace(target, aside)
            repaired.append((src.name, aside.name))
        if _copy_new(src, target):
            copied.append(src.name)
        else:
            kept.append(src.name)
    return copied, kept, repaired


def present(
    lecture: str, folder: str | None, lab_args: list[str], prepare_only: bool = False
) -> int:
    """Update the working copy, then replace this process with JupyterLab showing the lecture's slideshow."""
    from . import present as presenting

    _, sources = notebook_sources()
    style = sources[0].parent / "rise.css"
    try:
        target = presenting.find_lecture(lecture, sources)
        report = presenting.prepare(
            folder or presenting.DEFAULT_DIR, sources + ([style] if style.exists() else [])
        )
    except (ValueError, OSError) as exc:
        print(f"present: {exc}", file=sys.stderr)
        return 2
    for line in report.lines():
        print(f"present: {line}")
    print(
        f"present: {target.name} as a slideshow from {report.folder} (your edits and the outputs stay "
        "there; the course's notebooks are not written to).\n"
        "  Ctrl+Shift+Enter runs every cell (the widgets come alive); Space / arrows move; T opens the "
        "speaker notes; Q leaves for JupyterLab.",
        flush=True,
    )
    if prepare_only:
        return 0
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={report.folder}",
        f"--LabApp.default_url=/rise/{target.name}",
    ]
    if hasattr(os, "getuid") and os.getuid() == 0:
        command.append("--allow-root")  # a container: token authentication stays on
    os.execv(sys.executable, command + lab_args)
    return 0  # pragma: no cover - execv does not return


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
    sub.add_parser("warmup", help="before class: load the checkpoints and libraries the demos need")
    nb = sub.add_parser(
        "notebooks", help="copy the course's notebooks into DIR (files already there are kept)"
    )
    nb.add_argument("dir", help="folder to copy the notebooks into (created if needed)")
    pr = sub.add_parser(
        "present",
        help="open a lecture as a live RISE slideshow in JupyterLab, from a working copy "
        "(other arguments go to jupyter lab)",
    )
    pr.add_argument("lecture", help="the lecture's number, e.g. 07")
    pr.add_argument("--dir", default=None, help="the working copy (default: ./presenting)")
    pr.add_argument(
        "--prepare-only",
        action="store_true",
        help="update the working copy, do not start JupyterLab",
    )
    gr = sub.add_parser(
        "grade",
        help="autograde your copy of a lab, exactly as the instructor's nbgrader does",
    )
    gr.add_argument("notebook", help="your copy of a lab (from build/release/ or the hub)")
    gr.add_argument("--json", action="store_true", help="print the report as JSON")
    gr.add_argument(
        "--sandbox",
        action="store_true",
        help="run the code as the account course-grader, as the class hub does (needs root or sudo)",
    )
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "present":
        parser.error("unrecognized arguments: " + " ".join(extra))
    if args.command == "kernel":
        path = install_kernel(user=args.user, prefix=args.prefix)
        print(f"installed the kernel '{KERNEL_DISPLAY_NAME}' in {path} (environment: {KERNEL_ENV})")
        if not args.user:
            settings = install_lab_settings(args.prefix)
            print(f"JupyterLab: {RUN_ALL_KEYS} runs every cell, also in the slideshow ({settings})")
        ext = install_rise_widgets(args.prefix, user=args.user)
        print(f"JupyterLab: widgets work inside the RISE slideshow ({ext})")
    elif args.command == "grade":
        from .grading.autograde import grade

        report = grade(args.notebook, sandbox=args.sandbox)
        print(json.dumps(report.as_dict(), indent=1) if args.json else report.text())
    elif args.command == "present":
        return present(args.lecture, args.dir, extra, prepare_only=args.prepare_only)
    elif args.command == "warmup":
        for line in warmup():
            print(line, flush=True)
        print(
            "done: the libraries and checkpoints are in the disk cache, matplotlib's font cache is built"
        )
    elif args.command == "threads":
        from . import threads

        print(threads.current().describe())
    elif args.command == "notebooks":
        try:
            copied, kept, repaired = copy_notebooks(args.dir)
        except (OSError, FileNotFoundError) as exc:
            full = getattr(exc, "errno", None) == errno.ENOSPC
            why = "the disk is full; free some space and run this again" if full else str(exc)
            print(f"error: {why} (no notebook was left half-copied)", file=sys.stderr)
            return 1
        dest = Path(args.dir).expanduser().resolve()
        notebooks = [n for n in copied if n.endswith(".ipynb")]
        print(
            f"copied {len(notebooks)} notebook(s) into {dest}"
            + (": " + ", ".join(notebooks) if notebooks else "")
            + (" (and rise.css, the slideshow's style)" if "rise.css" in copied else "")
        )
        for name, aside in repaired:
            print(f"{name} there was damaged (it did not parse): kept as {aside}, copied afresh")
        kept_nb = [n for n in kept if n.endswith(".ipynb")]
        if kept_nb:
            print(f"kept {len(kept_nb)} already there (not overwritten): " + ", ".join(kept_nb))
        print(f"open them with: jupyter lab {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
