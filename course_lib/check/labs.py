"""What the graded labs' tests share (labs/, README "Grading").

A lab's test cell has a visible part - one of the lecture checkers, whose hint names the mistake -
and a hidden part that nbgrader strips from the student's copy and restores when it grades. The
hidden parts call the functions of the `labNN_*` modules: they draw their inputs afresh on every
run (`fresh_seed`), so no printed value can be copied into an answer, and they never print the
value they expect.

A test passes by running without an error; `points` turns a measured value into partial credit
(nbgrader reads a number that a test cell returns as its score).
"""

from __future__ import annotations

import contextlib
import secrets
import warnings

import torch

from .base import Hint, Result, fresh_generator

__all__ = ["fresh_seed", "require", "quiet", "points", "held_out", "fresh_generator", "Hint"]


def fresh_seed() -> int:
    """A seed no one saw before: held-out data the student's code has never met."""
    return secrets.randbits(31)


def require(result, what: str = "") -> None:
    """Fail the test cell (an AssertionError carrying the hint) unless the check passed. Returns
    None: a test cell whose last value is not a number gets full marks from nbgrader, so a check's
    Result is printed, never returned."""
    if isinstance(result, Result):
        print(result)
        if not result:
            raise AssertionError(result.message)
    elif not result:
        raise AssertionError(what or "the check did not pass")


@contextlib.contextmanager
def quiet():
    """No warnings on stderr while a test runs: nbgrader scores a test cell that writes to stderr 0,
    and a library's deprecation warning is not the student's mistake. Nor gradients."""
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        yield


def points(value: float, bars: list[tuple[float, float]], lower_is_better: bool = True) -> float:
    """Partial credit: the points of the best bar `value` clears ((bar, points) pairs)."""
    won = 0.0
    for bar, pts in bars:
        if (value <= bar) if lower_is_better else (value >= bar):
            won = max(won, pts)
    return won


def held_out(make, *args, **kwargs):
    """Data the student never saw: `make(*args, seed=fresh_seed(), **kwargs)`."""
    return make(*args, seed=fresh_seed(), **kwargs)


def same_on(fn, cases, reference, args: tuple[str, ...], what: str, read=None) -> None:
    """The hidden half of a formula task: the answer equals the reference on `cases` (drawn afresh
    by the caller, in shapes and ranges the visible checker does not use). Raises a Hint naming the
    case's shape, never the expected value."""
    from .base import Mistake, compare_cases, number

    off = "" if read else " ({off})"  # how a number is off; a tensor is just wrong
    table = (Mistake(f"on new inputs ({{shape}}) {what} is wrong" + off),)
    cases = [{**c, "shape": c.get("shape", "another shape")} for c in cases]
    compare_cases(fn, cases, reference, read or number(what), table, args=args)


def digits_accuracy(model, n: int = 2_000, difficulty: float = 1.0) -> float:
    """A classifier's accuracy on n rendered digits drawn afresh (it never saw them): model maps
    (n, 1, 28, 28) in [0, 1] to (n, 10) scores."""
    from .. import data
    from .base import as_tensor

    with quiet():
        if not isinstance(model, torch.nn.Module):
            raise Hint(f"`model` must be an nn.Module, got {type(model).__name__}")
        model.eval()
        x, y = held_out(data.make_digits28, n, difficulty=difficulty)
        scores = as_tensor(model(x), "model(x)", (n, 10))
        return (scores.argmax(1) == y).float().mean().item()


def graded_value(what: str, value: float, bars, lower_is_better: bool, unit: str = "") -> float:
    """Print the measured value and the points it earns (the test cell's score); return the points."""
    won = points(value, bars, lower_is_better)
    best = max(p for _, p in bars)
    print(f"{what}: {value:.4g}{unit} -> {won:g} of {best:g} points")
    return won
