"""Tests of lab 09 (labs/09_self_supervised_lab.ipynb): the triplet and contrastive losses, and a
siamese encoder trained without labels whose linear probe must beat raw pixels on fresh digits."""

from __future__ import annotations

import torch

from .. import data
from .base import Hint, as_tensor, exercise, fresh_generator
from .labs import fresh_seed, quiet, same_on

# Digits with stronger distortions (shifts, rotations) than the default: what a shift-robust
# encoder learns without labels shows most there.
DIFFICULTY = 1.5
UNLABELLED = {"n": 5_000, "seed": 11}
LABELS, TEST = 200, 2_000
MAX_DIM = 128
# Linear-probe accuracy with 200 labels, on 2,000 fresh test digits, minus that of the same probe on
# raw pixels (about 0.38): a triplet encoder trained for ~20 s gains about +0.10.
GAIN_BARS = [(0.03, 2.0), (0.06, 3.0)]


def unlabelled_digits() -> torch.Tensor:
    return data.make_digits28(UNLABELLED["n"], seed=UNLABELLED["seed"], difficulty=DIFFICULTY)[0]


def augment(x: torch.Tensor) -> torch.Tensor:
    """Each image moved by its own random shift of up to 3 pixels in x and y: (B, 1, 28, 28)."""
    shifts = torch.randint(-3, 4, (len(x), 2))
    return torch.stack(
        [torch.roll(img, (int(dy), int(dx)), (1, 2)) for img, (dy, dx) in zip(x, shifts)]
    )


@exercise("triplet_loss, on new batches")
def triplet_loss_fresh(fn) -> str:
    g = fresh_generator()
    cases = []
    for b, d, alpha in ((1, 2, 0.3), (50, 16, 2.0), (7, 1, 0.0)):
        cases.append(
            {
                "a": torch.randn(b, d, generator=g),
                "p": torch.randn(b, d, generator=g),
                "n": torch.randn(b, d, generator=g),
                "alpha": alpha,
                "shape": f"{b} x {d}, alpha {alpha}",
            }
        )
    ref = lambda c: (  # noqa: E731
        ((c["a"] - c["p"]).norm(dim=1) - (c["a"] - c["n"]).norm(dim=1) + c["alpha"])
        .clamp_min(0)
        .mean()
    )
    same_on(fn, cases, ref, ("a", "p", "n", "alpha"), "your triplet_loss")
    return "right on new batch sizes, dimensions and margins"


@exercise("contrastive_loss, on new batches")
def contrastive_loss_fresh(fn) -> str:
    g = fresh_generator()
    cases = []
    for b, d, m in ((2, 5, 1.0), (31, 1, 0.3), (64, 8, 3.0)):
        same = (torch.rand(b, generator=g) < 0.5).float()
        same[:2] = torch.tensor([0.0, 1.0])
        cases.append(
            {
                "z1": torch.randn(b, d, generator=g),
                "z2": torch.randn(b, d, generator=g),
                "same": same,
                "margin": m,
                "shape": f"{b} pairs of {d}, margin {m}",
            }
        )

    def ref(c):
        dist = (c["z1"] - c["z2"]).norm(dim=1)
        return (
            c["same"] * dist**2 + (1 - c["same"]) * (c["margin"] - dist).clamp_min(0) ** 2
        ).mean()

    same_on(fn, cases, ref, ("z1", "z2", "same", "margin"), "your contrastive_loss")
    return "right on new batch sizes, dimensions and margins"


def _features(encoder, x):
    z = encoder(x)
    if not isinstance(z, torch.Tensor) or z.ndim != 2 or z.shape[0] != len(x):
        raise Hint("encoder(x) must return features of shape (B, k)")
    if z.shape[1] > MAX_DIM:
        raise Hint(f"the encoder gives {z.shape[1]} features per image; at most {MAX_DIM}")
    return as_tensor(z, "encoder(x)", z.shape)


@exercise("the encoder's interface")
def interface(encoder) -> str:
    with quiet():
        if not isinstance(encoder, torch.nn.Module):
            raise Hint(f"`encoder` must be an nn.Module, got {type(encoder).__name__}")
        encoder.eval()
        z = _features(encoder, unlabelled_digits()[:4])
    return f"{z.shape[1]} features per image"


def _probe(train_x, train_y, test_x, test_y) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train_x)
    clf = LogisticRegression(max_iter=1_000).fit(scaler.transform(train_x), train_y)
    return float(clf.score(scaler.transform(test_x), test_y))


def probe_gain(encoder) -> tuple[float, float]:
    """(probe accuracy on the encoder's features, on raw pixels) with 200 fresh labelled digits and
    2,000 fresh test digits."""
    with quiet():
        encoder.eval()
        seed = fresh_seed()
        xl, yl = data.make_digits28(LABELS, seed=seed, difficulty=DIFFICULTY)
        xt, yt = data.make_digits28(TEST, seed=seed + 1, difficulty=DIFFICULTY)
        mine = _probe(
            _features(encoder, xl).numpy(), yl.numpy(), _features(encoder, xt).numpy(), yt.numpy()
        )
        raw = _probe(xl.flatten(1).numpy(), yl.numpy(), xt.flatten(1).numpy(), yt.numpy())
        return mine, raw


def probe_points(encoder) -> float:
    mine, raw = probe_gain(encoder)
    won = max([p for bar, p in GAIN_BARS if mine - raw >= bar], default=0.0)
    print(
        f"linear probe: {mine:.3f} on your features, {raw:.3f} on raw pixels (gain {mine - raw:+.3f}) "
        f"-> {won:g} of 3 points"
    )
    return won
