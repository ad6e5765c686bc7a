"""Two views of one image should agree (notebook 09): augmentations, siamese networks, and the
contrastive, InfoNCE (SimCLR) and triplet losses.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..data import random_squares
from .encoder import ConvEncoder, check_images

__all__ = ["augment", "SiameseNet", "contrastive_loss", "info_nce_loss", "triplet_loss"]


def augment(
    x: torch.Tensor, generator: torch.Generator | None = None, strength: float = 1.0
) -> torch.Tensor:
    """A random view of each image: rotation, scale, shift, a stroke-thickness change and an erased patch.

    x: (B, 1, H, W) in [0, 1] -> same shape. Same generator state -> same views (deterministic).
    strength scales every distortion (0 = the images unchanged).
    """
    check_images(x)
    if not isinstance(strength, (int, float)) or not 0 <= strength <= 2:
        raise ValueError(f"strength must be a number in [0, 2], got {strength!r}")
    b = x.shape[0]
    u = (torch.rand(b, 6, generator=generator) * 2 - 1).to(
        x.device
    )  # CPU generator, x may be on a GPU
    angle = u[:, 0] * math.radians(20) * strength
    scale = 1 + u[:, 1] * 0.2 * strength
    shift = u[:, 2:4] * 0.2 * strength  # in units of half the image: 0.2 = 10% of the width
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, padding_mode="zeros", align_corners=False)
    # thicker or thinner strokes: max-pool dilates, min-pool erodes
    thick = u[:, 4] * strength
    dilated = F.max_pool2d(out, 3, 1, 1)
    eroded = -F.max_pool2d(-out, 3, 1, 1)
    w = thick.clamp(min=0)[:, None, None, None]
    v = (-thick).clamp(min=0)[:, None, None, None] * 0.5
    out = out * (1 - w - v) + dilated * w + eroded * v
    # erase one random square of a quarter of the side in half the images
    h, wd = x.shape[-2:]
    erase = (u[:, 5] > 0) & (strength > 0)
    patch = (
        random_squares(b, h, wd, max(1, h // 4), generator, x.device) & erase[:, None, None, None]
    )
    return (out * ~patch).clamp(0, 1)


class SiameseNet(nn.Module):
    """One encoder used for both inputs (shared weights), then a small projection head: (B, 1, 28, 28) -> (B, dim)."""

    def __init__(self, dim: int = 64, encoder: ConvEncoder | None = None):
        super().__init__()
        self.encoder = encoder or ConvEncoder()
        self.head = nn.Sequential(
            nn.Linear(self.encoder.features_dim, 256), nn.ReLU(), nn.Linear(256, dim)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))


def _check_pair(a, b, names=("a", "b")) -> None:
    for t, n in zip((a, b), names):
        if not isinstance(t, torch.Tensor) or t.ndim != 2:
            raise ValueError(
                f"{n} must be a (B, D) tensor of embeddings, got "
                f"{tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__}"
            )
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def contrastive_loss(
    z1: torch.Tensor, z2: torch.Tensor, same: torch.Tensor, margin: float = 1.0
) -> torch.Tensor:
    """The pairwise contrastive loss (Hadsell, Chopra & LeCun 2006), mean over pairs.

    same=1: pull together, d^2.   same=0: push apart until the margin, max(margin - d, 0)^2.
    z1, z2: (B, D); same: (B,) of 0/1.
    """
    _check_pair(z1, z2, ("z1", "z2"))
    same = torch.as_tensor(same, dtype=z1.dtype)
    if same.shape != z1.shape[:1]:
        raise ValueError(f"same must have shape ({z1.shape[0]},), got {tuple(same.shape)}")
    d = (z1 - z2).norm(dim=1)
    return (same * d**2 + (1 - same) * F.relu(margin - d) ** 2).mean()


def info_nce_loss(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.2) -> torch.Tensor:
    """The contrastive loss of SimCLR (NT-Xent): each view must pick its partner among all 2B-1 others.

    z1[i] and z2[i] are two views of image i; every other image in the batch is a negative.
    """
    _check_pair(z1, z2, ("z1", "z2"))
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.T / temperature
    sim.fill_diagonal_(float("-inf"))  # a view is not its own partner
    b = z1.shape[0]
    target = torch.cat([torch.arange(b, 2 * b), torch.arange(0, b)])
    return F.cross_entropy(sim, target)


def triplet_loss(
    a: torch.Tensor, p: torch.Tensor, n: torch.Tensor, alpha: float = 1.0
) -> torch.Tensor:
    """L(A, P, N) = max(||f(A) - f(P)|| - ||f(A) - f(N)|| + alpha, 0), mean over the batch.

    a, p, n: (B, D) embeddings of anchors, positives, negatives. Matches
    nn.TripletMarginLoss(margin=alpha) (which adds 1e-6 inside the norm).
    """
    _check_pair(a, p, ("a", "p"))
    _check_pair(a, n, ("a", "n"))
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha!r}")
    return F.relu((a - p).norm(dim=1) - (a - n).norm(dim=1) + alpha).mean()
