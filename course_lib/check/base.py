"""What every exercise checker shares: run the student's function on fresh inputs, compare with the
reference, and explain a difference from a table of typical mistakes.

    @exercise("kl_gaussian", mistakes=KL_MISTAKES)
    def kl_gaussian(fn):
        return compare_cases(fn, cases(), reference=..., mistakes=KL_MISTAKES, ...)

A table of mistakes is data: each `Mistake` is a wrong answer computed from the same inputs and the
hint that names it. When the student's result matches a wrong answer, its hint is shown; otherwise
a general hint. A checker never prints the value it expects (a constant cannot be copied in).
"""

from __future__ import annotations

import functools
import html
import secrets
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import torch

__all__ = [
    "Result",
    "Hint",
    "Mistake",
    "exercise",
    "call",
    "fresh_generator",
    "as_float",
    "as_tensor",
    "close",
    "off",
    "number",
    "tensor",
    "compare_cases",
]


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
        return (
            f'<div style="border-left:4px solid {colour};padding:4px 8px">'
            f"<b>{html.escape(self.exercise)}</b> {mark}: {html.escape(self.message)}</div>"
        )


class Hint(Exception):
    """Raised inside a checker to stop at the first mistake found; its text is the hint."""


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer: `answer(case)` computes it from the case's inputs; `hint` names it
    (it may use the case's fields, e.g. "{alpha}"). A table ends with a Mistake without an answer:
    the hint for any other wrong result."""

    hint: str
    answer: Callable[[dict], Any] | None = None


def exercise(name: str, mistakes: Iterable[Mistake] = ()):
    """Decorator: turn a checker's hints and the student's exceptions into a Result. The checker's
    table of mistakes is kept as `checker.mistakes` (the tests walk every hint)."""

    def wrap(checker):
        @functools.wraps(checker)
        def run(answer, *args, **kwargs) -> Result:
            try:
                message = checker(answer, *args, **kwargs)
            except Hint as hint:
                return Result(name, False, str(hint))
            except Exception as exc:  # the student's code raised: name the error and where
                frames = traceback.extract_tb(exc.__traceback__)
                where = next((f for f in reversed(frames) if "course_lib" not in f.filename), None)
                line = f" (line: {where.line})" if where is not None and where.line else ""
                return Result(name, False, f"your code raised {type(exc).__name__}: {exc}{line}")
            return Result(name, True, message or "correct")

        run.mistakes = tuple(mistakes)
        run.exercise = name
        return run

    return wrap


def call(fn, *args):
    """The student's function on these inputs (a clear hint when it is not a function)."""
    if not callable(fn):
        raise Hint(f"expected a function, got {type(fn).__name__}")
    return fn(*args)


def fresh_generator() -> torch.Generator:
    """A generator with a fresh seed: the inputs change on every check, so only a real function passes."""
    return torch.Generator().manual_seed(secrets.randbits(62))


def as_float(value, what: str) -> float:
    """A single finite number from the student's result, or a hint saying what came back instead."""
    if value is None:
        raise Hint(f"{what} returned None - did you forget `return`?")
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise Hint(
                f"{what} should return a single number, got a tensor of shape {tuple(value.shape)}"
            )
        value = value.item()
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise Hint(f"{what} should return a number, got {type(value).__name__}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise Hint(f"{what} returned {value}: look for a division by zero or a log of 0")
    return value


def as_tensor(value, what: str, shape) -> torch.Tensor:
    """A finite float32 CPU tensor of `shape` from the student's result (float64 / int64 answers are
    compared as floats), or a hint saying what came back instead."""
    if value is None:
        raise Hint(f"{what} returned None - did you forget `return`?")
    if not isinstance(value, torch.Tensor):
        raise Hint(f"{what} should return a tensor, got {type(value).__name__}")
    if tuple(value.shape) != tuple(shape):
        raise Hint(f"{what} returned shape {tuple(value.shape)}, expected {tuple(shape)}")
    if value.is_complex():
        raise Hint(f"{what} returned complex numbers")
    value = value.detach().to("cpu", torch.float32)
    if not torch.isfinite(value).all():
        raise Hint(f"{what} returned NaN or inf values")
    return value


def close(got, value, tol: float = 1e-4) -> bool:
    """Numbers within a relative tolerance; tensors with torch.allclose(atol=tol)."""
    if isinstance(got, torch.Tensor) or isinstance(value, torch.Tensor):
        return torch.allclose(torch.as_tensor(got), torch.as_tensor(value), atol=tol)
    return abs(got - value) <= tol * max(1.0, abs(value))


def off(got: float, expected: float) -> str:
    """How a wrong number is wrong, without giving the right one away."""
    if abs(got) < 1e-12 and abs(expected) > 1e-6:
        return "you returned 0"
    if got * expected < 0:
        return "the sign is wrong"
    return "it is too large" if abs(got) > abs(expected) else "it is too small"


def number(what: str):
    """A `read` for checkers whose answer is one number; `what` may use the case's fields."""
    return lambda got, expected, case: as_float(got, what.format(**case))


def tensor(what: str):
    """A `read` for checkers whose answer is a tensor shaped like the reference's."""
    return lambda got, expected, case: as_tensor(got, what.format(**case), expected.shape)


def compare_cases(
    fn,
    cases: Iterable[dict],
    reference: Callable[[dict], Any],
    read: Callable[[Any, Any, dict], Any],
    table: Iterable[Mistake],
    *,
    args: tuple[str, ...],
    same: Callable[[Any, Any], bool] = close,
    like: Callable[[Any, Any], bool] | None = None,
) -> int:
    """The skeleton of most checkers. For each case (a dict of inputs and settings): call fn on
    fresh copies of the case's `args` (their names, in order), read(result, expected, case) into a
    number or tensor (or a hint), and compare with reference(case) by `same`. On a difference the
    table explains it: the first mistake whose answer matches (by `like`, default `same`), else the
    table's last row (a Mistake without an answer). Hints are formatted with the case's fields and
    `off` (how a number is off). Returns the number of cases checked."""
    table, like = tuple(table), like or same
    n = 0
    for case in cases:
        expected = reference(case)
        inputs = tuple(
            case[name].clone() if isinstance(case[name], torch.Tensor) else case[name]
            for name in args
        )
        got = read(call(fn, *inputs), expected, case)
        n += 1
        if same(got, expected):
            continue
        fields = dict(case)
        if not isinstance(got, torch.Tensor):
            fields["off"] = off(got, expected)
        for mistake in table:
            if mistake.answer is None or like(got, mistake.answer(case)):
                raise Hint(mistake.hint.format(**fields))
        raise Hint(
            "the result differs from the reference"
        )  # pragma: no cover - tables end in a catch-all
