"""Widget latency in the kernel: a state change, made the way the front end makes it (setting a
slider's value), until the new image bytes are set. p50 / p95 over many changes."""
from __future__ import annotations

import time

import numpy as np
import torch


def _time_changes(changes) -> np.ndarray:
    times = []
    for change in changes:
        start = time.perf_counter()
        change()
        times.append((time.perf_counter() - start) * 1e3)
    return np.array(times)


def _vae_explorer():
    from course_lib import checkpoints
    from course_lib.models.vae import VAE
    from course_lib.widgets import LatentExplorer

    vae = checkpoints.load_checkpoint("vae_digits", VAE)
    explorer = LatentExplorer(vae, codes=torch.randn(2000, 2), labels=torch.randint(0, 10, (2000,)))
    values = np.linspace(-2.5, 2.5, 200)
    return explorer, [lambda v=v, i=i: setattr(explorer.sliders[i % 2], "value", float(v)) for i, v in enumerate(values)]


def _interpolation():
    from course_lib import checkpoints
    from course_lib.data import make_digits28
    from course_lib.models.autoencoders import Autoencoder
    from course_lib.models.vae import VAE
    from course_lib.widgets import InterpolationView

    models = {"VAE": checkpoints.load_checkpoint("vae_digits", VAE), "AE": checkpoints.load_checkpoint("ae_digits", Autoencoder)}
    view = InterpolationView(models, make_digits28(20, seed=0)[0])
    return view, [lambda v=v: setattr(view.t, "value", float(v)) for v in np.linspace(0, 1, 51)[1:].tolist() * 4]


def _denoiser():
    from course_lib.data import make_digits28
    from course_lib.models.autoencoders import Autoencoder
    from course_lib.widgets import DenoiseView

    torch.manual_seed(0)
    view = DenoiseView(make_digits28(20, seed=0)[0], {"a": Autoencoder(784, [256], 64), "b": Autoencoder(784, [256], 64)})
    return view, [lambda v=v: setattr(view.level, "value", round(float(v), 2)) for v in np.linspace(0.05, 1, 20).tolist() * 10]


def _kernel():
    from course_lib.data import make_digits28
    from course_lib.widgets import KernelView

    view = KernelView(make_digits28(1, seed=0)[0][0, 0])
    return view, [lambda i=i: setattr(view.cells[4], "value", float(i % 7)) for i in range(1, 201)]


def _dropout():
    from course_lib.widgets import DropoutView

    view = DropoutView(torch.rand(8, 16))
    return view, [lambda v=v: setattr(view.slider, "value", round(float(v), 2)) for v in np.linspace(0.05, 0.9, 18).tolist() * 12]


WIDGETS = {
    "VAE latent explorer (slider)": _vae_explorer,
    "VAE vs AE interpolation (t slider)": _interpolation,
    "denoising view (noise slider)": _denoiser,
    "kernel view (edit one number)": _kernel,
    "dropout view (p slider)": _dropout,
}


def interactivity_table(quick: bool = False) -> tuple[list[dict], str]:
    rows = []
    for name, make in WIDGETS.items():
        widget, changes = make()
        changes = changes[:20] if quick else changes
        widget.image.value  # noqa: B018 - first render already happened
        times = _time_changes(changes)
        rows.append({"widget": name, "n": len(times), "p50": float(np.percentile(times, 50)),
                     "p95": float(np.percentile(times, 95))})
    lines = ["| widget | changes | p50 ms | p95 ms | goal p95 <= 16 ms |", "|---|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['widget']} | {r['n']} | {r['p50']:.2f} | {r['p95']:.2f} | {'met' if r['p95'] <= 16 else 'MISSED'} |")
    return rows, "\n".join(lines)
