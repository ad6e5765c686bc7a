"""Tests of lab 07 (labs/07_diffusion_lab.ipynb): the forward process, x0 from the noise, one
reverse step, and a DDPM sampler built on the course's trained denoiser, judged by an independent
classifier."""

from __future__ import annotations

import torch

from .. import metrics
from .base import Hint, Mistake, as_tensor, compare_cases, exercise, fresh_generator, tensor
from .labs import graded_value, quiet, same_on

T = 200
SAMPLES = 64
# The share of SAMPLES images the independent judge cannot read (metrics.unreadable): the library's
# DDPM sampler with the shipped denoiser gives about 0.12, uniform noise 0.88, real digits ~0.02.
UNREADABLE_BARS = [(0.35, 2.0), (0.25, 3.0)]


def _fresh_images(g, b, h, w):
    return torch.rand(b, 1, h, w, generator=g) * 2 - 1


@exercise("q_sample, on new shapes and levels")
def q_sample_fresh(fn) -> str:
    g = fresh_generator()
    cases = []
    for (b, h, w), ab in (((1, 28, 28), 0.999), ((6, 3, 9), 0.001), ((2, 5, 5), 0.5)):
        cases.append(
            {
                "x0": _fresh_images(g, b, h, w),
                "noise": torch.randn(b, 1, h, w, generator=g),
                "alpha_bar": torch.tensor(ab),
                "shape": f"{b} images of {h}x{w}, alpha_bar {ab}",
            }
        )
    ref = lambda c: c["alpha_bar"].sqrt() * c["x0"] + (1 - c["alpha_bar"]).sqrt() * c["noise"]  # noqa: E731
    same_on(
        fn, cases, ref, ("x0", "noise", "alpha_bar"), "your q_sample", read=tensor("your q_sample")
    )
    return "right on new shapes and noise levels"


@exercise("predict_x0, on new shapes and levels")
def predict_x0_fresh(fn) -> str:
    g = fresh_generator()
    cases = []
    for (b, h, w), ab in (((1, 28, 28), 0.99), ((6, 3, 9), 0.02), ((2, 5, 5), 0.5)):
        x0, eps = _fresh_images(g, b, h, w), torch.randn(b, 1, h, w, generator=g)
        ab = torch.tensor(ab)
        cases.append(
            {
                "x_t": ab.sqrt() * x0 + (1 - ab).sqrt() * eps,
                "eps": eps,
                "alpha_bar": ab,
                "x0": x0,
                "shape": f"{b} images of {h}x{w}, alpha_bar {ab.item():g}",
            }
        )
    same_on(
        fn,
        cases,
        lambda c: c["x0"],
        ("x_t", "eps", "alpha_bar"),
        "your predict_x0",
        read=tensor("your predict_x0"),
    )
    return "right on new shapes and noise levels"


def _reverse(c, clip=True):
    s, t, x_t, eps = c["schedule"], c["t"], c["x_t"], c["eps"]
    ab, ab_prev = s.alpha_bars[t], s.alpha_bars_prev[t]
    x0 = (x_t - (1 - ab).sqrt() * eps) / ab.sqrt()
    x0 = x0.clamp(-1, 1) if clip else x0
    mean = (
        ab_prev.sqrt() * s.betas[t] / (1 - ab) * x0
        + s.alphas[t].sqrt() * (1 - ab_prev) / (1 - ab) * x_t
    )
    return mean + (t > 0) * s.posterior_variance[t].sqrt() * c["noise"]


REVERSE_MISTAKES = (
    Mistake(
        "at t = 0 the last step adds no noise: return the mean",
        lambda c: (
            _reverse(c) + (c["t"] == 0) * c["schedule"].posterior_variance[0].sqrt() * c["noise"]
        ),
    ),
    Mistake(
        "clip the predicted x0 to [-1, 1] (the data's range) before computing the mean",
        lambda c: _reverse(c, clip=False),
    ),
    Mistake(
        "the noise is scaled by the standard deviation sqrt(posterior_variance[t]), not the variance",
        lambda c: (
            _reverse(c)
            - (c["t"] > 0)
            * c["noise"]
            * (
                c["schedule"].posterior_variance[c["t"]].sqrt()
                - c["schedule"].posterior_variance[c["t"]]
            )
        ),
    ),
    Mistake(
        "at t = {t} x_(t-1) is wrong: predict x0 from eps, clip it, take the mean of q(x_(t-1) | x_t, x0) "
        "and add sqrt(posterior_variance[t]) * noise (except at t = 0)"
    ),
)


def _reverse_cases(ts, shape):
    from ..models.diffusion import NoiseSchedule

    g = fresh_generator()
    s = NoiseSchedule(T)
    for t in ts:
        yield {
            "eps": torch.randn(shape, generator=g),
            "t": t,
            "x_t": torch.randn(shape, generator=g) * 1.5,
            "noise": torch.randn(shape, generator=g),
            "schedule": s,
        }


@exercise("reverse_step", REVERSE_MISTAKES)
def reverse_step(fn) -> str:
    """fn(eps, t, x_t, noise, schedule) -> x_(t-1) of DDPM (x0 clipped to [-1, 1])."""
    compare_cases(
        fn,
        _reverse_cases((150, 20, 0), (4, 1, 6, 6)),
        _reverse,
        tensor("your reverse_step"),
        REVERSE_MISTAKES,
        args=("eps", "t", "x_t", "noise", "schedule"),
        same=lambda a, b: torch.allclose(a, b, atol=1e-4),
    )
    return "right at t = 150, 20 and 0"


@exercise("reverse_step, at new steps")
def reverse_step_fresh(fn) -> str:
    import secrets

    ts = (T - 1, 1 + secrets.randbelow(T - 2), 0)
    compare_cases(
        fn,
        _reverse_cases(ts, (3, 1, 28, 28)),
        _reverse,
        tensor("your reverse_step"),
        (Mistake("at t = {t} x_(t-1) is wrong"),),
        args=("eps", "t", "x_t", "noise", "schedule"),
        same=lambda a, b: torch.allclose(a, b, atol=1e-4),
    )
    return "right at the first step, a random one and the last"


def _images(out, n):
    out = as_tensor(out, "ddpm_sample(...)", (n, 1, 28, 28))
    if out.min() < 0 or out.max() > 1:
        raise Hint(
            "ddpm_sample must return images in [0, 1] (map x from [-1, 1] back: (x + 1) / 2)"
        )
    return out


@exercise("ddpm_sample's interface")
def sampler_interface(fn, denoiser, schedule) -> str:
    with quiet():
        _images(fn(denoiser, schedule, 2), 2)
    return "two images of 1x28x28 in [0, 1]"


def unreadable_share(fn, denoiser, schedule) -> float:
    with quiet():
        torch.manual_seed(fresh_generator().initial_seed() % 2**31)
        return (
            metrics.unreadable(_images(fn(denoiser, schedule, SAMPLES), SAMPLES))
            .float()
            .mean()
            .item()
        )


def sampler_points(fn, denoiser, schedule) -> float:
    share = unreadable_share(fn, denoiser, schedule)
    return graded_value(f"unreadable share of {SAMPLES} samples", share, UNREADABLE_BARS, True)
