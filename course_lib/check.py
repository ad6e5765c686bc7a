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
        return float(value)
    except (TypeError, ValueError):
        raise _Hint(f"{what} should return a number, got {type(value).__name__}") from None


# ----------------------------------------------------------------------------- 00 getting started
@exercise("accuracy")
def accuracy(fn) -> str:
    """fn(logits: (B, C), labels: (B,)) -> fraction in [0, 1] of rows whose arg-max is the label."""
    g = torch.Generator().manual_seed(7)
    cases = [
        (
            torch.tensor([[2.0, 1.0, 0.1], [0.1, 0.2, 3.0], [1.0, 3.0, 0.0], [0.5, 0.4, 0.3]]),
            torch.tensor([0, 2, 0, 1]),
        ),
        (torch.randn(50, 10, generator=g), torch.randint(0, 10, (50,), generator=g)),
    ]
    for logits, labels in cases:
        expected = (logits.argmax(1) == labels).float().mean().item()
        got = _as_float(_call(fn, logits.clone(), labels.clone()), "your function")
        if expected > 0 and abs(got - expected * 100) < 1e-4:
            raise _Hint(
                f"you returned a percentage ({got:.1f}); return a fraction in [0, 1] ({expected:.2f})"
            )
        if abs(got - expected * len(labels)) < 1e-4 and len(labels) > 1 and expected > 0:
            raise _Hint(
                f"you returned the number of correct rows ({got:.0f}); divide by the batch size"
            )
        if abs(got - expected) > 1e-6:
            raise _Hint(
                f"expected {expected:.4f} on a batch of {len(labels)} rows, got {got:.4f}; "
                "compare logits.argmax(dim=1) with the labels"
            )
    return f"{len(cases)} batches give the right fraction"


def _as_tensor(value, what: str, shape) -> torch.Tensor:
    if value is None:
        raise _Hint(f"{what} returned None - did you forget `return`?")
    if not isinstance(value, torch.Tensor):
        raise _Hint(f"{what} should return a tensor, got {type(value).__name__}")
    if tuple(value.shape) != tuple(shape):
        raise _Hint(f"{what} returned shape {tuple(value.shape)}, expected {tuple(shape)}")
    if not torch.isfinite(value).all():
        raise _Hint(f"{what} returned NaN or inf values")
    return value


# ----------------------------------------------------------------------------- 01 dropout and batch norm
@exercise("dropout")
def dropout(fn) -> str:
    """fn(x, p) -> x with each unit zeroed with probability p and the rest scaled by 1/(1-p) (training mode)."""
    x = torch.ones(200, 500)
    for p in (0.5, 0.2):
        out = _as_tensor(_call(fn, x.clone(), p), f"your dropout with p={p}", x.shape)
        dropped = (out == 0).float().mean().item()
        kept = out[out != 0]
        if dropped == 0:
            raise _Hint(
                f"nothing was dropped with p={p}: zero each unit where a random number is below p"
            )
        if abs(dropped - (1 - p)) < 0.01 and abs(dropped - p) > 0.02:
            raise _Hint(
                f"you dropped {dropped:.0%} of units with p={p}: p is the probability to DROP, "
                "so keep a unit with probability 1-p"
            )
        if abs(dropped - p) > 0.01:
            raise _Hint(
                f"with p={p} about {p:.0%} of units should be zero, you zeroed {dropped:.1%}"
            )
        if kept.numel() and torch.allclose(kept, torch.ones_like(kept)):
            raise _Hint(
                f"the kept units are unchanged: scale them by 1/(1-p) = {1 / (1 - p):.2f} so the "
                "expected activation stays the same"
            )
        if kept.numel() and torch.allclose(kept, torch.full_like(kept, 1 - p)):
            raise _Hint(
                f"you multiplied the kept units by (1-p) = {1 - p:.2f}; divide by it instead"
            )
        if not torch.allclose(kept, torch.full_like(kept, 1 / (1 - p)), atol=1e-5):
            raise _Hint(
                f"kept units of an all-ones input should equal 1/(1-p) = {1 / (1 - p):.2f}, "
                f"got values from {kept.min().item():.2f} to {kept.max().item():.2f}"
            )
    again = _call(fn, x.clone(), 0.5)
    first = _call(fn, x.clone(), 0.5)
    if torch.equal(again, first):
        raise _Hint("two calls gave the same mask: draw a new random mask on every forward pass")
    return "right fraction dropped, survivors scaled by 1/(1-p), a new mask on every pass"


@exercise("batch_norm")
def batch_norm(fn) -> str:
    """fn(x (B, C), gamma (C,), beta (C,), eps) -> training-mode batch normalization."""
    g = torch.Generator().manual_seed(3)
    x = torch.randn(16, 5, generator=g) * torch.tensor([1.0, 5.0, 0.1, 2.0, 1.0]) + torch.tensor(
        [0.0, 3.0, -1.0, 10.0, 0.0]
    )
    x[:, 4] = 2.0  # a constant channel: its variance is 0, only eps keeps the division finite
    gamma, beta, eps = (
        torch.tensor([1.0, 2.0, 0.5, 1.0, 1.0]),
        torch.tensor([0.0, -1.0, 0.3, 0.0, 0.5]),
        1e-5,
    )
    expected = F.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)
    got = _call(fn, x.clone(), gamma.clone(), beta.clone(), eps)
    if (
        got is not None
        and isinstance(got, torch.Tensor)
        and got.shape == x.shape
        and not torch.isfinite(got).all()
    ):
        raise _Hint("a channel with zero variance gave NaN/inf: add eps inside the square root")
    got = _as_tensor(got, "your batch_norm", x.shape)
    if torch.allclose(got, expected, atol=1e-4):
        return "matches F.batch_norm in training mode"
    over_features = (
        gamma
        * (x - x.mean(1, keepdim=True))
        / torch.sqrt(x.var(1, unbiased=False, keepdim=True) + eps)
        + beta
    )
    if torch.allclose(got, over_features, atol=1e-4):
        raise _Hint(
            "you normalised each example over its features (dim=1); batch norm normalises each "
            "feature over the batch (dim=0)"
        )
    unbiased = gamma * (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=True) + eps) + beta
    if torch.allclose(got, unbiased, atol=1e-4):
        raise _Hint("use the biased variance (divide by B, `unbiased=False`), as batch norm does")
    plain = (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + eps)
    if torch.allclose(got, plain, atol=1e-4):
        raise _Hint("the normalisation is right; now scale by gamma and shift by beta")
    raise _Hint(
        "the output differs from F.batch_norm: subtract the batch mean per feature, divide by "
        "sqrt(var + eps), then multiply by gamma and add beta"
    )


# ----------------------------------------------------------------------------- 02 convolution and pooling
@exercise("conv2d")
def conv2d(fn) -> str:
    """fn(x (d, d'), kernel (k, k')) -> (d-k+1, d'-k'+1) as in the lecture's formula (= F.conv2d)."""
    g = torch.Generator().manual_seed(5)
    for shape, kshape in (((6, 7), (3, 3)), ((5, 5), (2, 3))):
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
    x = torch.tensor([[1.0, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])
    for inp, size in ((x, 2), (torch.arange(36.0).view(6, 6).remainder(7), 3)):
        expected = F.max_pool2d(inp[None, None], size)[0, 0]
        got = _call(fn, inp.clone(), size)
        if (
            isinstance(got, torch.Tensor)
            and got.shape == (inp.shape[0] - size + 1,) * 2
            and got.shape != expected.shape
        ):
            raise _Hint(
                f"your windows overlap (stride 1): pooling uses disjoint patches, so a "
                f"{inp.shape[0]}x{inp.shape[1]} input gives {tuple(expected.shape)}"
            )
        got = _as_tensor(got, "your max_pool", expected.shape)
        if torch.allclose(got, F.avg_pool2d(inp[None, None], size)[0, 0]) and not torch.allclose(
            got, expected
        ):
            raise _Hint("you averaged each patch; max pooling keeps the largest value")
        if not torch.allclose(got, expected):
            raise _Hint(f"expected {expected.tolist()} for {inp.tolist()}, got {got.tolist()}")
    return "matches F.max_pool2d on the 4x4 example and a 6x6 input"


# ----------------------------------------------------------------------------- 03 autoencoders
@exercise("kl_sparsity")
def kl_sparsity(fn) -> str:
    """fn(h (B, units) in (0, 1), rho) -> sum over units of KL(rho || mean activation of the unit)."""
    g = torch.Generator().manual_seed(11)
    h = torch.rand(32, 6, generator=g) * torch.tensor([0.1, 0.9, 0.5, 0.05, 0.3, 0.02])
    for rho in (0.05, 0.2):
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
        if abs(got - expected) < 1e-4:
            continue
        if abs(got - per_example) < 1e-4:
            raise _Hint(
                "average each unit's activation over the batch first (rho_hat = h.mean(0)), then take KL"
            )
        if abs(got - swapped) < 1e-4:
            raise _Hint(
                "you computed KL(rho_hat || rho); the sparsity penalty is KL(rho || rho_hat)"
            )
        if abs(got - expected / h.shape[1]) < 1e-4:
            raise _Hint("sum the KL over the units, do not average it")
        if abs(got - (rho * torch.log(rho / q)).sum().item()) < 1e-4:
            raise _Hint(
                "KL between two Bernoulli distributions has two terms: add (1-rho) log((1-rho)/(1-rho_hat))"
            )
        raise _Hint(f"expected {expected:.4f} for rho={rho}, got {got:.4f}")
    return "the KL penalty matches for two target rates"


@exercise("add_noise")
def add_noise(fn) -> str:
    """fn(x in [0, 1], level) -> x + level * standard normal noise, clipped to [0, 1], new noise per call."""
    x = torch.full((64, 1, 28, 28), 0.5)
    x[:, :, :, :14] = 0.0
    out = _as_tensor(_call(fn, x.clone(), 0.3), "your add_noise", x.shape)
    if out.min() < 0 or out.max() > 1:
        raise _Hint(
            f"values go from {out.min().item():.2f} to {out.max().item():.2f}; clip (clamp) the noisy "
            "image to [0, 1], the range of real images"
        )
    right = (out - x)[..., 14:]  # where x = 0.5, clipping almost never happens at level 0.3
    std = right.std().item()
    if std < 1e-6:
        raise _Hint("nothing changed: add level * torch.randn_like(x)")
    if abs(right.mean().item()) > 0.02:
        if abs(right.mean().item() - 0.15) < 0.03:
            raise _Hint(
                "use Gaussian noise with mean 0, torch.randn_like, not uniform noise torch.rand_like"
            )
        raise _Hint(f"the noise should have mean 0, yours has {right.mean().item():.3f}")
    if abs(std - 0.3) > 0.03:
        if abs(std - 0.09) < 0.02:
            raise _Hint("the noise std should be `level` (0.3); you used level**2 (the variance)")
        raise _Hint(f"the noise should have standard deviation level = 0.3, yours has {std:.3f}")
    if torch.equal(out, _call(fn, x.clone(), 0.3)):
        raise _Hint(
            "two calls gave the same noise: draw new noise every time (no fixed seed inside)"
        )
    if not torch.equal(_call(fn, x.clone(), 0.0), x):
        raise _Hint("level 0 should return the image unchanged")
    return "Gaussian noise of std `level`, clipped to [0, 1], fresh on every call"


# ----------------------------------------------------------------------------- 04 variational autoencoders
@exercise("reparameterize")
def reparameterize(fn) -> str:
    """fn(mu, logvar) -> z = mu + exp(logvar / 2) * eps, eps ~ N(0, I); differentiable in mu and logvar."""
    mu = torch.tensor([[0.5, 1.2]]).repeat(20_000, 1).requires_grad_(True)
    logvar = torch.log(torch.tensor([[0.1, 0.2]]) ** 2).repeat(20_000, 1).requires_grad_(True)
    z = _call(fn, mu, logvar)
    z = _as_tensor(z, "your reparameterize", mu.shape)
    if not z.requires_grad:
        raise _Hint(
            "no gradient reaches mu and logvar: build z from them (mu + sigma * eps) instead of "
            "sampling with torch.normal(mu, sigma)"
        )
    z.sum().backward()
    if mu.grad is None or logvar.grad is None or logvar.grad.abs().sum() == 0:
        raise _Hint(
            "the gradient must reach both mu and logvar: z = mu + torch.exp(0.5 * logvar) * eps"
        )
    mean, std = z.detach().mean(0), z.detach().std(0)
    if torch.allclose(std, torch.tensor([0.01, 0.04]), atol=0.005):
        raise _Hint(
            "you used the variance as the standard deviation: sigma = exp(logvar / 2), not exp(logvar)"
        )
    if torch.allclose(std, torch.tensor([0.1, 0.2]).log().mul(2).abs(), rtol=0.1):
        raise _Hint("logvar is log(sigma^2): sigma = torch.exp(0.5 * logvar), not logvar itself")
    if not torch.allclose(std, torch.tensor([0.1, 0.2]), rtol=0.05):
        raise _Hint(
            f"the samples' std should be sigma = [0.1, 0.2], got {std.numpy().round(3).tolist()}"
        )
    if not torch.allclose(mean, torch.tensor([0.5, 1.2]), atol=0.01):
        raise _Hint(
            f"the samples' mean should be mu = [0.5, 1.2], got {mean.numpy().round(3).tolist()}"
        )
    return "right mean and spread, and gradients reach mu and logvar"


@exercise("kl_gaussian")
def kl_gaussian(fn) -> str:
    """fn(mu (B, d), logvar (B, d)) -> KL(N(mu, sigma^2) || N(0, I)) summed over d, averaged over B."""
    g = torch.Generator().manual_seed(4)
    mu, logvar = torch.randn(8, 3, generator=g), torch.randn(8, 3, generator=g) * 0.5
    per_dim = -0.5 * (1 + logvar - mu**2 - logvar.exp())
    expected = per_dim.sum(1).mean().item()
    got = _as_float(_call(fn, mu.clone(), logvar.clone()), "your kl_gaussian")
    if abs(got - expected) < 1e-4:
        return f"matches the closed form ({expected:.4f} on a test batch)"
    if abs(got + expected) < 1e-4:
        raise _Hint(
            "the sign is flipped: KL is -1/2 * sum(1 + logvar - mu^2 - exp(logvar)), which is >= 0"
        )
    if abs(got - 2 * expected) < 1e-4:
        raise _Hint("missing the factor 1/2")
    if abs(got - per_dim.mean().item()) < 1e-4:
        raise _Hint("sum over the latent dimensions (dim=1), then average over the batch")
    if abs(got - per_dim.sum().item()) < 1e-4:
        raise _Hint("average over the batch: sum over dim=1, then .mean()")
    sigma = logvar.exp()
    if abs(got - (-0.5 * (1 + logvar - mu**2 - sigma**2)).sum(1).mean().item()) < 1e-4:
        raise _Hint("exp(logvar) is already sigma^2; do not square it again")
    raise _Hint(
        f"expected {expected:.4f}, got {got:.4f}: KL = -1/2 sum(1 + logvar - mu^2 - exp(logvar))"
    )


# ----------------------------------------------------------------------------- 07 diffusion
@exercise("q_sample")
def q_sample(fn) -> str:
    """fn(x0, noise, alpha_bar) -> x_t = sqrt(alpha_bar) x0 + sqrt(1 - alpha_bar) noise."""
    g = torch.Generator().manual_seed(8)
    x0, noise = torch.rand(4, 1, 6, 6, generator=g) * 2 - 1, torch.randn(4, 1, 6, 6, generator=g)
    for ab in (0.9, 0.3):
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
            f"for alpha_bar = {ab} the result differs from sqrt(ab) * x0 + sqrt(1 - ab) * noise"
        )
    return "the closed form of the forward process, for two noise levels"


@exercise("predict_x0")
def predict_x0(fn) -> str:
    """fn(x_t, eps, alpha_bar) -> x0 = (x_t - sqrt(1 - alpha_bar) eps) / sqrt(alpha_bar)."""
    g = torch.Generator().manual_seed(9)
    x0, eps = torch.rand(3, 1, 6, 6, generator=g) * 2 - 1, torch.randn(3, 1, 6, 6, generator=g)
    for ab in (0.8, 0.1):
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
def _gan_logits():
    g = torch.Generator().manual_seed(12)
    return torch.randn(16, generator=g) + 1.0, torch.randn(16, generator=g) - 1.0


@exercise("discriminator_loss")
def discriminator_loss(fn) -> str:
    """fn(d_real_logits (B,), d_fake_logits (B,)) -> BCE(real -> 1) + BCE(fake -> 0), from logits."""
    real, fake = _gan_logits()
    bce = F.binary_cross_entropy_with_logits
    expected = (bce(real, torch.ones(16)) + bce(fake, torch.zeros(16))).item()
    got = _as_float(_call(fn, real.clone(), fake.clone()), "your discriminator_loss")
    if abs(got - expected) < 1e-4:
        return "recognise genuine (label 1) + recognise fakes (label 0)"
    if abs(got - (bce(real, torch.zeros(16)) + bce(fake, torch.ones(16))).item()) < 1e-4:
        raise _Hint(
            "the labels are swapped: real images -> 1, fakes -> 0 (whatever you pick, G must use the same)"
        )
    if (
        abs(got - bce(real, torch.ones(16)).item()) < 1e-4
        or abs(got - bce(fake, torch.zeros(16)).item()) < 1e-4
    ):
        raise _Hint("D's loss has two parts: recognise the genuine images AND recognise the fakes")
    if abs(got - expected / 2) < 1e-4:
        raise _Hint("add the two parts, do not average them")
    if abs(got + expected) < 1e-4:
        raise _Hint("that is V(D, G), which D maximises; as a loss to minimise take its negative")
    raise _Hint(
        f"expected {expected:.4f}, got {got:.4f}; these are logits: use binary_cross_entropy_with_logits"
    )


@exercise("generator_loss")
def generator_loss(fn) -> str:
    """fn(d_fake_logits (B,)) -> the non-saturating generator loss -log D(G(z)) = BCE(fake -> 1)."""
    _, fake = _gan_logits()
    expected = F.binary_cross_entropy_with_logits(fake, torch.ones(16)).item()
    got = _as_float(_call(fn, fake.clone()), "your generator_loss")
    if abs(got - expected) < 1e-4:
        return "the non-saturating loss: G wants D to say 'real' (1) for its fakes"
    if abs(got - F.logsigmoid(-fake).mean().item()) < 1e-4:
        raise _Hint(
            "that is the saturating min-max form log(1 - D(G(z))); its gradient vanishes while D "
            "wins. Use -log D(G(z)): BCE with target 1"
        )
    if abs(got - F.binary_cross_entropy_with_logits(fake, torch.zeros(16)).item()) < 1e-4:
        raise _Hint("with target 0 G would help D; G wants its fakes labelled real (1)")
    raise _Hint(
        f"expected {expected:.4f}, got {got:.4f}: BCE of D's logits on fakes against the label 1"
    )


# ----------------------------------------------------------------------------- 06 conditional GANs
@exercise("wrong_labels")
def wrong_labels(fn) -> str:
    """fn(labels (B,) in 0..9) -> labels (B,) that are random AND always different from the given ones."""
    labels = torch.arange(10).repeat(100)
    first = _call(fn, labels.clone())
    if not isinstance(first, torch.Tensor) or first.shape != labels.shape:
        raise _Hint(f"return a tensor of shape {tuple(labels.shape)}, one wrong label per image")
    if first.dtype not in (torch.int64, torch.int32):
        raise _Hint("labels are integers: use torch.randint / integer arithmetic")
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
    return "always wrong, and random"


@exercise("class_agreement")
def class_agreement(fn) -> str:
    """fn(logits (N, 10) of a classifier on generated images, requested (N,)) -> fraction classified as requested."""
    g = torch.Generator().manual_seed(13)
    logits, requested = torch.randn(200, 10, generator=g), torch.randint(0, 10, (200,), generator=g)
    expected = (logits.argmax(1) == requested).float().mean().item()
    got = _as_float(_call(fn, logits.clone(), requested.clone()), "your class_agreement")
    if abs(got - expected) < 1e-6:
        return "the fraction of samples the classifier puts in the requested class"
    if abs(got - expected * 100) < 1e-4:
        raise _Hint("return a fraction in [0, 1], not a percentage")
    if abs(got - logits.softmax(1)[torch.arange(200), requested].mean().item()) < 1e-4:
        raise _Hint(
            "that is the mean probability of the requested class; count arg-max hits instead"
        )
    raise _Hint(
        f"expected {expected:.3f}, got {got:.3f}: compare logits.argmax(1) with the requested labels"
    )


# ----------------------------------------------------------------------------- 08 recurrent networks
@exercise("rnn_step")
def rnn_step(fn) -> str:
    """fn(x_t (B, D), h_prev (B, H), W (H, D), U (H, H), b (H,)) -> tanh(x_t W^T + h_prev U^T + b)."""
    g = torch.Generator().manual_seed(14)
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
    gen = torch.Generator().manual_seed(15)
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
    g = torch.Generator().manual_seed(16)
    a, p, n = (torch.randn(32, 4, generator=g) for _ in range(3))
    d_ap, d_an = (a - p).norm(dim=1), (a - n).norm(dim=1)
    expected = F.relu(d_ap - d_an + 0.5).mean().item()
    got = _as_float(_call(fn, a.clone(), p.clone(), n.clone(), 0.5), "your triplet_loss")
    if abs(got - expected) < 1e-4:
        return f"matches max(d(A,P) - d(A,N) + alpha, 0) averaged over the batch ({expected:.4f})"
    if abs(got - (d_ap - d_an + 0.5).mean().item()) < 1e-4:
        raise _Hint(
            "clip at zero: triplets that are already far enough apart must cost nothing (max(..., 0))"
        )
    if abs(got - F.relu(d_ap**2 - d_an**2 + 0.5).mean().item()) < 1e-4:
        raise _Hint("use the distances ||a - p||, not their squares (take .norm(dim=1))")
    if abs(got - F.relu(d_an - d_ap + 0.5).mean().item()) < 1e-4:
        raise _Hint(
            "the distances are swapped: the anchor-positive distance comes first, minus anchor-negative"
        )
    if abs(got - F.relu(d_ap - d_an + 0.5).sum().item()) < 1e-4:
        raise _Hint("average over the batch (.mean()), do not sum")
    if abs(got - F.relu(d_ap - d_an).mean().item()) < 1e-4:
        raise _Hint("the margin alpha is missing: max(d(A,P) - d(A,N) + alpha, 0)")
    if abs(got - F.relu((a - p).norm() - (a - n).norm() + 0.5).item()) < 1e-4:
        raise _Hint("take one distance per row (.norm(dim=1)), not one norm over the whole batch")
    raise _Hint(f"expected {expected:.4f} on a test batch, got {got:.4f}")


@exercise("unshuffle_tiles")
def unshuffle_tiles(fn) -> str:
    """fn(shuffled (B, 1, H, W), perms (B, grid*grid), grid) -> the original images."""
    from .models.pretext import permutation_set, shuffle_tiles

    g = torch.Generator().manual_seed(17)
    x = torch.rand(4, 1, 6, 6, generator=g)
    perms = permutation_set(9, 24)[torch.tensor([3, 7, 11, 20])]
    shuffled = shuffle_tiles(x, perms, 3)
    got = _as_tensor(_call(fn, shuffled.clone(), perms.clone(), 3), "your unshuffle", (4, 1, 6, 6))
    if torch.equal(got, x):
        return "every tile is back in its place"
    if torch.equal(got, shuffle_tiles(shuffled, perms, 3)):
        raise _Hint(
            "that shuffled once more; to undo a permutation apply its inverse (torch.argsort(perms, dim=1))"
        )
    if torch.equal(got, shuffled):
        raise _Hint(
            "the tiles did not move; move tile i of the shuffled image back to position perms[b, i]"
        )
    raise _Hint("some tiles are in the wrong place; shuffled tile i came from position perms[b, i]")


@exercise("contrastive_loss")
def contrastive_loss(fn) -> str:
    """fn(z1, z2, same, margin) -> mean of same * d^2 + (1 - same) * max(margin - d, 0)^2, d = ||z1 - z2||."""
    g = torch.Generator().manual_seed(18)
    z1, z2 = torch.randn(40, 3, generator=g) * 0.6, torch.randn(40, 3, generator=g) * 0.6
    same = (torch.rand(40, generator=g) < 0.5).float()
    d = (z1 - z2).norm(dim=1)
    expected = (same * d**2 + (1 - same) * F.relu(1.5 - d) ** 2).mean().item()
    got = _as_float(_call(fn, z1.clone(), z2.clone(), same.clone(), 1.5), "your contrastive_loss")
    if abs(got - expected) < 1e-4:
        return f"pulls matching pairs together and pushes others out to the margin ({expected:.4f})"
    if abs(got - ((1 - same) * d**2 + same * F.relu(1.5 - d) ** 2).mean().item()) < 1e-4:
        raise _Hint(
            "the cases are swapped: pairs with same=1 should pay d^2, pairs with same=0 the margin term"
        )
    if abs(got - (same * d**2 + (1 - same) * (1.5 - d) ** 2).mean().item()) < 1e-4:
        raise _Hint(
            "clip the margin term at zero: different pairs farther apart than the margin cost nothing"
        )
    if abs(got - (same * d + (1 - same) * F.relu(1.5 - d)).mean().item()) < 1e-4:
        raise _Hint("square both terms: d^2 and max(margin - d, 0)^2")
    if abs(got - (same * d**2).mean().item()) < 1e-4:
        raise _Hint(
            "the different pairs are missing: without pushing them apart every embedding collapses to one point"
        )
    raise _Hint(f"expected {expected:.4f}, got {got:.4f}")


# ----------------------------------------------------------------------------- 10 transfer learning
@exercise("copy_blocks")
def copy_blocks(fn) -> str:
    """fn(source: ConvEncoder, k: int) -> a new ConvEncoder whose first k blocks hold copies of source's."""
    from .models.encoder import ConvEncoder

    torch.manual_seed(19)
    source = ConvEncoder()
    before = {k: v.clone() for k, v in source.state_dict().items()}
    for k in (1, 2):
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
