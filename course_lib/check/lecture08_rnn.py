"""Checkers of notebook 08: one step of a plain RNN, and the LSTM's cell-state update."""

from __future__ import annotations

import torch

from .base import Mistake, compare_cases, exercise, fresh_generator, tensor


def _pre(c):
    return c["x"] @ c["W"].T + c["h"] @ c["U"].T + c["b"]


RNN_STEP_MISTAKES = (
    Mistake("apply the non-linearity: h_t = tanh(...)", _pre),
    Mistake("the plain RNN cell uses tanh, not the sigmoid", lambda c: torch.sigmoid(_pre(c))),
    Mistake(
        "the previous hidden state is missing: add U h_{{t-1}}",
        lambda c: torch.tanh(c["x"] @ c["W"].T + c["b"]),
    ),
    Mistake("compare with torch.tanh(x_t @ W.T + h_prev @ U.T + b)"),
)


def _rnn_cases():
    g = fresh_generator()
    x, h = torch.randn(4, 3, generator=g), torch.randn(4, 5, generator=g)
    W, U = torch.randn(5, 3, generator=g), torch.randn(5, 5, generator=g)
    yield {"x": x, "h": h, "W": W, "U": U, "b": torch.randn(5, generator=g)}


@exercise("rnn_step", RNN_STEP_MISTAKES)
def rnn_step(fn) -> str:
    """fn(x_t (B, D), h_prev (B, H), W (H, D), U (H, H), b (H,)) -> tanh(x_t W^T + h_prev U^T + b)."""
    compare_cases(
        fn,
        _rnn_cases(),
        lambda c: torch.tanh(_pre(c)),
        tensor("your rnn_step"),
        RNN_STEP_MISTAKES,
        args=("x", "h", "W", "U", "b"),
        same=lambda got, want: torch.allclose(got, want, atol=1e-5),
    )
    return "h_t = tanh(W x_t + U h_{t-1} + b)"


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
    Mistake("c_t = f * c_prev + i * g (element-wise)"),
)


def _cell_cases():
    gen = fresh_generator()
    yield {
        "c": torch.randn(3, 4, generator=gen),
        "f": torch.rand(3, 4, generator=gen),
        "i": torch.rand(3, 4, generator=gen),
        "g": torch.rand(3, 4, generator=gen) * 2 - 1,
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
        same=lambda got, want: torch.allclose(got, want, atol=1e-6),
    )
    return "c_t = f * c_{t-1} + i * g: keep what the forget gate lets through, add what the input gate admits"
