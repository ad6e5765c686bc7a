"""Checkers of notebook 07: the forward process in closed form, and x0 from predicted noise."""

from __future__ import annotations

import torch

from .base import Mistake, compare_cases, exercise, fresh_generator, tensor


def _noise_levels(g):
    return (0.9, 0.3, 0.05 + 0.9 * torch.rand(1, generator=g).item())


Q_SAMPLE_MISTAKES = (
    Mistake(
        "take square roots: the weights are sqrt(alpha_bar) and sqrt(1 - alpha_bar), so the "
        "variance stays 1",
        lambda c: c["ab"] * c["x0"] + (1 - c["ab"]) * c["noise"],
    ),
    Mistake(
        "the weights are swapped: sqrt(alpha_bar) multiplies the image, sqrt(1 - alpha_bar) the noise",
        lambda c: (1 - c["ab"]) ** 0.5 * c["x0"] + c["ab"] ** 0.5 * c["noise"],
    ),
    Mistake(
        "the image must also shrink by sqrt(alpha_bar), or x_t never becomes pure noise",
        lambda c: c["x0"] + (1 - c["ab"]) ** 0.5 * c["noise"],
    ),
    Mistake(
        "for alpha_bar = {ab:.3f} your x_t is wrong: the image and the noise are each weighted by a "
        "square root of alpha_bar or of 1 - alpha_bar, chosen so that the variance stays 1"
    ),
)


def _q_sample_cases():
    g = fresh_generator()
    x0, noise = torch.rand(4, 1, 6, 7, generator=g) * 2 - 1, torch.randn(4, 1, 6, 7, generator=g)
    for ab in _noise_levels(g):
        yield {"x0": x0, "noise": noise, "ab": ab, "alpha_bar": torch.tensor(ab)}


@exercise("q_sample", Q_SAMPLE_MISTAKES)
def q_sample(fn) -> str:
    """fn(x0, noise, alpha_bar) -> x_t = sqrt(alpha_bar) x0 + sqrt(1 - alpha_bar) noise."""
    reference = lambda c: c["ab"] ** 0.5 * c["x0"] + (1 - c["ab"]) ** 0.5 * c["noise"]  # noqa: E731
    compare_cases(
        fn,
        _q_sample_cases(),
        reference,
        tensor("your q_sample"),
        Q_SAMPLE_MISTAKES,
        args=("x0", "noise", "alpha_bar"),
        same=lambda got, want: torch.allclose(got, want, atol=1e-5),
    )
    return "the closed form of the forward process, for two noise levels"


def _x_t(c):
    return c["ab"] ** 0.5 * c["x0"] + (1 - c["ab"]) ** 0.5 * c["eps"]


PREDICT_X0_MISTAKES = (
    Mistake(
        "after removing the noise, divide by sqrt(alpha_bar) to undo the shrinking of x0",
        lambda c: _x_t(c) - (1 - c["ab"]) ** 0.5 * c["eps"],
    ),
    Mistake(
        "the noise is weighted by sqrt(1 - alpha_bar), not (1 - alpha_bar)",
        lambda c: (_x_t(c) - (1 - c["ab"]) * c["eps"]) / c["ab"] ** 0.5,
    ),
    Mistake("solve x_t = sqrt(ab) x0 + sqrt(1 - ab) eps for x0"),
)


def _predict_x0_cases():
    g = fresh_generator()
    x0, eps = torch.rand(3, 1, 6, 5, generator=g) * 2 - 1, torch.randn(3, 1, 6, 5, generator=g)
    for ab in (0.8, 0.1, 0.05 + 0.9 * torch.rand(1, generator=g).item()):
        case = {"x0": x0, "eps": eps, "ab": ab, "alpha_bar": torch.tensor(ab)}
        yield {**case, "x_t": _x_t(case)}


@exercise("predict_x0", PREDICT_X0_MISTAKES)
def predict_x0(fn) -> str:
    """fn(x_t, eps, alpha_bar) -> x0 = (x_t - sqrt(1 - alpha_bar) eps) / sqrt(alpha_bar)."""
    reference = lambda c: c["x0"]  # noqa: E731
    read = tensor("your predict_x0")
    compare_cases(
        fn,
        _predict_x0_cases(),
        reference,
        read,
        PREDICT_X0_MISTAKES,
        args=("x_t", "eps", "alpha_bar"),
    )
    return "recovers x0 exactly when the noise is known"
