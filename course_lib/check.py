"""Automatic checks for the exercises in the notebooks.

    from course_lib import check
    check.accuracy(my_accuracy)      # prints a pass, or a hint that names the mistake

Each checker runs the student's answer as a function: on several inputs drawn afresh on every call
(different batch sizes, non-square shapes where they apply, values that are not all ones), with
statistical tests for random operations (mean, spread, shape of the distribution, independence across
the batch and the dimensions). It never lets a traceback escape and never prints the value it
expects (so a constant cannot be copied in); a hint names the mistake instead. It returns a `Result`
that is truthy only on a pass, so a notebook's solution cell can `assert check.accuracy(solution)`.
Answers in another dtype (float64, int64) are converted before they are compared.

Each later notebook adds its checkers here, grouped by notebook.
"""

from __future__ import annotations

import functools
import html
import secrets
import traceback

import torch
import torch.nn.functional as F

__all__ = [
    "Result",
    "accuracy",
    "dropout",
    "batch_norm",
    "conv2d",
    "max_pool",
    "kl_sparsity",
    "add_noise",
    "reparameterize",
    "kl_gaussian",
    "q_sample",
    "predict_x0",
    "discriminator_loss",
    "generator_loss",
    "wrong_labels",
    "class_agreement",
    "rnn_step",
    "lstm_cell_update",
    "triplet_loss",
    "unshuffle_tiles",
    "contrastive_loss",
    "copy_blocks",
    "freeze",
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


def _rng() -> torch.Generator:
    """A generator with a fresh seed: the inputs change on every check, so only a real function passes."""
    return torch.Generator().manual_seed(secrets.randbits(62))


def _as_float(value, what: str) -> float:
    if value is None:
        raise _Hint(f"{what} returned None - did you forget `return`?")
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise _Hint(
                f"{what} should return a single number, got a tensor of shape {tuple(value.shape)}"
            )
        value = value.item()
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise _Hint(f"{what} should return a number, got {type(value).__name__}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise _Hint(f"{what} returned {value}: look for a division by zero or a log of 0")
    return value


def _close(got: float, value: float, tol: float = 1e-4) -> bool:
    return abs(got - value) <= tol * max(1.0, abs(value))


def _off(got: float, expected: float) -> str:
    """How a wrong number is wrong, without giving the right one away."""
    if abs(got) < 1e-12 and abs(expected) > 1e-6:
        return "you returned 0"
    if got * expected < 0:
        return "the sign is wrong"
    return "it is too large" if abs(got) > abs(expected) else "it is too small"


# ----------------------------------------------------------------------------- 00 getting started
@exercise("accuracy")
def accuracy(fn) -> str:
    """fn(logits: (B, C), labels: (B,)) -> fraction in [0, 1] of rows whose arg-max is the label."""
    g = _rng()
    cases = [
        (
            torch.tensor([[2.0, 1.0, 0.1], [0.1, 0.2, 3.0], [1.0, 3.0, 0.0], [0.5, 0.4, 0.3]]),
            torch.tensor([0, 2, 0, 1]),
        )
    ]
    for b, c in ((50, 10), (37, 4), (128, 7)):
        logits = torch.randn(b, c, generator=g)
        labels = torch.where(  # about half right, so the fraction is far from 0, 1 and 1/C
            torch.rand(b, generator=g) < 0.5,
            logits.argmax(1),
            torch.randint(0, c, (b,), generator=g),
        )
        cases.append((logits, labels))
    for logits, labels in cases:
        expected = (logits.argmax(1) == labels).float().mean().item()
        got = _as_float(_call(fn, logits.clone(), labels.clone()), "your function")
        if expected > 0 and abs(got - expected * 100) < 1e-4:
            raise _Hint("you returned a percentage; return a fraction in [0, 1]")
        if abs(got - expected * len(labels)) < 1e-4 and len(labels) > 1 and expected > 0:
            raise _Hint("you returned the number of correct rows; divide by the batch size")
        if abs(got - expected) > 1e-6:
            raise _Hint(
                f"on a batch of {len(labels)} rows and {logits.shape[1]} classes your fraction is wrong "
                f"({_off(got, expected)}); compare logits.argmax(dim=1) with the labels"
            )
    return f"{len(cases)} batches of different sizes give the right fraction"


def _as_tensor(value, what: str, shape) -> torch.Tensor:
    if value is None:
        raise _Hint(f"{what} returned None - did you forget `return`?")
    if not isinstance(value, torch.Tensor):
        raise _Hint(f"{what} should return a tensor, got {type(value).__name__}")
    if tuple(value.shape) != tuple(shape):
        raise _Hint(f"{what} returned shape {tuple(value.shape)}, expected {tuple(shape)}")
    if value.is_complex():
        raise _Hint(f"{what} returned complex numbers")
    value = value.detach().to(
        "cpu", torch.float32
    )  # float64 / int64 answers are compared as floats
    if not torch.isfinite(value).all():
        raise _Hint(f"{what} returned NaN or inf values")
    return value


# ----------------------------------------------------------------------------- 01 dropout and batch norm
@exercise("dropout")
def dropout(fn) -> str:
    """fn(x, p) -> x with each unit zeroed with probability p and the rest scaled by 1/(1-p) (training mode)."""
    g = _rng()
    x = torch.rand(1000, 1000, generator=g) + 0.5  # not all ones: the answer must use x
    tol = 0.003  # the dropped fraction of 10^6 units is within +-0.0005 of p (1 sd)
    for p in (0.5, 0.2):
        out = _as_tensor(_call(fn, x.clone(), p), f"your dropout with p={p}", x.shape)
        zero = out == 0
        dropped = zero.float().mean().item()
        ratio = out[~zero] / x[~zero]
        if dropped == 0:
            raise _Hint(
                f"nothing was dropped with p={p}: zero each unit where a random number is below p"
            )
        rows, cols = zero.float().mean(1), zero.float().mean(0)
        if rows.std() > 0.05 or cols.std() > 0.05:  # independent units: about 0.016 each
            raise _Hint(
                "some rows or columns are dropped together: draw one random number per unit "
                "(torch.rand_like(x)), not per row or column"
            )
        if abs(dropped - (1 - p)) < tol and abs(dropped - p) > 2 * tol:
            raise _Hint(
                f"you dropped {dropped:.0%} of units with p={p}: p is the probability to DROP, "
                "so keep a unit with probability 1-p"
            )
        if abs(dropped - p) > tol:
            raise _Hint(
                f"with p={p} a fraction p of the units should be zero, you zeroed {dropped:.2%}"
            )
        if ratio.numel() and torch.allclose(ratio, torch.ones_like(ratio)):
            raise _Hint(
                f"the kept units are unchanged: scale them by 1/(1-p) = {1 / (1 - p):.2f} so the "
                "expected activation stays the same"
            )
        if ratio.numel() and torch.allclose(ratio, torch.full_like(ratio, 1 - p)):
            raise _Hint(
                f"you multiplied the kept units by (1-p) = {1 - p:.2f}; divide by it instead"
            )
        if not torch.allclose(ratio, torch.full_like(ratio, 1 / (1 - p)), rtol=1e-4):
            raise _Hint(
                "each kept unit should be its input times 1/(1-p): x * mask / (1 - p); yours is "
                "not proportional to x"
            )
    first, again = _call(fn, x.clone(), 0.5), _call(fn, x.clone(), 0.5)
    if torch.equal(first, again):
        raise _Hint("two calls gave the same mask: draw a new random mask on every forward pass")
    return "right fraction dropped, each unit on its own, survivors scaled by 1/(1-p), a new mask every pass"


@exercise("batch_norm")
def batch_norm(fn) -> str:
    """fn(x (B, C), gamma (C,), beta (C,), eps) -> training-mode batch normalization."""
    g = _rng()
    for b, c in ((16, 5), (9, 3)):
        scale, shift = torch.rand(c, generator=g) * 5 + 0.1, torch.randn(c, generator=g) * 4
        x = torch.randn(b, c, generator=g) * scale + shift
        x[:, -1] = 2.0  # a constant channel: its variance is 0, only eps keeps the division finite
        gamma, beta = torch.rand(c, generator=g) + 0.5, torch.randn(c, generator=g)
        eps = 1e-5
        expected = F.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)
        got = _call(fn, x.clone(), gamma.clone(), beta.clone(), eps)
        if (
            isinstance(got, torch.Tensor)
            and got.shape == x.shape
            and not torch.isfinite(got.double()).all()
        ):
            raise _Hint("a channel with zero variance gave NaN/inf: add eps inside the square root")
        got = _as_tensor(got, "your batch_norm", x.shape)
        if torch.allclose(got, expected, atol=1e-4):
            continue
        mean_f = x.mean(1, keepdim=True)
        var_f = x.var(1, unbiased=False, keepdim=True)
        if torch.allclose(got, gamma * (x - mean_f) / torch.sqrt(var_f + eps) + beta, atol=1e-4):
            raise _Hint(
                "you normalised each example over its features (dim=1); batch norm normalises each "
                "feature over the batch (dim=0)"
            )
        unbiased = gamma * (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=True) + eps) + beta
        if torch.allclose(got, unbiased, atol=1e-4):
            raise _Hint(
                "use the biased variance (divide by B, `unbiased=False`), as batch norm does"
            )
        plain = (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + eps)
        if torch.allclose(got, plain, atol=1e-4):
            raise _Hint("the normalisation is right; now scale by gamma and shift by beta")
        raise _Hint(
            "the output differs from F.batch_norm: subtract the batch mean per feature, divide by "
            "sqrt(var + eps), then multiply by gamma and add beta"
        )
    return "matches F.batch_norm in training mode, on two batches of different shapes"


# ----------------------------------------------------------------------------- 02 convolution and pooling
@exercise("conv2d")
def conv2d(fn) -> str:
    """fn(x (d, d'), kernel (k, k')) -> (d-k+1, d'-k'+1) as in the lecture's formula (= F.conv2d)."""
    g = _rng()
    for shape, kshape in (((6, 7), (3, 3)), ((5, 5), (2, 3)), ((4, 9), (4, 2))):
        x, k = torch.randn(shape, generator=g), torch.randn(kshape, generator=g)
        expected = F.conv2d(x[None, None], k[None, None])[0, 0]
        got = _call(fn, x.clone(), k.clone())
        if isinstance(got, torch.Tensor) and got.shape != expected.shape:
            raise _Hint(
                f"a {shape[0]}x{shape[1]} image and a {kshape[0]}x{kshape[1]} kernel give a "
                f"{expected.shape[0]}x{expected.shape[1]} output (d-k+1) x (d'-k'+1); you returned "
                f"{tuple(got.shape)}"
            )
        got = _as_tensor(got, "your conv2d", expected.shape)
        flipped = F.conv2d(x[None, None], k.flip(0, 1)[None, None])[0, 0]
        if not torch.allclose(got, expected, atol=1e-4):
            if torch.allclose(got, flipped, atol=1e-4):
                raise _Hint(
                    "you flipped the kernel (a true convolution); the lecture's formula, like "
                    "F.conv2d, uses K[a, b] as it is"
                )
            raise _Hint(
                "values differ from the formula: out[i, j] = sum over a, b of x[i+a, j+b] * K[a, b]"
            )
    return "matches the formula and F.conv2d, also for a non-square kernel"


@exercise("max_pool")
def max_pool(fn) -> str:
    """fn(x (H, W), size) -> max over disjoint size x size patches, (H/size, W/size)."""
    g = _rng()
    cases = [
        (torch.tensor([[1.0, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]), 2),
        (torch.randn(6, 6, generator=g), 3),
        (torch.randn(4, 6, generator=g), 2),  # not square
        (torch.randn(6, 9, generator=g), 3),
    ]
    for inp, size in cases:
        expected = F.max_pool2d(inp[None, None], size)[0, 0]
        got = _call(fn, inp.clone(), size)
        stride_1 = (inp.shape[0] - size + 1, inp.shape[1] - size + 1)
        if isinstance(got, torch.Tensor) and tuple(got.shape) == stride_1 != tuple(expected.shape):
            raise _Hint(
                f"your windows overlap (stride 1): pooling uses disjoint patches, so a "
                f"{inp.shape[0]}x{inp.shape[1]} input gives {tuple(expected.shape)}"
            )
        got = _as_tensor(
            got, f"your max_pool on a {inp.shape[0]}x{inp.shape[1]} input", expected.shape
        )
        if torch.allclose(got, F.avg_pool2d(inp[None, None], size)[0, 0]) and not torch.allclose(
            got, expected
        ):
            raise _Hint("you averaged each patch; max pooling keeps the largest value")
        if not torch.allclose(got, expected):
            raise _Hint(
                f"on a {inp.shape[0]}x{inp.shape[1]} input with size {size} some values are wrong: "
                "each output is the max of one size x size patch"
            )
    return "matches F.max_pool2d on square and non-square inputs"


# ----------------------------------------------------------------------------- 03 autoencoders
@exercise("kl_sparsity")
def kl_sparsity(fn) -> str:
    """fn(h (B, units) in (0, 1), rho) -> sum over units of KL(rho || mean activation of the unit)."""
    g = _rng()
    for b, units, rho in ((32, 6, 0.05), (20, 9, 0.2), (50, 4, 0.1)):
        h = torch.rand(b, units, generator=g) * (torch.rand(units, generator=g) * 0.8 + 0.05)
        h = h.clamp(1e-3, 1 - 1e-3)
        q = h.mean(0)
        expected = (
            (rho * torch.log(rho / q) + (1 - rho) * torch.log((1 - rho) / (1 - q))).sum().item()
        )
        got = _as_float(_call(fn, h.clone(), rho), "your kl_sparsity")
        per_example = (
            (rho * torch.log(rho / h) + (1 - rho) * torch.log((1 - rho) / (1 - h)))
            .sum(1)
            .mean()
            .item()
        )
        swapped = (q * torch.log(q / rho) + (1 - q) * torch.log((1 - q) / (1 - rho))).sum().item()
        if _close(got, expected):
            continue
        if _close(got, per_example):
            raise _Hint(
                "average each unit's activation over the batch first (rho_hat = h.mean(0)), then take KL"
            )
        if _close(got, swapped):
            raise _Hint(
                "you computed KL(rho_hat || rho); the sparsity penalty is KL(rho || rho_hat)"
            )
        if _close(got, expected / units):
            raise _Hint("sum the KL over the units, do not average it")
        if _close(got, (rho * torch.log(rho / q)).sum().item()):
            raise _Hint(
                "KL between two Bernoulli distributions has two terms: add (1-rho) log((1-rho)/(1-rho_hat))"
            )
        raise _Hint(
            f"for rho={rho} on a batch of {b} x {units} activations the penalty is wrong "
            f"({_off(got, expected)}): sum over units of KL(rho || rho_hat)"
        )
    return "the KL penalty matches for three batches and target rates"


def _gaussian_tails(values: torch.Tensor) -> float:
    """Fraction of standardised values beyond 2: 4.55% for a Gaussian, 0% for uniform noise."""
    z = (values - values.mean()) / values.std()
    return (z.abs() > 2).float().mean().item()


@exercise("add_noise")
def add_noise(fn) -> str:
    """fn(x in [0, 1], level) -> x + level * standard normal noise, clipped to [0, 1], new noise per call."""
    g = _rng()
    x = torch.full((64, 1, 28, 28), 0.5)
    x[:, :, :, :14] = 0.0
    out = _as_tensor(_call(fn, x.clone(), 0.3), "your add_noise", x.shape)
    if out.min() < 0 or out.max() > 1:
        raise _Hint(
            f"values go from {out.min().item():.2f} to {out.max().item():.2f}; clip (clamp) the noisy "
            "image to [0, 1], the range of real images"
        )
    # The statistics: a mid-grey random image and a small level, where clipping never happens.
    level = 0.08
    x = 0.35 + 0.3 * torch.rand(64, 1, 28, 28, generator=g)
    noise = _as_tensor(_call(fn, x.clone(), level), "your add_noise", x.shape) - x
    std = noise.std().item()
    if std < 1e-6:
        raise _Hint("nothing changed: add level * torch.randn_like(x)")
    corr = torch.corrcoef(noise.flatten(1)[:2])[0, 1].abs().item()
    if corr > 0.2:  # independent images: about 0.04
        raise _Hint(
            "the images of the batch share one noise pattern: draw noise of the batch's full shape"
        )
    if (noise.std(0) < 1e-6).any():
        raise _Hint("part of the image gets no noise: add noise to every pixel")
    if abs(noise.mean().item()) > 0.004:  # 50,000 values: the mean is within +-0.0004 (1 sd)
        if abs(noise.mean().item() - level / 2) < 0.01:
            raise _Hint(
                "use Gaussian noise with mean 0, torch.randn_like, not uniform noise torch.rand_like"
            )
        raise _Hint("the noise should have mean 0; yours is shifted")
    if abs(std - level) > 0.02 * level:  # the std of 50,000 values is within +-0.3% (1 sd)
        if abs(std - level**2) < 0.1 * level**2:
            raise _Hint("the noise std should be `level`; you used level**2 (the variance)")
        raise _Hint(
            f"the noise should have standard deviation `level`; yours is {std / level:.2f} times that"
        )
    if not 0.035 < _gaussian_tails(noise) < 0.058:  # 4.55% +- 0.09% for Gaussian noise
        raise _Hint(
            "the noise does not look Gaussian (too few or too many large values): use torch.randn_like"
        )
    x0 = torch.full((8, 1, 28, 28), 0.5)
    first, again = _call(fn, x0.clone(), 0.3), _call(fn, x0.clone(), 0.3)
    if torch.equal(first, again):
        raise _Hint(
            "two calls gave the same noise: draw new noise every time (no fixed seed inside)"
        )
    if not torch.equal(_as_tensor(_call(fn, x.clone(), 0.0), "your add_noise", x.shape), x):
        raise _Hint("level 0 should return the image unchanged")
    return "Gaussian noise of std `level` on every pixel, independent per image, clipped to [0, 1], fresh on every call"


# ----------------------------------------------------------------------------- 04 variational autoencoders
@exercise("reparameterize")
def reparameterize(fn) -> str:
    """fn(mu, logvar) -> z = mu + exp(logvar / 2) * eps, eps ~ N(0, I); differentiable in mu and logvar."""
    g = _rng()
    n = 40_000
    mu_row = torch.randn(1, 2, generator=g)
    sigma_row = torch.rand(1, 2, generator=g) * 0.1 + 0.1
    mu = mu_row.repeat(n, 1).requires_grad_(True)
    logvar = torch.log(sigma_row**2).repeat(n, 1).requires_grad_(True)
    z = _call(fn, mu, logvar)
    if isinstance(z, torch.Tensor) and z.shape == mu.shape and not z.requires_grad:
        raise _Hint(
            "no gradient reaches mu and logvar: build z from them (mu + sigma * eps) instead of "
            "sampling with torch.normal(mu, sigma)"
        )
    if isinstance(z, torch.Tensor) and z.requires_grad:
        z.sum().backward()
        if mu.grad is None or logvar.grad is None or logvar.grad.abs().sum() == 0:
            raise _Hint(
                "the gradient must reach both mu and logvar: z = mu + torch.exp(0.5 * logvar) * eps"
            )
    z = _as_tensor(z, "your reparameterize", mu.shape)
    mean, std = z.mean(0), z.std(0)
    sigma = sigma_row[0]
    # 40,000 samples: the std is within +-0.35% (1 sd) of sigma, the mean within +-0.005 sigma
    if torch.allclose(std, sigma**2, rtol=0.05):
        raise _Hint(
            "you used the variance as the standard deviation: sigma = exp(logvar / 2), not exp(logvar)"
        )
    if torch.allclose(std, torch.log(sigma**2).abs(), rtol=0.05):
        raise _Hint("logvar is log(sigma^2): sigma = torch.exp(0.5 * logvar), not logvar itself")
    if not torch.allclose(std, sigma, rtol=0.02):
        raise _Hint(
            f"the samples' spread is {(std / sigma).mean().item():.2f} times sigma: "
            "z = mu + exp(0.5 * logvar) * eps with eps ~ N(0, 1)"
        )
    if ((mean - mu_row[0]).abs() > 0.025 * sigma).any():  # 5 sd of the mean of 40,000 samples
        raise _Hint("the samples are not centred on mu: z = mu + sigma * eps, with eps of mean 0")
    eps = (z - mu_row) / sigma_row
    if not 0.04 < _gaussian_tails(eps) < 0.051:
        raise _Hint("eps must be standard normal (torch.randn_like), not uniform or another shape")
    if torch.corrcoef(eps.T)[0, 1].abs() > 0.05:
        raise _Hint(
            "the latent dimensions share one eps: draw eps with the full shape of mu (torch.randn_like(mu))"
        )
    return "right mean, spread and distribution, independent dimensions, and gradients reach mu and logvar"


@exercise("kl_gaussian")
def kl_gaussian(fn) -> str:
    """fn(mu (B, d), logvar (B, d)) -> KL(N(mu, sigma^2) || N(0, I)) summed over d, averaged over B."""
    g = _rng()
    for b, d in ((8, 3), (13, 2), (5, 6)):
        mu, logvar = torch.randn(b, d, generator=g), torch.randn(b, d, generator=g) * 0.5
        per_dim = -0.5 * (1 + logvar - mu**2 - logvar.exp())
        expected = per_dim.sum(1).mean().item()
        got = _as_float(_call(fn, mu.clone(), logvar.clone()), "your kl_gaussian")
        if _close(got, expected):
            continue
        if _close(got, -expected):
            raise _Hint(
                "the sign is flipped: KL is -1/2 * sum(1 + logvar - mu^2 - exp(logvar)), which is >= 0"
            )
        if _close(got, 2 * expected):
            raise _Hint("missing the factor 1/2")
        if _close(got, per_dim.mean().item()):
            raise _Hint("sum over the latent dimensions (dim=1), then average over the batch")
        if _close(got, per_dim.sum().item()):
            raise _Hint("average over the batch: sum over dim=1, then .mean()")
        sigma = logvar.exp()
        if _close(got, (-0.5 * (1 + logvar - mu**2 - sigma**2)).sum(1).mean().item()):
            raise _Hint("exp(logvar) is already sigma^2; do not square it again")
        raise _Hint(
            f"on a batch of {b} x {d} the value is wrong ({_off(got, expected)}): "
            "KL = -1/2 sum(1 + logvar - mu^2 - exp(logvar)) over dimensions, averaged over the batch"
        )
    return "matches the closed form on three batches of different shapes"


# ----------------------------------------------------------------------------- 07 diffusion
@exercise("q_sample")
def q_sample(fn) -> str:
    """fn(x0, noise, alpha_bar) -> x_t = sqrt(alpha_bar) x0 + sqrt(1 - alpha_bar) noise."""
    g = _rng()
    x0, noise = torch.rand(4, 1, 6, 7, generator=g) * 2 - 1, torch.randn(4, 1, 6, 7, generator=g)
    for ab in (0.9, 0.3, 0.05 + 0.9 * torch.rand(1, generator=g).item()):
        expected = ab**0.5 * x0 + (1 - ab) ** 0.5 * noise
        got = _as_tensor(
            _call(fn, x0.clone(), noise.clone(), torch.tensor(ab)), "your q_sample", x0.shape
        )
        if torch.allclose(got, expected, atol=1e-5):
            continue
        if torch.allclose(got, ab * x0 + (1 - ab) * noise, atol=1e-5):
            raise _Hint(
                "take square roots: the weights are sqrt(alpha_bar) and sqrt(1 - alpha_bar), so the "
                "variance stays 1"
            )
        if torch.allclose(got, (1 - ab) ** 0.5 * x0 + ab**0.5 * noise, atol=1e-5):
            raise _Hint(
                "the weights are swapped: sqrt(alpha_bar) multiplies the image, sqrt(1 - alpha_bar) the noise"
            )
        if torch.allclose(got, x0 + (1 - ab) ** 0.5 * noise, atol=1e-5):
            raise _Hint(
                "the image must also shrink by sqrt(alpha_bar), or x_t never becomes pure noise"
            )
        raise _Hint(
            f"for alpha_bar = {ab:.3f} the result differs from sqrt(ab) * x0 + sqrt(1 - ab) * noise"
        )
    return "the closed form of the forward process, for two noise levels"


@exercise("predict_x0")
def predict_x0(fn) -> str:
    """fn(x_t, eps, alpha_bar) -> x0 = (x_t - sqrt(1 - alpha_bar) eps) / sqrt(alpha_bar)."""
    g = _rng()
    x0, eps = torch.rand(3, 1, 6, 5, generator=g) * 2 - 1, torch.randn(3, 1, 6, 5, generator=g)
    for ab in (0.8, 0.1, 0.05 + 0.9 * torch.rand(1, generator=g).item()):
        xt = ab**0.5 * x0 + (1 - ab) ** 0.5 * eps
        got = _as_tensor(
            _call(fn, xt.clone(), eps.clone(), torch.tensor(ab)), "your predict_x0", x0.shape
        )
        if torch.allclose(got, x0, atol=1e-4):
            continue
        if torch.allclose(got, xt - (1 - ab) ** 0.5 * eps, atol=1e-4):
            raise _Hint(
                "after removing the noise, divide by sqrt(alpha_bar) to undo the shrinking of x0"
            )
        if torch.allclose(got, (xt - (1 - ab) * eps) / ab**0.5, atol=1e-4):
            raise _Hint("the noise is weighted by sqrt(1 - alpha_bar), not (1 - alpha_bar)")
        raise _Hint("solve x_t = sqrt(ab) x0 + sqrt(1 - ab) eps for x0")
    return "recovers x0 exactly when the noise is known"


# ----------------------------------------------------------------------------- 05 GANs
def _gan_cases():
    """Logits of D on real and fake batches, three batch sizes, drawn afresh on every check."""
    g = _rng()
    for b in (16, 7, 33):
        yield torch.randn(b, generator=g) + 1.0, torch.randn(b, generator=g) - 1.0


@exercise("discriminator_loss")
def discriminator_loss(fn) -> str:
    """fn(d_real_logits (B,), d_fake_logits (B,)) -> BCE(real -> 1) + BCE(fake -> 0), from logits."""
    bce = F.binary_cross_entropy_with_logits
    for real, fake in _gan_cases():
        one, zero = torch.ones_like(real), torch.zeros_like(fake)
        expected = (bce(real, one) + bce(fake, zero)).item()
        got = _as_float(_call(fn, real.clone(), fake.clone()), "your discriminator_loss")
        if _close(got, expected):
            continue
        if _close(got, (bce(real, zero) + bce(fake, one)).item()):
            raise _Hint(
                "the labels are swapped: real images -> 1, fakes -> 0 (whatever you pick, G must use the same)"
            )
        if _close(got, bce(real, one).item()) or _close(got, bce(fake, zero).item()):
            raise _Hint(
                "D's loss has two parts: recognise the genuine images AND recognise the fakes"
            )
        if _close(got, expected / 2):
            raise _Hint("add the two parts, do not average them")
        if _close(got, -expected):
            raise _Hint(
                "that is V(D, G), which D maximises; as a loss to minimise take its negative"
            )
        raise _Hint(
            f"on a batch of {len(real)} the loss is wrong ({_off(got, expected)}); these are logits: "
            "use binary_cross_entropy_with_logits"
        )
    return "recognise genuine (label 1) + recognise fakes (label 0)"


@exercise("generator_loss")
def generator_loss(fn) -> str:
    """fn(d_fake_logits (B,)) -> the non-saturating generator loss -log D(G(z)) = BCE(fake -> 1)."""
    bce = F.binary_cross_entropy_with_logits
    for _, fake in _gan_cases():
        expected = bce(fake, torch.ones_like(fake)).item()
        got = _as_float(_call(fn, fake.clone()), "your generator_loss")
        if _close(got, expected):
            continue
        if _close(got, F.logsigmoid(-fake).mean().item()):
            raise _Hint(
                "that is the saturating min-max form log(1 - D(G(z))); its gradient vanishes while D "
                "wins. Use -log D(G(z)): BCE with target 1"
            )
        if _close(got, bce(fake, torch.zeros_like(fake)).item()):
            raise _Hint("with target 0 G would help D; G wants its fakes labelled real (1)")
        raise _Hint(
            f"on a batch of {len(fake)} the loss is wrong ({_off(got, expected)}): BCE of D's "
            "logits on fakes against the label 1"
        )
    return "the non-saturating loss: G wants D to say 'real' (1) for its fakes"


# ----------------------------------------------------------------------------- 06 conditional GANs
@exercise("wrong_labels")
def wrong_labels(fn) -> str:
    """fn(labels (B,) in 0..9) -> labels (B,) that are random AND always different from the given ones."""
    g = _rng()
    labels = torch.arange(10).repeat(100)[torch.randperm(1000, generator=g)]
    first = _call(fn, labels.clone())
    if not isinstance(first, torch.Tensor) or first.shape != labels.shape:
        raise _Hint(f"return a tensor of shape {tuple(labels.shape)}, one wrong label per image")
    if first.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
        raise _Hint("labels are integers: use torch.randint / integer arithmetic")
    first = first.long()
    if (first < 0).any() or (first > 9).any():
        raise _Hint("labels must stay in 0..9: take the result modulo 10")
    same = (first == labels).float().mean().item()
    if same > 0:
        raise _Hint(
            f"{same:.0%} of your 'wrong' labels equal the correct one: shift by a random offset in 1..9, "
            "modulo 10, so it can never be the same"
        )
    if len(set(((first - labels) % 10).tolist())) < 5:
        raise _Hint(
            "the wrong labels should be random, not always the same offset from the true one"
        )
    counts = torch.bincount(first, minlength=10).float()
    if counts.min() < 50:
        raise _Hint("every digit should appear as a wrong label about equally often")
    per_label = [len(set(first[labels == c].tolist())) for c in range(10)]
    if min(per_label) < 6:  # 100 random draws from 9 digits: all 9 appear
        raise _Hint(
            "for each true label, every one of the 9 other digits should be possible as the wrong one"
        )
    again = _call(fn, labels.clone())
    if isinstance(again, torch.Tensor) and torch.equal(again.long(), first):
        raise _Hint("two calls gave the same labels: draw new random offsets on every call")
    return "always wrong, and random"


@exercise("class_agreement")
def class_agreement(fn) -> str:
    """fn(logits (N, 10) of a classifier on generated images, requested (N,)) -> fraction classified as requested."""
    g = _rng()
    for n in (200, 57, 128):
        logits = torch.randn(n, 10, generator=g)
        requested = torch.where(
            torch.rand(n, generator=g) < 0.4,
            logits.argmax(1),
            torch.randint(0, 10, (n,), generator=g),
        )
        expected = (logits.argmax(1) == requested).float().mean().item()
        got = _as_float(_call(fn, logits.clone(), requested.clone()), "your class_agreement")
        if abs(got - expected) < 1e-6:
            continue
        if abs(got - expected * 100) < 1e-4:
            raise _Hint("return a fraction in [0, 1], not a percentage")
        if _close(got, logits.softmax(1)[torch.arange(n), requested].mean().item()):
            raise _Hint(
                "that is the mean probability of the requested class; count arg-max hits instead"
            )
        raise _Hint(
            f"for {n} samples the fraction is wrong ({_off(got, expected)}): compare "
            "logits.argmax(1) with the requested labels and average over the samples"
        )
    return "the fraction of samples the classifier puts in the requested class"


# ----------------------------------------------------------------------------- 08 recurrent networks
@exercise("rnn_step")
def rnn_step(fn) -> str:
    """fn(x_t (B, D), h_prev (B, H), W (H, D), U (H, H), b (H,)) -> tanh(x_t W^T + h_prev U^T + b)."""
    g = _rng()
    x, h = torch.randn(4, 3, generator=g), torch.randn(4, 5, generator=g)
    W, U, b = (
        torch.randn(5, 3, generator=g),
        torch.randn(5, 5, generator=g),
        torch.randn(5, generator=g),
    )
    pre = x @ W.T + h @ U.T + b
    got = _as_tensor(_call(fn, x, h, W, U, b), "your rnn_step", (4, 5))
    if torch.allclose(got, torch.tanh(pre), atol=1e-5):
        return "h_t = tanh(W x_t + U h_{t-1} + b)"
    if torch.allclose(got, pre, atol=1e-5):
        raise _Hint("apply the non-linearity: h_t = tanh(...)")
    if torch.allclose(got, torch.sigmoid(pre), atol=1e-5):
        raise _Hint("the plain RNN cell uses tanh, not the sigmoid")
    if torch.allclose(got, torch.tanh(x @ W.T + b), atol=1e-5):
        raise _Hint("the previous hidden state is missing: add U h_{t-1}")
    raise _Hint("compare with torch.tanh(x_t @ W.T + h_prev @ U.T + b)")


@exercise("lstm_cell_update")
def lstm_cell_update(fn) -> str:
    """fn(c_prev, f, i, g) -> f * c_prev + i * g."""
    gen = _rng()
    c, f, i, g = (
        torch.randn(3, 4, generator=gen),
        torch.rand(3, 4, generator=gen),
        torch.rand(3, 4, generator=gen),
        torch.rand(3, 4, generator=gen) * 2 - 1,
    )
    got = _as_tensor(_call(fn, c, f, i, g), "your cell update", (3, 4))
    if torch.allclose(got, f * c + i * g, atol=1e-6):
        return "c_t = f * c_{t-1} + i * g: keep what the forget gate lets through, add what the input gate admits"
    if torch.allclose(got, i * c + f * g, atol=1e-6):
        raise _Hint(
            "the gates are swapped: the forget gate f scales the old memory, the input gate i the new content"
        )
    if torch.allclose(got, f * c + g, atol=1e-6):
        raise _Hint("the new content g must pass through the input gate: i * g")
    if torch.allclose(got, c + i * g, atol=1e-6):
        raise _Hint("the old memory must pass through the forget gate: f * c_prev")
    raise _Hint("c_t = f * c_prev + i * g (element-wise)")


# ----------------------------------------------------------------------------- 09 self-supervised learning
@exercise("triplet_loss")
def triplet_loss(fn) -> str:
    """fn(a, p, n, alpha) -> mean over the batch of max(||a - p|| - ||a - n|| + alpha, 0)."""
    g = _rng()
    for b, d, alpha in ((32, 4, 0.5), (19, 3, 1.3), (40, 6, 0.2)):
        a, p, n = (torch.randn(b, d, generator=g) for _ in range(3))
        d_ap, d_an = (a - p).norm(dim=1), (a - n).norm(dim=1)
        expected = F.relu(d_ap - d_an + alpha).mean().item()
        got = _as_float(_call(fn, a.clone(), p.clone(), n.clone(), alpha), "your triplet_loss")
        if _close(got, expected):
            continue
        if _close(got, (d_ap - d_an + alpha).mean().item()):
            raise _Hint(
                "clip at zero: triplets that are already far enough apart must cost nothing (max(..., 0))"
            )
        if _close(got, F.relu(d_ap**2 - d_an**2 + alpha).mean().item()):
            raise _Hint("use the distances ||a - p||, not their squares (take .norm(dim=1))")
        if _close(got, F.relu(d_an - d_ap + alpha).mean().item()):
            raise _Hint(
                "the distances are swapped: the anchor-positive distance comes first, minus anchor-negative"
            )
        if _close(got, F.relu(d_ap - d_an + alpha).sum().item()):
            raise _Hint("average over the batch (.mean()), do not sum")
        if _close(got, F.relu(d_ap - d_an).mean().item()):
            raise _Hint("the margin alpha is missing: max(d(A,P) - d(A,N) + alpha, 0)")
        if _close(got, F.relu((a - p).norm() - (a - n).norm() + alpha).item()):
            raise _Hint(
                "take one distance per row (.norm(dim=1)), not one norm over the whole batch"
            )
        raise _Hint(
            f"with alpha = {alpha} on a batch of {b} the loss is wrong ({_off(got, expected)}); "
            "use the alpha you are given"
        )
    return "matches max(d(A,P) - d(A,N) + alpha, 0) averaged over the batch, for three margins"


@exercise("unshuffle_tiles")
def unshuffle_tiles(fn) -> str:
    """fn(shuffled (B, 1, H, W), perms (B, grid*grid), grid) -> the original images."""
    from .models.pretext import permutation_set, shuffle_tiles

    g = _rng()
    for grid, size, k in ((3, 6, 24), (2, 8, 12)):
        x = torch.rand(4, 1, size, size, generator=g)
        perms = permutation_set(grid * grid, k)[torch.randint(0, k, (4,), generator=g)]
        shuffled = shuffle_tiles(x, perms, grid)
        what = f"your unshuffle (grid={grid})"
        got = _as_tensor(_call(fn, shuffled.clone(), perms.clone(), grid), what, x.shape)
        if torch.equal(got, x):
            continue
        if torch.equal(got, shuffle_tiles(shuffled, perms, grid)):
            raise _Hint(
                "that shuffled once more; to undo a permutation apply its inverse (torch.argsort(perms, dim=1))"
            )
        if torch.equal(got, shuffled):
            raise _Hint(
                "the tiles did not move; move tile i of the shuffled image back to position perms[b, i]"
            )
        raise _Hint(
            f"with grid={grid} some tiles are in the wrong place; shuffled tile i came from position "
            "perms[b, i] (use the grid you are given)"
        )
    return "every tile is back in its place, for a 3x3 and a 2x2 grid"


@exercise("contrastive_loss")
def contrastive_loss(fn) -> str:
    """fn(z1, z2, same, margin) -> mean of same * d^2 + (1 - same) * max(margin - d, 0)^2, d = ||z1 - z2||."""
    g = _rng()
    for b, m in ((40, 1.5), (23, 0.8), (64, 2.2)):
        z1, z2 = torch.randn(b, 3, generator=g) * 0.6, torch.randn(b, 3, generator=g) * 0.6
        same = (torch.rand(b, generator=g) < 0.5).float()
        same[:2] = torch.tensor([0.0, 1.0])  # both kinds of pair in every batch
        d = (z1 - z2).norm(dim=1)
        expected = (same * d**2 + (1 - same) * F.relu(m - d) ** 2).mean().item()
        got = _as_float(_call(fn, z1.clone(), z2.clone(), same.clone(), m), "your contrastive_loss")
        if _close(got, expected):
            continue
        if _close(got, ((1 - same) * d**2 + same * F.relu(m - d) ** 2).mean().item()):
            raise _Hint(
                "the cases are swapped: pairs with same=1 should pay d^2, pairs with same=0 the margin term"
            )
        if _close(got, (same * d**2 + (1 - same) * (m - d) ** 2).mean().item()):
            raise _Hint(
                "clip the margin term at zero: different pairs farther apart than the margin cost nothing"
            )
        if _close(got, (same * d + (1 - same) * F.relu(m - d)).mean().item()):
            raise _Hint("square both terms: d^2 and max(margin - d, 0)^2")
        if _close(got, (same * d**2).mean().item()):
            raise _Hint(
                "the different pairs are missing: without pushing them apart every embedding collapses to one point"
            )
        raise _Hint(
            f"with margin {m} on a batch of {b} the loss is wrong ({_off(got, expected)}); "
            "use the margin you are given"
        )
    return "pulls matching pairs together and pushes others out to the margin, for three margins"


# ----------------------------------------------------------------------------- 10 transfer learning
@exercise("copy_blocks")
def copy_blocks(fn) -> str:
    """fn(source: ConvEncoder, k: int) -> a new ConvEncoder whose first k blocks hold copies of source's."""
    from .models.encoder import ConvEncoder

    torch.manual_seed(secrets.randbits(62))
    source = ConvEncoder()
    with (
        torch.no_grad()
    ):  # give the BatchNorm layers running statistics of their own, as after training
        source.train()
        source(torch.rand(64, 1, 28, 28) * 2)
        source.eval()
    before = {k: v.clone() for k, v in source.state_dict().items()}
    for k in (1, 2, 3):
        new = _call(fn, source, k)
        if not isinstance(new, ConvEncoder):
            raise _Hint(f"return a new ConvEncoder, got {type(new).__name__}")
        if new is source:
            raise _Hint(
                "that is the source itself: fine-tuning it would change the pre-trained encoder; build a new one"
            )
        for i, (nb, sb) in enumerate(zip(new.blocks, source.blocks)):
            if i < k:
                if any(a is b for a, b in zip(nb.parameters(), sb.parameters())) or nb is sb:
                    raise _Hint(
                        f"block {i} shares its tensors with the source; copy the values "
                        "(load_state_dict or copy.deepcopy), so training one does not change the other"
                    )
                if not all(
                    torch.equal(a, b)
                    for a, b in zip(nb.state_dict().values(), sb.state_dict().values())
                ):
                    params_equal = all(
                        torch.equal(a, b) for a, b in zip(nb.parameters(), sb.parameters())
                    )
                    if params_equal:
                        raise _Hint(
                            f"block {i} has the source's parameters but not its BatchNorm running "
                            "statistics (buffers): copy the whole state_dict, not only parameters()"
                        )
                    raise _Hint(f"block {i} should hold the source's weights (k={k})")
            elif all(
                torch.equal(a, b)
                for a, b in zip(nb.state_dict().values(), sb.state_dict().values())
            ):
                raise _Hint(
                    f"with k={k}, block {i} should stay freshly initialised; only the first k blocks are copied"
                )
        if not all(torch.equal(v, source.state_dict()[n]) for n, v in before.items()):
            raise _Hint("the source encoder was changed; copy from it, never into it")
    return "the first k blocks are copies, the rest are new, and the source is untouched"


@exercise("freeze")
def freeze(fn) -> str:
    """fn(model with .encoder.blocks, k) -> sets requires_grad=False on the first k blocks only (returns nothing)."""
    from torch import nn

    from .models.encoder import ConvEncoder

    for k in (0, 2, 3):
        model = nn.Module()
        model.encoder = ConvEncoder()
        model.head = nn.Linear(128, 10)
        _call(fn, model, k)
        for i, block in enumerate(model.encoder.blocks):
            flags = {p.requires_grad for p in block.parameters()}
            if i < k and flags != {False}:
                raise _Hint(
                    f"with k={k}, block {i} should be frozen (requires_grad=False on all its parameters)"
                )
            if i >= k and flags != {True}:
                raise _Hint(
                    f"with k={k}, block {i} should still train; freeze only the first k blocks"
                )
        if not all(p.requires_grad for p in model.head.parameters()):
            raise _Hint("the new head must train, or nothing can learn the new task")
    return "the first k blocks are frozen, the rest of the encoder and the head train"
