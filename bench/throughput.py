"""Training throughput: course_lib.train.fit against a bare PyTorch loop, same model, data and batches."""

from __future__ import annotations

import time

import torch
from torch import nn


def _bare_loop(model, x, y, epochs, batch_size, lr, seed=0):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), batch_size):
            idx = order[i : i + batch_size]
            loss = loss_fn(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss.item()  # the same synchronisation point fit has (it logs every loss)


def throughput_rows(quick: bool = False, repeats: int = 3) -> list[dict]:
    from course_lib import data, seed_everything
    from course_lib.models import LeNet, MLPClassifier
    from course_lib.train import fit

    n = 2_000 if quick else 6_000
    x, y = data.make_digits28(n, seed=0)
    rows = []
    for name, make in (
        ("LeNet", LeNet),
        ("MLP 784-256-128-10", lambda: MLPClassifier(784, [256, 128], 10)),
    ):
        times = {"fit": [], "bare loop": []}
        for _ in range(1 if quick else repeats):
            for kind in ("bare loop", "fit"):
                seed_everything(0)
                model = make()
                start = time.perf_counter()
                if kind == "fit":
                    fit(
                        model,
                        (x, y),
                        nn.CrossEntropyLoss(),
                        epochs=2,
                        lr=1e-3,
                        batch_size=128,
                        progress=False,
                    )
                else:
                    _bare_loop(model, x, y, 2, 128, 1e-3)
                times[kind].append(time.perf_counter() - start)
        fit_s, bare_s = min(times["fit"]), min(times["bare loop"])
        rows.append(
            {"model": name, "fit": 2 * n / fit_s, "bare": 2 * n / bare_s, "ratio": fit_s / bare_s}
        )
    return rows


def throughput_table(quick: bool = False) -> tuple[list[dict], str]:
    rows = throughput_rows(quick)
    lines = [
        "| model | fit images/s | bare loop images/s | overhead (time ratio) | goal <= 1.05 |",
        "|---|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['fit']:.0f} | {r['bare']:.0f} | {r['ratio']:.3f} "
            f"| {'met' if r['ratio'] <= 1.05 else 'MISSED'} |"
        )
    return rows, "\n".join(lines)
