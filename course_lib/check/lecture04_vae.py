"""Checkers of notebook 04: the reparameterization trick and the Gaussian KL term."""

from __future__ import annotations

import torch

from .base import (
    Hint,
    Mistake,
    as_tensor,
    compare_cases,
    exercise,
    fresh_generator,
    number,
    reseeds,
    run,
)
from .lecture03_autoencoders import gaussian_tails


@exercise("reparameterize")
def reparameterize(fn) -> str:
    """fn(mu, logvar) -> z = mu + exp(logvar / 2) * eps, eps ~ N(0, I); differentiable in mu and logvar."""
    g = fresh_generator()
    n = 40_000
    mu_row = torch.randn(1, 2, generator=g)
    sigma_row = torch.rand(1, 2, generator=g) * 0.1 + 0.1
    mu0, logvar0 = mu_row.repeat(n, 1), torch.log(sigma_row**2).repeat(n, 1)
    z, leaves = run(
        fn, ("mu", "logvar"), (mu0, logvar0), deterministic=False, grads=("mu", "logvar")
    )
    mu, logvar = leaves["mu"], leaves["logvar"]
    if isinstance(z, torch.Tensor) and z.shape == mu.shape and not z.requires_grad:
        raise Hint(
            "no gradient reaches mu and logvar: build z from them with a separate standard-normal "
            "draw, instead of sampling from N(mu, sigma) directly (torch.normal has no gradient)"
        )
    if isinstance(z, torch.Tensor) and z.requires_grad:
        z.sum().backward()
        if mu.grad is None or logvar.grad is None or logvar.grad.abs().sum() == 0:
            raise Hint(
                "the gradient must reach both mu and logvar: sigma has to be computed from logvar "
                "inside your function, not taken as a fixed number"
            )
    z = as_tensor(z, "your reparameterize", mu.shape)
    mean, std = z.mean(0), z.std(0)
    sigma = sigma_row[0]
    # 40,000 samples: the std is within +-0.35% (1 sd) of sigma, the mean within +-0.005 sigma
    if torch.allclose(std, sigma**2, rtol=0.05):
        raise Hint(
            "you used the variance as the standard deviation: logvar is the log of sigma^2, so sigma "
            "is the exponential of half of it"
        )
    if torch.allclose(std, torch.log(sigma**2).abs(), rtol=0.05):
        raise Hint(
            "logvar is log(sigma^2), not sigma itself: turn it back into a standard deviation"
        )
    if not torch.allclose(std, sigma, rtol=0.02):
        raise Hint(
            f"the samples' spread is {(std / sigma).mean().item():.2f} times sigma: check how sigma "
            "comes from logvar, and that the noise you scale has standard deviation 1"
        )
    if ((mean - mu_row[0]).abs() > 0.025 * sigma).any():  # 5 sd of the mean of 40,000 samples
        raise Hint("the samples are not centred on mu: the noise you add must have mean 0")
    eps = (z - mu_row) / sigma_row
    if not 0.04 < gaussian_tails(eps) < 0.051:
        raise Hint("eps must be standard normal (torch.randn_like), not uniform or another shape")
    if torch.corrcoef(eps.T)[0, 1].abs() > 0.05:
        raise Hint(
            "the latent dimensions share one eps: draw eps with the full shape of mu (torch.randn_like(mu))"
        )
    small_mu, small_lv = torch.zeros(16, 3), torch.zeros(16, 3)
    if reseeds(fn, small_mu, small_lv):
        raise Hint(
            "your function reseeds the global random generator (manual_seed): every call then draws "
            "the same eps, and the rest of the notebook draws other numbers"
        )
    first = run(fn, ("mu", "logvar"), (small_mu, small_lv), deterministic=False)[0]
    again = run(fn, ("mu", "logvar"), (small_mu, small_lv), deterministic=False)[0]
    if torch.equal(torch.as_tensor(first), torch.as_tensor(again)):
        raise Hint("two calls gave the same z: draw a new eps on every call (do not keep one)")
    return (
        "right mean, spread and distribution, independent dimensions, a new eps every call, and "
        "gradients reach mu and logvar"
    )


def _kl_terms(c):
    return -0.5 * (1 + c["logvar"] - c["mu"] ** 2 - c["logvar"].exp())


def _kl(c):
    return _kl_terms(c).sum(1).mean()


KL_GAUSSIAN_MISTAKES = (
    Mistake(
        "the sign is flipped: a KL divergence is never negative",
        lambda c: -_kl(c),
    ),
    Mistake("missing the factor 1/2", lambda c: 2 * _kl(c)),
    Mistake(
        "sum over the latent dimensions (dim=1), then average over the batch",
        lambda c: _kl_terms(c).mean(),
    ),
    Mistake("average over the batch: sum over dim=1, then .mean()", lambda c: _kl_terms(c).sum()),
    Mistake(
        "exp(logvar) is already sigma^2; do not square it again",
        lambda c: (-0.5 * (1 + c["logvar"] - c["mu"] ** 2 - c["logvar"].exp() ** 2)).sum(1).mean(),
    ),
    Mistake(
        "the variance is exp(logvar), the exponential: you used the logarithm of it",
        lambda c: (
            (-0.5 * (1 + c["logvar"] - c["mu"] ** 2 - c["logvar"].abs().clamp_min(1e-6).log()))
            .sum(1)
            .mean()
        ),
    ),
    Mistake(
        "on a batch of {b} x {d} the value is wrong ({off}): go through the closed form term by "
        "term - the 1, logvar, mu^2 and the variance - then sum over dimensions, average over the batch"
    ),
)


def _kl_cases():
    g = fresh_generator()
    for b, d in ((8, 3), (13, 2), (5, 6)):
        yield {
            "mu": torch.randn(b, d, generator=g),
            "logvar": torch.randn(b, d, generator=g) * 0.5,
            "b": b,
            "d": d,
        }


@exercise("kl_gaussian", KL_GAUSSIAN_MISTAKES)
def kl_gaussian(fn) -> str:
    """fn(mu (B, d), logvar (B, d)) -> KL(N(mu, sigma^2) || N(0, I)) summed over d, averaged over B."""
    compare_cases(
        fn,
        _kl_cases(),
        _kl,
        number("your kl_gaussian"),
        KL_GAUSSIAN_MISTAKES,
        args=("mu", "logvar"),
        grads=("mu", "logvar"),
    )
    return "matches the closed form, value and gradients, on three batches of different shapes"
