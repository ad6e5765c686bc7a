"""Automatic checks for the exercises in the notebooks.

    from course_lib import check
    check.accuracy(my_accuracy)      # prints a pass, or a hint that names the mistake

Each checker runs the student's answer on a few cases against a reference, never lets a
traceback escape, and returns a `Result` that is truthy only on a pass, so a notebook's
solution cell can `assert check.accuracy(solution)`.

Each later notebook adds its checkers here, grouped by notebook.
"""
from __future__ import annotations

import functools
import html
import traceback

import torch

__all__ = ["Result", "accuracy"]


class Result:
    """Outcome of a check: `bool(result)` is True on a pass; shown as a coloured line in a notebook."""

    def __init__(self, exercise: str, passed: bool, message: str):
        self.exercise, self.passed, self.message = exercise, passed, message

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        mark = "PASS" if self.passed else "NOT YET"
        return f"[{mark}] {self.exercise}: {self.message}"

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else "#b35900"
        mark = "&#10004; passed" if self.passed else "&#9888; not yet"
        return (f'<div style="border-left:4px solid {colour};padding:4px 8px">'
                f"<b>{html.escape(self.exercise)}</b> {mark}: {html.escape(self.message)}</div>")


class _Hint(Exception):
    """Raised inside a checker to stop at the first mistake found."""


def exercise(name: str):
    """Decorator: turn a checker's hints and the student's exceptions into a Result."""

    def wrap(checker):
        @functools.wraps(checker)
        def run(answer, *args, **kwargs) -> Result:
            try:
                message = checker(answer, *args, **kwargs)
            except _Hint as hint:
                return Result(name, False, str(hint))
            except Exception as exc:  # the student's code raised: name the error and where
                frames = traceback.extract_tb(exc.__traceback__)
                where = next((f for f in reversed(frames) if "course_lib" not in f.filename), None)
                line = f" (line: {where.line})" if where is not None and where.line else ""
                return Result(name, False, f"your code raised {type(exc).__name__}: {exc}{line}")
            return Result(name, True, message or "correct")

        return run

    return wrap


def _call(fn, *args):
    if not callable(fn):
        raise _Hint(f"expected a function, got {type(fn).__name__}")
    return fn(*args)


def _as_float(value, what: str) -> float:
    if value is None:
        raise _Hint(f"{what} returned None - did you forget `return`?")
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise _Hint(f"{what} should return a single number, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _Hint(f"{what} should return a number, got {type(value).__name__}") from None


# ----------------------------------------------------------------------------- 00 getting started
@exercise("accuracy")
def accuracy(fn) -> str:
    """fn(logits: (B, C), labels: (B,)) -> fraction in [0, 1] of rows whose arg-max is the label."""
    g = torch.Generator().manual_seed(7)
    cases = [
        (torch.tensor([[2.0, 1.0, 0.1], [0.1, 0.2, 3.0], [1.0, 3.0, 0.0], [0.5, 0.4, 0.3]]), torch.tensor([0, 2, 0, 1])),
        (torch.randn(50, 10, generator=g), torch.randint(0, 10, (50,), generator=g)),
    ]
    for logits, labels in cases:
        expected = (logits.argmax(1) == labels).float().mean().item()
        got = _as_float(_call(fn, logits.clone(), labels.clone()), "your function")
        if expected > 0 and abs(got - expected * 100) < 1e-4:
            raise _Hint(f"you returned a percentage ({got:.1f}); return a fraction in [0, 1] ({expected:.2f})")
        if abs(got - expected * len(labels)) < 1e-4 and len(labels) > 1 and expected > 0:
            raise _Hint(f"you returned the number of correct rows ({got:.0f}); divide by the batch size")
        if abs(got - expected) > 1e-6:
            raise _Hint(f"expected {expected:.4f} on a batch of {len(labels)} rows, got {got:.4f}; "
                        "compare logits.argmax(dim=1) with the labels")
    return f"{len(cases)} batches give the right fraction"
