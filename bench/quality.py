"""Quality vs baselines: each model next to what a student would compare it with, on held-out data."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


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
            schedule = NoiseSchedule(DIFFUSION.T, DIFFUSION.kind)
            return sample(unet, schedule, n, steps=None, generator=g)
    raise ValueError(f"unknown generator {name!r}: expected dcgan, cgan, vae or diffusion")


def generator_rows(n: int = 1_000) -> list[dict]:
    """One row per generator and measure, next to real vs real and the per-class Gaussian.

    FD rows give the median over 8 independent held-out real sets (metrics.fd_spread) and the
    range, because one pair of sets is a noisy estimate; the goal is judged on the median."""
    from course_lib import metrics
    from course_lib.data import generative_digits

    refs = metrics.reference_reports(n)
    real_rr, gauss = refs["real vs real"], refs["per-class Gaussian"]
    held_out, _ = generative_digits("test", 2 * n)
    x_train, y_train = generative_digits("train")
    names = ("diffusion", "dcgan", "cgan", "vae")
    samples = {name: generator_samples(name, n) for name in names}
    gauss_samples, _ = metrics.per_class_gaussian(x_train, y_train, n)
    spread = metrics.fd_spread({**samples, "gaussian": gauss_samples}, n)
    floor, g = spread["real vs real"], spread["gaussian"]
    rows = []
    labels = {
        "diffusion": "diffusion, DDPM 200 steps",
        "dcgan": "DCGAN",
        "cgan": "conditional GAN",
        "vae": "VAE, prior samples (blurry by construction)",
    }
    for name in names:
        report = metrics.generator_report(samples[name], held_out[:n], x_train)
        goal = metrics.GOALS.get(name, {})
        fd = spread[name]
        shares = [c / report["n"] for c in report["counts"]]
        rows.append(
            {
                "model": labels[name],
                "metric": (
                    f"FD / real-vs-real FD, {n} samples: median over 8 real sets "
                    f"(range {fd['low']:.2f}-{fd['high']:.2f}; real vs real {floor['median']:.1f}, "
                    f"pairs {floor['low']:.1f}-{floor['high']:.1f})"
                ),
                "value": fd["median"],
                "baseline": "per-class Gaussian",
                "baseline_value": g["median"],
                "ratio": fd["median"] / g["median"],
                "goal": f"<= {goal['fd']}" if "fd" in goal else "(reported)",
                "met": fd["median"] <= goal["fd"] if "fd" in goal else None,
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
        if name == "cgan":  # the classifier-only measure the Gaussian also passes: why FD is needed
            rows.append(
                {
                    "model": labels[name],
                    "metric": "judge's mean confidence (a classifier alone)",
                    "value": report["confidence"],
                    "baseline": "per-class Gaussian",
                    "baseline_value": gauss["confidence"],
                    "ratio": report["confidence"] / gauss["confidence"],
                    "goal": "(the Gaussian passes this too)",
                    "met": None,
                }
            )
    return rows


def text_rows(quick: bool = False) -> list[dict]:
    """The shipped character LSTM against the best Witten-Bell n-gram on the same corpus."""
    from course_lib import checkpoints, data
    from course_lib.data import text_ids
    from course_lib.models.ngram import WittenBellModel
    from course_lib.models.rnn import CharLSTM, lstm_logprob
    from course_lib.models.sequence_tasks import agreement_accuracy

    spec, lecture = data.TEXT_CORPORA["pretrain"], data.TEXT_CORPORA["lecture"]
    lecture_ids = text_ids(data.make_text_corpus(lecture["n"], seed=lecture["seed"]))
    test_ids = lecture_ids[int(0.9 * len(lecture_ids)) :]  # notebook 08's held-out text
    orders = (4, 6, 8, 10, 12)
    wb = WittenBellModel(
        text_ids(data.make_text_corpus(2_000 if quick else spec["n"], seed=spec["seed"])),
        max(orders),
        len(data.text_alphabet()),
    )
    lstm = checkpoints.load_checkpoint("char_lstm", CharLSTM)
    ppl = math.exp(-lstm_logprob(lstm, test_ids[:1], test_ids[1:]) / (len(test_ids) - 1))
    wb_ppl = {n: wb.perplexity(test_ids, order=n) for n in orders}
    best = min(wb_ppl, key=wb_ppl.get)
    rows = [
        {
            "model": "character LSTM (shipped)",
            "metric": "held-out perplexity",
            "value": ppl,
            "baseline": f"best Witten-Bell n-gram (n = {best}), same corpus",
            "baseline_value": wb_ppl[best],
            "ratio": ppl / wb_ppl[best],
            "goal": "below the n-gram",
            "met": ppl < wb_ppl[best],
        }
    ]
    agreement = data.TEXT_CORPORA["agreement"]
    items = data.make_agreement_test(50 if quick else agreement["n_per_depth"], agreement["seed"])
    lstm_acc = agreement_accuracy(lambda h, c: lstm_logprob(lstm, h, c), items, text_ids)
    wb_acc = {
        n: agreement_accuracy(lambda h, c, n=n: wb.logprob(h, c, n), items, text_ids)
        for n in orders
    }
    for k in (0, 1, 2):
        n_best = max(orders, key=lambda n: wb_acc[n][k])
        goal = "(the subject is in reach)" if k == 0 else "LSTM >= 0.9, n-gram <= 0.6"
        rows.append(
            {
                "model": "character LSTM (shipped)",
                "metric": f"subject-verb agreement after {k} clause{'s' if k != 1 else ''}",
                "value": lstm_acc[k],
                "baseline": f"best Witten-Bell n-gram (n = {n_best}; chance 0.5)",
                "baseline_value": wb_acc[n_best][k],
                "ratio": lstm_acc[k] / wb_acc[n_best][k],
                "goal": goal,
                "met": None if k == 0 else lstm_acc[k] >= 0.9 and wb_acc[n_best][k] <= 0.6,
            }
        )
    return rows


def ssl_rows(quick: bool = False) -> list[dict]:
    """Each shipped pretext encoder's linear probe against the strongest of three baselines."""
    from course_lib import data, probes
    from course_lib.features import gradient_histograms
    from course_lib.models.encoder import ConvEncoder

    x_l, y_l = data.ssl_digits("labelled", 3_000 if quick else None)
    x_t, y_t = data.ssl_digits("test", 1_000 if quick else None)
    few = probes.label_subset(y_l, data.PRETEXT_TASKS["probe_fraction"])

    def probe(f):
        return probes.linear_probe(f(x_l[few]), y_l[few], f(x_t), y_t)

    torch.manual_seed(0)
    random_encoder = ConvEncoder()
    baselines = {
        "raw pixels": probe(lambda x: x.flatten(1)),
        "HOG-style features": probe(gradient_histograms),
        "random-init encoder": probe(lambda x: probes.encode(random_encoder, x)),
    }
    strongest = max(baselines, key=baselines.get)
    rows = []
    for name in ("ssl_simclr", "ssl_siamese", "ssl_triplet", "ssl_inpainting", "ssl_jigsaw"):
        encoder = probes.load_encoder(name)
        acc = probe(lambda x, e=encoder: probes.encode(e, x))
        rows.append(
            {
                "model": f"{name} encoder (notebook 09)",
                "metric": f"linear probe, {len(few)} labels",
                "value": acc,
                "baseline": f"{strongest} (raw pixels {baselines['raw pixels']:.3f})",
                "baseline_value": baselines[strongest],
                "ratio": acc / baselines[strongest],
                "goal": "above the baseline",
                "met": acc > baselines[strongest],
            }
        )
    return rows


def quality_rows(quick: bool = False) -> list[dict]:
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression

    from course_lib import data, seed_everything
    from course_lib.models import LeNet
    from course_lib.models.autoencoders import Autoencoder, reconstruction_error
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
    # 2. LeNet vs the strongest handcrafted pipeline (HOG-style features + RBF SVM) and raw pixels
    from sklearn.svm import SVC

    from course_lib.features import gradient_histograms

    n = 3_000 if quick else 10_000
    x, y = data.make_digits28(n, seed=1)
    xt, yt = data.make_digits28(2_000, seed=2)
    seed_everything(0)
    lenet = LeNet()
    fit(lenet, (x, y), nn.CrossEntropyLoss(), epochs=3, lr=2e-3, batch_size=128, progress=False)
    lenet_acc = accuracy(predict(lenet, xt), yt)
    hog_svm = (
        SVC(C=10.0, gamma="scale")
        .fit(gradient_histograms(x).numpy(), y.numpy())
        .score(gradient_histograms(xt).numpy(), yt.numpy())
    )
    logreg = (
        LogisticRegression(max_iter=300)
        .fit(x.flatten(1).numpy(), y.numpy())
        .score(xt.flatten(1).numpy(), yt.numpy())
    )
    for baseline, value, goal, met in (
        ("HOG-style features + RBF SVM", hog_svm, ">= the baseline", lenet_acc >= hog_svm),
        ("logistic regression on raw pixels", logreg, "+5 points", lenet_acc >= logreg + 0.05),
    ):
        rows.append(
            {
                "model": f"LeNet, 3 epochs on {n:,} (28x28 digits)",
                "metric": "held-out accuracy",
                "value": lenet_acc,
                "baseline": baseline,
                "baseline_value": value,
                "ratio": lenet_acc / value,
                "goal": goal,
                "met": met,
            }
        )
    # 3. generative models, judged by course_lib.metrics on 1,000 samples each, every row beside
    #    real vs real (the floor) and the per-class Gaussian (which the metric must rank worse)
    rows.extend(generator_rows(200 if quick else 1_000))
    # 4. the shipped character LSTM vs Witten-Bell n-grams trained on the same 20,000 sentences:
    #    perplexity on the lecture's held-out text, and long-range agreement after 1 and 2 clauses
    rows.extend(text_rows(quick))
    # 5. self-supervised encoders: linear probe with 10% of the labels, against the strongest of
    #    raw pixels, HOG-style features and a random-init encoder (HOG, on these digits)
    rows.extend(ssl_rows(quick))
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
