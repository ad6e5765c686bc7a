"""Every hint branch of every exercise checker, table-driven.

Each row is (checker, answer, expected): expected None means the answer must pass; a string must
appear in the hint of a failing Result. A second test checks that the table covers every checker
in `check.__all__` with at least one passing and one failing answer, so a new checker cannot be
added without its hints being exercised.
"""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import check
from course_lib.models import pretext, transfer
from course_lib.models.encoder import ConvEncoder


# ----------------------------------------------------------------------------- answers
def _drop(x, p, keep_prob=None, scale=None, generator=None):
    keep_prob = 1 - p if keep_prob is None else keep_prob
    mask = torch.rand(x.shape, generator=generator) < keep_prob
    return x * mask * (1 / (1 - p) if scale is None else scale)


def _bn(x, gamma, beta, eps, dim=0, unbiased=False, affine=True, use_eps=True):
    mean, var = x.mean(dim, keepdim=True), x.var(dim, unbiased=unbiased, keepdim=True)
    out = (x - mean) / torch.sqrt(var + (eps if use_eps else 0.0))
    return gamma * out + beta if affine else out


def _kl_bern(rho, q):
    return rho * torch.log(rho / q) + (1 - rho) * torch.log((1 - rho) / (1 - q))


def _kl_gauss_terms(mu, lv):
    return -0.5 * (1 + lv - mu**2 - lv.exp())


def _fixed_noise(x, level):
    return (x + level * torch.randn(x.shape, generator=torch.Generator().manual_seed(0))).clamp(
        0, 1
    )


def _shared_blocks(source, k):
    new = ConvEncoder()
    for i in range(k):
        new.blocks[i] = source.blocks[i]
    return new


def _copy_then_change_source(source, k):
    new = transfer.copy_blocks(source, k)
    with torch.no_grad():
        next(source.blocks[-1].parameters()).add_(1.0)
    return new


def _copy_parameters_only(source, k):
    new = ConvEncoder()
    with torch.no_grad():
        for i in range(k):
            for a, b in zip(new.blocks[i].parameters(), source.blocks[i].parameters()):
                a.copy_(b)
    return new


def _cell_clip_inputs(c, f, i, g):
    f.mul_(0.999)  # changes the caller's forget gate
    return f * c + i * g


def _drop_reseeding(x, p):
    torch.manual_seed(0)
    return _drop(x, p)


def _reparam_reseeding(mu, lv):
    torch.manual_seed(0)
    return mu + torch.exp(0.5 * lv) * torch.randn_like(mu)


_EPS_CACHE = {}


def _reparam_cached(mu, lv):
    key = tuple(mu.shape)
    if key not in _EPS_CACHE:
        _EPS_CACHE[key] = torch.randn(mu.shape)
    return mu + torch.exp(0.5 * lv) * _EPS_CACHE[key]


def _bn_eps_outside(x, g, b, eps):
    mean, var = x.mean(0), x.var(0, unbiased=False)
    return g * (x - mean) / (torch.sqrt(var) + eps) + b


def _bn_detached_stats(x, g, b, eps):
    mean, var = x.detach().mean(0), x.detach().var(0, unbiased=False)
    return g * (x - mean) / torch.sqrt(var + eps) + b


def _kl_sparsity_broken_backward(h, rho):
    q = h.mean(0).exp()
    out = _kl_bern(rho, q.log()).sum()  # log keeps q for the backward pass...
    q.mul_(1.0)  # ...which this in-place change invalidates: the value is right, backward() fails
    return out


def _freeze_all(model, k):
    model.encoder.requires_grad_(False)


def _freeze_with_head(model, k):
    transfer.freeze_blocks(model, k)
    model.head.requires_grad_(False)


def _only_two_digits(labels):
    return torch.where(labels == 0, torch.ones_like(labels), torch.zeros_like(labels))


bce = F.binary_cross_entropy_with_logits


def ones(t):
    return torch.ones_like(t)


def zeros(t):
    return torch.zeros_like(t)


ROWS = [
    # 00 accuracy
    ("accuracy", lambda lo, la: (lo.argmax(1) == la).float().mean(), None),
    ("accuracy", lambda lo, la: 100 * (lo.argmax(1) == la).float().mean(), "percentage"),
    ("accuracy", lambda lo, la: (lo.argmax(1) == la).sum(), "number of correct rows"),
    ("accuracy", lambda lo, la: (lo.argmin(1) == la).float().mean(), "argmax(dim=1)"),
    ("accuracy", lambda lo, la: (lo.argmax(1) == la).float(), "single number"),
    ("accuracy", lambda lo, la: "0.5 or so", "should return a number"),
    ("accuracy", lambda lo, la: None, "forget `return`"),
    ("accuracy", lambda lo, la: float("nan"), "returned nan"),
    ("accuracy", lambda lo, la: torch.tensor(float("nan")), "returned nan"),
    ("accuracy", lambda lo, la: (lo.argmax(1) == la).double().mean(), None),
    ("accuracy", 3, "expected a function"),
    ("accuracy", lambda lo, la: 1 / 0, "raised ZeroDivisionError"),
    # 01 dropout
    ("dropout", lambda x, p: _drop(x, p), None),
    ("dropout", lambda x, p: x, "nothing was dropped"),
    ("dropout", lambda x, p: _drop(x, p, keep_prob=p), "probability to DROP"),
    ("dropout", lambda x, p: _drop(x, p, keep_prob=1 - p / 2), "units should be zero"),
    ("dropout", lambda x, p: _drop(x, p, scale=1.0), "kept units are unchanged"),
    ("dropout", lambda x, p: _drop(x, p, scale=1 - p), "multiplied the kept units"),
    ("dropout", lambda x, p: _drop(x, p, scale=3.0), "not proportional to x"),
    # from the issue: a mask that ignores x, x**2, dropping with p + 0.008, whole rows
    ("dropout", lambda x, p: _drop(torch.ones_like(x), p), "not proportional to x"),
    ("dropout", lambda x, p: _drop(x**2, p), "not proportional to x"),
    ("dropout", lambda x, p: _drop(x, p, keep_prob=1 - p - 0.008), "units should be zero"),
    (
        "dropout",
        lambda x, p: x * (torch.rand(x.shape[0], 1) >= p) / (1 - p),
        "rows or columns",
    ),
    ("dropout", lambda x, p: _drop(x.double(), p), None),
    (
        "dropout",
        lambda x, p: _drop(x, p, generator=torch.Generator().manual_seed(0)),
        "same mask",
    ),
    ("dropout", lambda x, p: _drop(x, p)[:10], "returned shape"),
    ("dropout", lambda x, p: _drop(x, p) * float("nan"), "NaN or inf"),
    ("dropout", lambda x, p: [0.0], "should return a tensor"),
    # 01 batch norm
    ("batch_norm", lambda x, g, b, eps: F.batch_norm(x, None, None, g, b, True, 0.1, eps), None),
    ("batch_norm", lambda x, g, b, eps: _bn(x, g, b, eps), None),
    ("batch_norm", lambda x, g, b, eps: _bn(x, g, b, eps, use_eps=False), "add eps"),
    ("batch_norm", lambda x, g, b, eps: _bn(x, g, b, eps, dim=1), "over its features"),
    ("batch_norm", lambda x, g, b, eps: _bn(x, g, b, eps, unbiased=True), "biased variance"),
    ("batch_norm", lambda x, g, b, eps: _bn(x, g, b, eps, affine=False), "scale by gamma"),
    ("batch_norm", lambda x, g, b, eps: x, "the input unchanged"),
    (
        "batch_norm",
        lambda x, g, b, eps: 2 * F.batch_norm(x, None, None, g, b, True, 0.1, eps),
        "differs from F.batch_norm",
    ),
    # 02 convolution and pooling
    ("conv2d", lambda x, k: F.conv2d(x[None, None], k[None, None])[0, 0], None),
    ("conv2d", lambda x, k: x, "(d-k+1)"),
    ("conv2d", lambda x, k: F.conv2d(x[None, None], k.flip(0, 1)[None, None])[0, 0], "flipped"),
    ("conv2d", lambda x, k: 2 * F.conv2d(x[None, None], k[None, None])[0, 0], "values differ"),
    ("conv2d", lambda x, k: F.conv2d(x.double()[None, None], k.double()[None, None])[0, 0], None),
    ("max_pool", lambda x, s: F.max_pool2d(x[None, None], s)[0, 0], None),
    ("max_pool", lambda x, s: F.max_pool2d(x[None, None], s, stride=1)[0, 0], "overlap"),
    ("max_pool", lambda x, s: F.avg_pool2d(x[None, None], s)[0, 0], "averaged"),
    ("max_pool", lambda x, s: -F.max_pool2d(-x[None, None], s)[0, 0], "some values are wrong"),
    ("max_pool", lambda x, s: F.max_pool2d(x.double()[None, None], s)[0, 0], None),
    (  # from the issue: works only for square inputs
        "max_pool",
        lambda x, s: x.reshape(x.shape[0] // s, s, x.shape[0] // s, s).amax((1, 3)),
        "raised RuntimeError",
    ),
    # 03 autoencoders
    ("kl_sparsity", lambda h, rho: _kl_bern(rho, h.mean(0)).sum(), None),
    ("kl_sparsity", lambda h, rho: _kl_bern(rho, h).sum(1).mean(), "average each unit"),
    ("kl_sparsity", lambda h, rho: _kl_bern(h.mean(0), torch.tensor(rho)).sum(), "KL(rho_hat"),
    ("kl_sparsity", lambda h, rho: _kl_bern(rho, h.mean(0)).mean(), "sum the KL"),
    ("kl_sparsity", lambda h, rho: (rho * torch.log(rho / h.mean(0))).sum(), "two terms"),
    ("kl_sparsity", lambda h, rho: 0.0, "penalty is wrong"),
    ("kl_sparsity", lambda h, rho: 0.1234, "penalty is wrong"),
    ("add_noise", lambda x, lv: (x + lv * torch.randn_like(x)).clamp(0, 1), None),
    ("add_noise", lambda x, lv: x + lv * torch.randn_like(x), "clip"),
    ("add_noise", lambda x, lv: x, "nothing changed"),
    (
        "add_noise",
        lambda x, lv: (x + lv * torch.randn_like(x) * (lv > 0.1)).clamp(0, 1),
        "at level 0.08 nothing changed",
    ),
    ("add_noise", lambda x, lv: (x + lv * torch.rand_like(x)).clamp(0, 1), "Gaussian"),
    ("add_noise", lambda x, lv: (x + lv * torch.randn_like(x) + 0.06).clamp(0, 1), "mean 0"),
    ("add_noise", lambda x, lv: (x + lv**2 * torch.randn_like(x)).clamp(0, 1), "level**2"),
    ("add_noise", lambda x, lv: (x + 1.6 * lv * torch.randn_like(x)).clamp(0, 1), "deviation"),
    ("add_noise", _fixed_noise, "same noise"),
    ("add_noise", lambda x, lv: (x + max(lv, 0.01) * torch.randn_like(x)).clamp(0, 1), "level 0"),
    # from the issue: one noise image for the batch, noise on half the image, std 1.09x, uniform
    ("add_noise", lambda x, lv: (x + lv * torch.randn_like(x[:1])).clamp(0, 1), "share one noise"),
    (
        "add_noise",
        lambda x, lv: (x + lv * 2**0.5 * torch.randn_like(x) * (torch.arange(28) < 14)).clamp(0, 1),
        "part of the image",
    ),
    ("add_noise", lambda x, lv: (x + 1.09 * lv * torch.randn_like(x)).clamp(0, 1), "deviation"),
    (
        "add_noise",
        lambda x, lv: (x + lv * 12**0.5 * (torch.rand_like(x) - 0.5)).clamp(0, 1),
        "does not look Gaussian",
    ),
    # 04 variational autoencoders
    ("reparameterize", lambda mu, lv: mu + torch.exp(0.5 * lv) * torch.randn_like(mu), None),
    (
        "reparameterize",
        lambda mu, lv: torch.normal(mu.detach(), torch.exp(0.5 * lv).detach()),
        "no gradient",
    ),
    (
        "reparameterize",
        lambda mu, lv: mu + torch.tensor([0.1, 0.2]) * torch.randn_like(mu),
        "reach both",
    ),
    ("reparameterize", lambda mu, lv: mu + lv.exp() * torch.randn_like(mu), "variance as the"),
    ("reparameterize", lambda mu, lv: mu + lv * torch.randn_like(mu), "logvar is log"),
    (
        "reparameterize",
        lambda mu, lv: mu + 2 * torch.exp(0.5 * lv) * torch.randn_like(mu),
        "spread is 2.00 times sigma",
    ),
    (
        "reparameterize",
        lambda mu, lv: 2 * mu + torch.exp(0.5 * lv) * torch.randn_like(mu),
        "not centred on mu",
    ),
    ("kl_gaussian", lambda mu, lv: _kl_gauss_terms(mu, lv).sum(1).mean(), None),
    ("kl_gaussian", lambda mu, lv: _kl_gauss_terms(mu.double(), lv.double()).sum(1).mean(), None),
    # from the issue: sigma 4% too large, uniform eps, one eps for all dims, mean + 0.009
    (
        "reparameterize",
        lambda mu, lv: mu + 1.04 * torch.exp(0.5 * lv) * torch.randn_like(mu),
        "spread is 1.04 times",
    ),
    (
        "reparameterize",
        lambda mu, lv: mu + torch.exp(0.5 * lv) * 12**0.5 * (torch.rand_like(mu) - 0.5),
        "standard normal",
    ),
    (
        "reparameterize",
        lambda mu, lv: mu + torch.exp(0.5 * lv) * torch.randn(len(mu), 1),
        "share one eps",
    ),
    (
        "reparameterize",
        lambda mu, lv: mu + 0.009 + torch.exp(0.5 * lv) * torch.randn_like(mu),
        "not centred on mu",
    ),
    ("kl_gaussian", lambda mu, lv: -_kl_gauss_terms(mu, lv).sum(1).mean(), "sign is flipped"),
    ("kl_gaussian", lambda mu, lv: 2 * _kl_gauss_terms(mu, lv).sum(1).mean(), "factor 1/2"),
    ("kl_gaussian", lambda mu, lv: _kl_gauss_terms(mu, lv).mean(), "sum over the latent"),
    ("kl_gaussian", lambda mu, lv: _kl_gauss_terms(mu, lv).sum(), "average over the batch"),
    (
        "kl_gaussian",
        lambda mu, lv: (-0.5 * (1 + lv - mu**2 - lv.exp() ** 2)).sum(1).mean(),
        "already sigma^2",
    ),
    ("kl_gaussian", lambda mu, lv: mu.sum(), "the value is wrong"),
    ("kl_gaussian", lambda mu, lv: 1.0717, "the value is wrong"),
    # 07 diffusion
    ("q_sample", lambda x0, n, ab: ab.sqrt() * x0 + (1 - ab).sqrt() * n, None),
    ("q_sample", lambda x0, n, ab: ab * x0 + (1 - ab) * n, "square roots"),
    ("q_sample", lambda x0, n, ab: (1 - ab).sqrt() * x0 + ab.sqrt() * n, "swapped"),
    ("q_sample", lambda x0, n, ab: x0 + (1 - ab).sqrt() * n, "shrink"),
    ("q_sample", lambda x0, n, ab: x0 + n, "your x_t is wrong"),
    ("q_sample", lambda x0, n, ab: (ab.sqrt() * x0 + (1 - ab).sqrt() * n).double(), None),
    ("predict_x0", lambda xt, e, ab: (xt - (1 - ab).sqrt() * e) / ab.sqrt(), None),
    ("predict_x0", lambda xt, e, ab: xt - (1 - ab).sqrt() * e, "divide by sqrt"),
    ("predict_x0", lambda xt, e, ab: (xt - (1 - ab) * e) / ab.sqrt(), "not (1 - alpha_bar)"),
    ("predict_x0", lambda xt, e, ab: xt, "solve"),
    # 05 GANs
    ("discriminator_loss", lambda r, f: bce(r, ones(r)) + bce(f, zeros(f)), None),
    ("discriminator_loss", lambda r, f: bce(r, zeros(r)) + bce(f, ones(f)), "swapped"),
    ("discriminator_loss", lambda r, f: bce(r, ones(r)), "two parts"),
    ("discriminator_loss", lambda r, f: (bce(r, ones(r)) + bce(f, zeros(f))) / 2, "do not average"),
    ("discriminator_loss", lambda r, f: -(bce(r, ones(r)) + bce(f, zeros(f))), "V(D, G)"),
    (
        "discriminator_loss",
        lambda r, f: F.binary_cross_entropy(r.sigmoid().sqrt(), ones(r)) + bce(f, zeros(f)),
        "logits",
    ),
    ("discriminator_loss", lambda r, f: 0.7797, "the loss is wrong"),
    ("generator_loss", lambda f: bce(f, ones(f)), None),
    ("generator_loss", lambda f: F.logsigmoid(-f).mean(), "saturating"),
    ("generator_loss", lambda f: bce(f, zeros(f)), "target 0"),
    ("generator_loss", lambda f: f.mean(), "the loss is wrong"),
    ("generator_loss", lambda f: 1.2345, "the loss is wrong"),
    # 06 conditional GANs
    ("wrong_labels", lambda y: (y + torch.randint(1, 10, y.shape)) % 10, None),
    ("wrong_labels", lambda y: y[:5], "return a tensor of shape"),
    ("wrong_labels", lambda y: ((y + torch.randint(1, 10, y.shape)) % 10).float(), "integers"),
    ("wrong_labels", lambda y: y + torch.randint(1, 10, y.shape), "modulo 10"),
    ("wrong_labels", lambda y: y.clone(), "equal the correct one"),
    ("wrong_labels", lambda y: (y + 1) % 10, "same offset"),
    ("wrong_labels", _only_two_digits, "equally often"),
    # from the issue: deterministic answers
    ("wrong_labels", lambda y: (3 * y + 1) % 10, "almost never occur"),
    (
        "wrong_labels",
        lambda y: (
            (y + torch.randint(1, 10, y.shape, generator=torch.Generator().manual_seed(0))) % 10
        ),
        "two calls gave the same",
    ),
    ("wrong_labels", lambda y: ((y + torch.randint(1, 10, y.shape)) % 10).int(), None),
    ("class_agreement", lambda lo, r: (lo.argmax(1) == r).float().mean(), None),
    ("class_agreement", lambda lo, r: 100 * (lo.argmax(1) == r).float().mean(), "percentage"),
    (
        "class_agreement",
        lambda lo, r: lo.softmax(1)[torch.arange(len(r)), r].mean(),
        "mean probability",
    ),
    ("class_agreement", lambda lo, r: (lo.argmin(1) == r).float().mean(), "fraction is wrong"),
    ("class_agreement", lambda lo, r: (lo.argmax(1) == r).sum() / 200, "fraction is wrong"),
    # 08 recurrent networks
    ("rnn_step", lambda x, h, W, U, b: torch.tanh(x @ W.T + h @ U.T + b), None),
    ("rnn_step", lambda x, h, W, U, b: x @ W.T + h @ U.T + b, "non-linearity"),
    ("rnn_step", lambda x, h, W, U, b: torch.sigmoid(x @ W.T + h @ U.T + b), "not the sigmoid"),
    ("rnn_step", lambda x, h, W, U, b: torch.tanh(x @ W.T + b), "previous hidden state"),
    ("rnn_step", lambda x, h, W, U, b: torch.tanh(x @ W.T + h @ U + b), "transpose of U"),
    ("lstm_cell_update", lambda c, f, i, g: f * c + i * g, None),
    ("lstm_cell_update", lambda c, f, i, g: i * c + f * g, "swapped"),
    ("lstm_cell_update", lambda c, f, i, g: f * c + g, "through the input gate"),
    ("lstm_cell_update", lambda c, f, i, g: c + i * g, "through the forget gate"),
    ("lstm_cell_update", lambda c, f, i, g: f * c * i * g, "element-wise"),
    # 09 self-supervised learning
    ("triplet_loss", lambda a, p, n, m: F.triplet_margin_loss(a, p, n, margin=m, eps=0), None),
    (
        "triplet_loss",
        lambda a, p, n, m: ((a - p).norm(dim=1) - (a - n).norm(dim=1) + m).mean(),
        "clip at zero",
    ),
    (
        "triplet_loss",
        lambda a, p, n, m: F.relu((a - p).pow(2).sum(1) - (a - n).pow(2).sum(1) + m).mean(),
        "not their squares",
    ),
    (
        "triplet_loss",
        lambda a, p, n, m: F.relu((a - n).norm(dim=1) - (a - p).norm(dim=1) + m).mean(),
        "swapped",
    ),
    (
        "triplet_loss",
        lambda a, p, n, m: F.relu((a - p).norm(dim=1) - (a - n).norm(dim=1) + m).sum(),
        "do not sum",
    ),
    (
        "triplet_loss",
        lambda a, p, n, m: F.relu((a - p).norm(dim=1) - (a - n).norm(dim=1)).mean(),
        "margin alpha is missing",
    ),
    (
        "triplet_loss",
        lambda a, p, n, m: F.relu((a - p).norm() - (a - n).norm() + m),
        "one distance",
    ),
    ("triplet_loss", lambda a, p, n, m: torch.tensor(0.6543), "the loss is wrong"),
    (
        "triplet_loss",
        lambda a, p, n, m: F.relu((a - p).norm(dim=1) - (a - n).norm(dim=1) + 0.5).mean(),
        "use the alpha you are given",
    ),
    ("unshuffle_tiles", pretext.unshuffle_tiles, None),
    ("unshuffle_tiles", pretext.shuffle_tiles, "shuffled once more"),
    ("unshuffle_tiles", lambda s, perms, grid: s, "did not move"),
    ("unshuffle_tiles", lambda s, perms, grid: s.flip(-1), "wrong place"),
    ("unshuffle_tiles", lambda s, perms, grid: pretext.unshuffle_tiles(s, perms, 3), "raised"),
    # The contrastive rows use d = ||z1 - z2|| and the margin m.
    (
        "contrastive_loss",
        lambda z1, z2, s, m: (
            s * (z1 - z2).norm(dim=1) ** 2 + (1 - s) * F.relu(m - (z1 - z2).norm(dim=1)) ** 2
        ).mean(),
        None,
    ),
    (
        "contrastive_loss",
        lambda z1, z2, s, m: (
            (1 - s) * (z1 - z2).norm(dim=1) ** 2 + s * F.relu(m - (z1 - z2).norm(dim=1)) ** 2
        ).mean(),
        "cases are swapped",
    ),
    (
        "contrastive_loss",
        lambda z1, z2, s, m: (
            s * (z1 - z2).norm(dim=1) ** 2 + (1 - s) * (m - (z1 - z2).norm(dim=1)) ** 2
        ).mean(),
        "clip the margin term",
    ),
    (
        "contrastive_loss",
        lambda z1, z2, s, m: (
            s * (z1 - z2).norm(dim=1) + (1 - s) * F.relu(m - (z1 - z2).norm(dim=1))
        ).mean(),
        "square both terms",
    ),
    (
        "contrastive_loss",
        lambda z1, z2, s, m: (s * (z1 - z2).norm(dim=1) ** 2).mean(),
        "different pairs are missing",
    ),
    ("contrastive_loss", lambda z1, z2, s, m: torch.tensor(1.0), "the loss is wrong"),
    (
        "contrastive_loss",
        lambda z1, z2, s, m: (
            s * (z1 - z2).norm(dim=1) ** 2 + (1 - s) * F.relu(1.5 - (z1 - z2).norm(dim=1)) ** 2
        ).mean(),
        "use the margin you are given",
    ),
    # 10 transfer learning
    ("copy_blocks", transfer.copy_blocks, None),
    ("copy_blocks", lambda source, k: nn.Linear(2, 2), "return a new ConvEncoder"),
    ("copy_blocks", lambda source, k: source, "the source itself"),
    ("copy_blocks", _shared_blocks, "shares its tensors"),
    ("copy_blocks", lambda source, k: ConvEncoder(), "should hold the source's weights"),
    ("copy_blocks", lambda source, k: copy.deepcopy(source), "stay freshly initialised"),
    ("copy_blocks", _copy_then_change_source, "source encoder was changed"),
    ("copy_blocks", _copy_parameters_only, "BatchNorm running statistics"),
    ("copy_blocks", lambda source, k: transfer.copy_blocks(source, min(k, 2)), "should hold"),
    ("freeze", transfer.freeze_blocks, None),
    ("freeze", lambda model, k: None, "should be frozen"),
    ("freeze", _freeze_all, "should still train"),
    ("freeze", _freeze_with_head, "the new head must train"),
]

# The families a probe of new users found passing or misled (issue 37), and more of each family.
ROWS += [
    # answers that change their inputs in place
    (
        "accuracy",
        lambda lo, la: (lo.argmax(1) == la).float().mean() + 0 * lo.zero_().sum(),
        "in place",
    ),
    (
        "batch_norm",
        lambda x, g, b, eps: F.batch_norm(x.sub_(0), None, None, g, b, True, 0.1, eps),
        None,
    ),
    (
        "kl_gaussian",
        lambda mu, lv: _kl_gauss_terms(mu, lv).sum(1).mean() + 0 * mu.detach().mul_(0).sum(),
        "in place",
    ),
    ("q_sample", lambda x0, n, ab: ab.sqrt() * x0 + (1 - ab).sqrt() * n.mul_(1.0001), "in place"),
    ("lstm_cell_update", _cell_clip_inputs, "in place"),
    # answers that touch the global random state of a computation with no randomness
    (
        "kl_sparsity",
        lambda h, rho: (torch.manual_seed(1234), _kl_bern(rho, h.mean(0)).sum())[1],
        "random state",
    ),
    (
        "rnn_step",
        lambda x, h, W, U, b: torch.tanh(x @ W.T + h @ U.T + b + 0 * torch.randn(1)),
        "random state",
    ),
    # random answers that reseed the generator, or keep one draw
    ("dropout", _drop_reseeding, "reseeds"),
    (
        "add_noise",
        lambda x, lv: (torch.manual_seed(1), (x + lv * torch.randn_like(x)).clamp(0, 1))[1],
        "reseeds",
    ),
    ("reparameterize", _reparam_reseeding, "reseeds"),
    ("reparameterize", _reparam_cached, "same z"),
    (
        "wrong_labels",
        lambda y: (torch.manual_seed(2), (y + torch.randint(1, 10, y.shape)) % 10)[1],
        "reseeds",
    ),
    # a too-narrow offset range: randint excludes its upper bound
    ("wrong_labels", lambda y: (y + torch.randint(1, 9, y.shape)) % 10, "almost never occur"),
    ("wrong_labels", lambda y: (y + torch.randint(1, 8, y.shape)) % 10, "almost never occur"),
    ("wrong_labels", lambda y: (y + torch.randint(1, 7, y.shape)) % 10, "almost never occur"),
    ("wrong_labels", lambda y: (y + torch.randint(2, 10, y.shape)) % 10, "almost never occur"),
    # noise that skips black pixels
    (
        "add_noise",
        lambda x, lv: (x + lv * torch.randn_like(x) * (x > 0)).clamp(0, 1),
        "black pixels",
    ),
    # a hard-coded batch size
    ("rnn_step", lambda x, h, W, U, b: torch.tanh(x[:4] @ W.T + h[:4] @ U.T + b), "returned shape"),
    (
        "rnn_step",
        lambda x, h, W, U, b: torch.tanh(x @ W.T + h @ U.T + b[:5]),
        "raised RuntimeError",
    ),
    ("rnn_step", lambda x, h, W, U, b: torch.tanh(x @ W.T + h @ U.T), "bias b is missing"),
    # eps ignored, or outside the square root
    ("batch_norm", lambda x, g, b, eps: _bn(x, g, b, 1e-5), "use the eps you are given"),
    ("batch_norm", _bn_eps_outside, "inside the square root"),
    # losses and statistics computed on detached tensors: the value is right, the gradient is not
    (
        "discriminator_loss",
        lambda r, f: bce(r.detach(), ones(r)) + bce(f.detach(), zeros(f)),
        "no gradient",
    ),
    ("generator_loss", lambda f: bce(f.detach(), ones(f)), "no gradient"),
    ("generator_loss", lambda f: torch.tensor(bce(f, ones(f)).item()), "no gradient"),
    (
        "discriminator_loss",
        lambda r, f: bce(r, ones(r)) + bce(f.detach(), zeros(f)),
        "no gradient reaches `fake`",
    ),
    ("batch_norm", _bn_detached_stats, "gradient reaching `x`"),
    (
        "kl_gaussian",
        lambda mu, lv: _kl_gauss_terms(mu.detach(), lv).sum(1).mean(),
        "no gradient reaches `mu`",
    ),
    (
        "triplet_loss",
        lambda a, p, n, m: F.relu((a - p).norm(dim=1) - (a - n).norm(dim=1).detach() + m).mean(),
        "no gradient reaches `n`",
    ),
    ("lstm_cell_update", lambda c, f, i, g: f * c + (i * g).detach(), "no gradient reaches `i`"),
    # a result whose backward() fails
    ("kl_sparsity", _kl_sparsity_broken_backward, "backward() through your result fails"),
    # misleading hints before: the right function, the wrong target or reduction
    (
        "discriminator_loss",
        lambda r, f: bce(r, ones(r), reduction="sum") + bce(f, zeros(f), reduction="sum"),
        "do not sum",
    ),
    (
        "discriminator_loss",
        lambda r, f: bce(torch.sigmoid(r), ones(r)) + bce(torch.sigmoid(f), zeros(f)),
        "squashes them twice",
    ),
    (
        "discriminator_loss",
        lambda r, f: bce(r, ones(r)) + bce(f, 0.1 + zeros(f)),
        "each part's target",
    ),
    ("generator_loss", lambda f: bce(f, ones(f), reduction="sum"), "do not sum"),
    # log where exp belongs: not "the sign is wrong"
    (
        "kl_gaussian",
        lambda mu, lv: (-0.5 * (1 + lv - mu**2 - lv.abs().clamp_min(1e-6).log())).sum(1).mean(),
        "logarithm",
    ),
    # an axis or distance error is not "use the alpha you are given"
    (
        "triplet_loss",
        lambda a, p, n, m: F.relu((a - p).norm(dim=0).mean() - (a - n).norm(dim=0).mean() + m),
        "distance",  # "check the distances" or "one distance per row": both name the axis error
    ),
    (
        "contrastive_loss",
        lambda z1, z2, s, m: (
            s * (z1 - z2).norm(dim=0).mean() ** 2 + (1 - s) * F.relu(m - (z1 - z2).norm(dim=1)) ** 2
        ).mean(),
        "check the distance",
    ),
    (
        "triplet_loss",
        lambda a, p, n, m: F.relu((a - p).norm(dim=1) - (a - n).norm(dim=1) + 1.0).mean(),
        "margin alpha is missing",
    ),
    (
        "contrastive_loss",
        lambda z1, z2, s, m: (
            s * (z1 - z2).norm(dim=1) ** 2 + (1 - s) * F.relu(1.0 - (z1 - z2).norm(dim=1)) ** 2
        ).mean(),
        "margin is missing",
    ),
]


def _row_id(row):
    name, _, expected = row
    return f"{name}: {'passes' if expected is None else expected}"


@pytest.mark.parametrize("name, answer, expected", ROWS, ids=[_row_id(r) for r in ROWS])
def test_checker_hint(name, answer, expected):
    torch.manual_seed(0)  # the answers draw random numbers; a fixed seed keeps each row repeatable
    result = getattr(check, name)(answer)
    assert isinstance(result, check.Result)
    if expected is None:
        assert result, f"the reference answer should pass {name}, got: {result.message}"
    else:
        assert not result, f"{name} accepted a wrong answer (expected the hint {expected!r})"
        assert expected in result.message, (
            f"{name}: expected a hint with {expected!r}, got {result.message!r}"
        )


def test_the_table_covers_every_checker():
    checkers = {n for n in check.__all__ if n != "Result"}
    passing = {n for n, _, e in ROWS if e is None}
    failing = {n for n, _, e in ROWS if e is not None}
    assert checkers <= passing, f"checkers without a passing answer: {sorted(checkers - passing)}"
    assert checkers <= failing, f"checkers without a wrong answer: {sorted(checkers - failing)}"
    assert (passing | failing) <= checkers, "the table names a checker check does not export"


def test_every_hint_branch_has_a_row():
    """Each distinct hint of each checker is reached by some row: the hints are the `raise Hint(`
    calls in the checker (and the functions nested in it) plus the distinct hints of its table of
    mistakes (`checker.mistakes`); compare their number with the table's distinct failing rows."""
    import ast
    import inspect

    hints_per_checker = {}
    for name in check.__all__:
        if name == "Result":
            continue
        checker = getattr(check, name)
        tree = ast.parse(inspect.getsource(inspect.unwrap(checker)))
        raises = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Raise)
            and isinstance(n.exc, ast.Call)
            and getattr(n.exc.func, "id", None) == "Hint"
        ]
        hints_per_checker[name] = len(raises) + len({m.hint for m in checker.mistakes})
    rows = {}
    for name, _, expected in ROWS:
        if expected is not None:
            rows.setdefault(name, set()).add(expected)
    short = {
        n: (len(rows.get(n, ())), k)
        for n, k in hints_per_checker.items()
        if len(rows.get(n, ())) < k
    }
    assert not short, (
        f"checkers with fewer failing rows than hint branches (rows, branches): {short}"
    )
