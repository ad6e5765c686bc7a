"""Presenting from a working copy: `make present NB=07` (python -m course_lib present 07).

JupyterLab autosaves what it runs - in a slideshow too - so presenting straight from notebooks/ would
write every output into the course's tracked notebooks. The slideshow runs from a working copy
instead (presenting/ beside the checkout by default), kept in step with the course:

- a lecture not yet in the copy is copied;
- a lecture the course changed (a `git pull`) replaces the copy if the instructor did not edit the
  copy's cells (outputs and autosaves do not count as edits);
- a copy the instructor edited is kept, and the command says which course version it passed over;
- a copy that no longer parses (a full disk) is moved aside and copied afresh.

What was copied from where is recorded in presenting/.course-present.json.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = ".course-present.json"
DEFAULT_DIR = "presenting"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cells_digest(path: Path) -> str | None:
    """A digest of what the cells say (type and source), ignoring outputs, execution counts and
    metadata that running and autosaving change; None for a file that does not parse."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        content = [
            [c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"]]
            for c in cells
        ]
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    return _sha(json.dumps(content, ensure_ascii=False).encode())


def _content_digest(path: Path) -> str | None:
    if path.suffix == ".ipynb":
        return cells_digest(path)
    try:
        return _sha(path.read_bytes())
    except OSError:
        return None


def _write_atomic(src: Path, target: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(src.read_bytes())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@dataclass
class Prepared:
    """What prepare() did, file by file."""

    folder: Path
    copied: list[str] = field(default_factory=list)  # new in the working copy
    updated: list[str] = field(default_factory=list)  # the course changed, the copy was not edited
    kept: list[str] = field(default_factory=list)  # unchanged course file, copy as it was
    edited: list[str] = field(
        default_factory=list
    )  # the course changed, but the copy was edited: kept
    repaired: list[tuple[str, str]] = field(default_factory=list)  # damaged copy -> where it went

    def lines(self) -> list[str]:
        out = []
        if self.copied:
            out.append(f"copied into {self.folder}: " + ", ".join(self.copied))
        if self.updated:
            out.append(
                "updated to the course's new version (your copy had no edits): "
                + ", ".join(self.updated)
            )
        for name in self.edited:
            out.append(
                f"kept your edited {self.folder / name}; the course has a newer version of it. "
                f"To take that one, delete or rename your copy and run this again"
            )
        for name, aside in self.repaired:
            out.append(
                f"{name} in {self.folder} was damaged (it did not parse): moved to {aside}, copied afresh"
            )
        return out


def prepare(dest, sources: list[Path]) -> Prepared:
    """Bring the working copy in dest up to date with sources (the course's notebooks and rise.css)."""
    folder = Path(dest).expanduser().resolve()
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(
            f"expected a folder for the presenting copy, got the file {folder}"
        )
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text())
        if not isinstance(manifest, dict):
            manifest = {}
    except (OSError, ValueError):
        manifest = {}
    report = Prepared(folder)
    for src in sources:
        name, target = src.name, folder / src.name
        source_sha = _sha(src.read_bytes())
        record = manifest.get(name) if isinstance(manifest.get(name), dict) else None
        if target.exists() and _content_digest(target) is None:
            n = 1
            while (aside := target.with_name(f"{target.stem}.damaged-{n}{target.suffix}")).exists():
                n += 1
            os.replace(target, aside)
            report.repaired.append((name, aside.name))
        if not target.exists():
            _write_atomic(src, target)
            report.copied.append(name)
        elif record and record.get("source_sha256") == source_sha:
            report.kept.append(name)
            continue
        elif record and record.get("content_sha256") == _content_digest(target):
            _write_atomic(src, target)
            report.updated.append(name)
        elif _content_digest(target) == _content_digest(src):
            report.kept.append(name)  # same cells as the course's (e.g. a copy made by hand)
        else:
            report.edited.append(name)
            continue
        manifest[name] = {"source_sha256": source_sha, "content_sha256": _content_digest(target)}
    _write_manifest(manifest_path, manifest)
    return report


def _write_manifest(path: Path, manifest: dict) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    with os.fdopen(fd, "w") as out:
        json.dump(manifest, out, indent=1, sort_keys=True)
    os.replace(tmp, path)


def find_lecture(which: str, sources: list[Path]) -> Path:
    """The lecture notebook named by its number ("07", "7") or the start of its file name."""
    notebooks = [s for s in sources if s.suffix == ".ipynb"]
    key = which.strip()
    if key.isdigit():
        key = f"{int(key):02d}_"
    matches = [s for s in notebooks if s.name.startswith(key) or s.stem == which]
    if len(matches) != 1:
        names = " ".join(s.name[:2] for s in notebooks)
        raise ValueError(
            f"expected one lecture, e.g. 07 (one of: {names}); {which!r} names {len(matches)}"
        )
    return matches[0]
