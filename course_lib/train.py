"""One small training loop for the whole course.

    history = fit(model, (x_train, y_train), loss_fn=nn.CrossEntropyLoss(), epochs=5,
                  eval_data=(x_test, y_test), metrics={"acc": accuracy})
    history["train_loss"], history["val_loss"], history["val_acc"]   # one value per epoch

It takes tensors (the course's datasets fit in memory), shuffles them with a seeded
generator, shows tqdm progress, calls `callbacks` after every step (for live plots),
and runs on cpu or cuda. It never destroys a model: a NaN/inf loss is caught *before* the optimizer
step, a loss that explodes stops the run, and in both cases the weights (and optimizer state) go back
to the last good point; the history so far is kept on the error (`err.history`), and on Ctrl-C / the
kernel's stop button too (`last_history()`).
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, Sequence

import torch
from torch import nn

__all__ = [
    "fit",
    "evaluate",
    "accuracy",
    "predict",
    "History",
    "NonFiniteLossError",
    "last_history",
]

# A loss this many times its first value (and above 1) means the run diverged.
EXPLODE_FACTOR = 1e6
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


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite, or exploded; the message names the epoch and step.

    The model was put back to its last good weights before this was raised; `history` holds the
    run so far."""

    def __init__(self, message: str, history: History | None = None):
        super().__init__(message)
        self.history = history


_LAST_HISTORY: History | None = None


def last_history() -> History | None:
    """The History of the most recent fit(), also when it was interrupted or stopped by an error."""
    return _LAST_HISTORY


class History(dict):
    """Per-epoch values: history["train_loss"][e] is the mean training loss of epoch e.

    Also keeps `step_loss`, the loss of every step, for fine-grained curves.
    """

    def __init__(self):
        super().__init__(epoch=[], train_loss=[])
        self.step_loss: list[float] = []

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


def _default_step(
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
    step_fn = step_fn or _default_step
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


def _non_finite_rows(batch, idx, limit: int = 5) -> list[int]:
    """Indices (into the training set) of rows of this batch with a NaN/inf value in a float tensor."""
    bad = torch.zeros(len(idx), dtype=torch.bool)
    for t in batch:
        if t.is_floating_point():
            bad |= ~torch.isfinite(t.reshape(len(t), -1)).all(1).cpu()
    return idx[bad][:limit].tolist()


class _Snapshot:
    """A copy of the model's weights and the optimizer's state at a point where all was well.

    Taken at the start of fit and after every epoch (not every step: copying costs time), so a
    diverged run goes back to the last epoch that ended with finite losses."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer):
        self.model, self.optimizer = model, optimizer
        self.take("the start of this fit()")

    def take(self, when: str) -> None:
        import copy

        self.when = when
        self.weights = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        self.optim = copy.deepcopy(self.optimizer.state_dict())

    def restore(self) -> None:
        with torch.no_grad():
            self.model.load_state_dict(self.weights)
        self.optimizer.load_state_dict(self.optim)


def _first_parameter(model: nn.Module, what: str) -> torch.Tensor:
    try:
        return next(model.parameters())
    except StopIteration:
        raise ValueError(
            f"{what} needs a model with parameters to train; {type(model).__name__} has none"
        ) from None


def fit(
    model: nn.Module,
    train_data,
    loss_fn: Callable,
    *,
    epochs: int = 1,
    lr: float = 1e-3,
    batch_size: int = 128,
    optimizer: torch.optim.Optimizer | None = None,
    eval_data=None,
    metrics: dict | None = None,
    step_fn: Callable | None = None,
    callbacks: Iterable[Callable] = (),
    device=None,
    seed: int = 0,
    progress: bool = True,
    desc: str = "training",
) -> History:
    """Train `model` on in-memory tensors and return its History.

    train_data: x or (x, y) tensors with the same first dimension (any device; moved per batch).
    loss_fn(output, target): with only x, the target is x itself (autoencoders); None is allowed
        with a step_fn that computes its own loss (e.g. course_lib.models.vae.vae_step).
    step_fn(model, batch, loss_fn) -> (loss, output): replaces the default forward pass,
        e.g. for a VAE whose loss needs more than (output, target).
    eval_data: evaluated after every epoch (in eval mode) -> history["val_loss"], history["val_<metric>"];
        a dict {"train": (x, y), "test": (x2, y2)} evaluates several sets -> "train_eval_loss", "test_loss", ...
    metrics: {"acc": accuracy}: functions (output, target) -> float, on train batches and eval_data.
    callbacks: f(info) after every step; info has model, epoch, step, loss, history (live plots).
    Raises NonFiniteLossError (naming epoch and step) when the loss becomes NaN or infinite, checked
    before the optimizer step, or grows EXPLODE_FACTOR times its first value: the weights and the
    optimizer state are first put back to the last epoch that ended well; `err.history` holds the run.
    With an element-wise loss (MSE, L1, BCE) the output and target shapes must match exactly.
    The model is left in eval mode, ready to use, also after an error or an interrupt
    (`last_history()` then holds the history so far).
    """
    train_data = _as_tensors(train_data, "train_data")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
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
    step_fn = step_fn or _default_step
    callbacks = list(callbacks)
    if eval_data is None:
        eval_sets = {}
    elif isinstance(eval_data, dict):
        # "train" would collide with the running training loss: call it train_eval
        eval_sets = {("train_eval" if k == "train" else k): v for k, v in eval_data.items()}
    else:
        eval_sets = {"val": eval_data}
    for name, data in eval_sets.items():
        _as_tensors(data, f"eval_data[{name!r}]")
    history = History()
    n = len(train_data[0])
    steps_per_epoch = math.ceil(n / batch_size)
    gen = torch.Generator().manual_seed(seed)
    on_device = all(
        t.device == torch.device(device) for t in train_data
    )  # skip a no-op .to() per batch
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs * steps_per_epoch, desc=desc, leave=False)
    global _LAST_HISTORY
    _LAST_HISTORY = history
    good = _Snapshot(model, optimizer)  # the last point where every loss was finite
    step, first_loss = 0, None
    epoch, i = 0, 0
    try:
        for epoch in range(epochs):
            model.train()
            order = torch.randperm(n, generator=gen)
            loss_sum = 0.0
            metric_sums = {k: 0.0 for k in (metrics or {})}
            for i in range(steps_per_epoch):
                idx = order[i * batch_size : (i + 1) * batch_size]
                batch = (
                    [t[idx] for t in train_data]
                    if on_device
                    else [t[idx].to(device, non_blocking=True) for t in train_data]
                )
                loss, out = step_fn(model, batch, loss_fn)
                value = loss.item()  # checked before the step: a bad loss never reaches the weights
                if not math.isfinite(value):
                    good.restore()
                    bad_rows = _non_finite_rows(batch, idx)
                    cause = (
                        f"the batch holds NaN/inf inputs (rows {bad_rows} of train_data): clean the "
                        "data, a smaller learning rate will not help"
                        if bad_rows
                        else "the inputs are finite, so the weights diverged: try a smaller learning rate"
                    )
                    raise NonFiniteLossError(
                        f"loss became {value} at epoch {epoch}, step {i} (global step {step}), caught "
                        f"before the optimizer step; the weights were restored to {good.when}. {cause}",
                        history,
                    )
                first_loss = abs(value) if first_loss is None else first_loss
                if abs(value) > EXPLODE_FACTOR * max(first_loss, 1.0):
                    good.restore()
                    raise NonFiniteLossError(
                        f"loss grew from {first_loss:.4g} to {value:.4g} at epoch {epoch}, step {i} "
                        f"(global step {step}): training diverged; the weights were restored to "
                        f"{good.when}. Try a smaller learning rate (e.g. 10x smaller)",
                        history,
                    )
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                history.step_loss.append(value)
                loss_sum += value * len(idx)
                if metrics:
                    target = batch[1] if len(batch) > 1 else batch[0]
                    with torch.no_grad():
                        for k, fn in metrics.items():
                            metric_sums[k] += float(fn(out.detach(), target)) * len(idx)
                step += 1
                if bar is not None:
                    bar.update(1)
                    if i % 10 == 0:
                        bar.set_postfix(epoch=epoch, loss=f"{value:.4f}", refresh=False)
                for cb in callbacks:
                    cb(
                        {
                            "model": model,
                            "epoch": epoch,
                            "step": step,
                            "loss": value,
                            "history": history,
                        }
                    )
            history.log(
                epoch=epoch,
                train_loss=loss_sum / n,
                **{f"train_{k}": v / n for k, v in metric_sums.items()},
            )
            for prefix, data in eval_sets.items():
                result = evaluate(model, data, loss_fn, metrics, step_fn=step_fn)
                history.log(**{f"{prefix}_{k}": v for k, v in result.items()})
            good.take(f"the end of epoch {epoch}")
    except KeyboardInterrupt:
        import sys

        print(
            f"training interrupted at epoch {epoch}, step {i}: the model keeps the weights it has "
            f"now ({len(history['epoch'])} full epoch(s) logged); the history so far is "
            "course_lib.train.last_history()",
            file=sys.stderr,
        )
        raise
    finally:
        if bar is not None:
            bar.close()
        model.eval()
    return history


# ----------------------------------------------------------------------------- recipes built on fit
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
