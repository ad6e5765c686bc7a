"""What keeps training from destroying a model: a guard on every loss, and one way to roll back.

    snapshot = Snapshot([model], [optimizer])      the last good state (weights, optimizer, RNG)
    guard = LossGuard(snapshot)
    guard.check(loss.item(), "epoch 3, step 7")    before the optimizer step: NaN/inf or an
                                                   explosion restores the snapshot and raises

fit() takes a snapshot after every epoch (or round of steps); the GAN trainer takes one before
every round, so a failed round leaves both networks as they were.
"""

from __future__ import annotations

import copy
import math
from typing import Iterable

import torch
from torch import nn

__all__ = ["NonFiniteLossError", "Snapshot", "LossGuard", "EXPLODE_FACTOR"]

# A loss this many times its first value (and above 1) means the run diverged.
EXPLODE_FACTOR = 1e6


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite, or exploded; the message names where.

    The model was put back to its last good state before this was raised; `history` holds the
    run so far (when the loop keeps one)."""

    def __init__(self, message: str, history=None):
        super().__init__(message)
        self.history = history


class Snapshot:
    """A copy of everything a rollback needs: the weights (and buffers) of some modules, the state of
    their optimizers and LR schedulers, and the state of random generators.

    `take(when)` copies them now; `restore()` puts them back (any number of times)."""

    def __init__(
        self,
        modules: Iterable[nn.Module],
        optimizers: Iterable[torch.optim.Optimizer] = (),
        schedulers: Iterable = (),
        generators: Iterable[torch.Generator] = (),
        when: str = "the start of this fit()",
    ):
        self.modules = list(modules)
        self.optimizers = list(optimizers)
        self.schedulers = list(schedulers)
        self.generators = list(generators)
        self.take(when)

    def take(self, when: str) -> None:
        self.when = when
        self.weights = [
            {k: v.detach().clone() for k, v in m.state_dict().items()} for m in self.modules
        ]
        self.optimizer_states = [copy.deepcopy(o.state_dict()) for o in self.optimizers]
        self.scheduler_states = [copy.deepcopy(s.state_dict()) for s in self.schedulers]
        self.rng_states = [g.get_state() for g in self.generators]

    def restore(self) -> None:
        with torch.no_grad():
            for module, weights in zip(self.modules, self.weights):
                module.load_state_dict(weights)
        # load_state_dict keeps the tensors it is given: hand it copies, so the snapshot stays intact
        for optimizer, state in zip(self.optimizers, self.optimizer_states):
            optimizer.load_state_dict(copy.deepcopy(state))
        for scheduler, state in zip(self.schedulers, self.scheduler_states):
            scheduler.load_state_dict(copy.deepcopy(state))
        for generator, state in zip(self.generators, self.rng_states):
            generator.set_state(state)


def non_finite_rows(batch, rows=None, limit: int = 5) -> list[int]:
    """Rows of a batch with a NaN/inf value in a float tensor: indices into the training set when
    `rows` (the batch's row indices) is given, else positions in the batch."""
    bad = torch.zeros(len(batch[0]), dtype=torch.bool)
    for t in batch:
        if isinstance(t, torch.Tensor) and t.is_floating_point():
            bad |= ~torch.isfinite(t.reshape(len(t), -1)).all(1).cpu()
    where = rows if rows is not None else torch.arange(len(bad))
    return where[bad][:limit].tolist()


class LossGuard:
    """Checks each loss before it reaches the weights. A NaN/inf loss, or one EXPLODE_FACTOR times
    the first loss it saw (and above 1), restores the snapshot and raises NonFiniteLossError."""

    def __init__(self, snapshot: Snapshot, history=None):
        self.snapshot, self.history = snapshot, history
        self.first: float | None = None

    def check(self, value: float, where: str, batch=None, rows=None) -> None:
        """where: e.g. "epoch 0, step 3 (global step 3)"; batch and rows name bad input rows."""
        if not math.isfinite(value):
            self.snapshot.restore()
            bad = non_finite_rows(batch, rows) if batch is not None else []
            if bad:
                source = "of train_data" if rows is not None else "of this batch"
                cause = (
                    f"the batch holds NaN/inf inputs (rows {bad} {source}): clean the data, a "
                    "smaller learning rate will not help"
                )
            else:
                cause = (
                    "the inputs are finite, so the weights diverged: try a smaller learning rate"
                )
            raise NonFiniteLossError(
                f"loss became {value} at {where}, caught before the optimizer step; the weights "
                f"were restored to {self.snapshot.when}. {cause}",
                self.history,
            )
        self.first = abs(value) if self.first is None else self.first
        if abs(value) > EXPLODE_FACTOR * max(self.first, 1.0):
            self.snapshot.restore()
            raise NonFiniteLossError(
                f"loss grew from {self.first:.4g} to {value:.4g} at {where}: training diverged; the "
                f"weights were restored to {self.snapshot.when}. Try a smaller learning rate "
                "(e.g. 10x smaller)",
                self.history,
            )
