"""Training recipes the lectures share, each a call to fit().

pretrain_stack(x, [784, 256, 64])     greedy layer-wise pre-training of a stacked autoencoder (03)
train_char_lm(model, ids, ...)        next-character training on sentence windows (08)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..models.sequence_tasks import sentence_windows
from .loop import fit

__all__ = ["pretrain_stack", "train_char_lm"]


def pretrain_stack(
    x: torch.Tensor,
    sizes: list[int],
    epochs: int = 5,
    lr: float = 2e-3,
    batch_size: int = 128,
    seed: int = 0,
    progress: bool = True,
) -> list[nn.Sequential]:
    """Greedy layer-wise pre-training: each autoencoder learns to reconstruct the previous code.

    x: (N, D) or images; sizes: [D, h1, h2, ...]. Returns the encoders [Linear(D, h1) + ReLU, ...],
    each trained (without labels) as the encoder of a one-hidden-layer autoencoder.
    """
    if len(sizes) < 2 or sizes[0] != math.prod(x.shape[1:]):
        raise ValueError(
            f"sizes must start with the input size {math.prod(x.shape[1:])} and have a code size, got {sizes}"
        )
    encoders = []
    codes = x.flatten(1)
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        torch.manual_seed(seed + i)
        encoder = nn.Sequential(nn.Linear(a, b), nn.ReLU())
        decoder = nn.Linear(b, a)
        fit(
            nn.Sequential(encoder, decoder),
            (codes, codes),
            nn.MSELoss(),
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            seed=seed + i,
            progress=progress,
            desc=f"layer {i + 1}: {a} -> {b}",
        )
        with torch.no_grad():
            codes = encoder(codes)
        encoders.append(encoder)
    return encoders


def next_char_loss(model: nn.Module, batch, loss_fn=None):
    """The loss of a next-character model on windows (B, T + 1): predict characters 1..T from 0..T-1."""
    windows = batch[0]
    logits, _ = model(windows[:, :-1])
    return F.cross_entropy(logits.reshape(-1, model.vocab), windows[:, 1:].reshape(-1)), logits


def train_char_lm(
    model: nn.Module,
    ids: torch.Tensor,
    newline: int,
    steps: int,
    length: int = 100,
    batch_size: int = 32,
    lr: float = 3e-3,
    generator: torch.Generator | None = None,
    callback=None,
    progress: bool = False,
) -> list[float]:
    """Next-character training (a CharLSTM) on windows that begin at a sentence start
    (sequence_tasks.sentence_windows): Adam with a one-cycle learning rate, gradients clipped at
    norm 1. callback(step, losses) after each step. Returns the loss of every step."""
    history = fit(
        model,
        None,
        None,
        steps=steps,
        batches=sentence_windows(ids, newline, length, batch_size, generator),
        step_fn=next_char_loss,
        lr=lr,
        scheduler=lambda opt: torch.optim.lr_scheduler.OneCycleLR(
            opt, lr, total_steps=steps, pct_start=0.1
        ),
        clip_grad=1.0,
        callbacks=[lambda info: callback(info["step"] - 1, info["history"].step_loss)]
        if callback is not None
        else (),
        progress=progress,
        desc="character LM",
    )
    return history.step_loss
