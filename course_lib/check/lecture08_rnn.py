"""Checkers of notebook 08: one step of a plain RNN, and the LSTM's cell-state update."""

from __future__ import annotations

import torch

from .base import Mistake, compare_cases, exercise, fresh_generator, tensor


def _pre(c):
    return c["x"] @ c["W"].T + c["h"] @ c["U"].T + c["b"]


RNN_STEP_MISTAKES = (
    Mistake("apply the non-linearity to the weighted sum", _pre),
    Mistake("the plain RNN cell uses tanh, not the sigmoid", lambda c: torch.sigmoid(_pre(c))),
    Mistake(
        "the previous hidden state is missing: it enters through its own weight matrix U",
        lambda c: torch.tanh(c["x"] @ c["W"].T + c["b"]),
    ),
    Mistake(
        "the weight matrices are (H, D) and (H, H): multiply the (B, D) input by the transpose of W "
        "and the state by the transpose of U",
        lambda c: torch.tanh(c["x"] @ c["W"].T + c["h"] @ c["U"] + c["b"]),
    ),
    Mistake("the bias b is missing", lambda c: torch.tanh(c["x"] @ c["W"].T + c["h"] @ c["U"].T)),
    Mistake(
        "with a batch of {b_size} rows the new state is wrong: each row's state is the tanh of the input "
        "through W, the previous state through U, and the bias - check which matrix meets which"
    ),
)


def _rnn_cases():
    g = fresh_generator()
    for b, d, h in ((4, 3, 5), (7, 2, 6)):  # two batch sizes and shapes: nothing may be hard-coded
        yield {
            "x": torch.randn(b, d, generator=g),
            "h": torch.randn(b, h, generator=g),
            "W": torch.randn(h, d, generator=g),
            "U": torch.randn(h, h, generator=g),
            "b": torch.randn(h, generator=g),
            "B": b,
        }


@exercise("rnn_step", RNN_STEP_MISTAKES)
def rnn_step(fn) -> str:
    """fn(x_t (B, D), h_prev (B, H), W (H, D), U (H, H), b (H,)) -> tanh(x_t W^T + h_prev U^T + b)."""
    compare_cases(
        fn,
        ({**c, "b_size": c["B"]} for c in _rnn_cases()),
        lambda c: torch.tanh(_pre(c)),
        tensor("your rnn_step"),
        RNN_STEP_MISTAKES,
        args=("x", "h", "W", "U", "b"),
        grads=("x", "h", "W", "U", "b"),
        same=lambda got, want: torch.allclose(got, want, atol=1e-5),
    )
    return "h_t = tanh(W x_t + U h_{t-1} + b), for two batch sizes, and the gradients flow"


CELL_UPDATE_MISTAKES = (
    Mistake(
        "the gates are swapped: the forget gate f scales the old memory, the input gate i the new content",
        lambda c: c["i"] * c["c"] + c["f"] * c["g"],
    ),
    Mistake(
        "the new content g must pass through the input gate: i * g",
        lambda c: c["f"] * c["c"] + c["g"],
    ),
    Mistake(
        "the old memory must pass through the forget gate: f * c_prev",
        lambda c: c["c"] + c["i"] * c["g"],
    ),
    Mistake(
        "the new cell state keeps part of the old memory (as the forget gate allows) and adds part "
        "of the new content (as the input gate allows); check which gate meets which, element-wise"
    ),
)


def _cell_cases():
    gen = fresh_generator()
    for b in (3, 5):
        yield {
            "c": torch.randn(b, 4, generator=gen),
            "f": torch.rand(b, 4, generator=gen),
            "i": torch.rand(b, 4, generator=gen),
            "g": torch.rand(b, 4, generator=gen) * 2 - 1,
        }


@exercise("lstm_cell_update", CELL_UPDATE_MISTAKES)
def lstm_cell_update(fn) -> str:
    """fn(c_prev, f, i, g) -> f * c_prev + i * g."""
    compare_cases(
        fn,
        _cell_cases(),
        lambda c: c["f"] * c["c"] + c["i"] * c["g"],
        tensor("your cell update"),
        CELL_UPDATE_MISTAKES,
        args=("c", "f", "i", "g"),
        grads=("c", "f", "i", "g"),
        same=lambda got, want: torch.allclose(got, want, atol=1e-6),
    )
    return "c_t = f * c_{t-1} + i * g: keep what the forget gate lets through, add what the input gate admits"
