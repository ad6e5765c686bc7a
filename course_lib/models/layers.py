"""Dropout and batch normalization written out by hand (notebook 01).

They match `nn.Dropout` and `nn.BatchNorm1d/2d`; the notebook writes them first, then
checks them against these and against PyTorch.
"""

from __future__ import annotations

import torch
from torch import nn


def dropout(
    x: torch.Tensor,
    p: float,
    training: bool = True,
    generator: torch.Generator | None = None,
    return_mask: bool = False,
):
    """Inverted dropout: zero each unit with probability p, scale the survivors by 1/(1-p).

    x: any shape. In eval mode (training=False) x is returned unchanged, so the expected
    activation is the same in training and at test time. return_mask=True also returns the
    keep mask (same shape as x, 1 = kept).
    """
    if not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability p must be in [0, 1), got {p!r}")
    if not training or p == 0.0:
        mask = torch.ones_like(x)
        return (x, mask) if return_mask else x
    mask = (torch.rand(x.shape, generator=generator, device=x.device) >= p).to(x.dtype)
    out = x * mask / (1.0 - p)
    return (out, mask) if return_mask else out


def batch_norm(
    x: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    running_mean: torch.Tensor,
    running_var: torch.Tensor,
    training: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> torch.Tensor:
    """Batch normalization for (B, C) after a dense layer or (B, C, H, W) after a convolution.

    Training: normalise with the batch's mean and (biased) variance per channel, then scale by
    gamma and shift by beta; update the running statistics in place (with the unbiased variance,
    as PyTorch does). Eval: normalise with the running statistics instead.
    """
    if x.ndim not in (2, 4):
        raise ValueError(f"batch_norm expects (B, C) or (B, C, H, W), got shape {tuple(x.shape)}")
    c = x.shape[1]
    for name, t in (
        ("gamma", gamma),
        ("beta", beta),
        ("running_mean", running_mean),
        ("running_var", running_var),
    ):
        if t.shape != (c,):
            raise ValueError(
                f"{name} must have shape ({c},) for {c} channels, got {tuple(t.shape)}"
            )
    dims = (
        (0,) if x.ndim == 2 else (0, 2, 3)
    )  # statistics over the batch (and positions), per channel
    shape = (1, c) if x.ndim == 2 else (1, c, 1, 1)
    if training:
        n = x.numel() // c
        if n < 2:
            raise ValueError("batch_norm in training mode needs more than one value per channel")
        mean = x.mean(dim=dims)
        var = x.var(dim=dims, unbiased=False)
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(momentum * mean)
            running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + eps)
    return gamma.view(shape) * x_hat + beta.view(shape)


class HandBatchNorm(nn.Module):
    """nn.Module around `batch_norm`, with the same parameters and buffers as nn.BatchNorm1d/2d."""

    def __init__(self, channels: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))
        self.momentum, self.eps = momentum, eps

    def forward(self, x):
        return batch_norm(
            x,
            self.weight,
            self.bias,
            self.running_mean,
            self.running_var,
            self.training,
            self.momentum,
            self.eps,
        )


def deep_mlp(
    in_features: int = 64,
    width: int = 64,
    depth: int = 5,
    classes: int = 10,
    batch_norm: bool = False,
    init_scale: float = 1.0,
) -> nn.Sequential:
    """A plain deep MLP for the batch-norm experiments: depth hidden layers, optional BN after each.

    Weights start as He (Kaiming) normal, std sqrt(2 / fan_in), times init_scale: 1 keeps the
    signal's size through the ReLUs; smaller shrinks it layer by layer, larger blows it up.
    """
    layers: list[nn.Module] = [nn.Flatten()]
    width_in = in_features
    for _ in range(depth):
        linear = nn.Linear(width_in, width)
        nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        nn.init.zeros_(linear.bias)
        with torch.no_grad():
            linear.weight.mul_(init_scale)
        layers += [linear] + ([nn.BatchNorm1d(width)] if batch_norm else []) + [nn.ReLU()]
        width_in = width
    layers.append(nn.Linear(width_in, classes))
    return nn.Sequential(*layers)
