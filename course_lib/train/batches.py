"""Where the batches come from. Each yields (rows, batch): the row indices and the tensors.

shuffled_batches(data, 128, g)   one epoch: every row once, in a new random order
random_batches(data, 64, g)      endless: rows drawn with replacement (nanoGPT's get_batch)
batch_sampler(x, y)              sample(n, g) -> a random batch: the GAN trainer's real data
"""

from __future__ import annotations

import torch

__all__ = ["shuffled_batches", "random_batches", "batch_sampler"]


def _take(data, rows, device=None):
    if device is None:
        return [t[rows] for t in data]
    return [t[rows].to(device, non_blocking=True) for t in data]


def shuffled_batches(data, batch_size: int, generator: torch.Generator, device=None):
    """One epoch of `data` (a tuple of tensors with the same first dimension), shuffled."""
    order = torch.randperm(len(data[0]), generator=generator)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        yield rows, _take(data, rows, device)


def random_batches(data, batch_size: int, generator: torch.Generator, device=None):
    """Batches of `batch_size` rows drawn at random with replacement, for ever (train by steps)."""
    while True:
        rows = torch.randint(0, len(data[0]), (batch_size,), generator=generator)
        yield rows, _take(data, rows, device)


def batch_sampler(x: torch.Tensor, labels: torch.Tensor | None = None):
    """sample(n, generator) -> n random rows of x (and their labels): real data for GANTrainer."""
    if labels is not None and len(labels) != len(x):
        raise ValueError(f"x and labels need the same length, got {len(x)} and {len(labels)}")

    def sample(n: int, generator: torch.Generator):
        rows = torch.randint(0, len(x), (n,), generator=generator)
        return x[rows] if labels is None else (x[rows], labels[rows])

    return sample
