"""A probe of the exercise checkers with answers their hint tables never saw (issue 37):
`python -m bench.checker_probe` prints how many were tried, how many wrong answers passed (false
accepts), how many right answers failed (false rejects), and how many hints named the mistake.

Each probe is (checker, answer, what the hint must say); None means a right answer that must pass.
The families: losses on detached tensors, statistics taken off the graph, inputs changed in place,
a reseeded or drawn-from random state, hard-coded sizes, ignored arguments, sum for mean, log for
exp, results that cannot be differentiated.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from course_lib import check

bce = F.binary_cross_entropy_with_logits


def _ones(t):
    return torch.ones_like(t)


def _zeros(t):
    return torch.zeros_like(t)


def _kl_terms(mu, lv):
    return -0.5 * (1 + lv - mu**2 - lv.exp())


def _bn(x, g, b, eps):
    return g * (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + eps) + b


def _dist(a, b):
    return (a - b).norm(dim=1)


def _drop_same_seed(x, p):
    gen = torch.Generator().manual_seed(7)  # a private generator, reseeded on every call
    return x * (torch.rand(x.shape, generator=gen) >= p) / (1 - p)


def _reparam_numpy(mu, lv):
    import numpy as np

    eps = torch.from_numpy(np.random.default_rng(0).standard_normal(mu.shape)).float()
    return mu + torch.exp(0.5 * lv) * eps


def _noise_in_place(x, level):
    x.add_(level * torch.randn_like(x)).clamp_(0, 1)
    return x


def _bn_numpy_stats(x, g, b, eps):
    mean = torch.tensor(x.detach().numpy().mean(0))
    var = torch.tensor(x.detach().numpy().var(0))
    return g * (x - mean) / torch.sqrt(var + eps) + b


def _conv_hardcoded(x, k):
    out = torch.zeros(4, 5)
    for i in range(4):
        for j in range(5):
            out[i, j] = (x[i : i + 3, j : j + 3] * k).sum()
    return out


PROBES = [
    # right answers, written another way: must pass
    ("discriminator_loss", lambda r, f: -(F.logsigmoid(r).mean() + F.logsigmoid(-f).mean()), None),
    ("generator_loss", lambda f: -F.logsigmoid(f).mean(), None),
    ("kl_gaussian", lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv).sum(-1).mean(), None),
    ("batch_norm", lambda x, g, b, eps: F.layer_norm(x.T, (x.shape[0],), eps=eps).T * g + b, None),
    ("rnn_step", lambda x, h, W, U, b: torch.tanh(F.linear(x, W) + F.linear(h, U, b)), None),
    ("lstm_cell_update", lambda c, f, i, g: torch.addcmul(f * c, i, g), None),
    (
        "triplet_loss",
        lambda a, p, n, m: torch.clamp(_dist(a, p) - _dist(a, n) + m, min=0).mean(),
        None,
    ),
    (
        "reparameterize",
        lambda mu, lv: torch.normal(0.0, 1.0, mu.shape) * (0.5 * lv).exp() + mu,
        None,
    ),
    ("dropout", lambda x, p: torch.where(torch.rand_like(x) < p, 0.0, x / (1 - p)), None),
    ("wrong_labels", lambda y: torch.remainder(y + torch.randint_like(y, 1, 10), 10), None),
    ("add_noise", lambda x, lv: torch.clamp(x + torch.randn(x.shape) * lv, 0.0, 1.0), None),
    # gradients cut off (detach, .item(), numpy)
    (
        "discriminator_loss",
        lambda r, f: torch.tensor(bce(r, _ones(r)).item()) + bce(f, _zeros(f)),
        "no gradient reaches `real`",
    ),
    ("generator_loss", lambda f: bce(f.detach().clone(), _ones(f)), "no gradient"),
    (
        "kl_gaussian",
        lambda mu, lv: _kl_terms(mu, lv.detach()).sum(1).mean(),
        "no gradient reaches `logvar`",
    ),
    (
        "kl_sparsity",
        lambda h, rho: (
            rho * torch.log(rho / h.mean(0).detach())
            + (1 - rho) * torch.log((1 - rho) / (1 - h.mean(0).detach()))
        ).sum(),
        "no gradient flows back from your result to `h`",
    ),
    ("batch_norm", _bn_numpy_stats, "gradient reaching `x`"),
    (
        "rnn_step",
        lambda x, h, W, U, b: torch.tanh(x @ W.T + h.detach() @ U.T + b),
        "no gradient reaches `h`",
    ),
    (
        "contrastive_loss",
        lambda z1, z2, s, m: (
            s * _dist(z1, z2.detach()) ** 2 + (1 - s) * F.relu(m - _dist(z1, z2.detach())) ** 2
        ).mean(),
        "no gradient reaches `z2`",
    ),
    ("lstm_cell_update", lambda c, f, i, g: (f * c).detach() + i * g, "no gradient reaches `c`"),
    # inputs changed in place
    ("add_noise", _noise_in_place, "in place"),
    (
        "conv2d",
        lambda x, k: F.conv2d(x.unsqueeze_(0).unsqueeze_(0), k[None, None])[0, 0],
        "in place",
    ),
    ("max_pool", lambda x, s: F.max_pool2d(x[None, None].abs_(), s)[0, 0], "in place"),
    (
        "triplet_loss",
        lambda a, p, n, m: F.relu(_dist(a, p) - _dist(a.sub_(0.1), n) + m).mean(),
        "in place",
    ),
    # random state: reseeded, or drawn in a deterministic exercise
    (
        "dropout",
        lambda x, p: (torch.manual_seed(3), x * (torch.rand_like(x) >= p) / (1 - p))[1],
        "reseeds",
    ),
    ("reparameterize", _reparam_numpy, "same z"),
    (
        "wrong_labels",
        lambda y: (__import__("numpy").random.seed(0), (y + torch.randint(1, 10, y.shape)) % 10)[1],
        "reseeds",
    ),
    (
        "q_sample",
        lambda x0, n, ab: (torch.rand(1), ab.sqrt() * x0 + (1 - ab).sqrt() * n)[1],
        "random state",
    ),
    (
        "predict_x0",
        lambda xt, e, ab: (torch.manual_seed(5), (xt - (1 - ab).sqrt() * e) / ab.sqrt())[1],
        "random state",
    ),
    (
        "class_agreement",
        lambda lo, r: (__import__("random").seed(1), (lo.argmax(1) == r).float().mean())[1],
        "random state",
    ),
    ("dropout", _drop_same_seed, "same mask"),
    # sizes and arguments hard-coded or ignored
    ("conv2d", _conv_hardcoded, "(line: out[i, j] = (x[i : i + 3, j : j + 3] * k).sum())"),
    ("lstm_cell_update", lambda c, f, i, g: f[:3] * c[:3] + i[:3] * g[:3], "returned shape"),
    ("batch_norm", lambda x, g, b, eps: _bn(x, g, b, 0.5), "use the eps you are given"),
    (
        "triplet_loss",
        lambda a, p, n, m: F.relu(_dist(a, p) - _dist(a, n) + 0.5).mean(),
        "margin alpha is missing",
    ),
    (
        "contrastive_loss",
        lambda z1, z2, s, m: (
            s * _dist(z1, z2) ** 2 + (1 - s) * F.relu(2.0 - _dist(z1, z2)) ** 2
        ).mean(),
        "margin is missing",
    ),
    ("wrong_labels", lambda y: (y + torch.randint(1, 5, y.shape)) % 10, "almost never occur"),
    # sum for mean, log for exp, the wrong target
    ("generator_loss", lambda f: bce(f, _ones(f), reduction="sum") / 2, "the loss is wrong"),
    (
        "discriminator_loss",
        lambda r, f: bce(r, _ones(r), reduction="sum") + bce(f, _zeros(f), reduction="sum"),
        "do not sum",
    ),
    (
        "kl_gaussian",
        lambda mu, lv: (-0.5 * (1 + lv - mu**2 - lv.abs().clamp_min(1e-6).log())).sum(1).mean(),
        "logarithm",
    ),
    ("triplet_loss", lambda a, p, n, m: F.relu(_dist(a, p) - _dist(a, n) + m).sum(), "do not sum"),
    (
        "kl_sparsity",
        lambda h, rho: (
            rho * torch.log(rho / h.mean(0)) + (1 - rho) * torch.log((1 - rho) / (1 - h.mean(0)))
        ).mean(),
        "sum the KL",
    ),
    # results that cannot be differentiated
    (
        "lstm_cell_update",
        lambda c, f, i, g: torch.tensor((f * c + i * g).tolist()),
        "no gradient flows back",
    ),
]


def run_probe() -> dict:
    """Every probe through its checker: counts, and the probes whose outcome was wrong."""
    counts = {
        "tried": 0,
        "right answers": 0,
        "false rejects": 0,
        "wrong answers": 0,
        "false accepts": 0,
        "accurate hints": 0,
    }
    misses = []
    for name, answer, expected in PROBES:
        torch.manual_seed(0)
        result = getattr(check, name)(answer)
        counts["tried"] += 1
        if expected is None:
            counts["right answers"] += 1
            if not result:
                counts["false rejects"] += 1
                misses.append((name, "rejected a right answer", result.message))
        else:
            counts["wrong answers"] += 1
            if result:
                counts["false accepts"] += 1
                misses.append((name, f"accepted (expected {expected!r})", result.message))
            elif expected in result.message:
                counts["accurate hints"] += 1
            else:
                misses.append((name, f"hint without {expected!r}", result.message))
    return {"counts": counts, "misses": misses}


def main() -> int:
    out = run_probe()
    c = out["counts"]
    print(
        "| answers tried | right answers | false rejects | wrong answers | false accepts | accurate hints |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {c['tried']} | {c['right answers']} | {c['false rejects']} | {c['wrong answers']} | "
        f"{c['false accepts']} | {c['accurate hints']} of {c['wrong answers']} |"
    )
    for name, what, message in out["misses"]:
        print(f"- {name}: {what}: {message}")
    return 0 if not out["misses"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
