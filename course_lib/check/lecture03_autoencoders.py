"""Checkers of notebook 03: the sparsity penalty and the denoising autoencoder's noise."""

from __future__ import annotations

import torch

from .base import Hint, Mistake, as_tensor, call, compare_cases, exercise, fresh_generator, number


def _kl_bernoulli(rho, q):
    return rho * torch.log(rho / q) + (1 - rho) * torch.log((1 - rho) / (1 - q))


def _kl_sparsity(c) -> float:
    return _kl_bernoulli(c["rho"], c["h"].mean(0)).sum().item()


KL_SPARSITY_MISTAKES = (
    Mistake(
        "average each unit's activation over the batch first (rho_hat = h.mean(0)), then take KL",
        lambda c: _kl_bernoulli(c["rho"], c["h"]).sum(1).mean().item(),
    ),
    Mistake(
        "you computed KL(rho_hat || rho); the sparsity penalty is KL(rho || rho_hat)",
        lambda c: _kl_bernoulli(c["h"].mean(0), c["rho"]).sum().item(),
    ),
    Mistake("sum the KL over the units, do not average it", lambda c: _kl_sparsity(c) / c["units"]),
    Mistake(
        "KL between two Bernoulli distributions has two terms: add (1-rho) log((1-rho)/(1-rho_hat))",
        lambda c: (c["rho"] * torch.log(c["rho"] / c["h"].mean(0))).sum().item(),
    ),
    Mistake(
        "for rho={rho} on a batch of {b} x {units} activations the penalty is wrong "
        "({off}): sum over units of KL(rho || rho_hat)"
    ),
)


def _kl_sparsity_cases():
    g = fresh_generator()
    for b, units, rho in ((32, 6, 0.05), (20, 9, 0.2), (50, 4, 0.1)):
        h = torch.rand(b, units, generator=g) * (torch.rand(units, generator=g) * 0.8 + 0.05)
        yield {"h": h.clamp(1e-3, 1 - 1e-3), "rho": rho, "b": b, "units": units}


@exercise("kl_sparsity", KL_SPARSITY_MISTAKES)
def kl_sparsity(fn) -> str:
    """fn(h (B, units) in (0, 1), rho) -> sum over units of KL(rho || mean activation of the unit)."""
    read = number("your kl_sparsity")
    compare_cases(
        fn, _kl_sparsity_cases(), _kl_sparsity, read, KL_SPARSITY_MISTAKES, args=("h", "rho")
    )
    return "the KL penalty matches for three batches and target rates"


def gaussian_tails(values: torch.Tensor) -> float:
    """Fraction of standardised values beyond 2: 4.55% for a Gaussian, 0% for uniform noise."""
    z = (values - values.mean()) / values.std()
    return (z.abs() > 2).float().mean().item()


@exercise("add_noise")
def add_noise(fn) -> str:
    """fn(x in [0, 1], level) -> x + level * standard normal noise, clipped to [0, 1], new noise per call."""
    g = fresh_generator()
    x = torch.full((64, 1, 28, 28), 0.5)
    x[:, :, :, :14] = 0.0
    out = as_tensor(call(fn, x.clone(), 0.3), "your add_noise", x.shape)
    if out.min() < 0 or out.max() > 1:
        raise Hint(
            f"values go from {out.min().item():.2f} to {out.max().item():.2f}; clip (clamp) the noisy "
            "image to [0, 1], the range of real images"
        )
    # The statistics: a mid-grey random image and a small level, where clipping never happens.
    level = 0.08
    x = 0.35 + 0.3 * torch.rand(64, 1, 28, 28, generator=g)
    noise = as_tensor(call(fn, x.clone(), level), "your add_noise", x.shape) - x
    std = noise.std().item()
    if std < 1e-6:
        raise Hint("nothing changed: add level * torch.randn_like(x)")
    corr = torch.corrcoef(noise.flatten(1)[:2])[0, 1].abs().item()
    if corr > 0.2:  # independent images: about 0.04
        raise Hint(
            "the images of the batch share one noise pattern: draw noise of the batch's full shape"
        )
    if (noise.std(0) < 1e-6).any():
        raise Hint("part of the image gets no noise: add noise to every pixel")
    if abs(noise.mean().item()) > 0.004:  # 50,000 values: the mean is within +-0.0004 (1 sd)
        if abs(noise.mean().item() - level / 2) < 0.01:
            raise Hint(
                "use Gaussian noise with mean 0, torch.randn_like, not uniform noise torch.rand_like"
            )
        raise Hint("the noise should have mean 0; yours is shifted")
    if abs(std - level) > 0.02 * level:  # the std of 50,000 values is within +-0.3% (1 sd)
        if abs(std - level**2) < 0.1 * level**2:
            raise Hint("the noise std should be `level`; you used level**2 (the variance)")
        raise Hint(
            f"the noise should have standard deviation `level`; yours is {std / level:.2f} times that"
        )
    if not 0.035 < gaussian_tails(noise) < 0.058:  # 4.55% +- 0.09% for Gaussian noise
        raise Hint(
            "the noise does not look Gaussian (too few or too many large values): use torch.randn_like"
        )
    x0 = torch.full((8, 1, 28, 28), 0.5)
    first, again = call(fn, x0.clone(), 0.3), call(fn, x0.clone(), 0.3)
    if torch.equal(first, again):
        raise Hint(
            "two calls gave the same noise: draw new noise every time (no fixed seed inside)"
        )
    if not torch.equal(as_tensor(call(fn, x.clone(), 0.0), "your add_noise", x.shape), x):
        raise Hint("level 0 should return the image unchanged")
    return "Gaussian noise of std `level` on every pixel, independent per image, clipped to [0, 1], fresh on every call"
