"""Checkers of notebook 00: a first exercise."""

from __future__ import annotations

import torch

from .base import Mistake, compare_cases, exercise, fresh_generator, number


def _fraction(c) -> float:
    return (c["logits"].argmax(1) == c["labels"]).float().mean().item()


ACCURACY_MISTAKES = (
    Mistake("you returned a percentage; return a fraction in [0, 1]", lambda c: _fraction(c) * 100),
    Mistake(
        "you returned the number of correct rows; divide by the batch size",
        lambda c: _fraction(c) * c["b"],
    ),
    Mistake(
        "on a batch of {b} rows and {c} classes your fraction is wrong ({off}); compare "
        "logits.argmax(dim=1) with the labels"
    ),
)


def _accuracy_cases():
    g = fresh_generator()
    logits = torch.tensor([[2.0, 1.0, 0.1], [0.1, 0.2, 3.0], [1.0, 3.0, 0.0], [0.5, 0.4, 0.3]])
    yield {"logits": logits, "labels": torch.tensor([0, 2, 0, 1]), "b": 4, "c": 3}
    for b, c in ((50, 10), (37, 4), (128, 7)):
        logits = torch.randn(b, c, generator=g)
        labels = torch.where(  # about half right, so the fraction is far from 0, 1 and 1/C
            torch.rand(b, generator=g) < 0.5,
            logits.argmax(1),
            torch.randint(0, c, (b,), generator=g),
        )
        yield {"logits": logits, "labels": labels, "b": b, "c": c}


def _exact(got, want) -> bool:
    return abs(got - want) <= 1e-6


def _near(got, want) -> bool:
    return abs(got - want) < 1e-4


@exercise("accuracy", ACCURACY_MISTAKES)
def accuracy(fn) -> str:
    """fn(logits: (B, C), labels: (B,)) -> fraction in [0, 1] of rows whose arg-max is the label."""
    n = compare_cases(
        fn,
        _accuracy_cases(),
        _fraction,
        number("your function"),
        ACCURACY_MISTAKES,
        args=("logits", "labels"),
        same=_exact,
        like=_near,
    )
    return f"{n} batches of different sizes give the right fraction"
