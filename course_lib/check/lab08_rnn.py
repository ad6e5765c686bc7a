"""Tests of lab 08 (labs/08_rnn_lstm_lab.ipynb): one RNN step, the LSTM's memory update, and an
LSTM that remembers a symbol across distractors, on sequences it never saw."""

from __future__ import annotations

import secrets

import torch

from ..models.sequence_tasks import recall_task
from .base import Hint, as_tensor, exercise, fresh_generator, tensor
from .labs import graded_value, quiet, same_on

GAP = 15  # distractor steps between the symbol and the question
TRAIN = {"n": 3_000, "seed": 0}
CLASSES = 4
# Held-out accuracy on 1,000 fresh sequences (chance 0.25): an LSTM of 64 units trained for a few
# epochs reaches 1.0.
ACCURACY_BARS = [(0.9, 2.0), (0.98, 3.0)]


def train_sequences():
    """(x (3000, GAP + 2, 9), y (3000,)): the recall task of lecture 08."""
    return recall_task(TRAIN["n"], GAP, CLASSES, seed=TRAIN["seed"])


@exercise("rnn_step, on new sizes")
def rnn_step_fresh(fn) -> str:
    g = fresh_generator()
    cases = []
    for b, d, h in ((1, 1, 3), (17, 5, 2), (4, 9, 12)):
        cases.append(
            {
                "x_t": torch.randn(b, d, generator=g),
                "h_prev": torch.randn(b, h, generator=g),
                "W": torch.randn(h, d, generator=g),
                "U": torch.randn(h, h, generator=g) * 0.5,
                "b": torch.randn(h, generator=g),
                "shape": f"batch {b}, {d} inputs, {h} units",
            }
        )
    ref = lambda c: torch.tanh(c["x_t"] @ c["W"].T + c["h_prev"] @ c["U"].T + c["b"])  # noqa: E731
    same_on(
        fn,
        cases,
        ref,
        ("x_t", "h_prev", "W", "U", "b"),
        "your rnn_step",
        read=tensor("your rnn_step"),
    )
    return "right on new batch, input and hidden sizes"


@exercise("lstm_cell_update, on new sizes")
def lstm_cell_update_fresh(fn) -> str:
    g = fresh_generator()
    cases = []
    for b, h in ((1, 1), (8, 33)):
        cases.append(
            {
                "c_prev": torch.randn(b, h, generator=g) * 3,
                "f": torch.rand(b, h, generator=g),
                "i": torch.rand(b, h, generator=g),
                "g": torch.randn(b, h, generator=g).tanh(),
                "shape": f"batch {b}, {h} units",
            }
        )
    ref = lambda c: c["f"] * c["c_prev"] + c["i"] * c["g"]  # noqa: E731
    same_on(
        fn,
        cases,
        ref,
        ("c_prev", "f", "i", "g"),
        "your lstm_cell_update",
        read=tensor("your lstm_cell_update"),
    )
    return "right on new sizes"


@exercise("the sequence classifier's interface")
def interface(model) -> str:
    with quiet():
        if not isinstance(model, torch.nn.Module):
            raise Hint(f"`model` must be an nn.Module, got {type(model).__name__}")
        if not any(isinstance(m, (torch.nn.LSTM, torch.nn.LSTMCell)) for m in model.modules()):
            raise Hint("the model has no LSTM (nn.LSTM)")
        model.eval()
        x, _ = train_sequences()
        as_tensor(model(x[:5]), "model(x)", (5, CLASSES))
    return "an LSTM mapping (B, T, 9) sequences to 4 scores"


def accuracy(model, n: int = 1_000) -> float:
    with quiet():
        model.eval()
        x, y = recall_task(n, GAP, CLASSES, seed=secrets.randbits(31))
        return (as_tensor(model(x), "model(x)", (n, CLASSES)).argmax(1) == y).float().mean().item()


def accuracy_points(model) -> float:
    return graded_value("held-out recall accuracy", accuracy(model), ACCURACY_BARS, False)
