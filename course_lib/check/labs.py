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
