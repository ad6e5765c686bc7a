"""Autoencoders (notebook 03): simple, deep, sparse, denoising and stacked.

An autoencoder is an encoder x -> z and a decoder z -> x_hat trained so that x_hat = x,
without labels. With a code z smaller than x it must find the structure of the data.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .. import eval_mode


def _mlp(sizes: list[int], activation: bool, last_activation: bool) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if activation and (i < len(sizes) - 2 or last_activation):
            layers.append(nn.ReLU())
    return layers


class Autoencoder(nn.Module):
    """Fully connected autoencoder with a symmetric decoder.

    x: (B, *image_shape) -> x_hat of the same shape; encode(x) -> z: (B, code).
    hidden: widths of the encoder's hidden layers (the decoder mirrors them).
    linear=True removes every non-linearity (the autoencoder that PCA explains).
    sigmoid_output squashes x_hat into [0, 1], the range of the images.
    """

    def __init__(
        self,
        in_features: int = 784,
        hidden: tuple[int, ...] | list[int] = (256, 64),
        code: int = 8,
        linear: bool = False,
        sigmoid_output: bool = True,
        image_shape: tuple[int, ...] | None = None,
    ):
        super().__init__()
        if code < 1 or in_features < 1:
            raise ValueError(f"in_features and code must be positive, got {in_features} and {code}")
        self.in_features, self.code = in_features, code
        side = math.isqrt(in_features)
        default_shape = (1, side, side) if side * side == in_features else (in_features,)
        self.image_shape = tuple(image_shape) if image_shape else default_shape
        if math.prod(self.image_shape) != in_features:
            raise ValueError(f"image_shape {self.image_shape} does not hold {in_features} values")
        sizes = [in_features, *hidden, code]
        self.encoder = nn.Sequential(nn.Flatten(), *_mlp(sizes, not linear, last_activation=False))
        decoder = _mlp(sizes[::-1], not linear, last_activation=False)
        if sigmoid_output:
            decoder.append(nn.Sigmoid())
        self.decoder = nn.Sequential(*decoder)

    def _check(self, x: torch.Tensor) -> None:
        if x.ndim < 2 or math.prod(x.shape[1:]) != self.in_features:
            raise ValueError(
                f"{type(self).__name__} expects (B, ...) inputs with {self.in_features} values each "
                f"(e.g. (B, {', '.join(map(str, self.image_shape))})), got {tuple(x.shape)}"
            )

    @property
    def latent_dim(self) -> int:
        """The size of the code, under the name the VAE uses (widgets and decode_grid read it)."""
        return self.code

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.code:
            raise ValueError(f"codes must have shape (B, {self.code}), got {tuple(z.shape)}")
        return self.decoder(z).view(-1, *self.image_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class SparseAutoencoder(nn.Module):
    """One over-complete hidden layer (hidden > in_features) with sigmoid units in (0, 1).

    Without a penalty it could copy the input; `l1_penalty` or `kl_sparsity` on `encode(x)`
    keeps most units near zero for each input. forward returns (x_hat, h).
    """

    def __init__(self, in_features: int = 784, hidden: int = 1024, image_shape=(1, 28, 28)):
        super().__init__()
        if hidden <= 0 or in_features <= 0:
            raise ValueError("in_features and hidden must be positive")
        self.in_features, self.hidden, self.image_shape = in_features, hidden, tuple(image_shape)
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(in_features, hidden), nn.Sigmoid())
        self.decoder = nn.Sequential(nn.Linear(hidden, in_features), nn.Sigmoid())

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim < 2 or math.prod(x.shape[1:]) != self.in_features:
            raise ValueError(
                f"SparseAutoencoder expects inputs with {self.in_features} values each, got {tuple(x.shape)}"
            )
        return self.encoder(x)

    def forward(self, x: torch.Tensor):
        h = self.encode(x)
        return self.decoder(h).view(-1, *self.image_shape), h


def l1_penalty(h: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of sum_j |h_j|. h: (B, units)."""
    if h.ndim != 2:
        raise ValueError(f"activations must be (B, units), got {tuple(h.shape)}")
    return h.abs().sum(1).mean()


def kl_sparsity(h: torch.Tensor, rho: float = 0.05) -> torch.Tensor:
    """sum_j KL(rho || rho_hat_j), rho_hat_j = mean activation of unit j over the batch.

    KL(rho || q) = rho log(rho / q) + (1 - rho) log((1 - rho) / (1 - q)); zero when every unit is
    active a fraction rho of the time. h: (B, units) with values in (0, 1) (sigmoid units).
    """
    if h.ndim != 2:
        raise ValueError(f"activations must be (B, units), got {tuple(h.shape)}")
    if not 0.0 < rho < 1.0:
        raise ValueError(f"target rate rho must be in (0, 1), got {rho}")
    q = h.mean(0).clamp(1e-6, 1 - 1e-6)
    return (rho * torch.log(rho / q) + (1 - rho) * torch.log((1 - rho) / (1 - q))).sum()


def add_noise(
    x: torch.Tensor, level: float, kind: str = "gaussian", generator: torch.Generator | None = None
) -> torch.Tensor:
    """Corrupt images for a denoising autoencoder; the result stays in [0, 1].

    gaussian: x + level * N(0, 1), clipped;  masking: each pixel set to 0 with probability level;
    salt_pepper: each pixel set to 0 or 1 (half each) with probability level.
    """
    if kind not in ("gaussian", "masking", "salt_pepper"):
        raise ValueError(f"kind must be 'gaussian', 'masking' or 'salt_pepper', got {kind!r}")
    if not isinstance(level, (int, float)) or level < 0 or (kind != "gaussian" and level > 1):
        raise ValueError(f"noise level must be >= 0 (and <= 1 for {kind!r}), got {level!r}")
    if kind == "gaussian":
        noise = torch.randn(x.shape, generator=generator, device=x.device)
        return (x + level * noise).clamp(0.0, 1.0)
    hit = torch.rand(x.shape, generator=generator, device=x.device) < level
    if kind == "masking":
        return x.masked_fill(hit, 0.0)
    salt = torch.rand(x.shape, generator=generator, device=x.device) < 0.5
    return torch.where(hit, salt.to(x.dtype), x)


class StackedClassifier(nn.Module):
    """Stacked encoders followed by a dense softmax layer, fine-tuned as a whole with labels."""

    def __init__(self, encoders: list[nn.Module], classes: int = 10):
        super().__init__()
        widths = [
            m.out_features for enc in encoders for m in enc.modules() if isinstance(m, nn.Linear)
        ]
        if not widths:
            raise ValueError("encoders must contain Linear layers")
        self.encoders = nn.Sequential(nn.Flatten(), *encoders)
        self.head = nn.Linear(widths[-1], classes)

    def forward(self, x):
        return self.head(self.encoders(x))


def fresh_stack(sizes: list[int], seed: int = 0) -> list[nn.Sequential]:
    """The same encoder layers as pretrain_stack, randomly initialised (the from-scratch baseline)."""
    torch.manual_seed(seed)
    return [nn.Sequential(nn.Linear(a, b), nn.ReLU()) for a, b in zip(sizes[:-1], sizes[1:])]


def reconstruction_error(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> float:
    """Mean squared error per pixel of model(x) against x (eval mode, no gradients)."""
    total = 0.0
    with eval_mode(model):
        for i in range(0, len(x), batch_size):
            xb = x[i : i + batch_size]
            out = model(xb)
            out = out[0] if isinstance(out, tuple) else out
            total += F.mse_loss(out.reshape(xb.shape), xb, reduction="sum").item()
    return total / x.numel()
