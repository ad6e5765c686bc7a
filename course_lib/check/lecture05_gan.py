"""Checkers of notebook 05: the discriminator's and the generator's losses."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import Mistake, compare_cases, exercise, fresh_generator, number

_bce = F.binary_cross_entropy_with_logits


def _gan_cases():
    """Logits of D on real and fake batches, three batch sizes, drawn afresh on every check."""
    g = fresh_generator()
    for b in (16, 7, 33):
        real, fake = torch.randn(b, generator=g) + 1.0, torch.randn(b, generator=g) - 1.0
        yield {"real": real, "fake": fake, "b": b}


def _d_loss(c, real_label=1.0, fake_label=0.0, reduction="mean", squash=False):
    real, fake = c["real"], c["fake"]
    if squash:
        real, fake = torch.sigmoid(real), torch.sigmoid(fake)
    return _bce(real, torch.full_like(real, real_label), reduction=reduction) + _bce(
        fake, torch.full_like(fake, fake_label), reduction=reduction
    )


_ONE_PART = "D's loss has two parts: recognise the genuine images AND recognise the fakes"
DISCRIMINATOR_MISTAKES = (
    Mistake(
        "the labels are swapped: real images -> 1, fakes -> 0 (whatever you pick, G must use the same)",
        lambda c: _d_loss(c, 0.0, 1.0),
    ),
    Mistake(_ONE_PART, lambda c: _bce(c["real"], torch.ones_like(c["real"]))),
    Mistake(_ONE_PART, lambda c: _bce(c["fake"], torch.zeros_like(c["fake"]))),
    Mistake("add the two parts, do not average them", lambda c: _d_loss(c) / 2),
    Mistake(
        "that is V(D, G), which D maximises; as a loss to minimise take its negative",
        lambda c: -_d_loss(c),
    ),
    Mistake(
        "average each part over the batch (the default reduction), do not sum it",
        lambda c: _d_loss(c, reduction="sum"),
    ),
    Mistake(
        "the inputs are logits and binary_cross_entropy_with_logits applies the sigmoid itself: "
        "applying torch.sigmoid first squashes them twice",
        lambda c: _d_loss(c, squash=True),
    ),
    Mistake(
        "on a batch of {b} the loss is wrong ({off}): check each part's target (real and fake) and "
        "that each is a mean over the batch; the inputs are D's logits, not probabilities"
    ),
)


@exercise("discriminator_loss", DISCRIMINATOR_MISTAKES)
def discriminator_loss(fn) -> str:
    """fn(d_real_logits (B,), d_fake_logits (B,)) -> BCE(real -> 1) + BCE(fake -> 0), from logits."""
    read = number("your discriminator_loss")
    compare_cases(
        fn,
        _gan_cases(),
        _d_loss,
        read,
        DISCRIMINATOR_MISTAKES,
        args=("real", "fake"),
        grads=("real", "fake"),
    )
    return "recognise genuine (label 1) + recognise fakes (label 0), and the gradient reaches D's logits"


def _g_loss(c):
    return _bce(c["fake"], torch.ones_like(c["fake"]))


GENERATOR_MISTAKES = (
    Mistake(
        "that is the saturating min-max form log(1 - D(G(z))); its gradient vanishes while D wins. "
        "G should push D's verdict on its fakes towards 'real' instead",
        lambda c: F.logsigmoid(-c["fake"]).mean(),
    ),
    Mistake(
        "with target 0 G would help D; G wants its fakes labelled real (1)",
        lambda c: _bce(c["fake"], torch.zeros_like(c["fake"])),
    ),
    Mistake(
        "average over the batch (the default reduction), do not sum",
        lambda c: _bce(c["fake"], torch.ones_like(c["fake"]), reduction="sum"),
    ),
    Mistake(
        "on a batch of {b} the loss is wrong ({off}): it is a binary cross-entropy of D's logits on "
        "the fakes; check its target and reduction"
    ),
)


@exercise("generator_loss", GENERATOR_MISTAKES)
def generator_loss(fn) -> str:
    """fn(d_fake_logits (B,)) -> the non-saturating generator loss -log D(G(z)) = BCE(fake -> 1)."""
    read = number("your generator_loss")
    compare_cases(
        fn, _gan_cases(), _g_loss, read, GENERATOR_MISTAKES, args=("fake",), grads=("fake",)
    )
    return "the non-saturating loss: G wants D to say 'real' (1) for its fakes; the gradient flows"
