"""Convolution, pooling and LeNet (notebook 02).

The convolution of the lecture, for a d x d' image X and a k x k' kernel K:

    (X * K)_{ij} = sum_a sum_b X_{i+a-1, j+b-1} K_{a,b},   output (d-k+1) x (d'-k'+1)

(indices from 1). Strictly this is a cross-correlation - a true convolution flips K - and it is
exactly what `F.conv2d` computes. Deep learning calls it convolution all the same.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn


def _check_2d(name: str, t) -> torch.Tensor:
    if not isinstance(t, torch.Tensor) or t.ndim != 2:
        shape = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
        raise ValueError(f"{name} must be a 2D tensor (height, width), got {shape}")
    return t


def conv_output_size(d: int, k: int, padding: int = 0, stride: int = 1) -> int:
    """Output length of a convolution along one axis: (d + 2*padding - k) // stride + 1."""
    if k > d + 2 * padding:
        raise ValueError(
            f"kernel size {k} is larger than the (padded) input size {d + 2 * padding}"
        )
    return (d + 2 * padding - k) // stride + 1


def conv2d_loops(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """The formula, literally: two loops over output positions, a sum over the kernel at each.

    x: (d, d') image, kernel: (k, k') -> (d-k+1, d'-k'+1). Slow; for reading, not for training.
    """
    x, kernel = _check_2d("x", x), _check_2d("kernel", kernel)
    k, k2 = kernel.shape
    out = torch.zeros(
        conv_output_size(x.shape[0], k), conv_output_size(x.shape[1], k2), dtype=x.dtype
    )
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = (x[i : i + k, j : j + k2] * kernel).sum()
    return out


def conv2d_vectorized(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Same result without Python loops: cut every k x k' patch out at once, then one matrix product.

    `unfold` makes patches of shape (out_h, out_w, k, k'); the sum over (a, b) is an einsum.
    """
    x, kernel = _check_2d("x", x), _check_2d("kernel", kernel)
    k, k2 = kernel.shape
    (
        conv_output_size(x.shape[0], k),
        conv_output_size(x.shape[1], k2),
    )  # raises on a too-large kernel
    patches = x.unfold(0, k, 1).unfold(1, k2, 1)  # (d-k+1, d'-k'+1, k, k')
    return torch.einsum("ijab,ab->ij", patches, kernel)


def pool2d(x: torch.Tensor, size: int = 2, mode: str = "max") -> torch.Tensor:
    """Max or average pooling over disjoint size x size patches.

    x: (H, W) or (B, C, H, W) with H and W divisible by size -> (H/size, W/size) per channel.
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    if x.ndim not in (2, 4):
        raise ValueError(f"pool2d expects (H, W) or (B, C, H, W), got shape {tuple(x.shape)}")
    h, w = x.shape[-2:]
    if h % size or w % size:
        raise ValueError(f"height and width ({h}, {w}) must be divisible by the pool size {size}")
    # split each axis into (blocks, size): (..., H/size, size, W/size, size)
    blocks = x.reshape(*x.shape[:-2], h // size, size, w // size, size)
    return blocks.amax(dim=(-3, -1)) if mode == "max" else blocks.mean(dim=(-3, -1))


class LeNet(nn.Module):
    """LeNet-5 as in the lecture's table; x: (B, 1, 32, 32) -> logits (B, 10).

    (B,1,32,32) -conv5-> (B,6,28,28) -pool-> (B,6,14,14) -conv5-> (B,16,10,10) -pool-> (B,16,5,5)
    -> 120 -> 84 -> 10.  28x28 inputs are zero-padded to 32x32 (pad28=True), as LeCun did for MNIST.
    """

    def __init__(
        self, classes: int = 10, pad28: bool = True, activation: str = "relu", pool: str = "max"
    ):
        super().__init__()
        act = {"relu": nn.ReLU, "tanh": nn.Tanh}[activation]
        pool_layer = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}[pool]
        self.pad28 = pad28
        self.features = nn.Sequential(
            OrderedDict(
                [
                    ("conv1", nn.Conv2d(1, 6, 5)),
                    ("act1", act()),
                    ("pool1", pool_layer(2)),
                    ("conv2", nn.Conv2d(6, 16, 5)),
                    ("act2", act()),
                    ("pool2", pool_layer(2)),
                ]
            )
        )
        self.classifier = nn.Sequential(
            OrderedDict(
                [
                    ("flatten", nn.Flatten()),
                    ("fc1", nn.Linear(16 * 5 * 5, 120)),
                    ("act3", act()),
                    ("fc2", nn.Linear(120, 84)),
                    ("act4", act()),
                    ("fc3", nn.Linear(84, classes)),
                ]
            )
        )

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != 1 or x.shape[-2:] not in ((32, 32), (28, 28)):
            raise ValueError(
                f"LeNet expects (B, 1, 32, 32) or (B, 1, 28, 28) images, got {tuple(x.shape)}"
            )
        if x.shape[-1] == 28:
            if not self.pad28:
                raise ValueError("LeNet got 28x28 images with pad28=False; pad them to 32x32")
            x = F.pad(x, (2, 2, 2, 2))
        return self.classifier(self.features(x))


def layer_shapes(model: nn.Module, x: torch.Tensor) -> list[tuple[str, tuple[int, ...], int]]:
    """(layer name, output shape, parameter count) for every leaf layer, from a real forward pass."""
    rows, hooks = [], []
    for name, module in model.named_modules():
        if len(list(module.children())) == 0:
            n_params = sum(p.numel() for p in module.parameters())
            hooks.append(
                module.register_forward_hook(
                    lambda m, inp, out, name=name, n=n_params: rows.append(
                        (name, tuple(out.shape), n)
                    )
                )
            )
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    return rows


class SmallCNN(nn.Module):
    """A small CNN for 28x28 digits: two conv+pool blocks, then global average pooling.

    Global pooling (instead of flattening positions into a dense layer) makes the features
    nearly independent of where the digit sits. x: (B, 1, 28, 28) -> (B, 10).
    """

    def __init__(self, channels: int = 32, classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, channels, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(channels, channels * 2, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(channels * 2, channels * 2, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveMaxPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(channels * 2, classes)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != 1:
            raise ValueError(f"SmallCNN expects (B, 1, H, W) images, got {tuple(x.shape)}")
        return self.head(self.features(x))
