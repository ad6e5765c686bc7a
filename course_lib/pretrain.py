"""Rebuild the shipped checkpoints:  python -m course_lib.pretrain NAME [NAME ...] | --all | --list

Each entry trains from a fixed seed on course_lib's own datasets (offline), saves the
weights with `checkpoints.save_checkpoint` and records sha256 and held-out metrics in
data/MANIFEST.json. Later notebooks add their entries to PRETRAINERS.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Callable

from torch import nn

from . import seed_everything
from .checkpoints import save_checkpoint

PRETRAINERS: dict[str, Callable[..., dict]] = {}


def register(name: str):
    def deco(fn):
        PRETRAINERS[name] = fn
        return fn

    return deco


@register("digits_mlp")
def pretrain_digits_mlp(data_dir=None, quick: bool = False) -> dict:
    """An MLP on the real 8x8 digits: the tiny classifier of notebook 00."""
    from .data import load_digits8
    from .models import MLPClassifier
    from .train import accuracy, evaluate, fit

    seed_everything(0)
    config = {"in_features": 64, "hidden": [128, 64], "classes": 10}
    model = MLPClassifier(**config)
    x_train, y_train = load_digits8("train")
    x_test, y_test = load_digits8("test")
    fit(model, (x_train, y_train), nn.CrossEntropyLoss(), epochs=2 if quick else 60, lr=2e-3,
        batch_size=64, progress=not quick)
    result = evaluate(model, (x_test, y_test), nn.CrossEntropyLoss(), {"acc": accuracy})
    metrics = {"test_acc": round(result["acc"], 4), "test_loss": round(result["loss"], 4)}
    save_checkpoint("digits_mlp", model, config=config, data_dir=data_dir, metrics=metrics)
    return metrics


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.pretrain", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"checkpoints to rebuild: {', '.join(PRETRAINERS)}")
    parser.add_argument("--all", action="store_true", help="rebuild every checkpoint")
    parser.add_argument("--list", action="store_true", help="list the checkpoints that can be rebuilt")
    args = parser.parse_args(argv)
    if args.list:
        for name, fn in PRETRAINERS.items():
            print(f"{name:20s} {(fn.__doc__ or '').strip().splitlines()[0]}")
        return 0
    names = list(PRETRAINERS) if args.all else args.names
    if not names:
        parser.error("name a checkpoint, or use --all / --list")
    unknown = [n for n in names if n not in PRETRAINERS]
    if unknown:
        parser.error(f"unknown checkpoint(s) {unknown}; choose from {sorted(PRETRAINERS)}")
    for name in names:
        start = time.time()
        metrics = PRETRAINERS[name]()
        print(f"{name}: saved in {time.time() - start:.0f} s, {metrics}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
