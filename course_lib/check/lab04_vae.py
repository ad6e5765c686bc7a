"""Tests of lab 04 (labs/04_variational_autoencoders_lab.ipynb): the VAE's pieces and a trained VAE
judged by its ELBO on digits it never saw."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .. import data
from .base import Hint, Mistake, as_tensor, compare_cases, exercise, fresh_generator, number, run
from .labs import held_out, points, quiet

# The lab's data: the lecture's milder digits (data.GENERATIVE_DIGITS), 4,000 to train on.
TRAIN = {"n": 4_000, "seed": 1}
HELD_OUT = 1_000
# Held-out negative ELBO in nats per image: the independent-pixel baseline (one Bernoulli per pixel,
# the training mean) scores about 246; a correct VAE trained for ~5 s about 126-130.
ELBO_BARS = [(160.0, 2.0), (140.0, 3.0)]


def train_digits() -> torch.Tensor:
    """The lab's training images: (4000, 1, 28, 28) in [0, 1]."""
    x, _ = data.make_digits28(TRAIN["n"], seed=TRAIN["seed"], difficulty=_difficulty())
    return x


def _difficulty() -> float:
    return data.GENERATIVE_DIGITS["difficulty"]


# ----------------------------------------------------------------------------- reparameterize
@exercise("reparameterize, on new shapes and spreads")
def reparameterize_fresh(fn) -> str:
    """Shapes the lecture's checker does not use (one row; one dimension; five) and spreads from 0.3
    to 3: an answer fitted to the visible checker's sigma or shape fails here."""
    g = fresh_generator()
    one = run(fn, ("mu", "logvar"), (torch.zeros(1, 5), torch.zeros(1, 5)), deterministic=False)[0]
    as_tensor(one, "your reparameterize on a batch of one row", (1, 5))
    n = 20_000
    for dims in (1, 5):
        sigma = torch.rand(1, dims, generator=g) * 2.7 + 0.3
        mu = torch.randn(1, dims, generator=g) * 2
        args = (mu.repeat(n, 1), torch.log(sigma**2).repeat(n, 1))
        z = as_tensor(
            run(fn, ("mu", "logvar"), args, deterministic=False)[0],
            "your reparameterize",
            (n, dims),
        )
        if not torch.allclose(z.std(0), sigma[0], rtol=0.05):
            raise Hint(
                f"with {dims} latent dimension(s) and sigma up to 3, the spread of z is not sigma"
            )
        if ((z.mean(0) - mu[0]).abs() > 0.05 * sigma[0]).any():
            raise Hint(f"with {dims} latent dimension(s), z is not centred on mu")
    return "right on new shapes and spreads"


# ----------------------------------------------------------------------------- KL
def _kl(c):
    return (-0.5 * (1 + c["logvar"] - c["mu"] ** 2 - c["logvar"].exp())).sum(1).mean()


@exercise("kl_gaussian, on new shapes and scales")
def kl_fresh(fn) -> str:
    g = fresh_generator()
    cases = [
        {"mu": torch.randn(b, d, generator=g) * s, "logvar": torch.randn(b, d, generator=g) * s}
        for b, d, s in ((1, 1, 1.0), (2, 9, 2.0), (64, 3, 0.1))
    ]
    table = (Mistake("on a batch of another shape or scale the value is wrong ({off})"),)
    compare_cases(fn, cases, _kl, number("your kl_gaussian"), table, args=("mu", "logvar"))
    return "right on new shapes and scales"


# ----------------------------------------------------------------------------- negative ELBO
def _neg_elbo_parts(c):
    b = c["x"].shape[0]
    rec = F.binary_cross_entropy_with_logits(c["logits"], c["x"], reduction="sum") / b
    return rec, _kl(c)


def _neg_elbo(c):
    rec, kl = _neg_elbo_parts(c)
    return rec + kl


NEG_ELBO_MISTAKES = (
    Mistake(
        "the decoder gives logits, not probabilities: use the cross-entropy *with logits*",
        lambda c: (
            F.binary_cross_entropy(c["logits"].clamp(1e-6, 1 - 1e-6), c["x"], reduction="sum")
            / c["x"].shape[0]
            + _kl(c)
        ),
    ),
    Mistake(
        "the reconstruction term must be summed over the pixels (then averaged over the batch), "
        "not averaged over pixels: otherwise the KL term outweighs it {pixels} to 1",
        lambda c: F.binary_cross_entropy_with_logits(c["logits"], c["x"]) + _kl(c),
    ),
    Mistake("the KL term is missing", lambda c: _neg_elbo_parts(c)[0]),
    Mistake("the reconstruction term is missing", lambda c: _kl(c)),
    Mistake("average over the batch: the loss was summed over it", lambda c: _neg_elbo(c) * c["b"]),
    Mistake(
        "the ELBO's sign: return the *negative* ELBO (a loss to minimise)", lambda c: -_neg_elbo(c)
    ),
    Mistake(
        "on a batch of {b} images the value is wrong ({off}): reconstruction (cross-entropy with "
        "logits, summed over pixels) + KL, both averaged over the batch"
    ),
)


def _neg_elbo_cases(shapes):
    g = fresh_generator()
    for b, shape, d in shapes:
        x = (torch.rand(b, *shape, generator=g) < 0.3).float() * torch.rand(b, *shape, generator=g)
        yield {
            "x": x,
            "logits": torch.randn(b, *shape, generator=g) * 2,
            "mu": torch.randn(b, d, generator=g),
            "logvar": torch.randn(b, d, generator=g) * 0.5,
            "b": b,
            "pixels": math.prod(shape),
        }


@exercise("neg_elbo", NEG_ELBO_MISTAKES)
def neg_elbo(fn) -> str:
    """fn(x, logits, mu, logvar) -> the negative ELBO averaged over the batch."""
    cases = _neg_elbo_cases(((8, (1, 28, 28), 2), (5, (1, 28, 28), 8)))
    compare_cases(
        fn,
        cases,
        _neg_elbo,
        number("your neg_elbo"),
        NEG_ELBO_MISTAKES,
        args=("x", "logits", "mu", "logvar"),
        grads=("logits", "mu", "logvar"),
    )
    return "value and gradients match on two batches"


@exercise("neg_elbo, on new shapes")
def neg_elbo_fresh(fn) -> str:
    cases = _neg_elbo_cases(((1, (1, 8, 8), 3), (33, (1, 28, 28), 1), (4, (3, 5, 7), 16)))
    table = (Mistake("on images of another size or batch the value is wrong ({off})"),)
    compare_cases(
        fn, cases, _neg_elbo, number("your neg_elbo"), table, args=("x", "logits", "mu", "logvar")
    )
    return "right on new image sizes and batches"


# ----------------------------------------------------------------------------- the trained VAE
def _codes(model, x):
    out = model.encode(x)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise Hint("model.encode(x) must return a pair (mu, logvar)")
    mu, logvar = out
    mu = as_tensor(mu, "model.encode(x)[0] (mu)", (x.shape[0], mu.shape[-1]))
    logvar = as_tensor(logvar, "model.encode(x)[1] (logvar)", mu.shape)
    return mu, logvar


@exercise("the VAE's interface")
def vae_interface(model) -> str:
    """encode(x (B,1,28,28)) -> (mu, logvar) (B, d) each; decode(z (B, d)) -> logits (B,1,28,28)."""
    with quiet():
        if not isinstance(model, torch.nn.Module):
            raise Hint(f"`model` must be an nn.Module, got {type(model).__name__}")
        model.eval()
        x = train_digits()[:7]
        mu, logvar = _codes(model, x)
        logits = as_tensor(model.decode(mu), "model.decode(z)", (7, 1, 28, 28))
        if ((logits >= 0) & (logits <= 1)).all():
            raise Hint("model.decode should return logits (any real number), not probabilities")
    return f"encode gives ({mu.shape[1]}-dimensional) mu and logvar, decode gives logits"


def heldout_neg_elbo(model, n: int = HELD_OUT) -> float:
    """The model's negative ELBO in nats per image on n digits drawn afresh (one z per image)."""
    with quiet():
        model.eval()
        x, _ = held_out(data.make_digits28, n, difficulty=_difficulty())
        mu, logvar = _codes(model, x)
        eps = torch.randn(mu.shape, generator=fresh_generator())
        logits = as_tensor(model.decode(mu + (0.5 * logvar).exp() * eps), "model.decode", x.shape)
        return float(_neg_elbo({"x": x, "logits": logits, "mu": mu, "logvar": logvar}))


def elbo_points(model) -> float:
    """Partial credit for the trained VAE (ELBO_BARS), printed with the measured value."""
    value = heldout_neg_elbo(model)
    won = points(value, ELBO_BARS)
    print(
        f"held-out negative ELBO {value:.1f} nats per image: {won:g} of {ELBO_BARS[-1][1]:g} points"
    )
    return won
