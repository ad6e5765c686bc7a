"""GANs and conditional GANs (notebooks 05 and 06), in the spirit of pytorch/examples dcgan/main.py.

The min-max game  min_G max_D  V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))]
is played by alternating two steps, exactly as the lecture lists them:

  1. generate a batch of fakes G(z);
  2. train D on real (label 1) and fake (label 0) data          -> discriminator_step
  3. freeze D (requires_grad_(False), Keras' trainable = False)
  4. train G through the frozen D to make D say "real" (1)        -> generator_step
  5. repeat.

Labels: real = 1, fake = 0 here. (One version of the lecture flips them; only consistency matters:
flipping both D's targets and G's target gives the same game.)
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from .. import model_device

REAL, FAKE = 1.0, 0.0


# ----------------------------------------------------------------------------- networks
class MLPGenerator(nn.Module):
    """z: (B, noise_dim) -> points (B, out_dim). For the 2D toy distributions."""

    def __init__(self, noise_dim: int = 2, out_dim: int = 2, hidden: int = 64, layers: int = 3):
        super().__init__()
        self.noise_dim = noise_dim
        mods, width = [], noise_dim
        for _ in range(layers):
            mods += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        mods.append(nn.Linear(width, out_dim))
        self.net = nn.Sequential(*mods)

    def forward(self, z):
        if z.ndim != 2 or z.shape[1] != self.noise_dim:
            raise ValueError(f"noise must have shape (B, {self.noise_dim}), got {tuple(z.shape)}")
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """points (B, in_dim) -> logits (B,): large = "real". Sigmoid is inside the loss."""

    def __init__(self, in_dim: int = 2, hidden: int = 64, layers: int = 3):
        super().__init__()
        mods, width = [], in_dim
        for _ in range(layers):
            mods += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        mods.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*mods)

    def forward(self, x):
        return self.net(x).squeeze(1)


class DCGenerator(nn.Module):
    """DCGAN-style generator: z (B, noise_dim) [+ labels (B,)] -> images (B, 1, 28, 28) in [0, 1].

    classes > 0 makes it conditional: a learnt label embedding is concatenated to z.
    """

    def __init__(self, noise_dim: int = 32, channels: int = 64, classes: int = 0):
        super().__init__()
        self.noise_dim, self.classes = noise_dim, classes
        c = channels
        self.embed = nn.Embedding(classes, 16) if classes else None
        self.project = nn.Sequential(
            nn.Linear(noise_dim + (16 if classes else 0), 2 * c * 7 * 7),
            nn.BatchNorm1d(2 * c * 7 * 7),
            nn.ReLU(),
        )
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1),
            nn.BatchNorm2d(c),
            nn.ReLU(),  # 7 -> 14
            nn.ConvTranspose2d(c, c // 2, 4, 2, 1),
            nn.BatchNorm2d(c // 2),
            nn.ReLU(),  # 14 -> 28
            nn.Conv2d(c // 2, 1, 3, padding=1),  # a last 3x3 convolution draws the strokes
            nn.Sigmoid(),
        )
        self.c = c

    def forward(self, z, labels=None):
        if z.ndim != 2 or z.shape[1] != self.noise_dim:
            raise ValueError(f"noise must have shape (B, {self.noise_dim}), got {tuple(z.shape)}")
        if self.classes:
            if labels is None or labels.shape != (z.shape[0],):
                raise ValueError(f"a conditional generator needs labels of shape ({z.shape[0]},)")
            z = torch.cat([z, self.embed(labels)], 1)
        return self.net(self.project(z).view(-1, 2 * self.c, 7, 7))


class DCDiscriminator(nn.Module):
    """DCGAN-style discriminator: images (B, 1, 28, 28) [+ labels] -> logits (B,).

    Conditional (classes > 0): the label is embedded and fed in as an extra image channel, so D
    judges the (image, label) pair: real *and* matching.
    """

    def __init__(self, channels: int = 64, classes: int = 0):
        super().__init__()
        self.classes = classes
        c = channels
        self.embed = nn.Embedding(classes, 28 * 28) if classes else None
        self.net = nn.Sequential(
            nn.Conv2d(2 if classes else 1, c, 4, 2, 1),
            nn.LeakyReLU(0.2),  # 28 -> 14
            nn.Conv2d(c, 2 * c, 4, 2, 1),
            nn.BatchNorm2d(2 * c),
            nn.LeakyReLU(0.2),  # 14 -> 7
            nn.Flatten(),
            nn.Linear(2 * c * 7 * 7, 1),
        )

    def forward(self, x, labels=None):
        if x.ndim != 4 or x.shape[1:] != (1, 28, 28):
            raise ValueError(f"DCDiscriminator expects (B, 1, 28, 28) images, got {tuple(x.shape)}")
        if self.classes:
            if labels is None or labels.shape != (x.shape[0],):
                raise ValueError(
                    f"a conditional discriminator needs labels of shape ({x.shape[0]},)"
                )
            x = torch.cat([x, self.embed(labels).view(-1, 1, 28, 28)], 1)
        return self.net(x).squeeze(1)


# ----------------------------------------------------------------------------- the two steps
def value_function(d_real_logits: torch.Tensor, d_fake_logits: torch.Tensor) -> torch.Tensor:
    """V(D, G) = mean log D(x) + mean log(1 - D(G(z))), from D's logits."""
    return F.logsigmoid(d_real_logits).mean() + F.logsigmoid(-d_fake_logits).mean()


def discriminator_loss(d_real_logits, d_fake_logits) -> torch.Tensor:
    """D's objective as a loss: "recognise genuine" + "recognise fakes" = -V(D, G)."""
    real = F.binary_cross_entropy_with_logits(d_real_logits, torch.full_like(d_real_logits, REAL))
    fake = F.binary_cross_entropy_with_logits(d_fake_logits, torch.full_like(d_fake_logits, FAKE))
    return real + fake


def generator_loss(d_fake_logits, saturating: bool = False) -> torch.Tensor:
    """G's objective. Non-saturating (used in practice): -log D(G(z)), i.e. "make D say real".

    saturating=True is the min-max form log(1 - D(G(z))), whose gradient vanishes while D wins.
    """
    if saturating:
        return F.logsigmoid(-d_fake_logits).mean()
    return F.binary_cross_entropy_with_logits(d_fake_logits, torch.full_like(d_fake_logits, REAL))


def _call(net, x, labels):
    return net(x) if labels is None else net(x, labels)


def discriminator_step(G, D, real, z, opt_D, labels=None) -> float:
    """Steps 1-2: make fakes (no gradient into G), update D on real + fake. Returns D's loss."""
    with torch.no_grad():
        fake = _call(G, z, labels)
    loss = discriminator_loss(_call(D, real, labels), _call(D, fake, labels))
    opt_D.zero_grad(set_to_none=True)
    loss.backward()
    opt_D.step()
    return loss.item()


def generator_step(G, D, z, opt_G, labels=None) -> float:
    """Steps 3-4: freeze D, update G so that D calls its fakes real, unfreeze D. Returns G's loss."""
    D.requires_grad_(False)  # the PyTorch form of Keras' `trainable = False`
    try:
        loss = generator_loss(_call(D, _call(G, z, labels), labels))
        opt_G.zero_grad(set_to_none=True)
        loss.backward()
        opt_G.step()
    finally:
        D.requires_grad_(True)
    return loss.item()


def conditional_discriminator_loss(
    D, real, labels, fake, fake_labels, classes: int = 10, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, dict]:
    """The lecture's cGAN discriminator: output 1 only for a genuine image with its correct label.

    Three cases:  (genuine, correct label) -> 1;  (genuine, wrong label) -> 0;  (fake, any label) -> 0.
    Returns the summed loss and the three parts.
    """
    offset = torch.randint(1, classes, labels.shape, generator=generator).to(labels.device)
    wrong = (labels + offset) % classes  # always a different label
    parts = {
        "genuine_correct": F.binary_cross_entropy_with_logits(
            D(real, labels), torch.full(labels.shape, REAL, device=real.device)
        ),
        "genuine_wrong": F.binary_cross_entropy_with_logits(
            D(real, wrong), torch.full(labels.shape, FAKE, device=real.device)
        ),
        "fake_any": F.binary_cross_entropy_with_logits(
            D(fake, fake_labels), torch.full(fake_labels.shape, FAKE, device=real.device)
        ),
    }
    return parts["genuine_correct"] + 0.5 * (parts["genuine_wrong"] + parts["fake_any"]), parts


def conditional_discriminator_step(
    G,
    D,
    real,
    labels,
    z,
    fake_labels,
    opt_D,
    classes: int = 10,
    generator: torch.Generator | None = None,
) -> float:
    """Steps 1-2 for a cGAN: fakes for random labels, then D on the three cases. Returns D's loss."""
    with torch.no_grad():
        fake = G(z, fake_labels)
    loss, _ = conditional_discriminator_loss(D, real, labels, fake, fake_labels, classes, generator)
    opt_D.zero_grad(set_to_none=True)
    loss.backward()
    opt_D.step()
    return loss.item()


# ----------------------------------------------------------------------------- a resumable trainer
class GANTrainer:
    """Holds G, D, their optimisers and the history; `train_step()` is one round of the lecture's loop.

    k: discriminator steps per generator step. Each round is all-or-nothing: if anything raises
    (a NaN guard, a KeyboardInterrupt), the networks and optimisers are restored to where the round
    began and the history is untouched, so `run()` can simply be called again to resume.
    """

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
        # callable(batch_size, generator) -> real batch, or (batch, labels) for a conditional GAN
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

    def _state(self):
        return (
            copy.deepcopy(self.G.state_dict()),
            copy.deepcopy(self.D.state_dict()),
            copy.deepcopy(self.opt_G.state_dict()),
            copy.deepcopy(self.opt_D.state_dict()),
            self.gen.get_state(),
        )

    def _restore(self, state) -> None:
        g, d, og, od, rng = state
        self.G.load_state_dict(g)
        self.D.load_state_dict(d)
        self.opt_G.load_state_dict(og)
        self.opt_D.load_state_dict(od)
        self.gen.set_state(rng)
        self.D.requires_grad_(True)

    def train_step(self) -> tuple[float, float]:
        """One round: k discriminator steps, then one generator step. Returns (d_loss, g_loss)."""
        saved = self._state()
        try:
            self.G.train()
            self.D.train()
            for _ in range(self.k):
                if self.classes:
                    real, labels = self.sample_real(self.batch_size, self.gen)
                    d_loss = conditional_discriminator_step(
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
                else:
                    real = self.sample_real(self.batch_size, self.gen).to(self.device)
                    d_loss = discriminator_step(
                        self.G, self.D, real, self.noise(self.batch_size), self.opt_D
                    )
            labels = self.random_labels(self.batch_size) if self.classes else None
            g_loss = generator_step(self.G, self.D, self.noise(self.batch_size), self.opt_G, labels)
            if not (torch.isfinite(torch.tensor(d_loss)) and torch.isfinite(torch.tensor(g_loss))):
                raise FloatingPointError(
                    f"GAN loss became non-finite at step {self.steps + 1} "
                    f"(d_loss={d_loss}, g_loss={g_loss}); try a smaller learning rate"
                )
        except BaseException:
            self._restore(saved)
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


def toy_sampler(points: torch.Tensor, labels: torch.Tensor | None = None):
    """A sample_real for GANTrainer: random batches from fixed data (points or images), with labels if given."""

    def sample_real(n, generator):
        idx = torch.randint(0, len(points), (n,), generator=generator)
        return points[idx] if labels is None else (points[idx], labels[idx])

    return sample_real


@torch.no_grad()
def modes_covered(
    samples: torch.Tensor, centres: torch.Tensor, radius: float = 0.3, min_share: float = 0.02
) -> int:
    """How many mixture components get at least min_share of the samples within `radius` of their centre."""
    d = torch.cdist(samples, centres)
    nearest = d.argmin(1)
    close = d.min(1).values < radius
    shares = torch.bincount(nearest[close], minlength=len(centres)).float() / len(samples)
    return int((shares >= min_share).sum())
