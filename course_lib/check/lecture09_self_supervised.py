"""Checkers of notebook 09: the triplet loss, putting jigsaw tiles back, the contrastive loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import (
    Hint,
    Mistake,
    compare_cases,
    exercise,
    fresh_generator,
    number,
    refine,
    tensor,
)


def _distances(c):
    return (c["a"] - c["p"]).norm(dim=1), (c["a"] - c["n"]).norm(dim=1)


def _triplet(c):
    d_ap, d_an = _distances(c)
    return F.relu(d_ap - d_an + c["alpha"]).mean()


TRIPLET_MISTAKES = (
    Mistake(
        "clip at zero: triplets that are already far enough apart must cost nothing (max(..., 0))",
        lambda c: (_distances(c)[0] - _distances(c)[1] + c["alpha"]).mean().item(),
    ),
    Mistake(
        "use the distances ||a - p||, not their squares (take .norm(dim=1))",
        lambda c: F.relu(_distances(c)[0] ** 2 - _distances(c)[1] ** 2 + c["alpha"]).mean().item(),
    ),
    Mistake(
        "the distances are swapped: the anchor-positive distance comes first, minus anchor-negative",
        lambda c: F.relu(_distances(c)[1] - _distances(c)[0] + c["alpha"]).mean().item(),
    ),
    Mistake(
        "average over the batch (.mean()), do not sum",
        lambda c: F.relu(_distances(c)[0] - _distances(c)[1] + c["alpha"]).sum().item(),
    ),
    Mistake(
        "the margin alpha is missing: max(d(A,P) - d(A,N) + alpha, 0)",
        lambda c: F.relu(_distances(c)[0] - _distances(c)[1]).mean().item(),
    ),
    Mistake(
        "take one distance per row (.norm(dim=1)), not one norm over the whole batch",
        lambda c: F.relu((c["a"] - c["p"]).norm() - (c["a"] - c["n"]).norm() + c["alpha"]).item(),
    ),
    Mistake(
        "with alpha = {alpha} on a batch of {b} the loss is wrong ({off}): check the distances - "
        "one per row, between the embeddings (not squared) - and the clipping at 0"
    ),
)


def _triplet_cases():
    g = fresh_generator()
    for b, d, alpha in ((32, 4, 0.5), (19, 3, 1.3), (40, 6, 0.2)):
        a, p, n = (torch.randn(b, d, generator=g) for _ in range(3))
        yield {"a": a, "p": p, "n": n, "alpha": alpha, "b": b}


@exercise("triplet_loss", TRIPLET_MISTAKES)
def triplet_loss(fn) -> str:
    """fn(a, p, n, alpha) -> mean over the batch of max(||a - p|| - ||a - n|| + alpha, 0)."""
    args = ("a", "p", "n", "alpha")
    read = number("your triplet_loss")
    try:
        compare_cases(
            fn, _triplet_cases(), _triplet, read, TRIPLET_MISTAKES, args=args, grads=("a", "p", "n")
        )
    except Hint as hint:
        if not hint.catch_all:
            raise
        message = (
            "the margin alpha is missing: your loss does not change when alpha does; use the alpha "
            "you are given (a larger one must cost more for triplets that are not far enough apart)"
        )
        raise refine(
            hint, fn, list(_triplet_cases())[:2], args, "alpha", message, bump=5.0
        ) from None
    return "matches max(d(A,P) - d(A,N) + alpha, 0) averaged over the batch, for three margins"


def _shuffle(c, images):
    from ..models.pretext import shuffle_tiles

    return shuffle_tiles(images, c["perms"], c["grid"])


UNSHUFFLE_MISTAKES = (
    Mistake(
        "that shuffled once more; to undo a permutation apply its inverse (torch.argsort(perms, dim=1))",
        lambda c: _shuffle(c, _shuffle(c, c["x"])),
    ),
    Mistake(
        "the tiles did not move; move tile i of the shuffled image back to position perms[b, i]",
        lambda c: _shuffle(c, c["x"]),
    ),
    Mistake(
        "with grid={grid} some tiles are in the wrong place; shuffled tile i came from position "
        "perms[b, i] (use the grid you are given)"
    ),
)


def _unshuffle_cases():
    from ..models.pretext import permutation_set

    g = fresh_generator()
    for grid, size, k in ((3, 6, 24), (2, 8, 12)):
        x = torch.rand(4, 1, size, size, generator=g)
        perms = permutation_set(grid * grid, k)[torch.randint(0, k, (4,), generator=g)]
        case = {"x": x, "perms": perms, "grid": grid}
        yield {**case, "shuffled": _shuffle(case, x)}


@exercise("unshuffle_tiles", UNSHUFFLE_MISTAKES)
def unshuffle_tiles(fn) -> str:
    """fn(shuffled (B, 1, H, W), perms (B, grid*grid), grid) -> the original images."""
    compare_cases(
        fn,
        _unshuffle_cases(),
        lambda c: c["x"],
        tensor("your unshuffle (grid={grid})"),
        UNSHUFFLE_MISTAKES,
        args=("shuffled", "perms", "grid"),
        same=torch.equal,
    )
    return "every tile is back in its place, for a 3x3 and a 2x2 grid"


def _pair_terms(c, square=True, clip=True, swap=False):
    d = (c["z1"] - c["z2"]).norm(dim=1)
    same = 1 - c["same"] if swap else c["same"]
    push = F.relu(c["m"] - d) if clip else c["m"] - d
    power = 2 if square else 1
    return (same * d**power + (1 - same) * push**power).mean()


CONTRASTIVE_MISTAKES = (
    Mistake(
        "the cases are swapped: pairs with same=1 should pay d^2, pairs with same=0 the margin term",
        lambda c: _pair_terms(c, swap=True),
    ),
    Mistake(
        "clip the margin term at zero: different pairs farther apart than the margin cost nothing",
        lambda c: _pair_terms(c, clip=False),
    ),
    Mistake(
        "square both terms: d^2 and max(margin - d, 0)^2", lambda c: _pair_terms(c, square=False)
    ),
    Mistake(
        "the different pairs are missing: without pushing them apart every embedding collapses to one point",
        lambda c: (c["same"] * (c["z1"] - c["z2"]).norm(dim=1) ** 2).mean().item(),
    ),
    Mistake(
        "with margin {m} on a batch of {b} the loss is wrong ({off}): check the distance - one per "
        "pair of rows - and which pairs pay which term"
    ),
)


def _contrastive_cases():
    g = fresh_generator()
    for b, m in ((40, 1.5), (23, 0.8), (64, 2.2)):
        z1, z2 = torch.randn(b, 3, generator=g) * 0.6, torch.randn(b, 3, generator=g) * 0.6
        same = (torch.rand(b, generator=g) < 0.5).float()
        same[:2] = torch.tensor([0.0, 1.0])  # both kinds of pair in every batch
        yield {"z1": z1, "z2": z2, "same": same, "m": m, "b": b}


@exercise("contrastive_loss", CONTRASTIVE_MISTAKES)
def contrastive_loss(fn) -> str:
    """fn(z1, z2, same, margin) -> mean of same * d^2 + (1 - same) * max(margin - d, 0)^2, d = ||z1 - z2||."""
    read = number("your contrastive_loss")
    args = ("z1", "z2", "same", "m")
    try:
        compare_cases(
            fn,
            _contrastive_cases(),
            _pair_terms,
            read,
            CONTRASTIVE_MISTAKES,
            args=args,
            grads=("z1", "z2"),
        )
    except Hint as hint:
        if not hint.catch_all:
            raise
        message = (
            "the margin is missing: your loss does not change when the margin does; use the margin "
            "you are given (it sets how far apart different pairs must be before they cost nothing)"
        )
        raise refine(
            hint, fn, list(_contrastive_cases())[:2], args, "m", message, bump=5.0
        ) from None
    return "pulls matching pairs together and pushes others out to the margin, for three margins"
