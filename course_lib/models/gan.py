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

import torch
import torch.nn.functional as F
from torch import nn

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


# ----------------------------------------------------------------------------- judging a 2D generator
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
