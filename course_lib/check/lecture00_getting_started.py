"""Checkers of notebook 00: a first exercise."""

from __future__ import annotations

import torch

from .base import Mistake, as_float, compare_cases, exercise, fresh_generator

ACCURACY_MISTAKES = (
    Mistake(
        "you returned a percentage; return a fraction in [0, 1]",
        lambda c: _fraction(c) * 100,
    ),
    Mistake(
        "you returned the number of correct rows; divide by the batch size",
        lambda c: _fraction(c) * len(c["labels"]),
    ),
)


def _fraction(c) -> float:
    return (c["logits"].argmax(1) == c["labels"]).float().mean().item()


def _accuracy_cases():
    g = fresh_generator()
    yield {
        "logits": torch.tensor(
            [[2.0, 1.0, 0.1], [0.1, 0.2, 3.0], [1.0, 3.0, 0.0], [0.5, 0.4, 0.3]]
        ),
        "labels": torch.tensor([0, 2, 0, 1]),
    }
    for b, c in ((50, 10), (37, 4), (128, 7)):
        logits = torch.randn(b, c, generator=g)
        labels = torch.where(  # about half right, so the fraction is far from 0, 1 and 1/C
            torch.rand(b, generator=g) < 0.5,
            logits.argmax(1),
            torch.randint(0, c, (b,), generator=g),
        )
        yield {"logits": logits, "labels": labels}


@exercise("accuracy", ACCURACY_MISTAKES)
def accuracy(fn) -> str:
    """fn(logits: (B, C), labels: (B,)) -> fraction in [0, 1] of rows whose arg-max is the label."""
    n = compare_cases(
        fn,
        ({**c, "b": len(c["labels"]), "c": c["logits"].shape[1]} for c in _accuracy_cases()),
        args=lambda c: (c["logits"], c["labels"]),
        reference=_fraction,
        read=lambda got, c: as_float(got, "your function"),
        mistakes=ACCURACY_MISTAKES,
        fallback="on a batch of {b} rows and {c} classes your fraction is wrong ({off}); compare "
        "logits.argmax(dim=1) with the labels",
        same=lambda got, want: abs(got - want) <= 1e-6,
        like=lambda got, want: abs(got - want) < 1e-4,
    )
    return f"{n} batches of different sizes give the right fraction"
