"""Tests of lab 03 (labs/03_autoencoders_lab.ipynb): noise, the sparsity penalty, and a denoising
autoencoder judged against PCA at the same code size on digits it never saw."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import data
from .base import Hint, as_tensor, exercise, fresh_generator, run
from .labs import graded_value, held_out, quiet, same_on

TRAIN = {"n": 5_000, "seed": 1}
NOISE = 0.4  # the noise level of the denoising task
MAX_CODE = 32
# Denoising error on 1,000 fresh digits relative to PCA's with as many components as the code
# (PCA fitted on the training digits, the noisy image projected and rebuilt): a DAE trained for
# ~15 epochs reaches about 0.68 of PCA's error.
RATIO_BARS = [(0.85, 2.0), (0.75, 3.0)]


def train_digits() -> torch.Tensor:
    return data.make_digits28(TRAIN["n"], seed=TRAIN["seed"])[0]


@exercise("add_noise, on new shapes and levels")
def add_noise_fresh(fn) -> str:
    g = fresh_generator()
    x = torch.rand(3, 5, 7, generator=g)
    out = as_tensor(
        run(fn, ("x", "level"), (x, 0.0), deterministic=False)[0], "add_noise(x, 0)", x.shape
    )
    if not torch.allclose(out, x):
        raise Hint("with level 0 the image must come back unchanged")
    x = torch.full((200, 200), 0.5)
    for level in (0.05, 0.15):
        out = as_tensor(
            run(fn, ("x", "level"), (x, level), deterministic=False)[0], "your add_noise", x.shape
        )
        if abs((out - x).std().item() - level) > 0.1 * level:
            raise Hint(f"with level {level} the noise's standard deviation is not the level")
    return "right for level 0, other levels and shapes"


def _kl_sparsity(c):
    rho, q = c["rho"], c["h"].mean(0)
    return (rho * torch.log(rho / q) + (1 - rho) * torch.log((1 - rho) / (1 - q))).sum()


@exercise("kl_sparsity, on new shapes")
def kl_sparsity_fresh(fn) -> str:
    g = fresh_generator()
    cases = [
        {
            "h": torch.rand(b, u, generator=g) * 0.9 + 0.05,
            "rho": rho,
            "shape": f"{b} x {u} units, rho {rho}",
        }
        for b, u, rho in ((1, 3, 0.5), (40, 100, 0.02), (9, 1, 0.3))
    ]
    same_on(fn, cases, _kl_sparsity, ("h", "rho"), "your kl_sparsity")
    return "right on new shapes and target rates"


def _code(model, x):
    z = model.encode(x)
    if not isinstance(z, torch.Tensor) or z.ndim != 2 or z.shape[0] != x.shape[0]:
        raise Hint("model.encode(x) must return codes of shape (B, code_size)")
    if z.shape[1] > MAX_CODE:
        raise Hint(f"the code has {z.shape[1]} numbers per image; at most {MAX_CODE}")
    return z


@exercise("the denoising autoencoder's interface")
def interface(model) -> str:
    with quiet():
        if not isinstance(model, torch.nn.Module):
            raise Hint(f"`model` must be an nn.Module, got {type(model).__name__}")
        model.eval()
        x = train_digits()[:6]
        z = _code(model, x)
        as_tensor(model.decode(z), "model.decode(z)", (6, 1, 28, 28))
    return f"codes of {z.shape[1]} numbers, decoded to 28x28 images"


def denoising_ratio(model) -> float:
    """The model's denoising MSE on fresh noisy digits divided by PCA's at the same code size."""
    with quiet():
        model.eval()
        clean, _ = held_out(data.make_digits28, 1_000)
        noisy = (clean + NOISE * torch.randn(clean.shape, generator=fresh_generator())).clamp(0, 1)
        k = _code(model, clean[:2]).shape[1]
        train = train_digits().flatten(1)
        mean = train.mean(0)
        basis = torch.linalg.svd(train - mean, full_matrices=False)[2][:k]
        pca = ((noisy.flatten(1) - mean) @ basis.T @ basis + mean).clamp(0, 1)
        mine = as_tensor(model.decode(_code(model, noisy)), "model.decode", clean.shape).flatten(1)
        return (F.mse_loss(mine, clean.flatten(1)) / F.mse_loss(pca, clean.flatten(1))).item()


def denoising_points(model) -> float:
    return graded_value("denoising error relative to PCA", denoising_ratio(model), RATIO_BARS, True)
