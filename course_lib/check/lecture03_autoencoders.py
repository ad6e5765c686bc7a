"""Checkers of notebook 03: the sparsity penalty and the denoising autoencoder's noise."""

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


def _kl_bernoulli(rho, q):
    return rho * torch.log(rho / q) + (1 - rho) * torch.log((1 - rho) / (1 - q))


def _kl_sparsity(c):
    return _kl_bernoulli(c["rho"], c["h"].mean(0)).sum()


KL_SPARSITY_MISTAKES = (
    Mistake(
        "average each unit's activation over the batch first (rho_hat = h.mean(0)), then take KL",
        lambda c: _kl_bernoulli(c["rho"], c["h"]).sum(1).mean(),
    ),
    Mistake(
        "you computed KL(rho_hat || rho); the sparsity penalty is KL(rho || rho_hat)",
        lambda c: _kl_bernoulli(c["h"].mean(0), c["rho"]).sum(),
    ),
    Mistake("sum the KL over the units, do not average it", lambda c: _kl_sparsity(c) / c["units"]),
    Mistake(
        "KL between two Bernoulli distributions has two terms: add the one for the units being off "
        "(the (1 - rho) part)",
        lambda c: (c["rho"] * torch.log(c["rho"] / c["h"].mean(0))).sum(),
    ),
    Mistake(
        "for rho={rho} on a batch of {b} x {units} activations the penalty is wrong ({off}): the "
        "KL divergence between the target rate and each unit's mean activation, summed over units"
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
        fn,
        _kl_sparsity_cases(),
        _kl_sparsity,
        read,
        KL_SPARSITY_MISTAKES,
        args=("h", "rho"),
        grads=("h",),
    )
    return "the KL penalty and its gradient match for three batches and target rates"


def gaussian_tails(values: torch.Tensor) -> float:
    """Fraction of standardised values beyond 2: 4.55% for a Gaussian, 0% for uniform noise."""
    z = (values - values.mean()) / values.std()
    return (z.abs() > 2).float().mean().item()


def _noisy(fn, x, level):
    out, _ = run(fn, ("x", "level"), (x, level), deterministic=False)
    return as_tensor(out, "your add_noise", x.shape)


@exercise("add_noise")
def add_noise(fn) -> str:
    """fn(x in [0, 1], level) -> x + level * standard normal noise, clipped to [0, 1], new noise per call."""
    g = fresh_generator()
    x = torch.full((64, 1, 28, 28), 0.5)
    x[:, :, :, :14] = 0.0
    out = _noisy(fn, x, 0.3)
    if out.min() < 0 or out.max() > 1:
        raise Hint(
            f"values go from {out.min().item():.2f} to {out.max().item():.2f}; clip (clamp) the noisy "
            "image to [0, 1], the range of real images"
        )
    if torch.equal(out, x):
        raise Hint("nothing changed: add Gaussian noise scaled by `level` to every pixel")
    black = out[x == 0]
    if black.gt(0).float().mean() < 0.3:  # clipped Gaussian noise: about half of them rise above 0
        raise Hint(
            "the black pixels (0) get no noise: every pixel gets noise, the background too (a "
            "denoising autoencoder must learn to clean it)"
        )
    # The statistics: a mid-grey random image and a small level, where clipping never happens.
    level = 0.08
    x = 0.35 + 0.3 * torch.rand(64, 1, 28, 28, generator=g)
    noise = _noisy(fn, x, level) - x
    std = noise.std().item()
    if std < 1e-6:
        raise Hint(
            f"at level {level} nothing changed: the noise must scale with `level`, small levels too"
        )
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
    if reseeds(fn, x0, 0.3):
        raise Hint(
            "your function reseeds the global random generator (manual_seed): every call then adds "
            "the same noise, and the rest of the notebook draws other numbers"
        )
    if torch.equal(_noisy(fn, x0, 0.3), _noisy(fn, x0, 0.3)):
        raise Hint(
            "two calls gave the same noise: draw new noise every time (no fixed seed inside)"
        )
    if not torch.equal(_noisy(fn, x, 0.0), x):
        raise Hint("level 0 should return the image unchanged")
    return "Gaussian noise of std `level` on every pixel, independent per image, clipped to [0, 1], fresh on every call"
