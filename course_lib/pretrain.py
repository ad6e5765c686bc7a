"""Rebuild the shipped checkpoints:  python -m course_lib.pretrain NAME [NAME ...] | --all | --list

Each entry trains from a fixed seed on course_lib's own datasets (offline), saves the
weights with `checkpoints.save_checkpoint` and records sha256 and held-out metrics in
data/MANIFEST.json. Later notebooks add their entries to PRETRAINERS.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Callable

import torch
from torch import nn

from . import seed_everything
from .checkpoints import save_checkpoint

PRETRAINERS: dict[str, Callable[..., dict]] = {}


def register(name: str):
    def deco(fn):
        PRETRAINERS[name] = fn
        return fn

    return deco


@register("digits_mlp")
def pretrain_digits_mlp(data_dir=None, quick: bool = False) -> dict:
    """An MLP on the real 8x8 digits: the tiny classifier of notebook 00."""
    from .data import load_digits8
    from .models import MLPClassifier
    from .train import accuracy, evaluate, fit

    seed_everything(0)
    config = {"in_features": 64, "hidden": [128, 64], "classes": 10}
    model = MLPClassifier(**config)
    x_train, y_train = load_digits8("train")
    x_test, y_test = load_digits8("test")
    fit(model, (x_train, y_train), nn.CrossEntropyLoss(), epochs=2 if quick else 60, lr=2e-3,
        batch_size=64, progress=not quick)
    result = evaluate(model, (x_test, y_test), nn.CrossEntropyLoss(), {"acc": accuracy})
    metrics = {"test_acc": round(result["acc"], 4), "test_loss": round(result["loss"], 4)}
    save_checkpoint("digits_mlp", model, config=config, data_dir=data_dir, metrics=metrics)
    return metrics


VAE_DATA = {"n": 20_000, "seed": 1, "difficulty": 0.5}  # milder distortions: a 2D code can hold all ten digits


@register("vae_digits")
def pretrain_vae_digits(data_dir=None, quick: bool = False) -> dict:
    """A VAE with a 2D latent on 28x28 procedural digits: the latent explorer of notebook 04."""
    from .data import make_digits28
    from .models.vae import VAE, elbo_loss, vae_step
    from .train import fit

    seed_everything(0)
    config = {"in_features": 784, "hidden": [512, 256], "latent_dim": 2}
    x, _ = make_digits28(2_000 if quick else VAE_DATA["n"], seed=VAE_DATA["seed"], difficulty=VAE_DATA["difficulty"])
    x_test, _ = make_digits28(2_000, seed=VAE_DATA["seed"] + 1, difficulty=VAE_DATA["difficulty"])
    model = VAE(**config)
    fit(model, x, None, epochs=1 if quick else 30, lr=1e-3, batch_size=128, step_fn=vae_step(1.0), progress=not quick)
    with torch.no_grad():
        x_hat, mu, logvar = model(x_test)
        _, recon, kl = elbo_loss(x_hat, x_test, mu, logvar)
    metrics = {"test_recon_bce": round(recon.item(), 2), "test_kl": round(kl.item(), 3), "data": VAE_DATA}
    save_checkpoint("vae_digits", model, config=config, data_dir=data_dir, metrics=metrics)
    return metrics


@register("ae_digits")
def pretrain_ae_digits(data_dir=None, quick: bool = False) -> dict:
    """A plain autoencoder with a 2D code on the same digits: the VAE's comparison in notebook 04."""
    from .data import make_digits28
    from .models.autoencoders import Autoencoder, reconstruction_error
    from .train import fit

    seed_everything(0)
    config = {"in_features": 784, "hidden": [512, 256], "code": 2}
    x, _ = make_digits28(2_000 if quick else VAE_DATA["n"], seed=VAE_DATA["seed"], difficulty=VAE_DATA["difficulty"])
    x_test, _ = make_digits28(2_000, seed=VAE_DATA["seed"] + 1, difficulty=VAE_DATA["difficulty"])
    model = Autoencoder(**config)
    fit(model, x, nn.BCELoss(), epochs=1 if quick else 30, lr=1e-3, batch_size=128, progress=not quick)
    metrics = {"test_mse": round(reconstruction_error(model, x_test), 5), "data": VAE_DATA}
    save_checkpoint("ae_digits", model, config=config, data_dir=data_dir, metrics=metrics)
    return metrics


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.pretrain", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"checkpoints to rebuild: {', '.join(PRETRAINERS)}")
    parser.add_argument("--all", action="store_true", help="rebuild every checkpoint")
    parser.add_argument("--list", action="store_true", help="list the checkpoints that can be rebuilt")
    args = parser.parse_args(argv)
    if args.list:
        for name, fn in PRETRAINERS.items():
            print(f"{name:20s} {(fn.__doc__ or '').strip().splitlines()[0]}")
        return 0
    names = list(PRETRAINERS) if args.all else args.names
    if not names:
        parser.error("name a checkpoint, or use --all / --list")
    unknown = [n for n in names if n not in PRETRAINERS]
    if unknown:
        parser.error(f"unknown checkpoint(s) {unknown}; choose from {sorted(PRETRAINERS)}")
    for name in names:
        start = time.time()
        metrics = PRETRAINERS[name]()
        print(f"{name}: saved in {time.time() - start:.0f} s, {metrics}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
