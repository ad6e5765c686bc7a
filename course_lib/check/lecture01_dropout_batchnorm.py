"""Checkers of notebook 01: dropout and batch normalization written by hand."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import (
    Hint,
    Mistake,
    as_tensor,
    compare_cases,
    exercise,
    fresh_generator,
    refine,
    reseeds,
    run,
)


@exercise("dropout")
def dropout(fn) -> str:
    """fn(x, p) -> x with each unit zeroed with probability p and the rest scaled by 1/(1-p) (training mode)."""
    g = fresh_generator()
    x = torch.rand(1000, 1000, generator=g) + 0.5  # not all ones: the answer must use x
    tol = 0.003  # the dropped fraction of 10^6 units is within +-0.0005 of p (1 sd)
    for p in (0.5, 0.2):
        out, _ = run(fn, ("x", "p"), (x, p), deterministic=False)
        out = as_tensor(out, f"your dropout with p={p}", x.shape)
        zero = out == 0
        dropped = zero.float().mean().item()
        ratio = out[~zero] / x[~zero]
        if dropped == 0:
            raise Hint(
                f"nothing was dropped with p={p}: zero each unit where a random number is below p"
            )
        rows, cols = zero.float().mean(1), zero.float().mean(0)
        if rows.std() > 0.05 or cols.std() > 0.05:  # independent units: about 0.016 each
            raise Hint(
                "some rows or columns are dropped together: draw one random number per unit "
                "(torch.rand_like(x)), not per row or column"
            )
        if abs(dropped - (1 - p)) < tol and abs(dropped - p) > 2 * tol:
            raise Hint(
                f"you dropped {dropped:.0%} of units with p={p}: p is the probability to DROP, "
                "so keep a unit with probability 1-p"
            )
        if abs(dropped - p) > tol:
            raise Hint(
                f"with p={p} a fraction p of the units should be zero, you zeroed {dropped:.2%}"
            )
        if ratio.numel() and torch.allclose(ratio, torch.ones_like(ratio)):
            raise Hint(
                f"the kept units are unchanged: scale them by 1/(1-p) = {1 / (1 - p):.2f} so the "
                "expected activation stays the same"
            )
        if ratio.numel() and torch.allclose(ratio, torch.full_like(ratio, 1 - p)):
            raise Hint(
                f"you multiplied the kept units by (1-p) = {1 - p:.2f}; divide by it instead"
            )
        if not torch.allclose(ratio, torch.full_like(ratio, 1 / (1 - p)), rtol=1e-4):
            raise Hint(
                "each kept unit should be its input times 1/(1-p): x * mask / (1 - p); yours is "
                "not proportional to x"
            )
    small = torch.rand(64, 32, generator=g) + 0.5
    if reseeds(fn, small, 0.5):
        raise Hint(
            "your function reseeds the global random generator (manual_seed): every call then draws "
            "the same mask, and the rest of the notebook draws other numbers; draw without reseeding"
        )
    first = run(fn, ("x", "p"), (small, 0.5), deterministic=False)[0]
    again = run(fn, ("x", "p"), (small, 0.5), deterministic=False)[0]
    if torch.equal(first, again):
        raise Hint("two calls gave the same mask: draw a new random mask on every forward pass")
    return "right fraction dropped, each unit on its own, survivors scaled by 1/(1-p), a new mask every pass"


def _batch_norm_variant(c, dim=0, unbiased=False, affine=True, eps_inside=True, eps=None):
    x, eps = c["x"], c["eps"] if eps is None else eps
    mean, var = x.mean(dim, keepdim=True), x.var(dim, unbiased=unbiased, keepdim=True)
    out = (x - mean) / (torch.sqrt(var + eps) if eps_inside else torch.sqrt(var) + eps)
    return c["gamma"] * out + c["beta"] if affine else out


BATCH_NORM_MISTAKES = (
    Mistake(
        "you normalised each example over its features (dim=1); batch norm normalises each "
        "feature over the batch (dim=0)",
        lambda c: _batch_norm_variant(c, dim=1),
    ),
    Mistake(
        "use the biased variance (divide by B, `unbiased=False`), as batch norm does",
        lambda c: _batch_norm_variant(c, unbiased=True),
    ),
    Mistake(
        "the normalisation is right; now scale by gamma and shift by beta",
        lambda c: _batch_norm_variant(c, affine=False),
    ),
    Mistake(
        "your output is the input unchanged: normalise each feature with the batch's own mean and "
        "variance, then scale by gamma and shift by beta",
        lambda c: c["x"],
    ),
    Mistake(
        "with eps = {eps} your output is that of another eps: use the eps you are given",
        lambda c: _batch_norm_variant(c, eps=1e-5),
    ),
    Mistake(
        "eps belongs inside the square root, sqrt(var + eps), not added to the standard deviation",
        lambda c: _batch_norm_variant(c, eps_inside=False),
    ),
    Mistake(
        "with eps = {eps} the output differs from F.batch_norm: normalise each feature with the "
        "batch's own mean and (biased) variance, then scale and shift"
    ),
)


def _batch_norm_cases():
    g = fresh_generator()
    for b, c, eps in (
        (16, 5, 1e-5),
        (9, 3, 0.5),
    ):  # a large eps shows whether it is used, and where
        scale, shift = torch.rand(c, generator=g) * 5 + 0.1, torch.randn(c, generator=g) * 4
        x = torch.randn(b, c, generator=g) * scale + shift
        x[:, -1] = 2.0  # a constant channel: its variance is 0, only eps keeps the division finite
        gamma, beta = torch.rand(c, generator=g) + 0.5, torch.randn(c, generator=g)
        yield {"x": x, "gamma": gamma, "beta": beta, "eps": eps}


@exercise("batch_norm", BATCH_NORM_MISTAKES)
def batch_norm(fn) -> str:
    """fn(x (B, C), gamma (C,), beta (C,), eps) -> training-mode batch normalization."""

    def read(got, expected, case):
        if isinstance(got, torch.Tensor) and got.shape == expected.shape:
            if not torch.isfinite(got.detach().double()).all():
                raise Hint(
                    "a channel with zero variance gave NaN/inf: add eps inside the square root"
                )
        return as_tensor(got, "your batch_norm", expected.shape)

    reference = lambda c: F.batch_norm(  # noqa: E731
        c["x"], None, None, c["gamma"], c["beta"], training=True, eps=c["eps"]
    )
    args = ("x", "gamma", "beta", "eps")
    try:
        compare_cases(
            fn, _batch_norm_cases(), reference, read, BATCH_NORM_MISTAKES, args=args, grads=args[:3]
        )
    except Hint as hint:
        if not hint.catch_all:
            raise
        large = list(_batch_norm_cases())[1]  # eps 0.5: an eps that is used changes the output
        cases = [large, {**large, "x": large["x"] * 1.5 + 0.3}]
        message = "your output does not change when eps does: use the eps you are given"
        raise refine(hint, fn, cases, args, "eps", message) from None
    return "matches F.batch_norm in training mode, values and gradients, on two batches and two eps"
