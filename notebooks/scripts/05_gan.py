# %% [markdown] slideshow={"slide_type": "slide"}
# # 05 · Generative adversarial networks
#
# Two networks play a game:
#
# - the **generator** G turns random noise $z$ into a sample $G(z)$;
# - the **discriminator** D is a binary classifier: is its input genuine data, or a fake from G?
#
# D learns to catch fakes; G learns to fool D. If both play well, G's samples become
# indistinguishable from the data. We watch it happen on 2D points, then on digits.

# %% slideshow={"slide_type": "-"}
LIVE_STEPS = 300  # training rounds of the 2D game run before the widget opens (press play for more)

# %% slideshow={"slide_type": "skip"}
import course_lib as cl  # first: it sets the CPU thread policy before torch loads (see 00)

# isort: split
import io
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from course_lib import check, checkpoints, data, plot
from course_lib.models.gan import (
    DCDiscriminator,
    DCGenerator,
    MLPDiscriminator,
    MLPGenerator,
    discriminator_loss,
    discriminator_step,
    generator_step,
    modes_covered,
    value_function,
)
from course_lib.source import show_source
from course_lib.train import GANTrainer, batch_sampler
from course_lib.widgets import GANLab

cl.seed_everything(0)
device = cl.get_device()
ring = data.make_toy2d("ring", 5_000, seed=0)
ring_centres = 2 * torch.stack([torch.cos(torch.arange(8) * math.pi / 4), torch.sin(torch.arange(8) * math.pi / 4)], 1)


def show_png(png_bytes, ax, title):
    ax.imshow(np.asarray(Image.open(io.BytesIO(png_bytes))))
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


# %% [markdown] slideshow={"slide_type": "slide"}
# ## The min-max game
# With $D(x)$ the probability that $x$ is genuine:
#
# $$\min_G \max_D\ V(D, G) = \underbrace{\mathbb{E}_{x\sim\text{data}}[\log D(x)]}_{\text{recognise genuine}} + \underbrace{\mathbb{E}_{z}[\log(1 - D(G(z)))]}_{\text{recognise fakes}}$$
#
# - **D maximises** both terms: say 1 on data, 0 on fakes. As a loss: BCE(real -> 1) + BCE(fake -> 0) $= -V$.
# - **G minimises** the second term: make D say 1 on its fakes ("fool D").
#
# **Labels:** real = 1, fake = 0 in this code. One version of the lecture flips them; it does not
# matter as long as D's targets and G's target use the same convention.

# %% slideshow={"slide_type": "-"}
d_real, d_fake = torch.tensor([2.0, 1.5, 3.0]), torch.tensor([-1.0, 0.5, -2.0])  # D's logits
print(f"V(D, G) = {value_function(d_real, d_fake):.4f};  D's loss = {discriminator_loss(d_real, d_fake):.4f} (= -V)")
assert torch.allclose(discriminator_loss(d_real, d_fake), -value_function(d_real, d_fake))

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The generator's loss in practice
# Early on D easily spots fakes: $D(G(z)) \approx 0$. There $\log(1 - D(G(z)))$ is flat - G gets
# almost no gradient (it **saturates**). The **non-saturating** loss $-\log D(G(z))$ has the same
# goal but a steep slope exactly there; it is what everyone uses.

# %% slideshow={"slide_type": "subslide"}
logit = torch.linspace(-7, 7, 400, requires_grad=True)  # D's logit on a fake
p = torch.sigmoid(logit)  # D(G(z))
saturating = torch.log(1 - p)  # G minimises this (min-max form)
non_saturating = -torch.log(p)  # G minimises this instead
(g_sat,) = torch.autograd.grad(saturating.sum(), logit, retain_graph=True)
(g_non,) = torch.autograd.grad(non_saturating.sum(), logit)

# %% slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
axes[0].plot(p.detach(), saturating.detach(), label="log(1 - D(G(z)))  (min-max)")
axes[0].plot(p.detach(), non_saturating.detach(), label="-log D(G(z))  (non-saturating)")
axes[0].set(xlabel="D(G(z)): D's belief that a fake is real", ylabel="generator loss", title="two losses, same goal")
axes[1].plot(p.detach(), g_sat.abs(), label="min-max")
axes[1].plot(p.detach(), g_non.abs(), label="non-saturating")
axes[1].set(xlabel="D(G(z))", ylabel="|gradient| w.r.t. D's logit", title="how hard G is pushed")
for ax in axes:
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
fig.tight_layout()
i = 50  # D(G(z)) ~ 0.005: D confidently rejects the fake
print(f"at D(G(z)) = {p[i].item():.3f}: |grad| min-max {g_sat[i].abs():.3f}, non-saturating {g_non[i].abs():.3f}")
assert g_non[i].abs() > 50 * g_sat[i].abs()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The training loop, written out once
# The lecture's four-step recipe, on the ring of 8 Gaussians, with one difference: the recipe
# labels real data **0** and fakes **1**, while its cGAN slide - like this notebook, notebook 06 and
# most code - calls genuine **1**. The label is only a convention (we check below that flipped
# labels train the same). G: 2 noise numbers -> 64 -> 64 -> 64 -> 2; D: 2 -> 64 -> 64 -> 64 -> 1 logit.

# %% slideshow={"slide_type": "subslide"}
cl.seed_everything(0)
G, D = MLPGenerator(2, 2, 64), MLPDiscriminator(2, 64)
opt_G = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
opt_D = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
g_before = [p.detach().clone() for p in G.parameters()]
d_before = [p.detach().clone() for p in D.parameters()]

real = ring[:128]
# 1) generate a set of fake data
fake = G(torch.randn(128, 2)).detach()  # detach: this step must not train G
# 2) train D on real (label 1) and fake (label 0) data
loss_D = F.binary_cross_entropy_with_logits(D(real), torch.ones(128)) + F.binary_cross_entropy_with_logits(
    D(fake), torch.zeros(128)
)
opt_D.zero_grad()
loss_D.backward()
opt_D.step()
assert all(torch.equal(a, b) for a, b in zip(g_before, G.parameters())), "step 2 changed only D"
d_after_2 = [p.detach().clone() for p in D.parameters()]
# 3) freeze D (the PyTorch form of Keras' `trainable = False`)
opt_D.zero_grad(set_to_none=True)  # (clear step 2's gradients, to check that step 4 adds none)
D.requires_grad_(False)
# 4) train G through D to fool it: D should say "real" (1) on fakes
loss_G = F.binary_cross_entropy_with_logits(D(G(torch.randn(128, 2))), torch.ones(128))
opt_G.zero_grad()
loss_G.backward()
opt_G.step()
assert all(p.grad is None for p in D.parameters()), "the frozen D received no gradient"
assert all(torch.equal(a, b) for a, b in zip(d_after_2, D.parameters())), "step 4 changed only G"
assert not all(torch.equal(a, b) for a, b in zip(g_before, G.parameters()))
D.requires_grad_(True)
# 5) repeat
print(f"one round: D loss {loss_D.item():.3f}, G loss {loss_G.item():.3f}; each step changed only its own network")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Which label is "real" does not matter**, as long as G and D use the same one: with the
# lecture's labels (real 0, fake 1), D's loss has its targets swapped and G asks D to say 0 for its
# fakes. The two conventions, trained side by side from the same start for 1,000 rounds:

# %% slideshow={"slide_type": "subslide"}
def train_with_labels(real_label, rounds=1_000):
    cl.seed_everything(0)
    G_, D_ = MLPGenerator(2, 2, 64), MLPDiscriminator(2, 64)
    oG = torch.optim.Adam(G_.parameters(), lr=1e-3, betas=(0.5, 0.999))
    oD = torch.optim.Adam(D_.parameters(), lr=1e-3, betas=(0.5, 0.999))
    fake_label = 1.0 - real_label
    bce = F.binary_cross_entropy_with_logits
    for _ in range(rounds):
        x = ring[torch.randint(0, len(ring), (128,))]
        fake = G_(torch.randn(128, 2)).detach()
        loss_d = bce(D_(x), torch.full((128,), real_label)) + bce(D_(fake), torch.full((128,), fake_label))
        oD.zero_grad()
        loss_d.backward()
        oD.step()
        loss_g = bce(D_(G_(torch.randn(128, 2))), torch.full((128,), real_label))  # G wants "real"
        oG.zero_grad()
        loss_g.backward()
        oG.step()
    with torch.no_grad():
        return G_(torch.randn(2_000, 2, generator=torch.Generator().manual_seed(5)))


conventions = {
    "genuine = 1 (this notebook)": train_with_labels(1.0),
    "genuine = 0 (the lecture's recipe)": train_with_labels(0.0),
}

# %% slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, 2, figsize=(8, 4))
for ax, (name, samples) in zip(axes, conventions.items()):
    ax.scatter(ring[:1000, 0], ring[:1000, 1], s=3, c="tab:green", alpha=0.4, label="data")
    ax.scatter(samples[:1000, 0], samples[:1000, 1], s=3, c="tab:purple", alpha=0.5, label="G")
    ax.set(
        xlim=(-3, 3), ylim=(-3, 3), aspect="equal", title=f"{name}\n{modes_covered(samples, ring_centres)} of 8 modes"
    )
    ax.legend(fontsize=7, loc="upper right")
fig.tight_layout()
covered_by = {name: modes_covered(samples, ring_centres) for name, samples in conventions.items()}
print("modes covered after 1,000 rounds:", covered_by)
assert min(covered_by.values()) >= 6, "both conventions learn the ring"

# %% [markdown] slideshow={"slide_type": "subslide"}
# The library's `discriminator_step` and `generator_step` are these lines; `GANTrainer` repeats
# them (with `k` discriminator steps per generator step) and keeps the history. The same round
# through the library, from the same start and the same random numbers, ends in the same weights:

# %% slideshow={"slide_type": "-"}
cl.seed_everything(0)
G2, D2 = MLPGenerator(2, 2, 64), MLPDiscriminator(2, 64)
opt_G2 = torch.optim.Adam(G2.parameters(), lr=1e-3, betas=(0.5, 0.999))
opt_D2 = torch.optim.Adam(D2.parameters(), lr=1e-3, betas=(0.5, 0.999))
lib_D = discriminator_step(G2, D2, real, torch.randn(128, 2), opt_D2)
lib_G = generator_step(G2, D2, torch.randn(128, 2), opt_G2)
assert abs(lib_D - loss_D.item()) < 1e-6 and abs(lib_G - loss_G.item()) < 1e-6
assert all(torch.allclose(a, b) for a, b in zip(G.parameters(), G2.parameters()))
assert all(torch.allclose(a, b) for a, b in zip(D.parameters(), D2.parameters()))
print(f"library round: D loss {lib_D:.3f}, G loss {lib_G:.3f} - the same weights as the round above")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The two networks
# Both are small MLPs: G maps 2 noise numbers to a 2D point, D maps a point to one logit
# ("how real"). No sigmoid at D's end: the losses take logits, which is numerically safer.

# %% slideshow={"slide_type": "-"}
show_source(MLPGenerator, MLPDiscriminator, skip_docstrings=True)


# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1 · D's loss
# From D's **logits** on a real batch and a fake batch, write the discriminator's loss.

# %% slideshow={"slide_type": "-"}
def student_discriminator_loss(d_real_logits, d_fake_logits):
    """(B,), (B,) -> a number: recognise genuine + recognise fakes."""
    # Your answer here (F.binary_cross_entropy_with_logits takes logits and targets).
    return F.binary_cross_entropy_with_logits(d_real_logits, torch.zeros_like(d_real_logits))


check.discriminator_loss(student_discriminator_loss)


# %% jupyter={"source_hidden": true} slideshow={"slide_type": "skip"} tags=["solution"]
def solution_discriminator_loss(d_real_logits, d_fake_logits):
    return F.binary_cross_entropy_with_logits(
        d_real_logits, torch.ones_like(d_real_logits)
    ) + F.binary_cross_entropy_with_logits(d_fake_logits, torch.zeros_like(d_fake_logits))


assert check.discriminator_loss(solution_discriminator_loss)
check.discriminator_loss(solution_discriminator_loss)


# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 · G's loss (non-saturating)

# %% slideshow={"slide_type": "-"}
def student_generator_loss(d_fake_logits):
    """(B,) logits of D on G's fakes -> a number G minimises."""
    # Your answer here.
    return F.logsigmoid(-d_fake_logits).mean()


check.generator_loss(student_generator_loss)


# %% jupyter={"source_hidden": true} slideshow={"slide_type": "skip"} tags=["solution"]
def solution_generator_loss(d_fake_logits):
    return F.binary_cross_entropy_with_logits(d_fake_logits, torch.ones_like(d_fake_logits))


assert check.generator_loss(solution_generator_loss)
check.generator_loss(solution_generator_loss)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The game, live
# In the spirit of GAN Lab: the background is D's decision surface (green = "real", purple =
# "fake"), green dots are data, purple dots are G's samples, and the short lines show where D's
# gradient pushes each fake. Under it, both losses. **Play** trains in the background (the
# notebook stays usable), **step** does one round; change the learning rate or k (D steps per G
# step) while it runs; the **timeline** slider scrubs back through snapshots.

# %% slideshow={"slide_type": "subslide"}
cl.seed_everything(0)
trainer = GANTrainer(MLPGenerator(2, 2, 64), MLPDiscriminator(2, 64), batch_sampler(ring), noise_dim=2, lr=1e-3)
lab = GANLab(trainer, kind="2d", real_points=ring, snapshot_every=25)
lab.run(LIVE_STEPS)
lab

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes: press **play** and let it run ten seconds: purple fakes move along the short lines towards the green data, and D's background shifts after them. Pause, set the **learning rate** ten times higher and ask the class what they expect; play again and watch whether the fakes still settle on the data. Drag the **timeline** back to the start to show where it began.

# %% slideshow={"slide_type": "subslide"}
with torch.no_grad():
    covered = modes_covered(trainer.G(trainer.noise(2_000)), ring_centres)
print(f"after {trainer.steps} rounds: {covered} of 8 modes covered")
assert covered >= 6
d_late, g_late = (np.mean(trainer.history[k][len(trainer.history[k]) // 2 :]) for k in ("d_loss", "g_loss"))
print(
    f"losses over the second half: D {d_late:.2f}, G {g_late:.2f}; where D can no longer tell (D = 1/2) "
    f"they would be 2 ln 2 = {2 * np.log(2):.2f} and ln 2 = {np.log(2):.2f}: they level off, not fall to 0"
)
assert abs(d_late - 2 * np.log(2)) < 0.4, "D's loss levels off near the equilibrium value"

# %% slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, 4, figsize=(13, 4.2))
for ax, index in zip(axes, np.linspace(0, len(lab.snapshots) - 1, 4).astype(int)):
    show_png(lab.snapshots[index].png, ax, f"step {lab.snapshots[index].step}")
fig.suptitle("timeline snapshots: G's samples (purple) move onto the data (green)")
fig.tight_layout()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The buttons act on the same objects. A step from code, as the button does:

# %% slideshow={"slide_type": "skip"}
before = lab.image.value
lab.step()
assert trainer.steps == LIVE_STEPS + 1 and lab.image.value != before

# %% [markdown] slideshow={"slide_type": "slide"}
# ## When the game does not settle: non-convergence and mode collapse
# The min-max game has an equilibrium (a Nash equilibrium): $p_G = p_{data}$ and $D(x) = 1/2$
# everywhere, where neither player can improve alone. Alternating gradient steps are not
# guaranteed to reach it. Two ways they fail, told apart by two numbers on 2,000 samples:
#
# - **on data**: the share of samples within 0.25 of one of the 25 modes (are the samples realistic?);
# - **modes covered**: how many modes get at least 1% of the samples (is all of the data produced?).
#
# **Non-convergence**: many samples off the data - G and D keep chasing each other. **Mode
# collapse**: the samples that are produced look real (on data), but only a few modes get any.
# First the grid of 25 Gaussians, trained as above, with small (16) and larger (128) batches:

# %% slideshow={"slide_type": "subslide"}
grid = data.make_toy2d("grid", 5_000, seed=0)
k = torch.arange(25)
grid_centres = torch.stack([(k % 5).float() - 2, (k // 5).float() - 2], 1)


def covered_set(samples, radius=0.25, min_share=0.01):
    d = torch.cdist(samples, grid_centres)
    near = d.argmin(1)[d.min(1).values < radius]
    shares = torch.bincount(near, minlength=25).float() / len(samples)
    return set(torch.nonzero(shares >= min_share)[:, 0].tolist())


def on_data(samples, radius=0.25):
    return (torch.cdist(samples, grid_centres).min(1).values < radius).float().mean().item()


collapse = {}
for batch_size in (16, 128):
    cl.seed_everything(0)
    t = GANTrainer(
        MLPGenerator(2, 2, 64),
        MLPDiscriminator(2, 64),
        batch_sampler(grid),
        noise_dim=2,
        lr=1e-3,
        batch_size=batch_size,
    )
    sets = []
    for _ in range(6):
        t.run(200)
        with torch.no_grad():
            sets.append(covered_set(t.G(t.noise(2_000))))
    with torch.no_grad():
        collapse[batch_size] = (sets, t.G(t.noise(2_000)))

# %% slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
for ax, batch_size in zip(axes[:2], (16, 128)):
    samples = collapse[batch_size][1]
    ax.scatter(grid[:1000, 0], grid[:1000, 1], s=3, c="tab:green", alpha=0.4, label="data")
    ax.scatter(samples[:1000, 0], samples[:1000, 1], s=3, c="tab:purple", alpha=0.5, label="G")
    covered = f"{len(collapse[batch_size][0][-1])} of 25 modes, {on_data(samples):.0%} on data"
    ax.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal", title=f"batch {batch_size}: {covered}")
    ax.legend(fontsize=7, loc="upper right")
for batch_size in (16, 128):
    axes[2].plot(np.arange(1, 7) * 200, [len(s) for s in collapse[batch_size][0]], "o-", label=f"batch {batch_size}")
axes[2].set(xlabel="training rounds", ylabel="modes covered (of 25)", title="coverage over training", ylim=(0, 25))
axes[2].legend()
axes[2].grid(alpha=0.3)
fig.tight_layout()
sets16 = collapse[16][0]

# %% slideshow={"slide_type": "subslide"}
moved = [len(a ^ b) for a, b in zip(sets16, sets16[1:])]
grid_on_data = {b: on_data(collapse[b][1]) for b in (16, 128)}
print("share of samples on data:", {b: round(v, 2) for b, v in grid_on_data.items()})
print("batch 16, modes gained or lost between checks:", moved)
coverage = [len(s) for sets, _ in collapse.values() for s in sets]
print("modes covered at the checks:", coverage)
assert np.mean(coverage) < 12.5, "on average fewer than half of the 25 modes are produced"
assert sum(moved) >= 5, "and the covered set keeps changing"
assert max(grid_on_data.values()) < 0.5, "and most samples are not on the data"

# %% [markdown] slideshow={"slide_type": "subslide"}
# Most of these samples lie **between** the modes (see the share on data): this is
# **non-convergence**, not mode collapse. After 1,200 rounds G has neither found the 25 modes nor
# settled; the covered set keeps changing as G and D chase each other around the equilibrium.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Real mode collapse
# Why a generator collapses: against a *fixed* discriminator, G's best move is to put all of its
# samples where D says "real" most strongly - one spot. Alternating training normally stops this
# by updating D, which then rejects that spot. Freeze D after 300 rounds and keep training only G
# (2,000 steps, with a larger learning rate so that it gets there quickly):

# %% slideshow={"slide_type": "subslide"}
cl.seed_everything(0)
t = GANTrainer(MLPGenerator(2, 2, 64), MLPDiscriminator(2, 64), batch_sampler(ring), noise_dim=2, lr=1e-3)
t.run(300)
with torch.no_grad():
    before_freeze = t.G(t.noise(2_000))
opt_G_only = torch.optim.Adam(t.G.parameters(), lr=1e-2, betas=(0.5, 0.999))
for _ in range(2_000):  # generator steps only: D is frozen
    generator_step(t.G, t.D, t.noise(128), opt_G_only)
with torch.no_grad():
    frozen_samples = t.G(t.noise(2_000))


def ring_on_data(samples, radius=0.3):
    return (torch.cdist(samples, ring_centres).min(1).values < radius).float().mean().item()


# %% slideshow={"slide_type": "subslide"}
panels = [("after 300 alternating rounds", before_freeze), ("then 2,000 G steps against a frozen D", frozen_samples)]
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
for ax, (title, samples) in zip(axes, panels):
    ax.scatter(ring[:1000, 0], ring[:1000, 1], s=3, c="tab:green", alpha=0.4, label="data")
    one_point = samples.std(0).mean() < 0.1  # all samples on (almost) one point: draw it big enough to see
    style = (
        dict(s=150, marker="X", alpha=1.0, label="G (all samples)") if one_point else dict(s=3, alpha=0.5, label="G")
    )
    ax.scatter(samples[:1000, 0], samples[:1000, 1], c="tab:purple", **style)
    stats = f"{modes_covered(samples, ring_centres)} of 8 modes, spread {samples.std(0).mean():.2f}"
    ax.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal", title=f"{title}\n{stats}")
    ax.legend(fontsize=7, loc="upper right")
fig.tight_layout()
spread = {"alternating": before_freeze.std(0).mean().item(), "frozen D": frozen_samples.std(0).mean().item()}

# %% slideshow={"slide_type": "subslide"}
print(
    "modes covered:",
    modes_covered(before_freeze, ring_centres),
    "->",
    modes_covered(frozen_samples, ring_centres),
    "| spread of the samples:",
    {k: round(v, 2) for k, v in spread.items()},
)
# collapse onto one or two of D's favourite spots (which one depends on the last bits of the
# arithmetic, so on the CPU), from (almost) all 8 modes before
assert modes_covered(frozen_samples, ring_centres) <= 2 < modes_covered(before_freeze, ring_centres)
assert spread["frozen D"] < 0.6 * spread["alternating"]

# %% [markdown] slideshow={"slide_type": "subslide"}
# That is **mode collapse**: G squeezes its samples together onto D's favourite spot (or two) and
# produces (almost) nothing else. In real training it happens in a milder, moving form: G over-produces a few
# modes until D catches up, then hops to others.

# %% [markdown] slideshow={"slide_type": "fragment"}
# Fixes people use: larger batches and longer training (slowly), minibatch discrimination,
# unrolled or Wasserstein GANs - or a different model family: the VAE (04) and diffusion (07)
# cover all modes by construction, because their loss accounts for every training example.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Images: a small DCGAN
# Convolutions instead of dense layers (Radford et al., 2016): G projects the noise to 7x7 maps and
# up-samples with transposed convolutions to 28x28; D is a small CNN. Trained for 12,000 rounds on
# digits (`python -m course_lib.pretrain dcgan`, about 25 minutes on one laptop core); the same 32 noise
# vectors were decoded along the way:

# %% slideshow={"slide_type": "subslide"}
progress, _ = checkpoints.load_state("dcgan_progress")
steps = sorted(progress, key=lambda k: int(k.split("_")[1]))
plot.image_grid(
    torch.cat([progress[k][:12] for k in steps]),
    nrow=12,
    title="rows: the same 12 noise vectors after " + ", ".join(k.split("_")[1] for k in steps) + " rounds",
);

# %% [markdown] slideshow={"slide_type": "subslide"}
# The DCGAN's generator: a linear layer to a 7x7 map, then two transposed convolutions that
# double the size (7 -> 14 -> 28), batch norm and ReLU after each, a last 3x3 convolution that
# draws the strokes, and `Sigmoid` for pixels in [0, 1]. (`classes > 0` adds a label embedding -
# notebook 06.)

# %% slideshow={"slide_type": "subslide"}
show_source(DCGenerator, DCDiscriminator, skip_docstrings=True)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The live view works for images too. Here it continues training the shipped generator against a
# fresh discriminator (press play; on a laptop CPU expect a few rounds per second).

# %% slideshow={"slide_type": "subslide"}
dcgan_G = checkpoints.load_checkpoint("dcgan", DCGenerator, device=device).train()
digits, _ = data.make_digits28(5_000, seed=1, difficulty=0.5)
cl.seed_everything(0)
image_trainer = GANTrainer(
    dcgan_G, DCDiscriminator(32).to(device), batch_sampler(digits), noise_dim=32, lr=2e-4, batch_size=64
)
image_lab = GANLab(image_trainer, kind="images", snapshot_every=10)
image_lab.run(5)
image_lab

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes: press **play**. On a laptop CPU expect a few rounds per second: the generator already draws digits (shipped weights), and the fresh discriminator must learn before the losses move. Pause before moving on, so the next demo has the CPU.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
# - D is trained to tell data (1) from fakes (0); G is trained, through a frozen D, to be called real.
# - In practice G minimises $-\log D(G(z))$, which does not saturate when D wins.
# - Training is a moving target: the losses level off near their equilibrium values instead of
#   falling, so they cannot say whether the samples are good - look at the samples, and look out
#   for non-convergence and mode collapse.
# - Next: `06_conditional_gan`, telling G *which* digit to draw.
