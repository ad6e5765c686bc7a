"""Tests of lab 06 (labs/06_conditional_gan_lab.ipynb): labels for a conditional GAN, the agreement
measure, and a conditional GAN on the ring whose samples land on the mode that was asked for."""

from __future__ import annotations

import torch

from .base import Hint, as_tensor, exercise, fresh_generator, run
from .lab05_gan import LATENT, RADIUS, centres, train_points
from .labs import quiet, same_on

CLASSES = 8
# For each of the 8 modes asked for, 250 samples from fresh noise; the share that lands within
# RADIUS of the mode asked for, averaged: at least 0.8: 2 points, at least 0.9: 3 points. A
# conditional GAN of two 128-unit layers trained for 3,000 steps reaches about 0.95.
AGREEMENT_BARS = [(0.8, 2.0), (0.9, 3.0)]


def train_data() -> tuple[torch.Tensor, torch.Tensor]:
    """The ring's points and, as labels, the mode each point was drawn around (0..7)."""
    x = train_points()
    return x, torch.cdist(x, centres()).argmin(1)


@exercise("wrong_labels, on new label sets")
def wrong_labels_fresh(fn) -> str:
    g = fresh_generator()
    for labels in (torch.tensor([3]), torch.randint(0, 10, (5_000,), generator=g)):
        out, _ = run(fn, ("labels",), (labels,), deterministic=False)
        out = as_tensor(out, "your wrong_labels", labels.shape)
        if (out == labels.float()).any() or (out < 0).any() or (out > 9).any():
            raise Hint(
                f"on a batch of {len(labels)} some labels are equal to the given ones or outside 0..9"
            )
    shares = torch.bincount(out.long() - labels + 10 * (out.long() < labels), minlength=10)[
        1:
    ].float()
    if (shares / shares.sum() - 1 / 9).abs().max() > 0.03:
        raise Hint("the wrong labels are not spread evenly over the nine other classes")
    return "right on a batch of one and a large batch, evenly spread"


@exercise("class_agreement, on new batches")
def class_agreement_fresh(fn) -> str:
    g = fresh_generator()
    cases = []
    for n, k in ((1, 10), (300, 10), (37, 4)):
        cases.append(
            {
                "logits": torch.randn(n, k, generator=g),
                "requested": torch.randint(0, k, (n,), generator=g),
                "shape": f"{n} samples, {k} classes",
            }
        )
    ref = lambda c: (c["logits"].argmax(1) == c["requested"]).float().mean()  # noqa: E731
    same_on(fn, cases, ref, ("logits", "requested"), "your class_agreement")
    return "right on new batch sizes and numbers of classes"


def _one_hot(labels):
    return torch.nn.functional.one_hot(labels, CLASSES).float()


@exercise("the conditional generator's interface")
def interface(G) -> str:
    with quiet():
        if not isinstance(G, torch.nn.Module):
            raise Hint(f"`G` must be an nn.Module, got {type(G).__name__}")
        z = torch.randn(8, LATENT)
        out = as_tensor(G(z, _one_hot(torch.arange(8))), "G(z, one_hot(labels))", (8, 2))
        if torch.allclose(out, out[:1].expand_as(out)):
            raise Hint("G gives the same point whatever the label")
    return "G maps noise (B, 2) and one-hot labels (B, 8) to points (B, 2)"


def agreement(G, per_class: int = 250) -> float:
    with quiet():
        G.eval()
        labels = torch.arange(CLASSES).repeat_interleave(per_class)
        z = torch.randn(len(labels), LATENT, generator=fresh_generator())
        out = as_tensor(G(z, _one_hot(labels)), "G(z, one_hot(labels))", (len(labels), 2))
        return ((out - centres()[labels]).norm(dim=1) < RADIUS).float().mean().item()


def agreement_points(G) -> float:
    from .labs import graded_value

    return graded_value("samples on the mode asked for", agreement(G), AGREEMENT_BARS, False)
