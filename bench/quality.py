"""Quality vs baselines: each model next to what a student would compare it with, on held-out data."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

GENERATOR_GOALS = {
    # FD as a multiple of real vs real, unreadable share, every class's share of the samples
    "diffusion": {"fd": 1.5, "unreadable": 0.10, "classes": (0.07, 0.13)},
    "dcgan": {"fd": 2.5, "unreadable": 0.12},
    "cgan": {"fd": 1.2},
}


def generator_samples(name: str, n: int, seed: int = 0) -> torch.Tensor:
    """n samples (n, 1, 28, 28) in [0, 1] from a shipped generator: dcgan, cgan (classes in turn),
    vae (decoded prior samples) or diffusion (the full DDPM chain)."""
    from course_lib import checkpoints
    from course_lib.models.diffusion import NoiseSchedule, SmallUNet, sample
    from course_lib.models.gan import DCGenerator
    from course_lib.models.vae import VAE
    from course_lib.pretrain import DIFFUSION

    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        if name == "dcgan":
            G = checkpoints.load_checkpoint("dcgan", DCGenerator).eval()
            return G(torch.randn(n, G.noise_dim, generator=g))
        if name == "cgan":
            G = checkpoints.load_checkpoint("cgan", DCGenerator).eval()
            return G(torch.randn(n, G.noise_dim, generator=g), torch.arange(n) % 10)
        if name == "vae":
            vae = checkpoints.load_checkpoint("vae_digits", VAE).eval()
            return vae.decode(torch.randn(n, vae.latent_dim, generator=g)).view(n, 1, 28, 28)
        if name == "diffusion":
            unet = checkpoints.load_checkpoint("diffusion", SmallUNet).eval()
            schedule = NoiseSchedule(DIFFUSION["T"], DIFFUSION["kind"])
            return sample(unet, schedule, n, steps=None, generator=g)
    raise ValueError(f"unknown generator {name!r}: expected dcgan, cgan, vae or diffusion")


def generator_rows(n: int = 1_000) -> list[dict]:
    """One row per generator and measure, next to real vs real and the per-class Gaussian."""
    from course_lib import metrics
    from course_lib.data import generative_digits

    refs = metrics.reference_reports(n)
    real_rr, gauss = refs["real vs real"], refs["per-class Gaussian"]
    held_out, _ = generative_digits("test", 2 * n)
    x_train, _ = generative_digits("train")
    rows = []
    labels = {
        "diffusion": "diffusion, DDPM 200 steps",
        "dcgan": "DCGAN",
        "cgan": "conditional GAN",
        "vae": "VAE, prior samples (blurry by construction)",
    }
    for name in ("diffusion", "dcgan", "cgan", "vae"):
        report = metrics.generator_report(generator_samples(name, n), held_out[:n], x_train)
        goal = GENERATOR_GOALS.get(name, {})
        ratio = metrics.fd_ratio(report, refs)
        shares = [c / report["n"] for c in report["counts"]]
        rows.append(
            {
                "model": labels[name],
                "metric": f"FD / real-vs-real FD ({real_rr['fd']:.1f}), {n} samples",
                "value": ratio,
                "baseline": "per-class Gaussian",
                "baseline_value": metrics.fd_ratio(gauss, refs),
                "ratio": ratio / metrics.fd_ratio(gauss, refs),
                "goal": f"<= {goal['fd']}" if "fd" in goal else "(reported)",
                "met": ratio <= goal["fd"] if "fd" in goal else None,
            }
        )
        if "unreadable" in goal or name in ("diffusion", "dcgan"):
            rows.append(
                {
                    "model": labels[name],
                    "metric": "unreadable share (judge unsure or judges disagree)",
                    "value": report["unreadable"],
                    "baseline": "real vs real",
                    "baseline_value": real_rr["unreadable"],
                    "ratio": report["unreadable"] / max(real_rr["unreadable"], 1e-3),
                    "goal": f"<= {goal['unreadable']}" if "unreadable" in goal else "(reported)",
                    "met": report["unreadable"] <= goal["unreadable"]
                    if "unreadable" in goal
                    else None,
                }
            )
        if "classes" in goal:
            lo, hi = goal["classes"]
            rows.append(
                {
                    "model": labels[name],
                    "metric": f"class shares {min(shares):.3f}-{max(shares):.3f} (chi2 p {report['chi2_p']:.1e})",
                    "value": min(shares),
                    "baseline": "real vs real, smallest share",
                    "baseline_value": min(real_rr["counts"]) / real_rr["n"],
                    "ratio": min(shares) / max(min(real_rr["counts"]) / real_rr["n"], 1e-3),
                    "goal": f"every class {lo:.0%}-{hi:.0%}",
                    "met": lo <= min(shares) and max(shares) <= hi,
                }
            )
    # the classifier-only measure the Gaussian also passes: why FD is needed
    cg = metrics.generator_report(generator_samples("cgan", n), held_out[:n], x_train)
    rows.append(
        {
            "model": "conditional GAN",
            "metric": "judge's mean confidence (a classifier alone)",
            "value": cg["confidence"],
            "baseline": "per-class Gaussian",
            "baseline_value": gauss["confidence"],
            "ratio": cg["confidence"] / gauss["confidence"],
            "goal": "(the Gaussian passes this too)",
            "met": None,
        }
    )
    return rows


def quality_rows(quick: bool = False) -> list[dict]:
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression

    from course_lib import data, seed_everything
    from course_lib.models import LeNet
    from course_lib.models.autoencoders import Autoencoder, reconstruction_error
    from course_lib.models.rnn import CharLSTM, ngram_perplexity
    from course_lib.train import accuracy, fit, predict

    rows = []
    # 1. autoencoder vs PCA on held-out 8x8 digits
    x8, _ = data.load_digits8("train")
    x8t, _ = data.load_digits8("test")
    for code in (2, 4):
        pca = PCA(code).fit(x8.flatten(1).numpy())
        rebuilt = torch.from_numpy(
            pca.inverse_transform(pca.transform(x8t.flatten(1).numpy()))
        ).float()
        pca_err = F.mse_loss(rebuilt, x8t.flatten(1)).item()
        seed_everything(0)
        ae = Autoencoder(64, hidden=[128, 64], code=code)
        fit(
            ae, x8, nn.MSELoss(), epochs=20 if quick else 60, lr=2e-3, batch_size=64, progress=False
        )
        err = reconstruction_error(ae, x8t)
        rows.append(
            {
                "model": f"deep autoencoder, code {code} (8x8 digits)",
                "metric": "held-out MSE",
                "value": err,
                "baseline": f"PCA, {code} components",
                "baseline_value": pca_err,
                "ratio": err / pca_err,
                "goal": "ratio <= 0.8",
                "met": err / pca_err <= 0.8,
            }
        )
    # 2. LeNet vs logistic regression on the same procedural digits
    n = 3_000 if quick else 10_000
    x, y = data.make_digits28(n, seed=1)
    xt, yt = data.make_digits28(2_000, seed=2)
    seed_everything(0)
    lenet = LeNet()
    fit(lenet, (x, y), nn.CrossEntropyLoss(), epochs=3, lr=2e-3, batch_size=128, progress=False)
    lenet_acc = accuracy(predict(lenet, xt), yt)
    logreg = (
        LogisticRegression(max_iter=300)
        .fit(x.flatten(1).numpy(), y.numpy())
        .score(xt.flatten(1).numpy(), yt.numpy())
    )
    rows.append(
        {
            "model": "LeNet (28x28 digits)",
            "metric": "held-out accuracy",
            "value": lenet_acc,
            "baseline": "logistic regression on pixels",
            "baseline_value": logreg,
            "ratio": lenet_acc / logreg,
            "goal": "LeNet >= 0.97",
            "met": lenet_acc >= 0.97,
        }
    )
    # 3. generative models, judged by course_lib.metrics on 1,000 samples each, every row beside
    #    real vs real (the floor) and the per-class Gaussian (which the metric must rank worse)
    rows.extend(generator_rows(200 if quick else 1_000))
    # 4. character LSTM vs n-gram perplexity
    text = data.make_text_corpus(3_000, seed=0)
    chars = sorted(set(text))
    ids = [chars.index(c) for c in text]
    cut = int(0.9 * len(ids))
    best_ngram = min(ngram_perplexity(ids[:cut], ids[cut:], n, len(chars)) for n in range(2, 8))
    seed_everything(0)
    model = CharLSTM(len(chars))
    opt = torch.optim.Adam(model.parameters(), 3e-3)
    train_t, test_t = torch.tensor(ids[:cut]), torch.tensor(ids[cut:])
    g = torch.Generator().manual_seed(0)
    for _ in range(100 if quick else 400):
        start = torch.randint(0, len(train_t) - 65, (32,), generator=g)
        batch = torch.stack([train_t[s : s + 65] for s in start])
        loss = F.cross_entropy(
            model(batch[:, :-1])[0].reshape(-1, len(chars)), batch[:, 1:].reshape(-1)
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        ppl = math.exp(F.cross_entropy(model(test_t[None, :-1])[0][0], test_t[1:]).item())
    rows.append(
        {
            "model": "character LSTM",
            "metric": "held-out perplexity",
            "value": ppl,
            "baseline": "best n-gram (n = 2..7)",
            "baseline_value": best_ngram,
            "ratio": ppl / best_ngram,
            "goal": "below the n-gram",
            "met": ppl < best_ngram,
        }
    )
    # 5. self-supervised encoders: linear probe with 10% of the labels vs a random-init encoder
    from course_lib import evaluate
    from course_lib.models.encoder import ConvEncoder
    from course_lib.pretrain import SSL

    x_l, y_l = data.make_digits28(
        3_000 if quick else SSL["labelled"]["n"], seed=SSL["labelled"]["seed"]
    )
    x_t, y_t = data.make_digits28(1_000 if quick else SSL["test"]["n"], seed=SSL["test"]["seed"])
    few = evaluate.label_subset(y_l, SSL["probe_fraction"])

    def probe(encoder):
        return evaluate.linear_probe(
            evaluate.encode(encoder, x_l[few]), y_l[few], evaluate.encode(encoder, x_t), y_t
        )

    torch.manual_seed(0)
    random_acc = probe(ConvEncoder())
    for name in ("ssl_simclr", "ssl_inpainting", "ssl_jigsaw"):
        acc = probe(evaluate.load_encoder(name))
        rows.append(
            {
                "model": f"{name} encoder (notebook 09)",
                "metric": f"linear probe, {len(few)} labels",
                "value": acc,
                "baseline": "random-init encoder",
                "baseline_value": random_acc,
                "ratio": acc / random_acc,
                "goal": "+10 points" if name == "ssl_simclr" else "(reported)",
                "met": acc >= random_acc + 0.10 if name == "ssl_simclr" else None,
            }
        )
    return rows


def quality_table(quick: bool = False) -> tuple[list[dict], str]:
    rows = quality_rows(quick)
    lines = [
        "| model | metric | value | baseline | baseline value | ratio | goal | met |",
        "|---|---|---:|---|---:|---:|---|---|",
    ]
    for r in rows:

        def fmt(v):
            return "not built yet" if v is None else f"{v:.3f}"

        met = "n/a" if r["met"] is None else ("yes" if r["met"] else "NO")
        lines.append(
            f"| {r['model']} | {r['metric']} | {fmt(r['value'])} | {r['baseline']} | {fmt(r['baseline_value'])} "
            f"| {fmt(r['ratio'])} | {r['goal']} | {met} |"
        )
    return rows, "\n".join(lines)
