"""course_lib: the small shared library every notebook of the course imports.

Start of each notebook::

    import course_lib as cl
    cl.seed_everything(0)
    device = cl.get_device()
"""

from __future__ import annotations

import os
import random
from contextlib import contextmanager
from pathlib import Path

# The course's CPU policy, one step that runs first: OpenMP reads its wait policy once, when torch
# loads. threads.apply() sets passive OpenMP waiting and the thread count in the environment, then
# torch's thread count and flush-denormal, and logs one line on the "course_lib" logger.
# Opt out with COURSE_THREAD_POLICY=off (PyTorch's defaults); see README "Sharing a machine".
from . import threads  # noqa: I001 - must run before numpy and torch are imported

POLICY = threads.apply()

import numpy as np  # noqa: E402
import torch  # noqa: E402

__version__ = "0.1.0"

# Where the shipped checkpoints (and their MANIFEST.json) are, in this order:
#   1. the folder named by the environment variable COURSE_DATA_DIR, when it is set;
#   2. data/ of the repository checkout this package was imported from (a clone, `pip install -e .`);
#   3. the copy inside the installed package (`pip install .` or a wheel ships data/ as course_lib/_data).
REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DATA = Path(__file__).resolve().parent / "_data"


def _find_data_dir() -> tuple[Path, str]:
    chosen = os.environ.get("COURSE_DATA_DIR")
    if chosen:
        return Path(chosen).expanduser(), "COURSE_DATA_DIR"
    try:  # a checkout whose data/ this user may not read counts as absent (no traceback at import)
        in_checkout = (REPO_ROOT / "data" / "MANIFEST.json").is_file() and (
            REPO_ROOT / "pyproject.toml"
        ).is_file()
    except OSError:
        in_checkout = False
    if in_checkout:
        return REPO_ROOT / "data", "the repository checkout"
    return PACKAGE_DATA, "the installed package"


DATA_DIR, DATA_SOURCE = _find_data_dir()


def cache_dir() -> Path:
    """A writable folder for downloads a user asked for (e.g. real MNIST): data/ in a checkout or
    COURSE_DATA_DIR, else ~/.cache/dl-course (an installed package's own folder may be read-only)."""
    if DATA_SOURCE != "the installed package":
        return DATA_DIR
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dl-course"


def seed_everything(seed: int = 0) -> None:
    """Seed python's `random`, numpy and torch (CPU and CUDA) so a notebook prints the same numbers twice."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def get_device(prefer: str | None = None) -> torch.device:
    """The device to train on: cuda if present, then Apple's mps, then cpu.

    `prefer="cpu"` (or the environment variable COURSE_DEVICE=cpu) forces a choice.
    """
    choice = prefer or os.environ.get("COURSE_DEVICE")
    if choice is not None:
        if choice not in ("cpu", "cuda", "mps"):
            raise ValueError(f"device must be one of 'cpu', 'cuda', 'mps', got {choice!r}")
        if choice == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("device 'cuda' was asked for but torch sees no CUDA GPU")
        if choice == "mps" and not _mps_available():
            raise RuntimeError("device 'mps' was asked for but torch sees no Apple GPU")
        return torch.device(choice)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def model_device(model: torch.nn.Module) -> torch.device:
    """The device a model's parameters (or, failing that, buffers) live on; a clear error for a model
    with neither, where `next(model.parameters())` would raise a bare StopIteration."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"expected an nn.Module, got {type(model).__name__}")
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    raise ValueError(
        f"{type(model).__name__} has no parameters or buffers, so it has no device and "
        "nothing to train; pass a model with at least one layer"
    )


@contextmanager
def eval_mode(*models: torch.nn.Module, grad: bool = False):
    """Run a block with `models` in eval mode (dropout off, batch norm on its running statistics) and,
    unless grad=True, without autograd; afterwards every module is back in the mode it was in, even
    after an error. A model whose submodules were in mixed modes gets each of them back as it was.

        with eval_mode(model):
            logits = model(x)
    """
    for m in models:
        if not isinstance(m, torch.nn.Module):
            raise TypeError(f"eval_mode expects nn.Module(s), got {type(m).__name__}")
    before = [[(sub, sub.training) for sub in m.modules()] for m in models]
    try:
        for m in models:
            m.eval()
        with torch.set_grad_enabled(grad and torch.is_grad_enabled()):
            yield models[0] if len(models) == 1 else models
    finally:
        for modes in before:
            for sub, training in modes:
                sub.training = training


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def environment_report() -> dict:
    """Versions and hardware, as notebook 00 prints them."""
    import matplotlib
    import sklearn

    try:
        import ipywidgets

        widgets_version = ipywidgets.__version__
    except ImportError:  # pragma: no cover - ipywidgets is a dependency
        widgets_version = "missing"
    return {
        "python": ".".join(map(str, __import__("sys").version_info[:3])),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "matplotlib": matplotlib.__version__,
        "scikit-learn": sklearn.__version__,
        "ipywidgets": widgets_version,
        "device": str(get_device()),
        "cpu threads": torch.get_num_threads(),
        "threads because": threads.current().describe(),
        "checkpoints from": f"{DATA_DIR} ({DATA_SOURCE})",
    }


_SUBMODULES = (
    "data",
    "train",
    "plot",
    "check",
    "checkpoints",
    "models",
    "widgets",
    "pretrain",
    "threads",
    "probes",
    "features",
    "metrics",
    "source",
    "feedback",
    "present",
    "grading",
)


def __getattr__(name: str):
    """`cl.data`, `cl.models`, ... are imported on first use, so `import course_lib` stays quick."""
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'course_lib' has no attribute {name!r}")


__all__ = [
    "seed_everything",
    "get_device",
    "eval_mode",
    "model_device",
    "environment_report",
    "cache_dir",
    "DATA_DIR",
    "DATA_SOURCE",
    "REPO_ROOT",
]
