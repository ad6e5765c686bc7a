# %% [markdown] slideshow={"slide_type": "slide"}
# # 07 · Diffusion models
#
# The idea in two lines:
#
# 1. **Degrade** training images by adding a little Gaussian noise, many times, until only noise is left.
# 2. **Learn to reverse** each small step. Then start from pure noise and denoise, step by step, into a new image.
#
# Naming, as in Ho et al. (2020) and everywhere in this course: the **forward** process $q$ adds
# noise ($x_0 \to x_T$); the **reverse** process $p_\theta$ removes it ($x_T \to x_0$). (One version
# of the lecture slides swaps the two names; the maths is the same.)

# %% slideshow={"slide_type": "-"}
T = 200  # diffusion steps of the schedule (the shipped model was trained with these)
LIVE_STEPS = 250  # training steps of the live run on 8x8 digits; more = cleaner samples

# %% slideshow={"slide_type": "skip"}
import course_lib as cl  # first: it sets the CPU thread policy before torch loads (see 00)

# isort: split
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import check, checkpoints, data, plot
from course_lib.models import LeNet
from course_lib.models.diffusion import NoiseSchedule, SmallUNet, diffusion_loss, diffusion_step, sample
from course_lib.source import show_source
from course_lib.train import fit, predict

cl.seed_everything(0)
device = cl.get_device()
x_digits, y_digits = data.generative_digits("test", 400)  # held out: the pictures, and two real sets below
schedule = NoiseSchedule(T, "cosine")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The forward process, one step at a time
# Each step keeps $\sqrt{1-\beta_t}$ of the image and adds noise of variance $\beta_t$:
#
# $$q(x_t \mid x_{t-1}) = N\big(\sqrt{1-\beta_t}\,x_{t-1},\ \beta_t I\big)$$
#
# Images are scaled to $[-1, 1]$ first, so that "pure noise" $N(0, I)$ has the same scale.

# %% slideshow={"slide_type": "-"}
x0 = x_digits[:1] * 2 - 1
x = x0.clone()
g = torch.Generator().manual_seed(0)
frames = [x0]
for t in range(T):
    x = schedule.q_step(x, torch.randn(x.shape, generator=g), t)
    if (t + 1) % 25 == 0:
        frames.append(x)
plot.image_grid(
    (torch.cat(frames) + 1) / 2, nrow=len(frames), title=f"one digit after 0, 25, 50, ... {T} forward steps"
);

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The closed form
# Composing the steps gives a shortcut: with $\alpha_t = 1 - \beta_t$ and $\bar\alpha_t = \prod_{s\le t}\alpha_s$,
#
# $$q(x_t \mid x_0) = N\big(\sqrt{\bar\alpha_t}\,x_0,\ (1-\bar\alpha_t) I\big), \quad\text{i.e.}\quad x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon$$
#
# Checked numerically: iterate the single steps on 50,000 copies of one digit and compare the mean
# and variance of each pixel with the closed form, at three times. Every step treats each pixel on its
# own, so the digit's middle row (28 pixels, across its strokes) tests the formula as well as the whole
# image would, at a thirtieth of the cost.

# %% slideshow={"slide_type": "-"}
row = x0[:, :, 14:15, :]  # (1, 1, 1, 28): the middle row of the digit
copies = row.repeat(50_000, 1, 1, 1)  # 50,000 independent noisings of it
g = torch.Generator().manual_seed(1)
checks = {}
x = copies
for t in range(150):
    x = schedule.q_step(x, torch.randn(x.shape, generator=g), t)
    if t in (9, 49, 149):
        ab = schedule.alpha_bars[t]
        mean_err = (x.mean(0) - ab.sqrt() * row[0]).abs().max().item()
        var_err = (x.var(0) - (1 - ab)).abs().max().item()
        checks[t + 1] = (mean_err, var_err)
        print(
            f"after {t + 1:>3} steps: max |mean - sqrt(ab) x0| = {mean_err:.4f}, max |var - (1 - ab)| = {var_err:.4f}"
        )
assert all(m < 0.03 and v < 0.03 for m, v in checks.values())  # sampling error of 50,000 draws, worst of 28 pixels


# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1 · Jump straight to $x_t$
# Write `student_q_sample(x0, noise, alpha_bar)`, the closed form (`alpha_bar` is a number).

# %% slideshow={"slide_type": "-"}
def student_q_sample(x0, noise, alpha_bar):
    """x0, noise: (B, 1, H, W); alpha_bar: a 0-dim tensor -> x_t."""
    # Your answer here.
    return alpha_bar * x0 + (1 - alpha_bar) * noise


check.q_sample(student_q_sample)


# %% jupyter={"source_hidden": true} slideshow={"slide_type": "skip"} tags=["solution"]
def solution_q_sample(x0, noise, alpha_bar):
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise


assert check.q_sample(solution_q_sample)
check.q_sample(solution_q_sample)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Two schedules: linear and cosine
# How fast the signal disappears is set by the $\beta_t$. The **linear** schedule (Ho et al.) raises
# $\beta$ linearly; the **cosine** one (Nichol & Dhariwal) makes $\bar\alpha_t$ a squared cosine, so
# the image is destroyed more evenly and the last steps are not wasted on pure noise. The
# **signal-to-noise ratio** $\mathrm{SNR}(t) = \bar\alpha_t / (1-\bar\alpha_t)$ tells the story:

# %% slideshow={"slide_type": "subslide"}
schedules = {"linear": NoiseSchedule(T, "linear"), "cosine": schedule}

# %% slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
for name, s in schedules.items():
    axes[0].plot(range(1, T + 1), s.alpha_bars, label=name)
    axes[1].plot(range(1, T + 1), 10 * torch.log10(s.snr()), label=name)
axes[0].set(xlabel="t", ylabel="alpha_bar_t", title="signal kept: alpha_bar_t")
axes[1].set(xlabel="t", ylabel="SNR (dB)", title="signal-to-noise ratio")
for ax in axes:
    ax.legend()
    ax.grid(alpha=0.3)
fig.tight_layout()
g = torch.Generator().manual_seed(2)
noise = torch.randn(1, 1, 28, 28, generator=g)
steps_shown = [0, 20, 40, 80, 120, 160, 199]
rows = [torch.cat([s.add_noise(x0, noise, t) for t in steps_shown]) for s in schedules.values()]

# %% slideshow={"slide_type": "subslide"}
plot.image_grid(
    (torch.cat(rows) + 1) / 2,
    nrow=len(steps_shown),
    title="rows: linear, cosine - at t = " + ", ".join(str(t + 1) for t in steps_shown),
)
half = {name: int((s.snr() < 1).nonzero()[0]) + 1 for name, s in schedules.items()}
print("SNR falls below 1 (0 dB) at t =", half)
assert half["cosine"] > half["linear"], "the cosine schedule keeps the signal longer"

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Step through the noise
# The **forward** tab: pick a digit, slide t, read the noise level and SNR. (The **reverse** tab
# comes alive once we have a trained denoiser, below.)

# %% slideshow={"slide_type": "subslide"}
from course_lib.widgets import NoiseStepper

denoiser = checkpoints.load_checkpoint("diffusion", SmallUNet, device=device)
stepper = NoiseStepper(denoiser, schedule, x_digits[:50])
stepper

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes: drag **t** from 0 to 200 and ask the class to say when they can no longer read the digit; compare with the printed step where the SNR falls below 1. **new noise** draws another path through the same schedule.

# %% slideshow={"slide_type": "subslide"}
stepper.f_t.value = 60  # start a little into the noise; drag the slider to t = 0 and to t = 200

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The reverse process
# For small steps the reverse $q(x_{t-1}\mid x_t)$ is also Gaussian, but it depends on the whole data
# distribution. A network learns it: $p_\theta(x_{t-1}\mid x_t) = N(\mu_\theta(x_t, t), \sigma_t^2 I)$.
# Ho et al. found it works best to let the network **predict the noise** $\varepsilon$ that was added:
#
# $$\mathcal{L} = \mathbb{E}_{x_0,\,t,\,\varepsilon}\ \big\lVert \varepsilon - \varepsilon_\theta\big(\sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon,\ t\big)\big\rVert^2$$
#
# One training step, by hand, and the library's `diffusion_loss` on the same random numbers:

# %% slideshow={"slide_type": "-"}
unet = SmallUNet(channels=32)
batch = x_digits[:16] * 2 - 1
g1 = torch.Generator().manual_seed(3)
t = torch.randint(0, T, (16,), generator=g1)
eps = torch.randn(batch.shape, generator=g1)
x_t = (
    schedule.alpha_bars[t].sqrt().view(-1, 1, 1, 1) * batch
    + (1 - schedule.alpha_bars[t]).sqrt().view(-1, 1, 1, 1) * eps
)
by_hand = F.mse_loss(unet(x_t, t), eps)
library = diffusion_loss(unet, schedule, batch, generator=torch.Generator().manual_seed(3))
print(f"loss by hand {by_hand.item():.5f}, diffusion_loss {library.item():.5f}")
assert torch.allclose(by_hand, library)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## One DDPM sampling step
# From the predicted noise, the clean image it implies is
# $\hat x_0 = (x_t - \sqrt{1-\bar\alpha_t}\,\varepsilon_\theta)/\sqrt{\bar\alpha_t}$, and $x_{t-1}$ is drawn
# from $q(x_{t-1} \mid x_t, \hat x_0)$:
#
# $$x_{t-1} = \frac{\sqrt{\bar\alpha_{t-1}}\,\beta_t}{1-\bar\alpha_t}\hat x_0 + \frac{\sqrt{\alpha_t}(1-\bar\alpha_{t-1})}{1-\bar\alpha_t}x_t + \sigma_t z, \qquad \sigma_t^2 = \frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\beta_t$$
#
# By hand for one step, against the schedule's `step` (same noise z):

# %% slideshow={"slide_type": "subslide"}
t = 120
x_t = schedule.add_noise(batch[:4], torch.randn(4, 1, 28, 28), t)
with torch.no_grad():
    eps_hat = denoiser(x_t.to(device), torch.full((4,), t, device=device)).cpu()
ab, ab_prev = schedule.alpha_bars[t], schedule.alpha_bars[t - 1]
beta, alpha = schedule.betas[t], schedule.alphas[t]
x0_hat = ((x_t - (1 - ab).sqrt() * eps_hat) / ab.sqrt()).clamp(-1, 1)
z = torch.randn(x_t.shape, generator=torch.Generator().manual_seed(4))
sigma = ((1 - ab_prev) / (1 - ab) * beta).sqrt()
x_prev = ab_prev.sqrt() * beta / (1 - ab) * x0_hat + alpha.sqrt() * (1 - ab_prev) / (1 - ab) * x_t + sigma * z
lib_prev, lib_x0 = schedule.step(eps_hat, t, x_t, generator=torch.Generator().manual_seed(4))
assert torch.allclose(x_prev, lib_prev, atol=1e-5) and torch.allclose(x0_hat, lib_x0, atol=1e-5)
plot.image_grid(
    (torch.cat([x_t, x0_hat, batch[:4]]) + 1) / 2,
    nrow=4,
    title=f"rows: x_t at t={t + 1} | predicted x_0 from one network call | the real x_0",
);


# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 · The clean image implied by a noise prediction
# Write `student_predict_x0(x_t, eps, alpha_bar)`.

# %% slideshow={"slide_type": "-"}
def student_predict_x0(x_t, eps, alpha_bar):
    """Invert x_t = sqrt(ab) x0 + sqrt(1 - ab) eps for x0."""
    # Your answer here.
    return x_t - eps


check.predict_x0(student_predict_x0)


# %% jupyter={"source_hidden": true} slideshow={"slide_type": "skip"} tags=["solution"]
def solution_predict_x0(x_t, eps, alpha_bar):
    return (x_t - (1 - alpha_bar).sqrt() * eps) / alpha_bar.sqrt()


assert check.predict_x0(solution_predict_x0)
check.predict_x0(solution_predict_x0)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A live training run
# Training for good 28x28 samples takes minutes on a laptop, so here we train the same U-Net, half as
# wide (16 channels), for a few seconds on the **real 8x8 digits**, with a 100-step schedule, and
# sample from it.

# %% slideshow={"slide_type": "subslide"}
x8, y8 = data.load_digits8("all")
schedule8 = NoiseSchedule(100, "cosine")
cl.seed_everything(0)
unet8 = SmallUNet(channels=16).to(device)
steps_per_epoch = math.ceil(len(x8) / 64)
live = plot.LiveLossPlot(title="denoiser on 8x8 digits: noise-prediction MSE (live)")

# %% slideshow={"slide_type": "subslide"}
history = fit(
    unet8,
    x8,
    None,
    epochs=math.ceil(LIVE_STEPS / steps_per_epoch),
    lr=2e-3,
    batch_size=64,
    step_fn=diffusion_step(schedule8),
    callbacks=[live],
    desc="8x8 denoiser",
)
live.close(history)
samples8 = sample(unet8, schedule8, 32, generator=torch.Generator().manual_seed(0), shape=(1, 8, 8))

# %% slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, 2, figsize=(11, 3))
plot.image_grid(samples8, nrow=16, ax=axes[0], title=f"DDPM samples after {len(history.step_loss)} training steps")
plot.image_grid(x8[:32], nrow=16, ax=axes[1], title="real 8x8 digits")
fig.tight_layout()
assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]


# %% [markdown] slideshow={"slide_type": "slide"}
# ## The shipped 28x28 model
# The same U-Net trained for 6,000 steps on 28x28 digits (`python -m course_lib.pretrain diffusion`,
# about 45 minutes on a laptop CPU), with one change to the loss: `diffusion_loss(..., min_snr=5)`
# weights each example by min(SNR, 5) / SNR, so the nearly clean steps - easy, yet a large share of the
# gradient - count less; Hang et al. (2023) found that this makes training converge faster (not
# measured in this course). Samples with the full
# 200-step DDPM chain:

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The whole reverse process, written out
# Start from pure noise $x_T$ and apply the DDPM step above $T$ times, from $t = T-1$ down to 0.
# That loop is all of sampling; the library's `sample` is the same loop (and also DDIM, below):

# %% slideshow={"slide_type": "-"}
def ddpm_sample(model, schedule, n, generator):
    x = torch.randn(n, 1, 28, 28, generator=generator).to(device)  # x_T: pure noise
    with torch.no_grad():
        for t in range(schedule.T - 1, -1, -1):  # t = T-1, ..., 1, 0
            eps_hat = model(x, torch.full((n,), t, device=device))  # the network's noise guess
            x, _ = schedule.step(eps_hat, t, x, generator=generator)  # x_t -> x_{t-1}
    return ((x.cpu() + 1) / 2).clamp(0, 1)  # [-1, 1] -> pixels


mine = ddpm_sample(denoiser, schedule, 2, torch.Generator().manual_seed(7))
library = sample(denoiser, schedule, 2, generator=torch.Generator().manual_seed(7))
assert torch.allclose(mine, library, atol=1e-5), "the loop written out = the library's sample()"
print(f"{schedule.T} steps by hand = sample(): max difference {(mine - library).abs().max().item():.1e}")

# %% [markdown] slideshow={"slide_type": "fragment"}
# The denoiser is a small U-Net: two downsampling blocks, two upsampling blocks with skip
# connections, and the timestep $t$ added to every block as a learnt embedding:

# %% slideshow={"slide_type": "subslide"}
show_source(SmallUNet, skip_docstrings=True)

# %% slideshow={"slide_type": "subslide"}
samples, chain = sample(denoiser, schedule, 32, generator=torch.Generator().manual_seed(0), return_chain=True)
plot.image_grid(samples, nrow=16, title="DDPM samples from pure noise (200 steps)");

# %% [markdown] slideshow={"slide_type": "subslide"}
# Are they digits? A LeNet trained on real digits of the same kind labels them; we ask for a mean
# top-class probability of at least 0.9. (32 samples are too few to expect all ten digits; the class
# shares come below, on 200 samples.)

# %% slideshow={"slide_type": "-"}
x_real, y_real = data.generative_digits("train", 6_000)
cl.seed_everything(0)
lenet = LeNet().to(device)
fit(lenet, (x_real, y_real), nn.CrossEntropyLoss(), epochs=3, lr=2e-3, batch_size=128, progress=False)
probs = predict(lenet, samples).softmax(1)
confidence, labels = probs.max(1)
counts = torch.bincount(labels, minlength=10)
print(f"mean max-probability {confidence.mean():.3f}; samples per digit: {counts.tolist()}")
assert confidence.mean() >= 0.9

# %% [markdown] slideshow={"slide_type": "subslide"}
# That check is too easy: a **trivial generator** - a Gaussian per digit fitted to the training images
# (notebook 06) - passes it as well. The measures of notebook 06 tell them apart: Frechet distance (FD)
# on an independent judge's features as a multiple of real vs real, the unreadable share and the class
# shares. Here on 200 samples of 20 DDIM steps, to keep the lecture quick (fewer samples raise every
# FD, the floor too, so compare ratios at the same size); the bench measures 1,000
# samples of the full chain ([bench/results.md](../bench/results.md), section 3).

# %% slideshow={"slide_type": "subslide"}
from course_lib import metrics

N_QUICK = 200
gaussian, _ = metrics.per_class_gaussian(x_real, y_real, N_QUICK)
print(
    f"the LeNet check on the per-class Gaussian: mean max-probability "
    f"{predict(lenet, gaussian[:32]).softmax(1).max(1).values.mean():.3f}"
)
real_a, real_b = x_digits[:N_QUICK], x_digits[N_QUICK : 2 * N_QUICK]
quick = sample(denoiser, schedule, N_QUICK, steps=20, generator=torch.Generator().manual_seed(0))  # DDIM, below
reports = {
    name: metrics.generator_report(images, real_a)
    for name, images in [("real vs real", real_b), ("per-class Gaussian", gaussian), ("DDPM (20 DDIM steps)", quick)]
}
goal = metrics.GOALS["diffusion"]
floor = reports["real vs real"]["fd"]
for name, r in reports.items():
    shares = np.array(r["counts"]) / r["n"]
    print(
        f"{name:>22}: FD {r['fd'] / floor:4.1f} x real vs real, unreadable {r['unreadable']:5.1%}, "
        f"class shares {shares.min():.1%}-{shares.max():.1%}"
    )
print(
    f"{'goal':>22}: FD <= {goal['fd']} x, unreadable <= {goal['unreadable']:.0%}, "
    f"every class {goal['classes'][0]:.0%}-{goal['classes'][1]:.0%}"
)
assert predict(lenet, gaussian[:32]).softmax(1).max(1).values.mean() >= 0.9, "the Gaussian passes the easy check"
assert min(reports["DDPM (20 DDIM steps)"]["counts"]) > 0, "all ten digits among 200 samples"
assert reports["per-class Gaussian"]["fd"] > reports["DDPM (20 DDIM steps)"]["fd"] > floor
assert reports["DDPM (20 DDIM steps)"]["unreadable"] > reports["real vs real"]["unreadable"]

# %% [markdown] slideshow={"slide_type": "subslide"}
# The Gaussian is several times the real-vs-real floor; the diffusion model is much closer, but not at
# the floor, and a share of its samples are malformed: compare each number with its goal in the last
# line. Under an hour of CPU training is not enough to reach them; more training steps, a wider U-Net
# or a GPU close the gap. (The bench measures 1,000 samples of the full chain against the same goals.)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Watch the reverse process
# A second stepper, open on its **reverse** tab: press play (it plays to the end; press again to
# pause), step, or drag the step slider. Top: $x_t$; bottom: what the model believes $x_0$ is at that
# moment: when does the digit stop changing? (Measured after the demo.) The chain is computed once,
# so scrubbing is instant; "new sample" computes another (a second or two; the button says so).

# %% slideshow={"slide_type": "subslide"}
sampler = NoiseStepper(denoiser, schedule, x_digits[:50])
sampler.view.selected_index = 1
sampler.r_pos.value = 100
sampler

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes: press **play** and watch the bottom row, the model's guess of x0: ask the class to call out when they can tell the digit, and when it stops changing (the next slide measures it on 32 chains). Press **new sample** and ask the class to call the digit as early as they can.

# %% [markdown] slideshow={"slide_type": "subslide"}
# When is the digit decided? For the 32 chains sampled earlier, the judge LeNet reads the model's
# $x_0$ guess at a few steps of the chain and compares it with the digit the chain ends as:

# %% slideshow={"slide_type": "-"}
ts, xs, x0s = chain
final = predict(lenet, samples).argmax(1)
marks = [len(x0s) // 10, len(x0s) // 4, len(x0s) // 2, 3 * len(x0s) // 4]
decided = {k: (predict(lenet, ((x0s[k] + 1) / 2).clamp(0, 1)).argmax(1) == final).float().mean().item() for k in marks}
for k, share in decided.items():
    print(f"after {k:>3} of {len(x0s)} steps (t = {ts[k]:>3}): {share:4.0%} of the guesses read as the final digit")
assert decided[marks[-1]] >= decided[marks[0]], "the guess settles on its digit as the chain goes on"

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Fewer steps: DDIM
# DDIM (Song et al., 2021) reuses the same trained network with a deterministic update that can
# skip timesteps: $x_{t'} = \sqrt{\bar\alpha_{t'}}\hat x_0 + \sqrt{1-\bar\alpha_{t'}}\,\hat\varepsilon$.
# Quality against the number of network calls:

# %% slideshow={"slide_type": "subslide"}
step_counts = [5, 10, 50]
ddim = {k: sample(denoiser, schedule, 32, steps=k, generator=torch.Generator().manual_seed(0)) for k in step_counts}
ddim[20] = quick[:32]  # 20 steps: the measured set above (same seed, so the same starting noise)
step_counts = [5, 10, 20, 50, 200]
ddim[200] = samples  # the full DDPM chain from above
confidences = {k: predict(lenet, imgs).softmax(1).max(1).values for k, imgs in ddim.items()}
quality = {k: c.mean().item() for k, c in confidences.items()}
error = {k: 1.96 * c.std().item() / len(c) ** 0.5 for k, c in confidences.items()}  # 95% interval of the mean

# %% slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, 2, figsize=(12, 3.6), gridspec_kw={"width_ratios": [2, 1]})

# %% slideshow={"slide_type": "subslide"}
plot.image_grid(
    torch.cat([ddim[k][:10] for k in step_counts]),
    nrow=10,
    ax=axes[0],
    title="rows: DDIM with 5, 10, 20, 50 steps, and the 200-step DDPM chain",
)
axes[1].errorbar(
    step_counts,
    [quality[k] for k in step_counts],
    yerr=[error[k] for k in step_counts],
    fmt="o-",
    capsize=4,
    label="mean +- 95% interval (32 samples)",
)
axes[1].set(
    xscale="log", xlabel="DDIM steps (network calls)", ylabel="mean classifier confidence", title="quality vs steps"
)
axes[1].set_xticks(step_counts, [str(k) for k in step_counts])
axes[1].minorticks_off()
axes[1].grid(alpha=0.3)
axes[1].legend(fontsize=8, loc="lower right")
fig.tight_layout()
print({k: f"{quality[k]:.3f} +- {error[k]:.3f}" for k in step_counts})
overlap = [k for k in step_counts if k != 50 and abs(quality[k] - quality[50]) < error[k] + error[50]]
print("step counts whose interval overlaps the one of 50 steps:", overlap)
assert min(quality.values()) > 0.8 and len(overlap) >= 2, "what the text below says"

# %% [markdown] slideshow={"slide_type": "subslide"}
# Read the error bars before the curve. Even 5 DDIM steps give recognisable digits, and the
# 200-step DDPM chain is not clearly better than 50 DDIM steps: the differences are about as large
# as the 95% intervals (the line above lists the step counts whose interval overlaps the one of 50
# steps). With 32 samples each this LeNet check cannot rank them.
# Telling them apart would take many more samples and a sharper measure than a classifier's
# confidence, such as a Frechet distance on a judge's features.
#
# A slider over the step count, with the samples cached for each setting:

# %% slideshow={"slide_type": "-"}
from course_lib.widgets import PictureSlider, png_grid

ddim_pngs = {k: png_grid(imgs[:16], nrow=16, scale=3) for k, imgs in ddim.items()}
notes = {k: f"16 samples, {k} network calls each, judge's confidence {quality[k]:.2f}" for k in step_counts}
PictureSlider(ddim_pngs, description="DDIM steps", value=50, captions=notes)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
# - Forward: $x_t = \sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}\varepsilon$, one Gaussian step at a time or in closed form.
# - Reverse: a U-Net predicts the noise; each DDPM step removes a little of it and adds back a smaller random part.
# - The **schedule** (noise levels, `add_noise`, `step`) is separate from the **denoiser**: the same
#   network was stepped by DDPM (200 calls) and by DDIM (5-50 calls).
# - Try: set `LIVE_STEPS = 2000` and rerun the live 8x8 training.
