"""Checkers of notebook 02: the convolution formula and max pooling."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import Hint, Mistake, as_tensor, compare_cases, exercise, fresh_generator


def _conv(x, k):
    return F.conv2d(x[None, None], k[None, None])[0, 0]


CONV_MISTAKES = (
    Mistake(
        "you flipped the kernel (a true convolution); the lecture's formula, like F.conv2d, uses "
        "K[a, b] as it is",
        lambda c: _conv(c["x"], c["k"].flip(0, 1)),
    ),
    Mistake("values differ from the formula: out[i, j] = sum over a, b of x[i+a, j+b] * K[a, b]"),
)


def _conv_cases():
    g = fresh_generator()
    for shape, kshape in (((6, 7), (3, 3)), ((5, 5), (2, 3)), ((4, 9), (4, 2))):
        x, k = torch.randn(shape, generator=g), torch.randn(kshape, generator=g)
        yield {"x": x, "k": k}


@exercise("conv2d", CONV_MISTAKES)
def conv2d(fn) -> str:
    """fn(x (d, d'), kernel (k, k')) -> (d-k+1, d'-k'+1) as in the lecture's formula (= F.conv2d)."""

    def read(got, expected, case):
        (d, d2), (k, k2) = case["x"].shape, case["k"].shape
        if isinstance(got, torch.Tensor) and got.shape != expected.shape:
            raise Hint(
                f"a {d}x{d2} image and a {k}x{k2} kernel give a {d - k + 1}x{d2 - k2 + 1} output "
                f"(d-k+1) x (d'-k'+1); you returned {tuple(got.shape)}"
            )
        return as_tensor(got, "your conv2d", expected.shape)

    reference = lambda c: _conv(c["x"], c["k"])  # noqa: E731
    compare_cases(fn, _conv_cases(), reference, read, CONV_MISTAKES, args=("x", "k"))
    return "matches the formula and F.conv2d, also for a non-square kernel"


MAX_POOL_MISTAKES = (
    Mistake(
        "you averaged each patch; max pooling keeps the largest value",
        lambda c: F.avg_pool2d(c["x"][None, None], c["size"])[0, 0],
    ),
    Mistake(
        "on a {h}x{w} input with size {size} some values are wrong: each output is the max of one "
        "size x size patch"
    ),
)


def _max_pool_cases():
    g = fresh_generator()
    inputs = [
        (torch.tensor([[1.0, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]), 2),
        (torch.randn(6, 6, generator=g), 3),
        (torch.randn(4, 6, generator=g), 2),  # not square
        (torch.randn(6, 9, generator=g), 3),
    ]
    for x, size in inputs:
        yield {"x": x, "size": size, "h": x.shape[0], "w": x.shape[1]}


@exercise("max_pool", MAX_POOL_MISTAKES)
def max_pool(fn) -> str:
    """fn(x (H, W), size) -> max over disjoint size x size patches, (H/size, W/size)."""

    def read(got, expected, case):
        (h, w), size = case["x"].shape, case["size"]
        if (
            isinstance(got, torch.Tensor)
            and got.shape == (h - size + 1, w - size + 1) != expected.shape
        ):
            raise Hint(
                f"your windows overlap (stride 1): pooling uses disjoint patches, so a {h}x{w} "
                f"input gives {tuple(expected.shape)}"
            )
        return as_tensor(got, f"your max_pool on a {h}x{w} input", expected.shape)

    reference = lambda c: F.max_pool2d(c["x"][None, None], c["size"])[0, 0]  # noqa: E731
    compare_cases(
        fn,
        _max_pool_cases(),
        reference,
        read,
        MAX_POOL_MISTAKES,
        args=("x", "size"),
        same=torch.allclose,
    )
    return "matches F.max_pool2d on square and non-square inputs"
