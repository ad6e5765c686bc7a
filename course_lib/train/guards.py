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

__all__ = ["NonFiniteLossError", "Snapshot", "LossGuard", "EXPLODE_FACTOR", "non_finite_weights"]

# A loss this many times its first value (and above 1) means the run diverged.
EXPLODE_FACTOR = 1e6


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite, or exploded; the message names where.

    The model was put back to its last good state before this was raised; `history` holds the
    run so far (when the loop keeps one)."""

    def __init__(self, message: str, history=None):
        super().__init__(message)
        self.history = history


def non_finite_weights(modules) -> list[str]:
    """Names of the floating-point weights and buffers of `modules` that hold NaN or inf."""
    return [
        name
        for m in modules
        for name, t in m.state_dict().items()
        if t.is_floating_point() and not torch.isfinite(t).all()
    ]


class Snapshot:
    """The last good state, for a rollback: the weights (and buffers) of some modules, the state of
    their optimizers and LR schedulers, and the state of random generators.

    Made at construction, it is good at once (the state the caller handed over). `take(when)` copies
    the state now as a *candidate*: weights no loss has been computed on yet may already have
    diverged (in full-batch training every epoch ends that way). `confirm()` - called by the LossGuard
    when the next loss, computed on exactly those weights, passes - makes the candidate the state
    `restore()` goes back to (any number of times). Non-finite weights are never taken."""

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
        self._candidate = None
        self.take(when)
        self.confirm()

    def take(self, when: str) -> None:
        """Copy the state now, as a candidate. Raises NonFiniteLossError (after restoring the last
        good state) when a weight is already NaN or inf."""
        bad = non_finite_weights(self.modules)
        if bad:
            self.restore()
            raise NonFiniteLossError(
                f"the weights became NaN or inf ({', '.join(bad[:3])}) although every loss was finite, "
                f"by {when}: the updates are too large - try a smaller learning rate. The weights "
                f"were restored to {self.when}"
            )
        self._candidate = (
            when,
            [{k: v.detach().clone() for k, v in m.state_dict().items()} for m in self.modules],
            [copy.deepcopy(o.state_dict()) for o in self.optimizers],
            [copy.deepcopy(s.state_dict()) for s in self.schedulers],
            [g.get_state() for g in self.generators],
        )

    def confirm(self) -> None:
        """The candidate proved good (a finite loss on its weights): it is now what restore() restores."""
        if self._candidate is not None:
            (
                self.when,
                self.weights,
                self.optimizer_states,
                self.scheduler_states,
                self.rng_states,
            ) = self._candidate
            self._candidate = None

    def restore(self) -> None:
        self._candidate = None
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


def huge_rows(batch, rows=None, limit: int = 5) -> tuple[list[int], float, float]:
    """Rows of a batch with finite but huge values: above 1e6 and a thousand times the batch's typical
    row. Returns (their indices as in non_finite_rows, the largest value, the typical row's largest)."""
    mags = torch.zeros(len(batch[0]))
    for t in batch:
        if isinstance(t, torch.Tensor) and t.is_floating_point():
            m = t.detach().reshape(len(t), -1).abs().amax(1).cpu().float()
            mags = torch.maximum(mags, torch.nan_to_num(m, nan=0.0, posinf=0.0))
    typical = mags.median().item()
    bad = (mags > 1e6) & (mags > 1e3 * max(typical, 1e-12))
    where = rows if rows is not None else torch.arange(len(mags))
    return where[bad][:limit].tolist(), mags.max().item(), typical


class LossGuard:
    """Checks each loss before it reaches the weights. A NaN/inf loss, or one EXPLODE_FACTOR times
    the first loss it saw (and above 1), restores the last good snapshot and raises
    NonFiniteLossError saying where and why: bad input rows (NaN/inf, or finite but huge), a loss
    that was already bad before any update (not the learning rate), or diverging weights. A loss that
    passes confirms the snapshot's candidate: the weights it was computed on are good."""

    def __init__(self, snapshot: Snapshot, history=None):
        self.snapshot, self.history = snapshot, history
        self.first: float | None = None

    def _cause(self, batch, rows) -> str:
        source = "of train_data" if rows is not None else "of this batch"
        bad = non_finite_rows(batch, rows) if batch is not None else []
        if bad:
            return (
                f"the batch holds NaN/inf inputs (rows {bad} {source}): clean the data, a smaller "
                "learning rate will not help"
            )
        huge, largest, typical = huge_rows(batch, rows) if batch is not None else ([], 0.0, 0.0)
        if huge:
            return (
                f"rows {huge} {source} hold finite but huge values (up to {largest:.3g}; a typical "
                f"row's largest is {typical:.3g}): clean or rescale the data, a smaller learning rate "
                "will not help"
            )
        if self.first is None:
            return (
                "this was the first batch, before any update: the weights have not moved, so the "
                "learning rate is not the cause - look at the targets (e.g. BCE needs them in [0, 1], "
                "cross-entropy needs class labels below the number of outputs) and the loss function"
            )
        return "the inputs are finite, so the weights diverged: try a smaller learning rate"

    def check(self, value: float, where: str, batch=None, rows=None) -> None:
        """where: e.g. "epoch 0, step 3 (global step 3)"; batch and rows name bad input rows."""
        if not math.isfinite(value):
            cause = self._cause(batch, rows)
            self.snapshot.restore()
            raise NonFiniteLossError(
                f"loss became {value} at {where}, caught before the optimizer step; the weights "
                f"were restored to {self.snapshot.when}. {cause}",
                self.history,
            )
        first = abs(value) if self.first is None else self.first
        if abs(value) > EXPLODE_FACTOR * max(first, 1.0):
            cause = self._cause(batch, rows)
            self.snapshot.restore()
            raise NonFiniteLossError(
                f"loss grew from {first:.4g} to {value:.4g} at {where}: training diverged; the "
                f"weights were restored to {self.snapshot.when}. {cause}",
                self.history,
            )
        self.first = first
        self.snapshot.confirm()
