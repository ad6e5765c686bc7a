"""Rebuild the shipped checkpoints:  python -m course_lib.pretrain NAME [NAME ...] | --all | --list

Each recipe trains from a fixed seed on course_lib's own datasets (offline), with the settings of
the config dataclass written above it, through the course's training loop (course_lib.train); it
saves the weights with `checkpoints.save_checkpoint` and records sha256, settings and held-out
metrics in data/MANIFEST.json. A quick run (`quick=True`, the tests) trains a few steps on less data.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from . import DATA_DIR, seed_everything, threads
from .checkpoints import save_checkpoint
from .data import (
    GENERATIVE_DIGITS,
    PRETEXT_TASKS,
    generative_digits,
    motion_clips,
    ssl_digits,
    text_ids,
)
from .train import EMA, GANTrainer, accuracy, batch_sampler, evaluate, fit, train_char_lm


@dataclass
class Recipe:
    """How one checkpoint is made: train(config, data_dir, quick) -> metrics, with its settings."""

    name: str
    train: Callable[..., dict]
    config: object
    quick: dict  # the settings a quick run changes (fewer steps)

    @property
    def __doc__(self) -> str:  # `--list` shows the first line
        return self.train.__doc__ or ""

    def __call__(self, data_dir=None, quick: bool = False) -> dict:
        config = replace(self.config, **self.quick) if quick else self.config
        return self.train(config, data_dir, quick)


RECIPES: dict[str, Recipe] = {}


def recipe(name: str, config, quick: dict):
    def register(train):
        RECIPES[name] = Recipe(name, train, config, quick)
        return train

    return register


def check_writable(data_dir=None) -> Path:
    """The checkpoint folder can be written: tried before any training, so that a run of half an hour
    is not lost at its end. Raises PermissionError saying what to do."""
    folder = Path(data_dir if data_dir is not None else DATA_DIR)
    target = folder / "checkpoints"
    try:
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target, prefix=".write-test-"):
            pass
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise PermissionError(
            f"cannot write the checkpoints to {target} ({exc.strerror or exc}): nothing was trained. "
            "Run as a user who may write there, or rebuild into another folder: "
            "COURSE_DATA_DIR=DIR python -m course_lib.pretrain NAME (DIR then holds MANIFEST.json "
            "and checkpoints/)"
        ) from None
    return target


def save_weights(name: str, model, **kwargs) -> Path:
    """checkpoints.save_checkpoint, but trained weights are never lost: when the data folder cannot
    be written (a full disk, permissions changed meanwhile), the weights go to a rescue file whose
    place is printed and raised."""
    try:
        return save_checkpoint(name, model, **kwargs)
    except OSError as exc:
        state = model.state_dict() if isinstance(model, nn.Module) else model
        stamp = time.strftime("%Y%m%d-%H%M%S")
        home_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        for folder in (home_cache / "dl-course" / "rescued", Path(tempfile.gettempdir())):
            try:
                folder.mkdir(parents=True, exist_ok=True)
                rescue = folder / f"{name}-{stamp}.pt"
                torch.save({k: v.detach().cpu() for k, v in state.items()}, rescue)
                break
            except OSError:
                continue
        else:  # pragma: no cover - no folder at all could be written
            raise
        message = (
            f"could not save checkpoint {name!r} ({exc}); the trained weights are safe in {rescue}. "
            f"Copy it to checkpoints/{name}.pt of a data folder you can write and rebuild the manifest "
            f"entry with: python -m course_lib.pretrain {name} (or retrain there)"
        )
        print(message, file=sys.stderr, flush=True)
        raise OSError(message) from exc


def report_every(name: str, every: int, window: int = 100):
    """A fit() callback that prints the mean loss of the last `window` steps every `every` steps."""

    def report(info):
        step, losses = info["step"] - 1, info["history"].step_loss
        if step % every == 0:
            recent = losses[-window:]
            print(f"{name} step {step}: loss {sum(recent) / len(recent):.4f}", flush=True)

    return report


# ----------------------------------------------------------------------------- classifiers and autoencoders
@dataclass(frozen=True)
class ClassifierConfig:
    hidden: tuple = (128, 64)
    epochs: int = 60
    lr: float = 2e-3
    batch_size: int = 64


@recipe("digits_mlp", ClassifierConfig(), quick={"epochs": 2})
def pretrain_digits_mlp(cfg: ClassifierConfig, data_dir=None, quick: bool = False) -> dict:
    """An MLP on the real 8x8 digits: the tiny classifier of notebook 00."""
    from .data import load_digits8
    from .models import MLPClassifier

    seed_everything(0)
    config = {"in_features": 64, "hidden": list(cfg.hidden), "classes": 10}
    model = MLPClassifier(**config)
    x_train, y_train = load_digits8("train")
    x_test, y_test = load_digits8("test")
    fit(
        model,
        (x_train, y_train),
        nn.CrossEntropyLoss(),
        epochs=cfg.epochs,
        lr=cfg.lr,
        batch_size=cfg.batch_size,
        progress=not quick,
    )
    result = evaluate(model, (x_test, y_test), nn.CrossEntropyLoss(), {"acc": accuracy})
    metrics = {"test_acc": round(result["acc"], 4), "test_loss": round(result["loss"], 4)}
    save_weights("digits_mlp", model, config=config, data_dir=data_dir, metrics=metrics)
    return metrics


def _generative(split: str, quick: bool):
    """The generative lectures' digits (data.generative_digits); 2,000 of them in a quick run."""
    return generative_digits(split, 2_000 if quick else None)


@dataclass(frozen=True)
class AutoencoderConfig:
    hidden: tuple = (512, 256)
    code: int = 2  # a 2D code / latent: the plane the latent explorer of notebook 04 draws
    epochs: int = 30
    lr: float = 1e-3
    batch_size: int = 128


@recipe("vae_digits", AutoencoderConfig(), quick={"epochs": 1})
def pretrain_vae_digits(cfg: AutoencoderConfig, data_dir=None, quick: bool = False) -> dict:
    """A VAE with a 2D latent on 28x28 procedural digits: the latent explorer of notebook 04."""
    from .models.vae import VAE, elbo_loss, vae_step

    seed_everything(0)
    config = {"in_features": 784, "hidden": list(cfg.hidden), "latent_dim": cfg.code}
    (x, _), (x_test, _) = _generative("train", quick), _generative("test", quick)
    model = VAE(**config)
    fit(
        model,
        x,
        None,
        epochs=cfg.epochs,
        lr=cfg.lr,
        batch_size=cfg.batch_size,
        step_fn=vae_step(1.0),
        progress=not quick,
    )
    with torch.no_grad():
        x_hat, mu, logvar = model(x_test)
        _, recon, kl = elbo_loss(x_hat, x_test, mu, logvar)
    metrics = {
        "test_recon_bce": round(recon.item(), 2),
        "test_kl": round(kl.item(), 3),
        "data": GENERATIVE_DIGITS,
    }
    save_weights("vae_digits", model, config=config, data_dir=data_dir, metrics=metrics)
    return metrics


@recipe("ae_digits", AutoencoderConfig(), quick={"epochs": 1})
def pretrain_ae_digits(cfg: AutoencoderConfig, data_dir=None, quick: bool = False) -> dict:
    """A plain autoencoder with a 2D code on the same digits: the VAE's comparison in notebook 04."""
    from .models.autoencoders import Autoencoder, reconstruction_error

    seed_everything(0)
    config = {"in_features": 784, "hidden": list(cfg.hidden), "code": cfg.code}
    (x, _), (x_test, _) = _generative("train", quick), _generative("test", quick)
    model = Autoencoder(**config)
    fit(
        model,
        x,
        nn.BCELoss(),
        epochs=cfg.epochs,
        lr=cfg.lr,
        batch_size=cfg.batch_size,
        progress=not quick,
    )
    metrics = {"test_mse": round(reconstruction_error(model, x_test), 5), "data": GENERATIVE_DIGITS}
    save_weights("ae_digits", model, config=config, data_dir=data_dir, metrics=metrics)
    return metrics


# ----------------------------------------------------------------------------- diffusion
@dataclass(frozen=True)
class DiffusionConfig:
    T: int = 200
    kind: str = "cosine"  # the noise schedule
    channels: int = 32
    steps: int = 6_000  # about 47 minutes on 2 threads
    batch_size: int = 64
    lr: float = 2e-3  # the peak of a one-cycle schedule
    warmup: float = 0.05  # share of the steps the learning rate rises
    ema: float = 0.995  # the saved weights are this running average: it samples better
    min_snr: float = 5.0  # min-SNR loss weighting (notebook 07)


DIFFUSION = DiffusionConfig()


@recipe("diffusion", DIFFUSION, quick={"steps": 40})
def pretrain_diffusion(cfg: DiffusionConfig, data_dir=None, quick: bool = False) -> dict:
    """A small U-Net denoiser (DDPM, cosine schedule, T=200) on 28x28 digits: notebook 07's sampler."""
    from .models.diffusion import NoiseSchedule, SmallUNet, diffusion_loss

    seed_everything(0)
    with threads.limit(2):  # the U-Net's convolutions gain from a second core, if there is one
        schedule = NoiseSchedule(cfg.T, cfg.kind)
        model = SmallUNet(cfg.channels)
        ema = EMA(model, cfg.ema)
        x = _generative("train", quick)[0] * 2 - 1
        g = torch.Generator().manual_seed(0)  # draws the batches, the time steps and the noise
        history = fit(
            model,
            x,
            None,
            steps=cfg.steps,
            batch_size=cfg.batch_size,
            generator=g,
            step_fn=lambda net, batch, _: (
                diffusion_loss(net, schedule, batch[0], generator=g, min_snr=cfg.min_snr),
                None,
            ),
            lr=cfg.lr,
            scheduler=lambda opt: torch.optim.lr_scheduler.OneCycleLR(
                opt, max_lr=cfg.lr, total_steps=cfg.steps, pct_start=cfg.warmup
            ),
            ema=ema,
            callbacks=[] if quick else [report_every("diffusion", 500)],
            progress=False,
        )
    losses = history.step_loss
    metrics = {
        "final_loss": round(sum(losses[-200:]) / len(losses[-200:]), 4),
        "schedule": {"T": cfg.T, "kind": cfg.kind},
        "data": GENERATIVE_DIGITS,
        **asdict(cfg),
    }
    save_weights(
        "diffusion",
        ema.module,
        config={"channels": cfg.channels},
        data_dir=data_dir,
        metrics=metrics,
    )
    return metrics


# ----------------------------------------------------------------------------- GANs
@dataclass(frozen=True)
class GANConfig:
    noise_dim: int = 32
    channels: int = 48
    rounds: int = 6_000  # training rounds: one D step and one G step each
    batch_size: int = 64
    lr: float = 2e-4
    samples_at: tuple = ()  # rounds after which samples of a fixed noise batch are kept (05's grid)


DCGAN = GANConfig(rounds=12_000, samples_at=(0, 50, 200, 500, 1000, 3000, 6000, 12_000))
CGAN = GANConfig(rounds=6_000)


@recipe("dcgan", DCGAN, quick={"rounds": 20})
def pretrain_dcgan(cfg: GANConfig, data_dir=None, quick: bool = False) -> dict:
    """A DCGAN on 28x28 digits, plus samples from a fixed noise batch along training (notebook 05)."""
    from .models.gan import DCDiscriminator, DCGenerator

    seed_everything(0)
    x, _ = _generative("train", quick)
    G, D = DCGenerator(cfg.noise_dim, cfg.channels), DCDiscriminator(cfg.channels)
    trainer = GANTrainer(
        G, D, batch_sampler(x), cfg.noise_dim, lr=cfg.lr, batch_size=cfg.batch_size
    )
    fixed = torch.randn(32, cfg.noise_dim, generator=torch.Generator().manual_seed(123))
    samples = {}
    for step in range(cfg.rounds + 1):
        if step in cfg.samples_at or step == cfg.rounds:
            G.eval()
            with torch.no_grad():
                samples[f"step_{step}"] = G(fixed)
            G.train()
            if not quick:
                d_loss = trainer.history["d_loss"][-1] if step else float("nan")
                print(f"dcgan step {step}: d_loss {d_loss:.3f}", flush=True)
        if step < cfg.rounds:
            trainer.train_step()
    config = {"noise_dim": cfg.noise_dim, "channels": cfg.channels}
    metrics = {
        "steps": cfg.rounds,
        "final_d_loss": None if quick else round(sum(trainer.history["d_loss"][-100:]) / 100, 4),
        "data": GENERATIVE_DIGITS,
    }
    save_weights("dcgan", G, config=config, data_dir=data_dir, metrics=metrics)
    save_weights(
        "dcgan_progress", samples, config={}, data_dir=data_dir, metrics={"steps": list(samples)}
    )
    return metrics


@recipe("cgan", CGAN, quick={"rounds": 20})
def pretrain_cgan(cfg: GANConfig, data_dir=None, quick: bool = False) -> dict:
    """A conditional DCGAN on 28x28 digits with the lecture's three-case discriminator (notebook 06)."""
    from .models.gan import DCDiscriminator, DCGenerator

    seed_everything(0)
    x, y = _generative("train", quick)
    G = DCGenerator(cfg.noise_dim, cfg.channels, classes=10)
    D = DCDiscriminator(cfg.channels, classes=10)
    trainer = GANTrainer(
        G,
        D,
        batch_sampler(x, y),
        cfg.noise_dim,
        lr=cfg.lr,
        batch_size=cfg.batch_size,
        classes=10,
    )
    for step in range(cfg.rounds):
        trainer.train_step()
        if not quick and step % 500 == 0:
            h = trainer.history
            print(
                f"cgan step {step}: d_loss {h['d_loss'][-1]:.3f} g_loss {h['g_loss'][-1]:.3f}",
                flush=True,
            )
    config = {"noise_dim": cfg.noise_dim, "channels": cfg.channels, "classes": 10}
    metrics = {"steps": cfg.rounds, "data": GENERATIVE_DIGITS}
    save_weights("cgan", G, config=config, data_dir=data_dir, metrics=metrics)
    return {"steps": cfg.rounds}


# ----------------------------------------------------------------------------- the generators' judge
@dataclass(frozen=True)
class JudgeConfig:
    channels: int = 32
    epochs: int = 6
    batch_size: int = 128
    lr: float = 2e-3


@recipe("judge", JudgeConfig(), quick={"epochs": 1})
def pretrain_judge(cfg: JudgeConfig, data_dir=None, quick: bool = False) -> dict:
    """The independent judge of the generators (course_lib.metrics): a SmallCNN trained on its own
    digits (data.judge_digits, seed 777), checked on the generators' held-out digits."""
    from .data import judge_digits
    from .models.cnn import SmallCNN

    seed_everything(0)
    x, y = judge_digits(500 if quick else None)
    model = SmallCNN(cfg.channels)
    fit(
        model,
        (x, y),
        nn.CrossEntropyLoss(),
        epochs=cfg.epochs,
        lr=cfg.lr,
        batch_size=cfg.batch_size,
        progress=not quick,
    )
    x_test, y_test = generative_digits("test")
    result = evaluate(model, (x_test, y_test), nn.CrossEntropyLoss(), {"acc": accuracy})
    metrics = {"accuracy_on_generative_test": round(result["acc"], 4), **asdict(cfg)}
    save_weights(
        "judge", model, config={"channels": cfg.channels}, data_dir=data_dir, metrics=metrics
    )
    return metrics


# ----------------------------------------------------------------------------- self-supervised pretext tasks
@dataclass(frozen=True)
class PretextConfig:
    steps: int = 2_000
    batch_size: int = 128
    lr: float = 2e-3
    margin: float = 1.0  # the pairwise contrastive loss
    temperature: float = 0.2  # InfoNCE
    alpha: float = 1.0  # the triplet loss
    # the tasks themselves (mask size, permutations, past frames, probe labels): data.PRETEXT_TASKS


SSL = PretextConfig()


def _ssl_data(part: str, quick: bool):
    """data.ssl_digits(part), 500 of them in a quick run."""
    return ssl_digits(part, 500 if quick else None)


def _ssl_pretrain(
    name: str, net: nn.Module, batch_loss, cfg: PretextConfig, quick: bool, data_dir, config: dict
) -> dict:
    """Train a pretext net on unlabelled digits; score its encoder with a linear probe on 10% of the labels."""
    from .probes import encode, label_subset, linear_probe

    x, _ = _ssl_data("unlabelled", quick)
    (x_l, y_l), (x_t, y_t) = _ssl_data("labelled", quick), _ssl_data("test", quick)
    g = torch.Generator().manual_seed(0)  # draws the batches and the pretext task's randomness
    fit(
        net,
        x,
        None,
        steps=cfg.steps,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        generator=g,
        step_fn=lambda model, batch, _: (batch_loss(model, batch[0], g), None),
        callbacks=[] if quick else [report_every(name, 250, window=1)],
        progress=False,
    )
    idx = label_subset(y_l, PRETEXT_TASKS["probe_fraction"])
    probe = linear_probe(encode(net.encoder, x_l[idx]), y_l[idx], encode(net.encoder, x_t), y_t)
    metrics = {"probe_acc_10pct": round(probe, 4), "steps": cfg.steps}
    save_weights(name, net.eval(), config=config, data_dir=data_dir, metrics=metrics)
    return metrics


@recipe("ssl_inpainting", SSL, quick={"steps": 5})
def pretrain_ssl_inpainting(cfg: PretextConfig, data_dir=None, quick: bool = False) -> dict:
    """Inpainting pretext: fill in a hidden 12x12 square of a digit (notebook 09)."""
    from .models.pretext import InpaintingNet, inpainting_loss, mask_square

    seed_everything(0)

    def batch_loss(net, x, g):
        x_masked, mask = mask_square(x, PRETEXT_TASKS["mask"], generator=g)
        return inpainting_loss(net(x_masked), x, mask)

    return _ssl_pretrain("ssl_inpainting", InpaintingNet(), batch_loss, cfg, quick, data_dir, {})


@recipe("ssl_jigsaw", SSL, quick={"steps": 5})
def pretrain_ssl_jigsaw(cfg: PretextConfig, data_dir=None, quick: bool = False) -> dict:
    """Jigsaw pretext: which of 24 fixed permutations shuffled the 3x3 tiles (notebook 09)."""
    import torch.nn.functional as F

    from .models.pretext import JigsawNet, jigsaw_batch, permutation_set

    seed_everything(0)
    perms = permutation_set(9, PRETEXT_TASKS["jigsaw_k"])

    def batch_loss(net, x, g):
        shuffled, labels = jigsaw_batch(x, perms, 3, generator=g)
        return F.cross_entropy(net(shuffled), labels)

    net = JigsawNet(len(perms))
    return _ssl_pretrain("ssl_jigsaw", net, batch_loss, cfg, quick, data_dir, {"k": len(perms)})


@recipe("ssl_siamese", SSL, quick={"steps": 5})
def pretrain_ssl_siamese(cfg: PretextConfig, data_dir=None, quick: bool = False) -> dict:
    """Siamese pretext with the pairwise contrastive loss: two views of one digit close, of two digits far."""
    from .models.contrastive import SiameseNet, augment, contrastive_loss

    seed_everything(0)

    def batch_loss(net, x, g):
        v1, v2 = augment(x, g), augment(x, g)
        same = (torch.rand(len(x), generator=g) < 0.5).float()
        # a "different" pair: the view of the next image in the batch
        v2 = torch.where(same[:, None, None, None] > 0, v2, v2.roll(1, 0))
        return contrastive_loss(net(v1), net(v2), same, cfg.margin)

    return _ssl_pretrain("ssl_siamese", SiameseNet(), batch_loss, cfg, quick, data_dir, {})


@recipe("ssl_simclr", SSL, quick={"steps": 5})
def pretrain_ssl_simclr(cfg: PretextConfig, data_dir=None, quick: bool = False) -> dict:
    """Siamese pretext with the in-batch contrastive loss of SimCLR (InfoNCE) (notebook 09)."""
    from .models.contrastive import SiameseNet, augment, info_nce_loss

    seed_everything(0)

    def batch_loss(net, x, g):
        return info_nce_loss(net(augment(x, g)), net(augment(x, g)), cfg.temperature)

    return _ssl_pretrain("ssl_simclr", SiameseNet(), batch_loss, cfg, quick, data_dir, {})


@recipe("ssl_triplet", SSL, quick={"steps": 5})
def pretrain_ssl_triplet(cfg: PretextConfig, data_dir=None, quick: bool = False) -> dict:
    """Triplet pretext: a view of the same digit nearer the anchor than another digit by a margin (notebook 09)."""
    from .models.contrastive import SiameseNet, augment, triplet_loss

    seed_everything(0)

    def batch_loss(net, x, g):
        a, p, n = augment(x, g), augment(x, g), augment(x.roll(1, 0), g)
        return triplet_loss(net(a), net(p), net(n), cfg.alpha)

    return _ssl_pretrain("ssl_triplet", SiameseNet(), batch_loss, cfg, quick, data_dir, {})


@dataclass(frozen=True)
class NextFrameConfig:
    steps: int = 2_000
    batch_size: int = 64
    lr: float = 2e-3


@recipe("ssl_next_frame", NextFrameConfig(), quick={"steps": 5})
def pretrain_ssl_next_frame(cfg: NextFrameConfig, data_dir=None, quick: bool = False) -> dict:
    """Video pretext: predict the next frame of a moving-shapes clip from the last 3 (notebook 09)."""
    import torch.nn.functional as F

    from .models.pretext import NextFrameNet, frame_windows

    seed_everything(0)
    past = PRETEXT_TASKS["past_frames"]
    x, y = frame_windows(motion_clips("train", 100 if quick else None), past)
    test_x, test_y = frame_windows(motion_clips("test"), past)
    net = NextFrameNet(past)
    fit(
        net,
        (x, y),
        nn.MSELoss(),
        steps=cfg.steps,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        generator=torch.Generator().manual_seed(0),
        callbacks=[] if quick else [report_every("ssl_next_frame", 250, window=1)],
        progress=False,
    )
    with torch.no_grad():
        mse = F.mse_loss(net(test_x), test_y).item()
    metrics = {
        "test_mse": round(mse, 5),
        "copy_last_mse": round(F.mse_loss(test_x[:, -1:], test_y).item(), 5),
        "steps": cfg.steps,
    }
    save_weights("ssl_next_frame", net, config={"past": past}, data_dir=data_dir, metrics=metrics)
    return metrics


# ----------------------------------------------------------------------------- the character LSTM
@dataclass(frozen=True)
class CharLSTMConfig:
    embed: int = 32
    hidden: int = 128
    steps: int = 1_500
    length: int = 100  # characters per window, each window starting at a sentence start
    batch_size: int = 128  # with 32, the LSTM stayed at chance on agreement after a clause
    lr: float = 3e-3


@recipe("char_lstm", CharLSTMConfig(), quick={"steps": 20})
def pretrain_char_lstm(cfg: CharLSTMConfig, data_dir=None, quick: bool = False) -> dict:
    """A character LSTM on 20,000 sentences of the agreement grammar (notebook 08's agreement test)."""
    from .data import TEXT_CORPORA, make_agreement_test, make_text_corpus, text_alphabet
    from .models.rnn import CharLSTM, lstm_logprob
    from .models.sequence_tasks import agreement_accuracy

    seed_everything(0)
    spec = TEXT_CORPORA["pretrain"]
    ids = torch.tensor(text_ids(make_text_corpus(500 if quick else spec["n"], seed=spec["seed"])))
    config = {"vocab": len(text_alphabet()), "embed": cfg.embed, "hidden": cfg.hidden}
    model = CharLSTM(**config)
    losses = train_char_lm(
        model,
        ids,
        text_ids("\n")[0],
        cfg.steps,
        cfg.length,
        cfg.batch_size,
        cfg.lr,
        generator=torch.Generator().manual_seed(0),
    )
    agreement = TEXT_CORPORA["agreement"]
    items = make_agreement_test(20 if quick else agreement["n_per_depth"], agreement["seed"])
    acc = agreement_accuracy(lambda h, c: lstm_logprob(model, h, c), items, text_ids)
    metrics = {
        "final_loss": round(sum(losses[-100:]) / len(losses[-100:]), 4),
        "agreement": {str(k): round(v, 3) for k, v in acc.items()},
        "alphabet": text_alphabet(),
        "corpus": spec,
        **asdict(cfg),
    }
    save_weights("char_lstm", model.eval(), config=config, data_dir=data_dir, metrics=metrics)
    return metrics


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.pretrain", description=__doc__.splitlines()[0]
    )
    parser.add_argument("names", nargs="*", help=f"checkpoints to rebuild: {', '.join(RECIPES)}")
    parser.add_argument("--all", action="store_true", help="rebuild every checkpoint")
    parser.add_argument(
        "--list", action="store_true", help="list the checkpoints that can be rebuilt"
    )
    args = parser.parse_args(argv)
    if args.list:
        for name, entry in RECIPES.items():
            print(f"{name:20s} {entry.__doc__.strip().splitlines()[0]}")
        return 0
    names = list(RECIPES) if args.all else args.names
    if not names:
        parser.error("name a checkpoint, or use --all / --list")
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        parser.error(f"unknown checkpoint(s) {unknown}; choose from {sorted(RECIPES)}")
    # One thread: the flush-denormal setting (threads.apply) holds for this thread only, and these
    # small models train as fast on one core; results are also the same run to run.
    threads.limited(1)
    try:
        check_writable()
    except PermissionError as exc:
        parser.exit(1, f"python -m course_lib.pretrain: {exc}\n")
    for name in names:
        start = time.time()
        metrics = RECIPES[name]()
        print(f"{name}: saved in {time.time() - start:.0f} s, {metrics}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
