"""Handcrafted image features (notebook 02): what vision used before features were learned."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

SOBEL_X = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
SOBEL_Y = SOBEL_X.T.contiguous()


def gradient_histograms(images: torch.Tensor, cell: int = 7, bins: int = 9) -> torch.Tensor:
    """HOG-style features: per cell x cell block, a histogram of gradient orientations weighted by magnitude.

    images: (N, 1, H, W) with H, W divisible by cell -> (N, (H/cell) * (W/cell) * bins), each
    cell's histogram L2-normalised. Orientations are unsigned (0-180 degrees), as in HOG.
    """
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"images must have shape (N, 1, H, W), got {tuple(images.shape)}")
    h, w = images.shape[-2:]
    if h % cell or w % cell:
        raise ValueError(f"image size ({h}, {w}) must be divisible by the cell size {cell}")
    padded = F.pad(images, (1, 1, 1, 1), mode="replicate")  # no false edges at the image border
    gx = F.conv2d(padded, SOBEL_X.view(1, 1, 3, 3))
    gy = F.conv2d(padded, SOBEL_Y.view(1, 1, 3, 3))
    magnitude = torch.sqrt(gx**2 + gy**2)
    angle = torch.atan2(gy, gx).remainder(math.pi)  # unsigned orientation in [0, pi)
    which = (angle / math.pi * bins).long().clamp_(max=bins - 1)
    votes = F.one_hot(which[:, 0], bins).permute(0, 3, 1, 2).float() * magnitude  # (N, bins, H, W)
    hist = F.avg_pool2d(votes, cell) * cell * cell  # sum per cell: (N, bins, H/cell, W/cell)
    hist = hist / (hist.norm(dim=1, keepdim=True) + 1e-6)
    return hist.flatten(1)


def pixel_statistics(images: torch.Tensor, bands: int = 7) -> torch.Tensor:
    """Simple features: ink per horizontal and vertical band, plus total ink and centre of mass.

    images: (N, 1, H, W) -> (N, 2 * bands + 3).
    """
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"images must have shape (N, 1, H, W), got {tuple(images.shape)}")
    x = images[:, 0]
    h, w = x.shape[-2:]
    rows = F.adaptive_avg_pool1d(x.mean(2)[:, None], bands)[:, 0]
    cols = F.adaptive_avg_pool1d(x.mean(1)[:, None], bands)[:, 0]
    mass = x.sum((1, 2)) + 1e-6
    cy = (x.sum(2) * torch.arange(h)).sum(1) / mass / h
    cx = (x.sum(1) * torch.arange(w)).sum(1) / mass / w
    return torch.cat([rows, cols, x.mean((1, 2))[:, None], cy[:, None], cx[:, None]], 1)
