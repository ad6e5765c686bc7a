"""Shipped model weights: saved as plain tensors, listed with their sha256 in data/MANIFEST.json.

    save_checkpoint("digits_mlp", model, config={"hidden": 64})     # used by course_lib.pretrain
    model = load_checkpoint("digits_mlp", build=DigitsMLP)          # checks sha256, weights_only load

A checkpoint is never unpickled: `torch.load(..., weights_only=True)` reads tensors only,
and the file's sha256 must match the manifest before it is read at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from . import DATA_DIR, DATA_SOURCE

__all__ = [
    "save_checkpoint",
    "load_checkpoint",
    "load_state",
    "verify",
    "manifest",
    "CheckpointError",
    "checkpoint_path",
]


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupt or does not fit the model. The message says how to rebuild it."""


def _data_dir(data_dir) -> Path:
    return Path(data_dir) if data_dir is not None else DATA_DIR


def _where(data_dir) -> str:
    """Which folder was searched and why, for error messages."""
    folder = _data_dir(data_dir)
    if data_dir is not None:
        return f"the folder {folder} (passed as data_dir)"
    if DATA_SOURCE == "COURSE_DATA_DIR":
        return (
            f"the folder {folder} (set by COURSE_DATA_DIR; unset it to use the checkpoints that "
            "ship with the course)"
        )
    return f"the folder {folder} ({DATA_SOURCE})"


def _manifest_path(data_dir) -> Path:
    return _data_dir(data_dir) / "MANIFEST.json"


def _rebuild_hint(name: str) -> str:
    return f"Rebuild it with: python -m course_lib.pretrain {name}"


def _check_name(name) -> str:
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "_-" for c in name):
        raise ValueError(
            f"checkpoint name must be a non-empty string of letters, digits, '_' or '-', got {name!r}"
        )
    return name


def checkpoint_path(name: str, data_dir=None) -> Path:
    return _data_dir(data_dir) / "checkpoints" / f"{_check_name(name)}.pt"


def sha256_file(path: os.PathLike) -> str:
    h = hashlib.sha256()
    with _readable(path), open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class _readable:
    """Turn a permission error while reading `path` into a CheckpointError that says what to do."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if kind is not None and issubclass(kind, PermissionError):
            raise CheckpointError(
                f"cannot read {self.path}: permission denied. Give your user read access to the "
                "data folder, or point COURSE_DATA_DIR at a copy you can read"
            ) from None
        return False


def _write_atomically(path: Path, write) -> None:
    """write(temporary path), then rename it over `path`: never a half-written file, and never
    through a symbolic link planted at `path` (the rename replaces the link itself)."""
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _inside(path: Path, data_dir) -> Path:
    """The real file behind `path`: it must be a regular file inside the data folder (a symbolic link
    out of it, or to a device such as /dev/zero, is refused before anything is read)."""
    root = _data_dir(data_dir).resolve()
    real = path.resolve()
    if real != root and root not in real.parents:
        raise CheckpointError(
            f"{path} leads outside the data folder {root} (to {real}); it is not read. "
            "Replace it with the real file"
        )
    if real.exists() and not real.is_file():
        raise CheckpointError(f"{path} is not a regular file ({real}); it is not read")
    return real


def manifest(data_dir=None, missing_ok: bool = True) -> dict:
    """The manifest: {"checkpoints": {name: {file, sha256, bytes, config, created}}, "files": {...}}.

    A folder without MANIFEST.json has no checkpoints; with missing_ok=False that is an error that
    names the folder and the missing file.
    """
    path = _manifest_path(data_dir)
    with _readable(path):
        found = path.exists()
    if not found:
        if missing_ok:
            return {"checkpoints": {}}
        if not _data_dir(data_dir).is_dir():
            raise CheckpointError(
                f"no checkpoints: {_where(data_dir)} does not exist. Nothing is "
                "downloaded; point COURSE_DATA_DIR at a folder with MANIFEST.json "
                "and checkpoints/, or unset it."
            )
        raise CheckpointError(
            f"no checkpoints: MANIFEST.json is missing from {_where(data_dir)}. "
            "Copy it there with the checkpoints/ folder, or rebuild them with "
            "python -m course_lib.pretrain --all."
        )
    try:
        with _readable(path):
            data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc}); restore it from git") from None
    if not isinstance(data, dict):
        raise CheckpointError(
            f'{path} must hold a JSON object with a "checkpoints" object, got a '
            f"{type(data).__name__}; restore it from git"
        )
    data.setdefault("checkpoints", {})
    if not isinstance(data["checkpoints"], dict):
        raise CheckpointError(
            f'{path}: "checkpoints" must be an object of name -> entry, got a '
            f"{type(data['checkpoints']).__name__}; restore it from git"
        )
    return data


def _check_entry(name: str, entry, data_dir) -> dict:
    """A manifest entry must name a file inside the data folder, its sha256 and (optionally) a config."""
    where = f"{_manifest_path(data_dir)}, entry {name!r}"
    if not isinstance(entry, dict):
        raise CheckpointError(f"{where} must be an object, got a {type(entry).__name__}")
    file, digest = entry.get("file"), entry.get("sha256")
    if not isinstance(file, str) or not file:
        raise CheckpointError(f'{where} has no "file" (the checkpoint\'s path inside the folder)')
    rel = Path(file)
    if rel.is_absolute() or ".." in rel.parts:
        raise CheckpointError(
            f'{where}: "file" must be a path inside the data folder, got {file!r}'
        )
    if (
        not isinstance(digest, str)
        or len(digest) != 64
        or any(c not in "0123456789abcdef" for c in digest)
    ):
        raise CheckpointError(
            f'{where} has no valid "sha256" (64 hex digits), got {digest!r}: the file cannot be '
            f"checked, so it is not loaded. {_rebuild_hint(name)}"
        )
    if not isinstance(entry.get("config", {}), dict):
        raise CheckpointError(f'{where}: "config" must be an object of constructor arguments')
    return entry


def save_checkpoint(
    name: str,
    model: nn.Module | dict,
    config: dict | None = None,
    data_dir=None,
    metrics: dict | None = None,
) -> Path:
    """Save a state dict (tensors only) and record its size and sha256 in the manifest."""
    state = model.state_dict() if isinstance(model, nn.Module) else model
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise TypeError("save_checkpoint expects an nn.Module or a dict of tensors")
    path = checkpoint_path(name, data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in state.items()}
    _write_atomically(path, lambda tmp: torch.save(state, tmp))
    data = manifest(data_dir)
    data["checkpoints"][name] = {
        "file": str(path.relative_to(_data_dir(data_dir))),
        "sha256": sha256_file(path),
        "bytes": path.stat().st_size,
        "config": config or {},
        "metrics": metrics or {},
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
    }
    data["checkpoints"] = dict(sorted(data["checkpoints"].items()))
    text = json.dumps(data, indent=2) + "\n"
    _write_atomically(_manifest_path(data_dir), lambda tmp: Path(tmp).write_text(text))
    return path


def verify(name: str, data_dir=None) -> dict:
    """Check that the checkpoint exists and its sha256 matches the manifest; return its manifest entry."""
    entries = manifest(data_dir, missing_ok=False)["checkpoints"]
    if name not in entries:
        raise CheckpointError(
            f"no checkpoint named {name!r} in the MANIFEST.json of {_where(data_dir)} "
            f"(known: {sorted(entries) or 'none'}). {_rebuild_hint(name)}"
        )
    entry = _check_entry(name, entries[name], data_dir)
    path = _data_dir(data_dir) / entry["file"]
    _inside(path, data_dir)
    if not path.exists():
        raise CheckpointError(
            f"checkpoint file {entry['file']} is missing from {_where(data_dir)}. "
            f"{_rebuild_hint(name)}"
        )
    digest = sha256_file(path)
    if digest != entry["sha256"]:
        raise CheckpointError(
            f"checkpoint {path} is corrupt or was changed: sha256 {digest[:12]}... does not match the "
            f"manifest's {entry['sha256'][:12]}... It was not loaded. {_rebuild_hint(name)}"
        )
    return entry


def load_state(name: str, data_dir=None) -> tuple[dict, dict]:
    """(state_dict, config) after the sha256 check; tensors only (weights_only=True), on the CPU."""
    entry = verify(name, data_dir)
    path = _data_dir(data_dir) / entry["file"]
    try:
        with _readable(path):
            state = torch.load(_inside(path, data_dir), map_location="cpu", weights_only=True)
    except CheckpointError:
        raise
    except Exception as exc:  # an unpickling error means the file holds more than tensors
        raise CheckpointError(
            f"checkpoint {path} could not be read as plain tensors ({exc}). {_rebuild_hint(name)}"
        ) from None
    return state, entry.get("config", {})


def load_checkpoint(
    name: str, build: Callable[..., nn.Module] | nn.Module, data_dir=None, device=None
) -> nn.Module:
    """Load shipped weights into a model. build: the model class (called with the saved config) or a model.

    Returns the model in eval mode on `device` (default: cpu).
    """
    state, config = load_state(name, data_dir)
    model = build if isinstance(build, nn.Module) else build(**config)
    want = model.state_dict()
    missing = [k for k in want if k not in state]
    unexpected = [k for k in state if k not in want]
    shapes = [
        f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}"
        for k, v in want.items()
        if k in state and state[k].shape != v.shape
    ]
    if missing or unexpected or shapes:
        parts = [
            f"{label} {items[:4]}{' ...' if len(items) > 4 else ''}"
            for label, items in (
                ("missing from the file:", missing),
                ("not in the model:", unexpected),
                ("shape (file vs model):", shapes),
            )
            if items
        ]
        raise CheckpointError(
            f"checkpoint {name!r} does not fit {type(model).__name__} (config {config}): "
            f"{'; '.join(parts)}. Build the model the checkpoint was made for, or "
            f"{_rebuild_hint(name).lower()}"
        )
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise CheckpointError(
            f"checkpoint {name!r} does not fit {type(model).__name__} (config {config}): {first}. "
            f"{_rebuild_hint(name)}"
        ) from None
    return model.to(device or "cpu").eval()
