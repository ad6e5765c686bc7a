"""Checkers of notebook 06: wrong labels for the cGAN's discriminator, and class agreement."""

from __future__ import annotations

import torch

from .base import Hint, Mistake, compare_cases, exercise, fresh_generator, number, reseeds, run


@exercise("wrong_labels")
def wrong_labels(fn) -> str:
    """fn(labels (B,) in 0..9) -> labels (B,) that are random AND always different from the given ones."""
    g = fresh_generator()
    labels = torch.arange(10).repeat(100)[torch.randperm(1000, generator=g)]
    first, _ = run(fn, ("labels",), (labels,), deterministic=False)
    if not isinstance(first, torch.Tensor) or first.shape != labels.shape:
        raise Hint(f"return a tensor of shape {tuple(labels.shape)}, one wrong label per image")
    if first.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
        raise Hint("labels are integers: use torch.randint / integer arithmetic")
    first = first.long()
    if (first < 0).any() or (first > 9).any():
        raise Hint("labels must stay in 0..9: take the result modulo 10")
    same = (first == labels).float().mean().item()
    if same > 0:
        raise Hint(
            f"{same:.0%} of your 'wrong' labels equal the correct one: shift by a random offset that "
            "is never 0 (modulo 10), so it can never be the same"
        )
    offsets = torch.bincount((first - labels) % 10, minlength=10)[1:]
    if (offsets > 0).sum() == 1:
        raise Hint(
            "the wrong labels should be random, not always the same offset from the true one"
        )
    if offsets.min() < 40:  # 1,000 draws from 9 offsets: each about 111 times
        missing = [k + 1 for k in range(9) if offsets[k] < 40]
        raise Hint(
            f"the offsets {missing} (wrong label minus true label, modulo 10) almost never occur: "
            "every one of 1..9 must be possible - mind that torch.randint excludes its upper bound"
        )
    counts = torch.bincount(first, minlength=10).float()
    if counts.min() < 50:
        raise Hint("every digit should appear as a wrong label about equally often")
    if reseeds(fn, labels[:50]):
        raise Hint(
            "your function reseeds the global random generator (manual_seed): every call then draws "
            "the same labels, and the rest of the notebook draws other numbers"
        )
    again, _ = run(fn, ("labels",), (labels,), deterministic=False)
    if isinstance(again, torch.Tensor) and torch.equal(again.long(), first):
        raise Hint("two calls gave the same labels: draw new random offsets on every call")
    return "always wrong, every other digit possible, random on every call"


def _agreement(c) -> float:
    return (c["logits"].argmax(1) == c["requested"]).float().mean().item()


CLASS_AGREEMENT_MISTAKES = (
    Mistake("return a fraction in [0, 1], not a percentage", lambda c: _agreement(c) * 100),
    Mistake(
        "that is the mean probability of the requested class; count arg-max hits instead",
        lambda c: c["logits"].softmax(1)[torch.arange(c["n"]), c["requested"]].mean(),
    ),
    Mistake(
        "for {n} samples the fraction is wrong ({off}): compare logits.argmax(1) with the "
        "requested labels and average over the samples"
    ),
)


def _agreement_cases():
    g = fresh_generator()
    for n in (200, 57, 128):
        logits = torch.randn(n, 10, generator=g)
        requested = torch.where(
            torch.rand(n, generator=g) < 0.4,
            logits.argmax(1),
            torch.randint(0, 10, (n,), generator=g),
        )
        yield {"logits": logits, "requested": requested, "n": n}


@exercise("class_agreement", CLASS_AGREEMENT_MISTAKES)
def class_agreement(fn) -> str:
    """fn(logits (N, 10) of a classifier on generated images, requested (N,)) -> fraction classified as requested."""
    compare_cases(
        fn,
        _agreement_cases(),
        _agreement,
        number("your class_agreement"),
        CLASS_AGREEMENT_MISTAKES,
        args=("logits", "requested"),
        same=lambda got, want: abs(got - want) < 1e-6,
        like=lambda got, want: abs(got - want) <= 1e-4 * max(1.0, abs(want)),
    )
    return "the fraction of samples the classifier puts in the requested class"
