"""Tests of lab 10 (labs/10_transfer_learning_lab.ipynb): copying and freezing blocks, and a
fine-tuned encoder judged on the real 8x8 scans it was not trained on."""

from __future__ import annotations

import secrets

import torch

from .. import data, probes
from ..models.encoder import ConvEncoder
from ..models.transfer import TransferNet
from .base import Hint, as_tensor, call, exercise
from .labs import graded_value, quiet

FRACTION = 0.1  # of the 1,438 training scans: 143 labels
# Held-out accuracy on the 359 test scans (upscaled to 28x28). With 143 labels: raw-pixel logistic
# regression 0.891, the same network trained from scratch (200 steps) 0.908, the SimCLR encoder
# fine-tuned (200 steps) 0.939.
ACCURACY_BARS = [(0.915, 2.0), (0.93, 3.0)]


def labelled_scans():
    """The 10% of the real 8x8 training scans that carry labels, upscaled to 28x28: (x, y)."""
    x, y = data.load_digits8("train")
    keep = probes.label_subset(y, FRACTION)
    return data.upscale_digits8(x[keep]), y[keep]


def _randomised():
    enc = ConvEncoder()
    with torch.no_grad():
        for p in enc.parameters():
            p.add_(torch.randn_like(p))
    return enc


@exercise("copy_blocks, for every k")
def copy_blocks_fresh(fn) -> str:
    source = _randomised()
    for k in (0, 3, 1 + secrets.randbelow(2)):
        new = call(fn, source, k)
        if not isinstance(new, ConvEncoder) or new is source:
            raise Hint(f"copy_blocks(source, {k}) must return a new ConvEncoder")
        for i, (a, b) in enumerate(zip(source.blocks, new.blocks)):
            pairs = list(zip(a.state_dict().values(), b.state_dict().values()))
            same = all(torch.equal(x, y) for x, y in pairs)
            if i < k and not same:
                raise Hint(f"with k = {k} block {i} must hold the source's values")
            if i >= k and same:
                raise Hint(f"with k = {k} block {i} must keep its fresh values")
            if any(x.data_ptr() == y.data_ptr() for x, y in pairs):
                raise Hint(
                    f"with k = {k} block {i} shares tensors with the source: copy the values"
                )
    return "right for k = 0, 3 and one between"


@exercise("freeze, for every k")
def freeze_fresh(fn) -> str:
    for k in (0, 3, 1 + secrets.randbelow(2)):
        model = TransferNet(ConvEncoder())
        result = call(fn, model, k)
        if result is not None and result is not model:
            raise Hint("freeze changes the model in place and returns nothing")
        for i, block in enumerate(model.encoder.blocks):
            grads = {p.requires_grad for p in block.parameters()}
            if grads != ({False} if i < k else {True}):
                raise Hint(f"with k = {k} block {i} must be {'frozen' if i < k else 'trainable'}")
        if not all(p.requires_grad for p in model.head.parameters()):
            raise Hint(f"with k = {k} the head must stay trainable")
    return "right for k = 0, 3 and one between"


@exercise("the fine-tuned model's interface")
def interface(model) -> str:
    with quiet():
        if not isinstance(model, torch.nn.Module):
            raise Hint(f"`model` must be an nn.Module, got {type(model).__name__}")
        model.eval()
        x, _ = labelled_scans()
        as_tensor(model(x[:5]), "model(x)", (5, 10))
    return "10 scores per 28x28 scan"


def test_accuracy(model) -> float:
    with quiet():
        model.eval()
        x, y = data.load_digits8("test")
        x = data.upscale_digits8(x)
        return (as_tensor(model(x), "model(x)", (len(y), 10)).argmax(1) == y).float().mean().item()


def accuracy_points(model) -> float:
    return graded_value(
        "held-out accuracy on the real scans", test_accuracy(model), ACCURACY_BARS, False
    )
