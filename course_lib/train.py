"""One small training loop for the whole course.

    history = fit(model, (x_train, y_train), loss_fn=nn.CrossEntropyLoss(), epochs=5,
                  eval_data=(x_test, y_test), metrics={"acc": accuracy})
    history["train_loss"], history["val_loss"], history["val_acc"]   # one value per epoch

It takes tensors (the course's datasets fit in memory), shuffles them with a seeded
generator, shows tqdm progress, calls `callbacks` after every step (for live plots),
stops with a clear error when the loss becomes NaN or infinite, and runs on cpu or cuda.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, Sequence

import torch
from torch import nn

__all__ = ["fit", "evaluate", "accuracy", "predict", "History", "NonFiniteLossError"]


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite; the message names the epoch and step."""


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
    if len(batch) == 1:
        out = model(batch[0])
        return loss_fn(out, batch[0]), out
    out = model(batch[0])
    return loss_fn(out, batch[1]), out


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 1024, device=None) -> torch.Tensor:
    """model(x) in eval mode, batch by batch, returned on the CPU."""
    device = device or next(model.parameters()).device
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
    device = next(model.parameters()).device
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
    Raises NonFiniteLossError (naming epoch and step) when the loss becomes NaN or infinite.
    The model is left in eval mode, ready to use.
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
        device = next(model.parameters()).device
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
    step = 0
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
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                value = loss.item()
                if not math.isfinite(value):
                    raise NonFiniteLossError(
                        f"loss became {value} at epoch {epoch}, step {i} (global step {step}); "
                        "try a smaller learning rate or check the inputs for NaN"
                    )
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
