"""Tests of lab 05 (labs/05_gan_lab.ipynb): the two GAN losses from logits, and a GAN trained on
the ring of eight Gaussians, judged by how many modes its samples cover."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .. import data
from .base import Hint, as_tensor, exercise, fresh_generator
from .labs import quiet, same_on

TRAIN = {"n": 20_000, "seed": 1}
LATENT = 2
RADIUS = 0.3  # a sample "lands on" a mode within 3 of its standard deviations (0.1)
# The samples must cover at least 7 of the 8 modes (each mode gets >= 2% of 2,000 samples within
# RADIUS): 2 points; and at least 60% of all samples must land on a mode: 1 more point. A GAN of
# two 128-unit layers trained for 2,000 steps covers 8 with 65-90% landing.
MODES_NEEDED, LANDED_NEEDED = 7, 0.6


def centres() -> torch.Tensor:
    k = torch.arange(8).float()
    return 2.0 * torch.stack([torch.cos(k * math.pi / 4), torch.sin(k * math.pi / 4)], 1)


def train_points() -> torch.Tensor:
    return data.make_toy2d("ring", TRAIN["n"], seed=TRAIN["seed"])


def _logits(b, g, scale=1.0):
    return torch.randn(b, generator=g) * scale


@exercise("discriminator_loss, on new batches and large logits")
def discriminator_loss_fresh(fn) -> str:
    g = fresh_generator()
    cases = [
        {
            "real": _logits(b, g, s) + 1,
            "fake": _logits(b, g, s) - 1,
            "shape": f"a batch of {b}, logits up to {3 * s:g}",
        }
        for b, s in ((1, 1.0), (64, 30.0), (5, 0.1))
    ]
    ref = lambda c: (
        F.binary_cross_entropy_with_logits(c["real"], torch.ones_like(c["real"]))
        + (  # noqa: E731
            F.binary_cross_entropy_with_logits(c["fake"], torch.zeros_like(c["fake"]))
        )
    )
    same_on(fn, cases, ref, ("real", "fake"), "your discriminator_loss")
    return "right on new batch sizes, also for large logits (no overflow)"


@exercise("generator_loss, on new batches and large logits")
def generator_loss_fresh(fn) -> str:
    g = fresh_generator()
    cases = [
        {"fake": _logits(b, g, s) - 1, "shape": f"a batch of {b}, logits up to {3 * s:g}"}
        for b, s in ((1, 1.0), (64, 30.0), (5, 0.1))
    ]
    ref = lambda c: F.binary_cross_entropy_with_logits(c["fake"], torch.ones_like(c["fake"]))  # noqa: E731
    same_on(fn, cases, ref, ("fake",), "your generator_loss")
    return "right on new batch sizes, also for large logits (no overflow)"


@exercise("the generator's interface")
def interface(G) -> str:
    with quiet():
        if not isinstance(G, torch.nn.Module):
            raise Hint(f"`G` must be an nn.Module, got {type(G).__name__}")
        out = as_tensor(G(torch.randn(10, LATENT)), f"G(z) for z of shape (10, {LATENT})", (10, 2))
        if torch.allclose(out, out[:1].expand_as(out)):
            raise Hint("G gives the same point for every z")
    return "G maps noise (B, 2) to points (B, 2)"


def coverage(G, n: int = 2_000) -> tuple[int, float]:
    """(modes covered, share of samples landing on a mode) for n samples from noise drawn afresh."""
    with quiet():
        G.eval()
        z = torch.randn(n, LATENT, generator=fresh_generator())
        samples = as_tensor(G(z), "G(z)", (n, 2))
        d = torch.cdist(samples, centres())
        close = d.min(1).values < RADIUS
        shares = torch.bincount(d.argmin(1)[close], minlength=8).float() / n
        return int((shares >= 0.02).sum()), close.float().mean().item()


def coverage_points(G) -> float:
    modes, landed = coverage(G)
    won = 2.0 * (modes >= MODES_NEEDED) + 1.0 * (modes >= MODES_NEEDED and landed >= LANDED_NEEDED)
    print(f"modes covered: {modes} of 8; samples on a mode: {landed:.0%} -> {won:g} of 3 points")
    return won
