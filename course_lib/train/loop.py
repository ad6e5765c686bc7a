"""The course's training loop: fit() on top of two pieces, a step and an epoch.

    history = fit(model, (x_train, y_train), loss_fn=nn.CrossEntropyLoss(), epochs=5,
                  eval_data=(x_test, y_test), metrics={"acc": accuracy})
    history["train_loss"], history["val_loss"], history["val_acc"]   # one value per epoch

    fit(model, x, None, steps=6_000, step_fn=..., scheduler=..., clip_grad=1.0, ema=EMA(model, 0.995))

Trainer.step(batch) is one optimizer step: forward, the loss guard, backward, gradient clipping,
optimizer step, LR scheduler step, EMA update. Trainer.epoch(batches) runs steps over some batches
and averages their loss and metrics. fit() checks its arguments, makes the batches (shuffled epochs,
or a budget of random batches), evaluates, shows progress, and keeps one rollback (guards.Snapshot):
a NaN/inf or exploding loss is caught *before* the optimizer step and the weights go back to the last
good epoch. The history so far is kept on the error (`err.history`), and on Ctrl-C too
(`last_history()`).
"""

from __future__ import annotations

import copy
import math
import time
from typing import Callable, Iterable, Sequence

import torch
from torch import nn

from ..feedback import Progress
from .batches import epoch_steps, random_batches, shuffled_batches
from .guards import LossGuard, Snapshot

__all__ = [
    "fit",
    "Trainer",
    "EMA",
    "evaluate",
    "accuracy",
    "predict",
    "History",
    "last_history",
]

# Losses that compare output and target element by element: their shapes must match exactly
# (PyTorch would broadcast (N, 1) against (N,) into (N, N) and train on the wrong loss).
_ELEMENTWISE_LOSSES = (
    nn.MSELoss,
    nn.L1Loss,
    nn.SmoothL1Loss,
    nn.HuberLoss,
    nn.BCELoss,
    nn.BCEWithLogitsLoss,
)
_ELEMENTWISE_FUNCTIONS = {
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
}

_LAST_HISTORY: History | None = None


def last_history() -> History | None:
    """The History of the most recent fit(), also when it was interrupted or stopped by an error."""
    return _LAST_HISTORY


class History(dict):
    """Per-epoch values: history["train_loss"][e] is the mean training loss of epoch e (when training
    by steps, of round e: `log_every` steps). Also keeps `step_loss`, the loss of every step."""

    def __init__(self):
        super().__init__(epoch=[], train_loss=[])
        self.step_loss: list[float] = []
        self.stalled = False  # the loss did not fall (fit warned)

    def log(self, **values: float) -> None:
        for key, value in values.items():
            self.setdefault(key, []).append(float(value))

    def last(self, key: str) -> float:
        if not self.get(key):
            raise KeyError(f"history has no values for {key!r}; it has {sorted(self)}")
        return self[key][-1]


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows whose largest logit is at the label. logits: (B, C), y: (B,)."""
    if logits.ndim != 2 or y.ndim != 1 or logits.shape[0] != y.shape[0]:
        raise ValueError(
            f"expected logits (B, C) and labels (B,), got {tuple(logits.shape)} and {tuple(y.shape)}"
        )
    return (logits.argmax(1) == y).float().mean().item()


def _as_tensors(data, name: str) -> tuple[torch.Tensor, ...]:
    if isinstance(data, torch.Tensor):
        data = (data,)
    if (
        not isinstance(data, (tuple, list))
        or not data
        or not all(isinstance(t, torch.Tensor) for t in data)
    ):
        raise TypeError(
            f"{name} must be a tensor or a tuple of tensors (x, y), got {type(data).__name__}"
        )
    n = data[0].shape[0]
    if any(t.shape[0] != n for t in data):
        raise ValueError(
            f"{name}: every tensor needs the same first dimension, got {[tuple(t.shape) for t in data]}"
        )
    if n == 0:
        raise ValueError(f"{name} is empty")
    return tuple(data)


def default_step(
    model: nn.Module, batch: Sequence[torch.Tensor], loss_fn: Callable
) -> tuple[torch.Tensor, torch.Tensor]:
    """Supervised (x, y) -> loss(model(x), y); a single tensor x -> loss(model(x), x) (autoencoders)."""
    target = batch[0] if len(batch) == 1 else batch[1]
    out = model(batch[0])
    _check_elementwise_shapes(loss_fn, out, target)
    return loss_fn(out, target), out


def _check_elementwise_shapes(loss_fn, out, target) -> None:
    elementwise = isinstance(loss_fn, _ELEMENTWISE_LOSSES) or (
        getattr(loss_fn, "__name__", None) in _ELEMENTWISE_FUNCTIONS
    )
    if elementwise and isinstance(out, torch.Tensor) and out.shape != target.shape:
        name = getattr(loss_fn, "__name__", type(loss_fn).__name__)
        hint = ""
        if out.numel() == target.numel():
            hint = (
                f": reshape one of them, e.g. target.view({tuple(out.shape)}) or output.squeeze()"
            )
        raise ValueError(
            f"{name} compares output and target element by element, but the model's output has shape "
            f"{tuple(out.shape)} and the target {tuple(target.shape)}; PyTorch would broadcast them "
            f"and train on the wrong loss{hint}"
        )


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 1024, device=None) -> torch.Tensor:
    """model(x) in eval mode, batch by batch, returned on the CPU."""
    device = device or _first_parameter(model, "predict()").device
    was_training = model.training
    model.eval()
    try:
        return torch.cat(
            [model(x[i : i + batch_size].to(device)).cpu() for i in range(0, len(x), batch_size)]
        )
    finally:
        model.train(was_training)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data,
    loss_fn: Callable,
    metrics: dict | None = None,
    batch_size: int = 1024,
    step_fn: Callable | None = None,
) -> dict:
    """Mean loss (and metrics on the whole set) in eval mode. Returns {"loss": ..., name: ...}."""
    data = _as_tensors(data, "eval_data")
    device = _first_parameter(model, "evaluate()").device
    step_fn = step_fn or default_step
    was_training = model.training
    model.eval()
    total, outs = 0.0, []
    try:
        for i in range(0, len(data[0]), batch_size):
            batch = [t[i : i + batch_size].to(device) for t in data]
            loss, out = step_fn(model, batch, loss_fn)
            total += loss.item() * len(batch[0])
            if metrics:
                outs.append(out.cpu())
    finally:
        model.train(was_training)
    result = {"loss": total / len(data[0])}
    if metrics:
        out = torch.cat(outs)
        target = data[1] if len(data) > 1 else data[0]
        for name, fn in metrics.items():
            result[name] = float(fn(out, target))
    return result


def _first_parameter(model: nn.Module, what: str) -> torch.Tensor:
    try:
        return next(model.parameters())
    except StopIteration:
        raise ValueError(
            f"{what} needs a model with parameters to train; {type(model).__name__} has none"
        ) from None


class EMA:
    """An exponential moving average of a model's weights: after every step
    avg = decay * avg + (1 - decay) * weights. Its copy of the model (`ema.module`, no gradients)
    often samples or generalises better than the last weights. Buffers (batch-norm statistics) are
    copied, not averaged."""

    def __init__(self, model: nn.Module, decay: float = 0.999):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"decay must be between 0 and 1, e.g. 0.999, got {decay!r}")
        self.decay = decay
        self.module = copy.deepcopy(model).requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for average, weight in zip(self.module.parameters(), model.parameters()):
            average.mul_(self.decay).add_(weight, alpha=1 - self.decay)
        for average, buffer in zip(self.module.buffers(), model.buffers()):
            average.copy_(buffer)


class Trainer:
    """The pieces of fit(): `step` trains on one batch, `epoch` on a sequence of batches.

    step_fn(model, batch, loss_fn) -> (loss, output): the forward pass and the loss (default:
    `default_step`). clip_grad: max gradient norm; scheduler: stepped after every optimizer step;
    ema: an EMA updated after every step; guard: a LossGuard checked before every optimizer step.
    """

    def __init__(
        self,
        model: nn.Module,
        loss_fn: Callable | None,
        optimizer: torch.optim.Optimizer,
        guard: LossGuard,
        *,
        step_fn: Callable | None = None,
        clip_grad: float | None = None,
        scheduler=None,
        ema: EMA | None = None,
        metrics: dict | None = None,
        callbacks: Iterable[Callable] = (),
        history: History | None = None,
        bar=None,
    ):
        self.model, self.loss_fn, self.optimizer, self.guard = model, loss_fn, optimizer, guard
        self.step_fn = step_fn or default_step
        self.clip_grad, self.scheduler, self.ema = clip_grad, scheduler, ema
        self.metrics = metrics or {}
        self.callbacks = list(callbacks)
        self.history = history if history is not None else History()
        self.bar = bar
        self.global_step = 0
        self.position = (0, 0)  # (epoch, step in the epoch) of the step under way

    def step(self, batch, where: str = "", rows=None) -> tuple[float, torch.Tensor]:
        """One optimizer step on `batch`; returns (loss value, model output)."""
        loss, out = self.step_fn(self.model, batch, self.loss_fn)
        value = loss.item()  # checked before the step: a bad loss never reaches the weights
        self.guard.check(value, where or f"global step {self.global_step}", batch, rows)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.clip_grad is not None:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_grad)
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        if self.ema is not None:
            self.ema.update(self.model)
        return value, out

    def epoch(self, batches, epoch: int) -> dict:
        """Train on every (rows, batch) of `batches`; returns the mean loss and metrics, weighted by
        batch size: {"train_loss": ..., "train_<metric>": ...}."""
        self.model.train()
        loss_sum, count = 0.0, 0
        metric_sums = {k: 0.0 for k in self.metrics}
        for i, (rows, batch) in enumerate(batches):
            self.position = (epoch, i)
            where = f"epoch {epoch}, step {i} (global step {self.global_step})"
            value, out = self.step(batch, where, rows)
            size = len(batch[0])
            self.history.step_loss.append(value)
            loss_sum += value * size
            count += size
            if self.metrics:
                target = batch[1] if len(batch) > 1 else batch[0]
                with torch.no_grad():
                    for k, fn in self.metrics.items():
                        metric_sums[k] += float(fn(out.detach(), target)) * size
            self.global_step += 1
            if self.bar is not None:  # moves when its budget allows: a share of the training's CPU
                self.bar.step(1, epoch=epoch, loss=f"{value:.4f}")
            for cb in self.callbacks:
                cb(
                    {
                        "model": self.model,
                        "epoch": epoch,
                        "step": self.global_step,
                        "loss": value,
                        "history": self.history,
                    }
                )
        return {
            "train_loss": loss_sum / count,
            **{f"train_{k}": v / count for k, v in metric_sums.items()},
        }


def _positive_int(name: str, value, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def _batch_of(item, device) -> tuple:
    """(rows, batch) for a batch from the caller's `batches`: a tensor or a tuple of tensors."""
    batch = [item] if isinstance(item, torch.Tensor) else item
    if (
        not isinstance(batch, (tuple, list))
        or not batch
        or not all(isinstance(t, torch.Tensor) for t in batch)
    ):
        raise TypeError(
            f"batches must yield a tensor or a tuple of tensors, got {type(item).__name__}"
        )
    return None, [t if device is None else t.to(device, non_blocking=True) for t in batch]


def _check_options(epochs, steps, batches, log_every, batch_size, clip_grad, ema) -> None:
    if epochs is not None and steps is not None:
        raise ValueError(f"give epochs or steps, not both (got epochs={epochs}, steps={steps})")
    if batches is not None and steps is None:
        raise ValueError("batches= trains by steps: give steps= as well")
    _positive_int("epochs", epochs, allow_none=True)
    _positive_int("steps", steps, allow_none=True)
    _positive_int("log_every", log_every, allow_none=True)
    _positive_int("batch_size", batch_size)
    if clip_grad is not None and not (isinstance(clip_grad, (int, float)) and clip_grad > 0):
        raise ValueError(
            f"clip_grad must be a positive number (a gradient norm), got {clip_grad!r}"
        )
    if ema is not None and not isinstance(ema, EMA):
        raise TypeError(f"ema must be an EMA(model, decay), got {type(ema).__name__}")


def _eval_sets(eval_data) -> dict:
    """{prefix: data}: "val" for one set; a dict's names ("train" becomes "train_eval", which would
    otherwise collide with the running training loss)."""
    if eval_data is None:
        sets = {}
    elif isinstance(eval_data, dict):
        sets = {("train_eval" if k == "train" else k): v for k, v in eval_data.items()}
    else:
        sets = {"val": eval_data}
    for name, data in sets.items():
        _as_tensors(data, f"eval_data[{name!r}]")
    return sets


def _plan(train_data, epochs, steps, batches, log_every, batch_size, generator, device, batch_norm):
    """(steps per round, round_batches(n) -> the next n (rows, batch) pairs). Epochs: every row once
    per round, shuffled (with batch norm, a last batch of one row joins the one before). A step
    budget: random batches (or the caller's), rounds of log_every steps."""
    on_device = train_data is None or all(t.device == torch.device(device) for t in train_data)
    move = None if on_device else device  # skip a no-op .to() per batch
    if batch_norm and batch_size == 1:
        raise ValueError(
            "the model has batch norm, which cannot normalise a batch of one row: use batch_size >= 2"
        )
    if steps is None:
        rounds = [epoch_steps(len(train_data[0]), batch_size, batch_norm)] * (epochs or 1)
        return rounds, lambda _: shuffled_batches(
            train_data, batch_size, generator, move, batch_norm
        )
    every = log_every or max(1, math.ceil(steps / 10))
    rounds = [every] * (steps // every) + ([steps % every] if steps % every else [])
    source = (
        random_batches(train_data, batch_size, generator, move)
        if batches is None
        else (_batch_of(b, device) for b in batches)
    )
    return rounds, lambda n: (next(source) for _ in range(n))


def fit(
    model: nn.Module,
    train_data,
    loss_fn: Callable,
    *,
    epochs: int | None = None,
    steps: int | None = None,
    batches: Iterable | None = None,
    log_every: int | None = None,
    lr: float = 1e-3,
    batch_size: int = 128,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler=None,
    clip_grad: float | None = None,
    ema: EMA | None = None,
    eval_data=None,
    metrics: dict | None = None,
    step_fn: Callable | None = None,
    callbacks: Iterable[Callable] = (),
    device=None,
    seed: int = 0,
    generator: torch.Generator | None = None,
    progress: bool = True,
    desc: str = "training",
) -> History:
    """Train `model` on in-memory tensors and return its History.

    train_data: x or (x, y) tensors with the same first dimension (any device; moved per batch).
    loss_fn(output, target): with only x, the target is x itself (autoencoders); None is allowed
        with a step_fn that computes its own loss (e.g. course_lib.models.vae.vae_step).
    epochs: passes over train_data, each shuffled (default 1). Or steps: a budget of optimizer steps
        on random batches (drawn with replacement), logged in rounds of `log_every` steps (default a
        tenth of the budget); `batches` (an iterable of batches) replaces the random batches.
    step_fn(model, batch, loss_fn) -> (loss, output): replaces the default forward pass,
        e.g. for a VAE whose loss needs more than (output, target).
    optimizer: default Adam(lr). scheduler: an LR scheduler, or a function optimizer -> scheduler,
        stepped after every optimizer step. clip_grad: clip the gradient norm to this value.
        ema: an EMA(model, decay), updated after every step.
    eval_data: evaluated after every epoch (in eval mode) -> history["val_loss"], history["val_<metric>"];
        a dict {"train": (x, y), "test": (x2, y2)} evaluates several sets -> "train_eval_loss", "test_loss", ...
    metrics: {"acc": accuracy}: functions (output, target) -> float, on train batches and eval_data.
    callbacks: f(info) after every step; info has model, epoch, step, loss, history (live plots).
    progress: a progress bar that moves when a small share of the training's CPU time pays for it
        (feedback.Progress), then one printed line: steps, time, final loss.
    seed: seeds the shuffling; or generator: the random generator the batches are drawn with (a
        step_fn may draw from the same one, e.g. for noise).
    Raises NonFiniteLossError (naming epoch and step) when the loss becomes NaN or infinite, checked
    before the optimizer step, or grows EXPLODE_FACTOR times its first value: the weights, optimizer and
    scheduler are first put back to the last epoch that ended well; `err.history` holds the run.
    With an element-wise loss (MSE, L1, BCE) the output and target shapes must match exactly.
    The model is left in eval mode, ready to use, also after an error or an interrupt
    (`last_history()` then holds the history so far).
    """
    if train_data is None and batches is None:
        raise TypeError("fit needs train_data (a tensor or a tuple of tensors) or batches")
    train_data = _as_tensors(train_data, "train_data") if train_data is not None else None
    _check_options(epochs, steps, batches, log_every, batch_size, clip_grad, ema)
    if not callable(loss_fn) and not (step_fn is not None and loss_fn is None):
        raise TypeError(
            f"loss_fn must be callable, e.g. nn.CrossEntropyLoss(), got {type(loss_fn).__name__} "
            "(it may be None only with a step_fn that computes the loss)"
        )
    if device is None:
        device = _first_parameter(model, "fit()").device
    else:
        _first_parameter(model, "fit()")
    model.to(device)
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    if scheduler is not None and not hasattr(scheduler, "step"):
        scheduler = scheduler(optimizer)  # a function optimizer -> scheduler
    eval_sets = _eval_sets(eval_data)
    gen = generator if generator is not None else torch.Generator().manual_seed(seed)
    batch_norm = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    rounds, round_batches = _plan(
        train_data, epochs, steps, batches, log_every, batch_size, gen, device, batch_norm
    )
    history = History()
    bar = Progress(sum(rounds), desc) if progress else None
    global _LAST_HISTORY
    _LAST_HISTORY = history
    good = Snapshot(  # the last point where every loss was finite: the one rollback
        [model] + ([ema.module] if ema is not None else []),
        [optimizer],
        [scheduler] if scheduler is not None else [],
    )
    trainer = Trainer(
        model,
        loss_fn,
        optimizer,
        LossGuard(good, history),
        step_fn=step_fn,
        clip_grad=clip_grad,
        scheduler=scheduler,
        ema=ema,
        metrics=metrics,
        callbacks=callbacks,
        history=history,
        bar=bar,
    )
    try:
        for epoch, n_steps in enumerate(rounds):
            means = trainer.epoch(round_batches(n_steps), epoch)
            history.log(epoch=epoch, **means)
            for prefix, data in eval_sets.items():
                result = evaluate(model, data, loss_fn, metrics, step_fn=step_fn)
                history.log(**{f"{prefix}_{k}": v for k, v in result.items()})
            good.take(f"the end of epoch {epoch}")
    except KeyboardInterrupt:
        import sys

        epoch, i = trainer.position
        print(
            f"training interrupted at epoch {epoch}, step {i}: the model keeps the weights it has "
            f"now ({len(history['epoch'])} full epoch(s) logged); the history so far is "
            "course_lib.train.last_history()",
            file=sys.stderr,
        )
        raise
    finally:
        if bar is not None:
            done = f"{bar.done} steps" + (
                f", {len(history['epoch'])} epoch(s)" if steps is None else ""
            )
            final = f", final loss {history['train_loss'][-1]:.4f}" if history["train_loss"] else ""
            bar.close(f"{desc}: {done} in {time.monotonic() - bar.start:.1f} s{final}")
        model.eval()
    _warn_if_stalled(history, optimizer)
    return history


def _warn_if_stalled(history: History, optimizer) -> None:
    """A run that learned nothing says so, instead of training silently to chance: the last epoch's
    loss is not below 0.9 x the first batch's, after at least 50 steps and 2 epochs (or rounds)."""
    losses, epochs = history.step_loss, history["train_loss"]
    if len(losses) < 50 or len(epochs) < 2 or not losses[0] > 0 or epochs[-1] < 0.9 * losses[0]:
        return
    import warnings

    history.stalled = True
    lr = optimizer.param_groups[0].get("lr", float("nan"))
    warnings.warn(
        f"fit: the training loss did not fall: {losses[0]:.4g} on the first batch, {epochs[-1]:.4g} "
        f"over the last of {len(epochs)} epochs - the model learned nothing. Usually the learning "
        f"rate (here {lr:.3g}) is far too large, so every step jumps past the minimum (or far too "
        "small); otherwise the labels do not follow the inputs",
        RuntimeWarning,
        stacklevel=3,
    )
