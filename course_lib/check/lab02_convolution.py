"""Tests of lab 02 (labs/02_convolution_pooling_lenet_lab.ipynb): convolution, pooling and output
sizes by hand, and a LeNet judged on digits it never saw."""

from __future__ import annotations

import secrets

import torch
import torch.nn.functional as F

from .. import data
from .base import Hint, as_tensor, exercise, fresh_generator
from .labs import digits_accuracy, graded_value, same_on

TRAIN = {"n": 5_000, "seed": 1}
# Held-out accuracy on 2,000 fresh digits: raw-pixel logistic regression about 0.90, an MLP about
# 0.95-0.97; a LeNet trained for 5 epochs about 0.975.
ACCURACY_BARS = [(0.96, 2.0), (0.97, 3.0)]


def train_digits():
    return data.make_digits28(TRAIN["n"], seed=TRAIN["seed"])


def _tensor(what):
    return lambda got, expected, case: as_tensor(got, what, expected.shape)


@exercise("conv2d, on new sizes")
def conv2d_fresh(fn) -> str:
    g = fresh_generator()
    cases = []
    for shape, kshape in (((1, 1), (1, 1)), ((9, 4), (1, 4)), ((12, 11), (5, 5))):
        cases.append(
            {
                "x": torch.randn(shape, generator=g),
                "k": torch.randn(kshape, generator=g),
                "shape": f"a {shape[0]}x{shape[1]} image, a {kshape[0]}x{kshape[1]} kernel",
            }
        )
    same_on(
        fn,
        cases,
        lambda c: F.conv2d(c["x"][None, None], c["k"][None, None])[0, 0],
        ("x", "k"),
        "your conv2d",
        read=_tensor("your conv2d"),
    )
    return "right on new image and kernel sizes"


@exercise("max_pool, on new sizes")
def max_pool_fresh(fn) -> str:
    g = fresh_generator()
    cases = []
    for (h, w), size in (((4, 4), 4), ((8, 12), 4), ((5, 10), 5), ((3, 3), 1)):
        cases.append(
            {
                "x": torch.randn(h, w, generator=g) - 3,
                "size": size,
                "shape": f"{h}x{w}, size {size}",
            }
        )
    same_on(
        fn,
        cases,
        lambda c: F.max_pool2d(c["x"][None, None], c["size"])[0, 0],
        ("x", "size"),
        "your max_pool",
        read=_tensor("your max_pool"),
    )
    return "right on new sizes, also with all values negative"


def _out_size(c):
    return (c["n"] + 2 * c["padding"] - c["k"]) // c["stride"] + 1


@exercise("output_size, on new layers")
def output_size_fresh(fn) -> str:
    cases = []
    for _ in range(6):
        k = 1 + secrets.randbelow(7)
        n = k + secrets.randbelow(60)
        cases.append(
            {
                "n": n,
                "k": k,
                "padding": secrets.randbelow(4),
                "stride": 1 + secrets.randbelow(4),
                "shape": "another layer",
            }
        )
    same_on(fn, cases, _out_size, ("n", "k", "padding", "stride"), "your output_size")
    return "right on six new layers"


@exercise("output_size")
def output_size(fn) -> str:
    """The lecture's LeNet: 28 -> conv 5x5 pad 2 -> 28 -> pool 2 -> 14 -> conv 5x5 -> 10 -> pool 2 -> 5."""
    for n, k, padding, stride, want in (
        (28, 5, 2, 1, 28),
        (28, 2, 0, 2, 14),
        (14, 5, 0, 1, 10),
        (10, 2, 0, 2, 5),
    ):
        got = fn(n, k, padding, stride)
        if got != want:
            raise Hint(
                f"a {n}-pixel input, kernel {k}, padding {padding}, stride {stride}: you gave {got}; "
                "count how many places the kernel fits in the padded input, stepping by the stride"
            )
    return "right for every layer of LeNet"


@exercise("the CNN")
def network(model) -> str:
    if not isinstance(model, torch.nn.Module):
        raise Hint(f"`model` must be an nn.Module, got {type(model).__name__}")
    kinds = {type(m).__name__ for m in model.modules()}
    if "Conv2d" not in kinds:
        raise Hint("the network has no convolution layer (nn.Conv2d)")
    if not kinds & {"MaxPool2d", "AvgPool2d"}:
        raise Hint("the network has no pooling layer (nn.MaxPool2d)")
    x, _ = train_digits()
    with torch.no_grad():
        model.eval()
        as_tensor(model(x[:5]), "model(x)", (5, 10))
    return "convolutions and pooling, 10 scores per image"


def accuracy_points(model) -> float:
    return graded_value("held-out accuracy", digits_accuracy(model), ACCURACY_BARS, False)
