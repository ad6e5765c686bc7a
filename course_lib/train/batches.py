"""Where the batches come from. Each yields (rows, batch): the row indices and the tensors.

shuffled_batches(data, 128, g)   one epoch: every row once, in a new random order
random_batches(data, 64, g)      endless: rows drawn with replacement (nanoGPT's get_batch)
batch_sampler(x, y)              sample(n, g) -> a random batch: the GAN trainer's real data
"""

from __future__ import annotations

import torch

__all__ = ["shuffled_batches", "random_batches", "batch_sampler", "epoch_steps"]


def _take(data, rows, device=None):
    if device is None:
        return [t[rows] for t in data]
    return [t[rows].to(device, non_blocking=True) for t in data]


def epoch_steps(n: int, batch_size: int, no_single: bool = False) -> int:
    """Batches in one epoch of n rows; with no_single, a last batch of one row joins the one before."""
    steps = -(-n // batch_size)
    return steps - 1 if no_single and steps > 1 and n % batch_size == 1 else steps


def shuffled_batches(
    data, batch_size: int, generator: torch.Generator, device=None, no_single: bool = False
):
    """One epoch of `data` (a tuple of tensors with the same first dimension), shuffled. no_single:
    a last batch of one row joins the one before (batch norm cannot normalise a single row)."""
    order = torch.randperm(len(data[0]), generator=generator)
    starts = list(range(0, len(order), batch_size))[
        : epoch_steps(len(order), batch_size, no_single)
    ]
    for i, start in enumerate(starts):
        end = start + batch_size if i < len(starts) - 1 else len(order)
        rows = order[start:end]
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
