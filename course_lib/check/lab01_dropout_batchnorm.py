"""Tests of lab 01 (labs/01_dropout_batchnorm_lab.ipynb): dropout and batch normalization written
by hand, and a regularised network judged on digits it never saw."""

from __future__ import annotations

import torch

from .. import data
from .base import Hint, as_tensor, exercise, fresh_generator, run
from .labs import digits_accuracy, graded_value, same_on

TRAIN = {"n": 5_000, "seed": 1}
# Held-out accuracy on 2,000 fresh digits. Raw-pixel logistic regression (the baseline) scores about
# 0.90, a plain MLP trained for 8 epochs about 0.953; with batch norm and dropout (512 units, 15
# epochs) 0.957-0.963 over six fresh draws.
ACCURACY_BARS = [(0.93, 2.0), (0.945, 3.0)]


def train_digits():
    return data.make_digits28(TRAIN["n"], seed=TRAIN["seed"])


@exercise("dropout, on new shapes and rates")
def dropout_fresh(fn) -> str:
    """p = 0 changes nothing; other shapes (4-D, one row) and rates keep the expectation."""
    g = fresh_generator()
    x = torch.rand(3, 2, 5, 7, generator=g) + 0.5
    out = as_tensor(run(fn, ("x", "p"), (x, 0.0), deterministic=False)[0], "dropout(x, 0)", x.shape)
    if not torch.allclose(out, x):
        raise Hint("with p = 0 dropout must return x unchanged")
    for p in (0.1, 0.75):
        x = torch.ones(1, 40_000)
        out = as_tensor(
            run(fn, ("x", "p"), (x, p), deterministic=False)[0], "your dropout", x.shape
        )
        kept = (out != 0).float().mean().item()
        if abs(kept - (1 - p)) > 0.015:
            raise Hint(f"with p = {p} the share of units kept is not 1 - p")
        if not torch.allclose(
            out[out != 0], torch.full_like(out[out != 0], 1 / (1 - p)), rtol=1e-4
        ):
            raise Hint(f"with p = {p} the kept units are not scaled by 1 / (1 - p)")
    return "right for p = 0, other rates and shapes"


def _bn(c):
    x = c["x"]
    mean, var = x.mean(0), x.var(0, unbiased=False)
    return (x - mean) / torch.sqrt(var + c["eps"]) * c["gamma"] + c["beta"]


@exercise("batch_norm, on new shapes")
def batch_norm_fresh(fn) -> str:
    g = fresh_generator()
    cases = []
    for b, ch, scale in ((2, 1, 1.0), (50, 9, 30.0), (7, 3, 0.01)):
        cases.append(
            {
                "x": torch.randn(b, ch, generator=g) * scale + 5,
                "gamma": torch.rand(ch, generator=g) + 0.5,
                "beta": torch.randn(ch, generator=g),
                "eps": 1e-5,
                "shape": f"a batch of {b} x {ch}",
            }
        )
    same_on(
        fn,
        cases,
        _bn,
        ("x", "gamma", "beta", "eps"),
        "your batch_norm",
        read=lambda got, expected, case: as_tensor(got, "your batch_norm", expected.shape),
    )
    return "right on new batch sizes, channels and scales"


def accuracy_points(model) -> float:
    return graded_value("held-out accuracy", digits_accuracy(model), ACCURACY_BARS, False)


@exercise("the regularised network")
def network(model) -> str:
    """An nn.Module with batch norm and dropout: (B, 1, 28, 28) -> (B, 10); the same output twice in
    eval mode, different ones in train mode."""
    if not isinstance(model, torch.nn.Module):
        raise Hint(f"`model` must be an nn.Module, got {type(model).__name__}")
    kinds = {type(m).__name__ for m in model.modules()}
    if not kinds & {"BatchNorm1d", "BatchNorm2d"}:
        raise Hint("the network has no batch normalization layer (nn.BatchNorm1d)")
    if not kinds & {"Dropout", "Dropout1d", "Dropout2d"}:
        raise Hint("the network has no dropout layer (nn.Dropout)")
    x, _ = train_digits()
    x = x[:16]
    was = model.training
    try:
        with torch.no_grad():
            model.eval()
            a, b = model(x), model(x)
            as_tensor(a, "model(x)", (16, 10))
            if not torch.equal(a, b):
                raise Hint("in eval mode the network must give the same output twice (no dropout)")
            model.train()
            if torch.equal(model(x), model(x)):
                raise Hint("in train mode dropout should make two calls differ")
    finally:
        model.train(was)
    return "batch norm and dropout in place; eval mode is deterministic"
