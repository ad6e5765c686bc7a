"""The GAN training loop (notebooks 05 and 06): the lecture's two steps, round after round.

GANTrainer holds G, D, their optimisers and the history; `train_step()` is one round: k
discriminator steps (models.gan.discriminator_step) then one generator step (generator_step).
A round is all-or-nothing, through the training loop's one rollback (guards.Snapshot): if anything
raises (a non-finite loss, a KeyboardInterrupt), both networks, both optimisers and the random
generator go back to where the round began and the history is untouched, so `run()` can simply
be called again to resume.
"""

from __future__ import annotations

import math

import torch

from .. import model_device
from ..models.gan import conditional_discriminator_step, discriminator_step, generator_step
from .guards import NonFiniteLossError, Snapshot, non_finite_weights

__all__ = ["GANTrainer"]


class GANTrainer:
    """sample_real(batch_size, generator) -> a real batch, or (batch, labels) for a conditional GAN
    (e.g. train.batch_sampler(x, y)). k: discriminator steps per generator step."""

    def __init__(
        self,
        G,
        D,
        sample_real,
        noise_dim: int,
        lr: float = 1e-3,
        k: int = 1,
        batch_size: int = 128,
        betas=(0.5, 0.999),
        seed: int = 0,
        device=None,
        classes: int = 0,
    ):
        self.G, self.D = G, D
        self.sample_real = sample_real
        self.classes = classes
        self.noise_dim, self.k, self.batch_size = noise_dim, k, batch_size
        self.device = device or model_device(G)
        self.opt_G = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
        self.opt_D = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
        self.gen = torch.Generator().manual_seed(seed)
        self.history = {"step": [], "d_loss": [], "g_loss": []}
        self.steps = 0

    @property
    def lr(self) -> float:
        return self.opt_G.param_groups[0]["lr"]

    def set_lr(self, lr: float) -> None:
        if not lr > 0:
            raise ValueError(f"learning rate must be positive, got {lr}")
        for opt in (self.opt_G, self.opt_D):
            for group in opt.param_groups:
                group["lr"] = lr

    def set_k(self, k: int) -> None:
        if not isinstance(k, int) or k < 1:
            raise ValueError(
                f"k (discriminator steps per generator step) must be a positive int, got {k!r}"
            )
        self.k = k

    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.noise_dim, generator=self.gen).to(self.device)

    def random_labels(self, n: int) -> torch.Tensor:
        return torch.randint(0, self.classes, (n,), generator=self.gen).to(self.device)

    def _discriminator_step(self) -> float:
        if self.classes:
            real, labels = self.sample_real(self.batch_size, self.gen)
            return conditional_discriminator_step(
                self.G,
                self.D,
                real.to(self.device),
                labels.to(self.device),
                self.noise(self.batch_size),
                self.random_labels(self.batch_size),
                self.opt_D,
                self.classes,
                self.gen,
            )
        real = self.sample_real(self.batch_size, self.gen).to(self.device)
        return discriminator_step(self.G, self.D, real, self.noise(self.batch_size), self.opt_D)

    def train_step(self) -> tuple[float, float]:
        """One round: k discriminator steps, then one generator step. Returns (d_loss, g_loss)."""
        saved = Snapshot(
            [self.G, self.D],
            [self.opt_G, self.opt_D],
            generators=[self.gen],
            when="the round's start",
        )
        try:
            self.G.train()
            self.D.train()
            for _ in range(self.k):
                d_loss = self._discriminator_step()
            labels = self.random_labels(self.batch_size) if self.classes else None
            g_loss = generator_step(self.G, self.D, self.noise(self.batch_size), self.opt_G, labels)
            if not (math.isfinite(d_loss) and math.isfinite(g_loss)):
                raise NonFiniteLossError(
                    f"GAN loss became non-finite at step {self.steps + 1} "
                    f"(d_loss={d_loss}, g_loss={g_loss}); try a smaller learning rate"
                )
            bad = non_finite_weights([self.G, self.D])
            if bad:  # finite losses can hide weights an extreme learning rate already broke
                raise NonFiniteLossError(
                    f"GAN weights became NaN or inf at step {self.steps + 1} ({', '.join(bad[:3])}) "
                    f"although both losses were finite (d_loss={d_loss:.3g}, g_loss={g_loss:.3g}): "
                    f"the learning rate {self.lr:.3g} is too large; the round was undone"
                )
        except BaseException:
            saved.restore()
            self.D.requires_grad_(True)
            raise
        self.steps += 1
        self.history["step"].append(self.steps)
        self.history["d_loss"].append(d_loss)
        self.history["g_loss"].append(g_loss)
        return d_loss, g_loss

    def run(self, steps: int, callback=None) -> dict:
        """Headless training for `steps` rounds (tests, nbval); callback(trainer) after each round."""
        for _ in range(steps):
            self.train_step()
            if callback is not None:
                callback(self)
        return self.history
