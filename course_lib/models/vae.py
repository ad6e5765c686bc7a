"""Variational autoencoder (notebook 04), in the spirit of pytorch/examples vae/main.py.

The encoder outputs, per latent dimension, a mean mu and a log-variance log(sigma^2) (the
"mean and standard deviation layer"); a code is *sampled* z = mu + sigma * eps and decoded.
The loss is the negative ELBO: reconstruction error + beta * KL(q(z|x) || N(0, I)).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .. import eval_mode, model_device


def reparameterize(
    mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """z = mu + sigma * eps with eps ~ N(0, I) and sigma = exp(logvar / 2). Gradients reach mu and logvar.

    mu, logvar: (B, latent) -> z: (B, latent).
    """
    if mu.shape != logvar.shape:
        raise ValueError(
            f"mu and logvar must have the same shape, got {tuple(mu.shape)} and {tuple(logvar.shape)}"
        )
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, 1)) summed over latent dimensions, averaged over the batch.

    Closed form per dimension: -1/2 (1 + log sigma^2 - mu^2 - sigma^2).
    """
    if mu.shape != logvar.shape or mu.ndim != 2:
        raise ValueError(
            f"mu and logvar must both be (B, latent), got {tuple(mu.shape)} and {tuple(logvar.shape)}"
        )
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).sum(1).mean()


def elbo_loss(
    x_hat: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, beta: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Negative ELBO per example: (loss, reconstruction, kl), each averaged over the batch.

    Reconstruction: binary cross-entropy summed over pixels (x and x_hat in [0, 1]).
    """
    if x_hat.shape != x.shape:
        raise ValueError(
            f"x_hat and x must have the same shape, got {tuple(x_hat.shape)} and {tuple(x.shape)}"
        )
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
    recon = F.binary_cross_entropy(x_hat, x, reduction="sum") / x.shape[0]
    kl = kl_divergence(mu, logvar)
    return recon + beta * kl, recon, kl


class VAE(nn.Module):
    """Fully connected VAE. x: (B, *image_shape) in [0, 1].

    encode(x) -> (mu, logvar), each (B, latent_dim); decode(z) -> (B, *image_shape) in [0, 1];
    forward(x) -> (x_hat, mu, logvar) with z sampled by reparameterize (training) or z = mu (eval).
    """

    def __init__(
        self,
        in_features: int = 784,
        hidden: tuple[int, ...] | list[int] = (256,),
        latent_dim: int = 2,
        image_shape: tuple[int, ...] | list[int] | None = None,
    ):
        super().__init__()
        if latent_dim < 1 or in_features < 1:
            raise ValueError(
                f"in_features and latent_dim must be positive, got {in_features} and {latent_dim}"
            )
        side = math.isqrt(in_features)
        self.image_shape = (
            tuple(image_shape)
            if image_shape
            else ((1, side, side) if side * side == in_features else (in_features,))
        )
        if math.prod(self.image_shape) != in_features:
            raise ValueError(f"image_shape {self.image_shape} does not hold {in_features} values")
        self.in_features, self.latent_dim = in_features, latent_dim
        layers, width = [nn.Flatten()], in_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        self.encoder = nn.Sequential(*layers)
        self.to_mu = nn.Linear(width, latent_dim)  # the mean layer
        self.to_logvar = nn.Linear(width, latent_dim)  # the (log) variance layer
        layers, width = [], latent_dim
        for h in reversed(hidden):
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers += [nn.Linear(width, in_features), nn.Sigmoid()]
        self.decoder = nn.Sequential(*layers)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.ndim < 2 or math.prod(x.shape[1:]) != self.in_features:
            raise ValueError(
                f"VAE expects (B, ...) inputs with {self.in_features} values each "
                f"(e.g. (B, {', '.join(map(str, self.image_shape))})), got {tuple(x.shape)}"
            )
        h = self.encoder(x)
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"latent codes must have shape (B, {self.latent_dim}), got {tuple(z.shape)}"
            )
        return self.decoder(z).view(-1, *self.image_shape)

    def forward(self, x: torch.Tensor):
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar) if self.training else mu
        return self.decode(z), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n new images decoded from z ~ N(0, I)."""
        device = model_device(self)
        z = torch.randn(n, self.latent_dim, generator=generator).to(device)
        return self.decode(z)


def vae_step(beta: float = 1.0):
    """A `fit` step_fn for a VAE: the loss is the negative ELBO with weight beta on the KL term.

    The reconstruction and KL terms of each step are kept on the step function
    (`.recon`, `.kl` lists) so a notebook can plot them apart.
    """

    def step(model, batch, loss_fn=None):
        x = batch[0]
        x_hat, mu, logvar = model(x)
        loss, recon, kl = elbo_loss(x_hat, x, mu, logvar, beta)
        if model.training:
            step.recon.append(recon.item())
            step.kl.append(kl.item())
        return loss, x_hat

    step.recon, step.kl = [], []
    return step


def encode_mean(model: nn.Module, x: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
    """Codes of x on the CPU: mu for a VAE, z for a plain autoencoder (the model's mode is left as it was)."""
    device = model_device(model)
    out = []
    with eval_mode(model):
        for i in range(0, len(x), batch_size):
            code = model.encode(x[i : i + batch_size].to(device))
            out.append((code[0] if isinstance(code, tuple) else code).cpu())
    return torch.cat(out)


def decode_grid(
    model: nn.Module,
    n: int = 15,
    lim: float | tuple = 2.5,
    dims: tuple[int, int] = (0, 1),
    base: torch.Tensor | None = None,
) -> torch.Tensor:
    """Decode an n x n grid over two latent dimensions (the manifold picture): (n*n, 1, H, W).

    lim: half-width of a square around 0, or ((x_min, x_max), (y_min, y_max)). Rows go from high
    z[dims[1]] (top) to low, as in a scatter plot. Other dimensions are taken from `base` (default 0).
    """
    latent = getattr(model, "latent_dim", None)
    if latent is None:
        raise TypeError(
            "model must have a latent_dim attribute (the VAE and the Autoencoder both do)"
        )
    (x0, x1), (y0, y1) = ((-lim, lim), (-lim, lim)) if isinstance(lim, (int, float)) else lim
    xs, ys = torch.linspace(x0, x1, n), torch.linspace(y1, y0, n)
    z = torch.zeros(n * n, latent) if base is None else base.reshape(1, latent).repeat(n * n, 1)
    z[:, dims[0]] = xs.repeat(n)
    z[:, dims[1]] = ys.repeat_interleave(n)
    device = model_device(model)
    with eval_mode(model):
        return model.decode(z.to(device)).cpu()
