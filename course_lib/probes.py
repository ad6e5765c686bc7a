"""How good is a representation? Score an encoder with a linear probe, or by transfer runs.

encode(encoder, x)                  frozen features, in eval mode
linear_probe(train_f, y, test_f, y) accuracy of a logistic regression on frozen features
label_subset(y, fraction)           a class-balanced share of the labels
train_steps / transfer_accuracy     train a TransferNet on a few labels (notebook 10)
load_encoder(name)                  the encoder of a shipped pretext checkpoint
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import eval_mode, model_device, seed_everything
from .checkpoints import load_checkpoint
from .models.encoder import ConvEncoder
from .models.transfer import PRETEXT_NETS, TransferNet, copy_blocks, freeze_blocks
from .train import accuracy, fit, predict

__all__ = [
    "encode",
    "linear_probe",
    "label_subset",
    "train_steps",
    "transfer_accuracy",
    "load_encoder",
    "STRATEGIES",
]

STRATEGIES = ("scratch", "frozen", "fine-tuned")


def encode(encoder: nn.Module, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Frozen features of x in eval mode, in batches: (N, features). The encoder's mode is left as it was."""
    device = model_device(encoder)
    with eval_mode(encoder):
        return torch.cat(
            [encoder(x[i : i + batch_size].to(device)).cpu() for i in range(0, len(x), batch_size)]
        )


def linear_probe(train_features, train_labels, test_features, test_labels, c: float = 1.0) -> float:
    """Accuracy of a logistic regression on frozen (standardised) features: the usual way to score a representation."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    arrays = [
        np.asarray(t.flatten(1) if isinstance(t, torch.Tensor) and t.ndim > 2 else t)
        for t in (train_features, train_labels, test_features, test_labels)
    ]
    if len(arrays[0]) != len(arrays[1]) or len(arrays[2]) != len(arrays[3]):
        raise ValueError("features and labels must have the same number of rows")
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2_000))
    clf.fit(arrays[0], arrays[1])
    return float(clf.score(arrays[2], arrays[3]))


def label_subset(y: torch.Tensor, fraction: float, seed: int = 0) -> torch.Tensor:
    """Indices of a class-balanced `fraction` of the labels (at least one per class)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    g = torch.Generator().manual_seed(seed)
    picked = []
    for c in torch.unique(y):
        idx = torch.nonzero(y == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        picked.append(idx[: max(1, round(fraction * len(idx)))])
    return torch.cat(picked).sort().values


def train_steps(
    model: TransferNet,
    x: torch.Tensor,
    y: torch.Tensor,
    steps: int = 200,
    lr: float = 1e-3,
    head_lr: float = 1e-2,
    batch_size: int = 64,
    seed: int = 0,
    progress: bool = False,
    callbacks=(),
):
    """Train a TransferNet for about `steps` steps, however few the labels (small sets repeat).

    The new head learns at head_lr (it starts from nothing), the encoder at lr; frozen parameters
    (requires_grad=False) are left out of the optimiser. Returns the fit History.
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    batch_size = min(batch_size, len(x))
    epochs = max(1, round(steps * batch_size / len(x)))
    groups = [{"params": [p for p in model.head.parameters() if p.requires_grad], "lr": head_lr}]
    encoder = [p for p in model.encoder.parameters() if p.requires_grad]
    if encoder:
        groups.append({"params": encoder, "lr": lr})
    return fit(
        model,
        (x, y),
        nn.CrossEntropyLoss(),
        epochs=epochs,
        batch_size=batch_size,
        optimizer=torch.optim.Adam(groups),
        seed=seed,
        progress=progress,
        callbacks=callbacks,
    )


def load_encoder(name: str, device=None) -> ConvEncoder:
    """The ConvEncoder of a shipped image pretext checkpoint (sha256-checked), e.g. load_encoder("ssl_simclr")."""
    if name not in PRETEXT_NETS:
        raise ValueError(f"name must be one of {sorted(PRETEXT_NETS)}, got {name!r}")
    return load_checkpoint(name, PRETEXT_NETS[name], device=device).encoder


def transfer_accuracy(
    source: ConvEncoder,
    strategy: str,
    train: tuple,
    test: tuple,
    fraction: float = 0.1,
    k: int = 3,
    steps: int = 200,
    seed: int = 0,
    callbacks=(),
) -> float:
    """One transfer run: copy k blocks of `source` (none for "scratch"), freeze them ("frozen") or not
    ("fine-tuned"), add a head, train on `fraction` of the labels of train=(x, y); test accuracy on test=(x, y)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    (x, y), (x_test, y_test) = train, test
    labelled = label_subset(y, fraction, seed)
    seed_everything(seed)
    model = TransferNet(copy_blocks(source, 0 if strategy == "scratch" else k))
    if strategy == "frozen":
        freeze_blocks(model, k)
    train_steps(model, x[labelled], y[labelled], steps=steps, seed=seed, callbacks=callbacks)
    return accuracy(predict(model, x_test), y_test)
