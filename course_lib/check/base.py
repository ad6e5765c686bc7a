"""What every exercise checker shares: run the student's function on fresh inputs, compare with the
reference, check what a grader would, and explain a difference from a table of typical mistakes.

    @exercise("kl_gaussian", KL_MISTAKES)
    def kl_gaussian(fn):
        compare_cases(fn, cases(), reference, number("your kl_gaussian"), KL_MISTAKES,
                      args=("mu", "logvar"), grads=("mu", "logvar"))

A table of mistakes is data: each `Mistake` is a wrong answer computed from the same inputs and the
hint that names it; its last row (no answer) is the hint for any other wrong result. A hint says what
is wrong and where, never the code of the answer, and a checker never prints the value it expects.

Besides the value, every answer is held to what a grader checks:
- it runs on copies of the inputs, and must not change them in place (`run`);
- it works for any batch size and the arguments it is given (the cases vary both);
- a deterministic exercise leaves the global random state as it was; a random one draws from it but
  never reseeds it (two calls from different states must end in different states);
- where gradients matter, the gradient that reaches each input equals the reference's (`grads`):
  a loss computed on detached tensors, or statistics taken with .detach(), is caught;
and no check ever changes the caller's random state (torch, numpy, random): `exercise` restores it.
"""

from __future__ import annotations

import functools
import html
import os
import random
import secrets
import sys
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np
import torch

__all__ = [
    "Result",
    "Hint",
    "Mistake",
    "exercise",
    "call",
    "run",
    "fresh_generator",
    "as_float",
    "as_tensor",
    "close",
    "off",
    "number",
    "tensor",
    "compare_cases",
    "check_gradients",
    "reseeds",
    "ignores",
    "refine",
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
    """Raised inside a checker to stop at the first mistake found; its text is the hint.
    `catch_all` marks the general hint of a table's last row (a checker may refine it)."""

    catch_all = False


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer: `answer(case)` computes it from the case's inputs; `hint` names it
    (it may use the case's fields, e.g. "{alpha}"). A table ends with a Mistake without an answer:
    the hint for any other wrong result."""

    hint: str
    answer: Callable[[dict], Any] | None = None


# ----------------------------------------------------------------------------- random state
def _rng_state() -> tuple:
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
    return torch.get_rng_state(), cuda, np.random.get_state(), random.getstate()


def _set_rng_state(state: tuple) -> None:
    cpu, cuda, np_state, py_state = state
    torch.set_rng_state(cpu)
    if cuda is not None:
        torch.cuda.set_rng_state_all(cuda)
    np.random.set_state(np_state)
    random.setstate(py_state)


def _same_rng(a: tuple, b: tuple) -> bool:
    return (
        torch.equal(a[0], b[0])
        and a[2][0] == b[2][0]
        and np.array_equal(a[2][1], b[2][1])
        and a[2][2:] == b[2][2:]
        and a[3] == b[3]
    )


# ----------------------------------------------------------------------------- where the student's code failed
_LIBRARY_DIRS = tuple(
    os.path.realpath(p) for p in {sys.prefix, sys.base_prefix, os.path.dirname(os.__file__)} if p
) + (os.path.realpath(os.path.dirname(os.path.dirname(__file__))),)


def _students_frame(tb):
    """The innermost frame of the student's own code (not torch's, the standard library's or the
    course's): the line to show when their function raised."""
    frames = traceback.extract_tb(tb)
    for frame in reversed(frames):
        path = os.path.realpath(frame.filename) if not frame.filename.startswith("<") else ""
        if not path or not path.startswith(_LIBRARY_DIRS):
            return frame
    return None


def exercise(name: str, mistakes: Iterable[Mistake] = ()):
    """Decorator: turn a checker's hints and the student's exceptions into a Result, and give the
    caller back its random state (torch, numpy, random) whatever the check and the answer did.
    The checker's table of mistakes is kept as `checker.mistakes` (the tests walk every hint)."""

    def wrap(checker):
        @functools.wraps(checker)
        def check(answer, *args, **kwargs) -> Result:
            saved = _rng_state()
            try:
                message = checker(answer, *args, **kwargs)
            except Hint as hint:
                return Result(name, False, str(hint))
            except Exception as exc:  # the student's code raised: name the error and where
                where = _students_frame(exc.__traceback__)
                line = f" (line: {where.line})" if where is not None and where.line else ""
                return Result(name, False, f"your code raised {type(exc).__name__}: {exc}{line}")
            finally:
                _set_rng_state(saved)
            return Result(name, True, message or "correct")

        check.mistakes = tuple(mistakes)
        check.exercise = name
        return check

    return wrap


# ----------------------------------------------------------------------------- running an answer
def call(fn, *args):
    """The student's function on these inputs (a clear hint when it is not a function)."""
    if not callable(fn):
        raise Hint(f"expected a function, got {type(fn).__name__}")
    return fn(*args)


def _copy(value):
    return value.detach().clone() if isinstance(value, torch.Tensor) else value


def _leaf(value):
    """A copy that collects gradients (a leaf), and what the answer is given: a copy of it on the
    graph, so that an in-place operation by the answer is recorded instead of refused."""
    leaf = value.detach().clone().requires_grad_(True)
    return leaf, leaf.clone()


def run(fn, names: tuple[str, ...], values: tuple, deterministic: bool = True, grads=()):
    """Call fn on copies of `values` (the arguments called `names`); the ones named in `grads` come with
    gradients. Raises a Hint when the answer changed an input in place, or - for a deterministic
    exercise - changed the global random state. Returns (result, {name: leaf} of the grads)."""
    leaves, inputs = {}, []
    for name, value in zip(names, values):
        if name in grads and isinstance(value, torch.Tensor) and value.is_floating_point():
            leaves[name], given = _leaf(value)
        else:
            given = _copy(value)
        inputs.append(given)
    before = _rng_state()
    result = call(fn, *inputs)
    after = _rng_state()
    for name, original, given in zip(names, values, inputs):
        if isinstance(original, torch.Tensor) and not torch.equal(given.detach(), original):
            raise Hint(
                f"your function changes its input `{name}` in place (an operation ending in _, or "
                "an assignment into it): the caller's tensor must stay as it was; compute a new one"
            )
    if deterministic and not _same_rng(before, after):
        raise Hint(
            "your function changes the global random state (a random draw or a manual_seed), but "
            "this computation involves no randomness: the rest of the notebook would draw other numbers"
        )
    return result, leaves


def reseeds(fn, *args) -> bool:
    """Whether fn resets a global random generator (torch's, numpy's or python's): from two
    different states, calls that draw honestly end in two different states; a function that calls
    manual_seed (or np.random.seed, random.seed) ends in the same one."""
    ends = []
    for seed in (secrets.randbits(31), secrets.randbits(31) ^ 1):
        torch.manual_seed(seed)
        np.random.seed(seed)
        random.seed(seed)
        call(fn, *(_copy(a) for a in args))
        ends.append(_rng_state())
    (t1, _, n1, p1), (t2, _, n2, p2) = ends
    numpy_same = n1[0] == n2[0] and np.array_equal(n1[1], n2[1]) and n1[2:] == n2[2:]
    return torch.equal(t1, t2) or numpy_same or p1 == p2


def check_gradients(
    got, leaves: dict, reference: Callable[[dict], torch.Tensor], case: dict
) -> None:
    """The gradient of the student's result reaching each input (`leaves`: name -> the leaf tensor
    behind what the answer was given) must equal the reference's, for a random weighting of the
    result's elements. An input no gradient reaches is named first, then one it reaches wrongly."""
    if not isinstance(got, torch.Tensor) or got.grad_fn is None:
        first = next(iter(leaves))
        raise Hint(
            f"no gradient flows back from your result to `{first}`: the value is right, but a "
            "result built with .detach(), .item(), .numpy() or torch.tensor(...) cuts it off from "
            "its inputs, and nothing could be trained through it"
        )
    weights = torch.rand(got.shape, generator=fresh_generator()) + 0.5
    try:
        mine = torch.autograd.grad((got * weights).sum(), list(leaves.values()), allow_unused=True)
    except RuntimeError as exc:
        raise Hint(f"backward() through your result fails: {str(exc).splitlines()[0]}") from None
    fresh = {name: t.detach().clone().requires_grad_(True) for name, t in leaves.items()}
    want = reference({**case, **fresh})
    expected = torch.autograd.grad((want * weights).sum(), list(fresh.values()), allow_unused=True)
    expected = [torch.zeros_like(fresh[n]) if e is None else e for n, e in zip(leaves, expected)]
    for name, g, e in zip(leaves, mine, expected):
        if g is None or (not g.any() and e.any()):
            raise Hint(
                f"no gradient reaches `{name}` from your result: part of the computation is "
                "detached from it (.detach(), .data, .item(), or a new tensor built from its values)"
            )
    for name, g, e in zip(leaves, mine, expected):
        if not torch.allclose(g.float(), e.float(), atol=1e-4, rtol=1e-3):
            raise Hint(
                f"the value is right, but the gradient reaching `{name}` is not: part of the "
                "computation is detached (e.g. a mean or variance taken of x.detach()), so training "
                "would follow the wrong direction"
            )


def ignores(fn, cases: list[dict], args: tuple, name: str, bump: float = 0.7) -> bool:
    """Whether the answer's result stays put when the argument `name` moves by `bump` (the right
    result moves, on these inputs) although it follows its other inputs (the second case's): an
    answer that ignores the argument, or uses a fixed number in its place."""
    first, second = cases

    def value(c):
        out = run(fn, args, tuple(c[k] for k in args))[0]
        return out.detach().double() if isinstance(out, torch.Tensor) else torch.tensor(float(out))

    base = value(first)
    moved = value({**first, name: first[name] + bump})
    other = value({**second, name: first[name]})
    still = moved.shape == base.shape and torch.allclose(moved, base, atol=1e-7)
    follows = other.shape != base.shape or not torch.allclose(other, base, atol=1e-7)
    return still and follows


def refine(
    catch_all: Hint, fn, cases: list[dict], args: tuple, name: str, message: str, bump: float = 0.7
) -> Hint:
    """A table's general hint, or - when the answer ignores the argument `name` - `message`."""
    return Hint(message) if ignores(fn, cases, args, name, bump) else catch_all


def fresh_generator() -> torch.Generator:
    """A generator with a fresh seed: the inputs change on every check, so only a real function passes."""
    return torch.Generator().manual_seed(secrets.randbits(62))


# ----------------------------------------------------------------------------- reading a result
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
    if abs(got + expected) <= 0.02 * abs(expected):
        return "the sign is flipped"
    if got * expected < 0:
        return f"it is {'negative' if got < 0 else 'positive'}, and the right value is not"
    return "it is too large" if abs(got) > abs(expected) else "it is too small"


def number(what: str):
    """A `read` for checkers whose answer is one number; `what` may use the case's fields."""
    return lambda got, expected, case: as_float(got, what.format(**case))


def tensor(what: str):
    """A `read` for checkers whose answer is a tensor shaped like the reference's."""
    return lambda got, expected, case: as_tensor(got, what.format(**case), expected.shape)


def _value(ref):
    """The reference's value, off the graph: a float for one number, else a float32 tensor."""
    if isinstance(ref, torch.Tensor):
        ref = ref.detach()
        return ref.item() if ref.numel() == 1 and ref.ndim == 0 else ref.float()
    return ref


# ----------------------------------------------------------------------------- the skeleton
def compare_cases(
    fn,
    cases: Iterable[dict],
    reference: Callable[[dict], Any],
    read: Callable[[Any, Any, dict], Any],
    table: Iterable[Mistake],
    *,
    args: tuple[str, ...],
    grads: tuple[str, ...] = (),
    same: Callable[[Any, Any], bool] = close,
    like: Callable[[Any, Any], bool] | None = None,
) -> int:
    """The skeleton of most checkers. For each case (a dict of inputs and settings): run fn on copies
    of the case's `args` (their names, in order; see `run`), read(result, expected, case) into a
    number or tensor (or a hint), and compare with reference(case) by `same`. On a difference the
    table explains it: the first mistake whose answer matches (by `like`, default `same`), else the
    table's last row (a Mistake without an answer). Hints are formatted with the case's fields and
    `off` (how a number is off). When the value is right, the gradients reaching the inputs named in
    `grads` must equal the reference's. Returns the number of cases checked."""
    table, like = tuple(table), like or same
    right = []  # (result, leaves, case) of every case whose value is right: their gradients last
    for case in cases:
        expected = _value(reference(case))
        raw, leaves = run(fn, args, tuple(case[name] for name in args), grads=grads)
        got = read(raw, expected, case)
        if same(got, expected):
            right.append((raw, leaves, case))
            continue
        fields = dict(case)
        if not isinstance(got, torch.Tensor):
            fields["off"] = off(got, expected)
        for mistake in table:
            if mistake.answer is None:
                hint = Hint(mistake.hint.format(**fields))
                hint.catch_all = True
                raise hint
            if like(got, _value(mistake.answer(case))):
                raise Hint(mistake.hint.format(**fields))
        raise Hint(
            "the result differs from the reference"
        )  # pragma: no cover - tables end in a catch-all
    for raw, leaves, case in right:  # every value is right: now what training would see
        if grads:
            check_gradients(raw, leaves, reference, case)
    return len(right)
