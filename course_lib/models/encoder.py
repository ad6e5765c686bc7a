"""The small convolutional encoder that every image pretext task of notebook 09 trains.

x: (B, C, 28, 28) -> maps (B, 128, 4, 4) -> features (B, 128). The self-supervised models
(`pretext.py`, `contrastive.py`) put different heads on it; `transfer.py` copies its blocks.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ConvEncoder", "make_decoder", "check_images"]


def check_images(x, name: str = "x", channels: int | None = 1) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor of shape (B, C, H, W), got {type(x).__name__}"
        )
    if x.ndim != 4 or (channels is not None and x.shape[1] != channels):
        want = f"(B, {channels}, H, W)" if channels is not None else "(B, C, H, W)"
        raise ValueError(f"{name} must have shape {want}, got {tuple(x.shape)}")


class ConvEncoder(nn.Module):
    """Three conv blocks (Conv 3x3 stride 2 - BatchNorm - ReLU), then global average pooling.

    x: (B, in_channels, 28, 28) -> maps (B, 128, 4, 4) -> features (B, 128).
    (32 x 32 inputs give 4 x 4 maps too.) `blocks[i]` is block i, so transfer learning can copy
    the first k blocks into a new model.
    """

    def __init__(self, in_channels: int = 1, widths: tuple[int, ...] = (32, 64, 128)):
        super().__init__()
        layers, c = [], in_channels
        for w in widths:
            layers.append(
                nn.Sequential(nn.Conv2d(c, w, 3, stride=2, padding=1), nn.BatchNorm2d(w), nn.ReLU())
            )
            c = w
        self.blocks = nn.Sequential(*layers)
        self.in_channels, self.features_dim = in_channels, c

    def maps(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, "x", self.in_channels)
        return self.blocks(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.maps(x).mean((2, 3))


def make_decoder(
    in_channels: int, out_channels: int, size: int, last: nn.Module | None = None
) -> nn.Sequential:
    """4x4 maps -> (out_channels, size, size), through `last` (default Sigmoid: in [0, 1]); size 28 or 32."""
    first = (
        nn.ConvTranspose2d(in_channels, 64, 3, stride=2, padding=1)
        if size == 28
        else nn.ConvTranspose2d(in_channels, 64, 4, stride=2, padding=1)
    )  # 4 -> 7 or 4 -> 8
    return nn.Sequential(
        first,
        nn.ReLU(),
        nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.ConvTranspose2d(32, out_channels, 4, stride=2, padding=1),
        last or nn.Sigmoid(),
    )
