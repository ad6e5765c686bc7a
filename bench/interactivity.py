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
    return explorer, [
        lambda v=v, i=i: setattr(explorer.sliders[i % 2], "value", float(v))
        for i, v in enumerate(values)
    ]


def _interpolation():
    from course_lib import checkpoints
    from course_lib.data import make_digits28
    from course_lib.models.autoencoders import Autoencoder
    from course_lib.models.vae import VAE
    from course_lib.widgets import InterpolationView

    models = {
        "VAE": checkpoints.load_checkpoint("vae_digits", VAE),
        "AE": checkpoints.load_checkpoint("ae_digits", Autoencoder),
    }
    view = InterpolationView(models, make_digits28(20, seed=0)[0])
    return view, [
        lambda v=v: setattr(view.t, "value", float(v))
        for v in np.linspace(0, 1, 51)[1:].tolist() * 4
    ]


def _denoiser():
    from course_lib.data import make_digits28
    from course_lib.models.autoencoders import Autoencoder
    from course_lib.widgets import DenoiseView

    torch.manual_seed(0)
    view = DenoiseView(
        make_digits28(20, seed=0)[0],
        {"a": Autoencoder(784, [256], 64), "b": Autoencoder(784, [256], 64)},
    )
    return view, [
        lambda v=v: setattr(view.level, "value", round(float(v), 2))
        for v in np.linspace(0.05, 1, 20).tolist() * 10
    ]


def _kernel():
    from course_lib.data import make_digits28
    from course_lib.widgets import KernelView

    view = KernelView(make_digits28(1, seed=0)[0][0, 0])
    return view, [lambda i=i: setattr(view.cells[4], "value", float(i % 7)) for i in range(1, 201)]


def _dropout():
    from course_lib.widgets import DropoutView

    view = DropoutView(torch.rand(8, 16))
    return view, [
        lambda v=v: setattr(view.slider, "value", round(float(v), 2))
        for v in np.linspace(0.05, 0.9, 18).tolist() * 12
    ]


def _diffusion_stepper():
    from course_lib import checkpoints
    from course_lib.data import make_digits28
    from course_lib.models.diffusion import NoiseSchedule, SmallUNet
    from course_lib.pretrain import DIFFUSION
    from course_lib.widgets import NoiseStepper

    unet = checkpoints.load_checkpoint("diffusion", SmallUNet)
    stepper = NoiseStepper(
        unet,
        NoiseSchedule(DIFFUSION.T, DIFFUSION.kind),
        make_digits28(10, seed=0)[0],
        n_samples=4,
    )
    stepper.chain()  # computed once when the reverse tab opens; sliding then uses the cache
    T = stepper.schedule.T
    changes = [
        lambda k=k: setattr(stepper.r_pos, "value", k)
        for k in list(range(1, T + 1, 2)) + list(range(T, 0, -3))
    ]
    return stepper, changes


def _forward_stepper():
    stepper, _ = _diffusion_stepper()
    T = stepper.schedule.T
    stepper.image = stepper.f_view  # measure the forward image
    return stepper, [
        lambda k=k: setattr(stepper.f_t, "value", k) for k in list(range(1, T + 1)) + [0]
    ]


def _class_control():
    from course_lib import checkpoints
    from course_lib.models.gan import DCGenerator
    from course_lib.widgets import ClassControl

    control = ClassControl(checkpoints.load_checkpoint("cgan", DCGenerator))
    changes = [lambda d=d: setattr(control.digit, "value", d % 10) for d in range(1, 101)]
    changes += [
        lambda v=v: setattr(control.t, "value", round(float(v), 2))
        for v in np.linspace(0.02, 1, 50)
    ]
    return control, changes


def _pretext():
    from course_lib import checkpoints
    from course_lib.data import make_digits28
    from course_lib.models import transfer
    from course_lib.widgets import PretextView

    nets = {
        task: checkpoints.load_checkpoint(name, transfer.PRETEXT_NETS[name])
        for task, name in (
            ("inpainting", "ssl_inpainting"),
            ("jigsaw", "ssl_jigsaw"),
            ("views", "ssl_simclr"),
        )
    }
    view = PretextView(make_digits28(40, seed=12)[0], nets)
    changes = []
    for task in ("inpainting", "jigsaw", "views"):
        changes.append(lambda t=task: setattr(view.task, "value", t))
        changes += [
            lambda i=i: setattr(view.index, "value", i)
            for i in range(39, 0, -1)
            if i != view.index.value
        ]
    return view, changes


WIDGETS = {
    "diffusion stepper, reverse (cached chain)": _diffusion_stepper,
    "diffusion stepper, forward t slider": _forward_stepper,
    "cGAN class control (digit, noise)": _class_control,
    "VAE latent explorer (slider)": _vae_explorer,
    "VAE vs AE interpolation (t slider)": _interpolation,
    "denoising view (noise slider)": _denoiser,
    "kernel view (edit one number)": _kernel,
    "dropout view (p slider)": _dropout,
    "pretext explorer (task, digit)": _pretext,
}


def interactivity_table(quick: bool = False) -> tuple[list[dict], str]:
    rows = []
    for name, make in WIDGETS.items():
        widget, changes = make()
        changes = changes[:20] if quick else changes
        widget.image.value  # noqa: B018 - first render already happened
        times = _time_changes(changes)
        rows.append(
            {
                "widget": name,
                "n": len(times),
                "p50": float(np.percentile(times, 50)),
                "p95": float(np.percentile(times, 95)),
            }
        )
    lines = [
        "| widget | changes | p50 ms | p95 ms | goal p95 <= 16 ms |",
        "|---|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['widget']} | {r['n']} | {r['p50']:.2f} | {r['p95']:.2f} | {'met' if r['p95'] <= 16 else 'MISSED'} |"
        )
    return rows, "\n".join(lines)


def gan_lab_rate(seconds: float = 3.0) -> dict:
    """Training rounds per second and view refreshes per second while the live GAN view plays (2D ring)."""
    import time as _time

    from course_lib import data, seed_everything
    from course_lib.models.gan import MLPDiscriminator, MLPGenerator
    from course_lib.train import GANTrainer, batch_sampler
    from course_lib.widgets import GANLab

    seed_everything(0)
    ring = data.make_toy2d("ring", 5_000, seed=0)
    trainer = GANTrainer(
        MLPGenerator(2, 2, 64), MLPDiscriminator(2, 64), batch_sampler(ring), 2, lr=1e-3
    )
    lab = GANLab(trainer, "2d", ring)
    steps0, renders0 = trainer.steps, lab.renders
    start = _time.perf_counter()
    lab.start()
    _time.sleep(seconds)
    lab.pause()
    elapsed = _time.perf_counter() - start
    return {
        "steps_per_s": (trainer.steps - steps0) / elapsed,
        "refresh_per_s": (lab.renders - renders0) / elapsed,
    }


def gan_table(seconds: float = 3.0) -> tuple[dict, str]:
    r = gan_lab_rate(seconds)
    ok = r["steps_per_s"] >= 30 and r["refresh_per_s"] >= 5
    table = (
        "| live GAN view (2D ring, playing) | training steps/s | view refreshes/s | goal >= 30 and >= 5 |\n"
        "|---|---:|---:|---|\n"
        f"| GANLab, background thread | {r['steps_per_s']:.0f} | {r['refresh_per_s']:.1f} "
        f"| {'met' if ok else 'MISSED'} |"
    )
    return r, table
