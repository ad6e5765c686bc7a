# %% [markdown] slideshow={"slide_type": "slide"}
# # 03 · Autoencoders
#
# An **autoencoder** learns without labels: an encoder squeezes the input $x$ into a code $z$,
# a decoder rebuilds $\hat x$ from $z$, and training makes $\hat x \approx x$.
#
# $$x \xrightarrow{\text{encoder}} z \xrightarrow{\text{decoder}} \hat x, \qquad \text{loss} = \lVert x - \hat x \rVert^2$$
#
# This notebook: the trivial solution and why a bottleneck is needed; PCA as the baseline;
# deep, sparse, denoising and stacked autoencoders; and what they are good for.

# %% slideshow={"slide_type": "-"}
CODE_SIZES = [2, 4, 8, 16]  # code sizes compared with PCA
N_DIGITS = 6_000  # 28x28 digits for the image experiments (more: sharper, slower)

# %% slideshow={"slide_type": "skip"}
import course_lib as cl  # first: it sets the CPU thread policy before torch loads (see 00)

# isort: split
import copy
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.decomposition import PCA
from torch import nn

from course_lib import check, data, plot
from course_lib.models.autoencoders import (
    Autoencoder,
    SparseAutoencoder,
    StackedClassifier,
    add_noise,
    fresh_stack,
    kl_sparsity,
    reconstruction_error,
)
from course_lib.source import show_source
from course_lib.train import accuracy, fit, predict, pretrain_stack

cl.seed_everything(0)
device = cl.get_device()
x8_train, y8_train = data.load_digits8("train")
x8_test, y8_test = data.load_digits8("test")
x28, y28 = data.make_digits28(N_DIGITS + 1_000, seed=1)
x_train, y_train, x_test, y_test = x28[:N_DIGITS], y28[:N_DIGITS], x28[N_DIGITS:], y28[N_DIGITS:]

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The trivial solution
# Give the network a hidden layer **as wide as the input** (64 -> 64 -> 64 on the 8x8 digits) and no
# other constraint: it can learn the identity and copy its input. It then reconstructs *anything* -
# even random noise, which it never saw. A copier has learnt nothing about digits.

# %% slideshow={"slide_type": "-"}
noise_images = torch.rand(200, 1, 8, 8)
results = {}
for code in (64, 8):
    cl.seed_everything(0)
    ae = Autoencoder(64, hidden=[], code=code, linear=True, sigmoid_output=False)
    fit(ae, x8_train, nn.MSELoss(), epochs=100, lr=1e-2, batch_size=64, progress=False)
    results[code] = (reconstruction_error(ae, x8_test), reconstruction_error(ae, noise_images))
    print(
        f"code size {code:>2}: error on held-out digits {results[code][0]:.4f}, on random noise {results[code][1]:.4f}"
    )
assert results[64][0] < 1e-3, "the wide autoencoder copies digits perfectly"
assert results[64][1] < 0.25 * results[8][1], "and copies random noise far better than a bottleneck can"
assert results[8][1] > 5 * results[8][0], "the bottleneck autoencoder only fits digits"


# %% [markdown] slideshow={"slide_type": "fragment"}
# The wide autoencoder copies digits perfectly and noise nearly so (only the border pixels, which
# are blank in every digit, were never exercised). With a **bottleneck** (code size 8 << 64) the
# noise comes back badly while digits come back well: the code has room only for what digits have
# in common. Compression forces learning.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The baseline: PCA
# PCA keeps the $n$ directions of largest variance. It is the best **linear** code of size $n$
# for squared error. Three models per code size, all measured on held-out digits:
#
# - PCA (scikit-learn); a **linear** autoencoder (no activations); a **deep** autoencoder 64-128-64-n, ReLU.

# %% slideshow={"slide_type": "subslide"}
def pca_error(n, x_fit, x_eval):
    pca = PCA(n).fit(x_fit.flatten(1).numpy())
    rebuilt = pca.inverse_transform(pca.transform(x_eval.flatten(1).numpy()))
    return float(((torch.from_numpy(rebuilt).float() - x_eval.flatten(1)) ** 2).mean()), pca


sweep = {"PCA": [], "linear AE": [], "deep AE": []}
linear_aes = {}
for n in CODE_SIZES:
    sweep["PCA"].append(pca_error(n, x8_train, x8_test)[0])
    cl.seed_everything(0)
    linear = Autoencoder(64, hidden=[], code=n, linear=True, sigmoid_output=False)
    fit(linear, x8_train, nn.MSELoss(), epochs=100, lr=1e-2, batch_size=64, progress=False)
    linear_aes[n] = linear
    sweep["linear AE"].append(reconstruction_error(linear, x8_test))
    cl.seed_everything(0)
    deep = Autoencoder(64, hidden=[128, 64], code=n, sigmoid_output=True)
    fit(deep, x8_train, nn.MSELoss(), epochs=60, lr=2e-3, batch_size=64, progress=False)
    sweep["deep AE"].append(reconstruction_error(deep, x8_test))

print(f"{'code':>5} {'PCA':>8} {'linear AE':>10} {'deep AE':>9} {'deep / PCA':>11}")
for i, n in enumerate(CODE_SIZES):
    print(
        f"{n:>5} {sweep['PCA'][i]:>8.4f} {sweep['linear AE'][i]:>10.4f} {sweep['deep AE'][i]:>9.4f} "
        f"{sweep['deep AE'][i] / sweep['PCA'][i]:>11.2f}"
    )

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots(figsize=(6, 3.6))
for name, style in (("PCA", "k--"), ("linear AE", "o:"), ("deep AE", "o-")):
    ax.plot(CODE_SIZES, sweep[name], style, label=name)
ax.set(
    xscale="log",
    xlabel="code size n",
    ylabel="held-out MSE per pixel",
    title="reconstruction error vs code size (8x8 digits)",
)
ax.set_xticks(CODE_SIZES, [str(n) for n in CODE_SIZES])
ax.minorticks_off()
ax.legend()
ax.grid(alpha=0.3)

# %% slideshow={"slide_type": "subslide"}
small = [i for i, n in enumerate(CODE_SIZES) if n <= 4]
assert all(sweep["deep AE"][i] < 0.8 * sweep["PCA"][i] for i in small), "deep AE beats PCA at small codes"
assert all(abs(sweep["linear AE"][i] / sweep["PCA"][i] - 1) < 0.05 for i in range(len(CODE_SIZES))), "linear AE ~ PCA"
print(
    "deep AE error < 0.8 x PCA at code sizes", [CODE_SIZES[i] for i in small], "; linear AE within 5% of PCA everywhere"
)

# %% [markdown] slideshow={"slide_type": "fragment"}
# The non-linear encoder wins where the code is tight. With 16 numbers for 64 pixels PCA already
# keeps almost everything, and the small deep autoencoder (trained for a few seconds) no longer
# gains.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Why the linear autoencoder matches PCA
# Without activations the decoder's output is $W_d W_e x + b$: a projection onto at most $n$
# directions. The best such projection for squared error is onto the top $n$ principal
# directions (Baldi & Hornik, 1989), so gradient descent ends where PCA starts. The autoencoder's
# directions are not the principal *axes* themselves (any rotation inside the subspace does as
# well), but they span the **same subspace**: the cosines of the angles between the two are ~1.

# %% slideshow={"slide_type": "-"}
n = 8
_, pca8 = pca_error(n, x8_train, x8_test)
decoder_dirs = linear_aes[n].decoder[0].weight.detach()  # (64, n): the directions it can draw
q_ae, _ = torch.linalg.qr(decoder_dirs)
q_pca = torch.from_numpy(pca8.components_.T).float()  # (64, n), orthonormal
cosines = torch.linalg.svdvals(q_pca.T @ q_ae)
print("cosines of the principal angles between the two 8-dim subspaces:", cosines.numpy().round(3))
assert cosines.min() > 0.95

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A deep autoencoder on 28x28 digits
# Encoder 784 -> 256 -> 64 -> 8, decoder the mirror image, trained as a whole. Next to it, PCA with
# the same 8 numbers per image.

# %% slideshow={"slide_type": "subslide"}
show_source(Autoencoder, skip_docstrings=True)

# %% slideshow={"slide_type": "subslide"}
cl.seed_everything(0)
deep28 = Autoencoder(784, hidden=[256, 64], code=8).to(device)
live = plot.LiveLossPlot(title="deep autoencoder, training loss (live)")
history = fit(deep28, x_train, nn.MSELoss(), epochs=15, lr=2e-3, batch_size=128, callbacks=[live], desc="deep AE")
live.close(history)
pca_err28, pca28 = pca_error(8, x_train, x_test)
deep_err28 = reconstruction_error(deep28, x_test)
print(f"held-out MSE, code size 8: PCA {pca_err28:.4f}, deep AE {deep_err28:.4f} (ratio {deep_err28 / pca_err28:.2f})")
assert deep_err28 < pca_err28

# %% slideshow={"slide_type": "subslide"}
show = x_test[:12]
pca_rebuilt = (
    torch.from_numpy(pca28.inverse_transform(pca28.transform(show.flatten(1).numpy()))).float().view(-1, 1, 28, 28)
)
with torch.no_grad():
    deep_rebuilt = deep28(show.to(device)).cpu()
plot.image_grid(
    torch.cat([show, pca_rebuilt.clamp(0, 1), deep_rebuilt]),
    nrow=12,
    title="rows: original | PCA, 8 numbers | deep autoencoder, 8 numbers",
);


# %% [markdown] slideshow={"slide_type": "slide"}
# ## Sparse autoencoder
# Now the opposite: an **over-complete** hidden layer, 1024 units for 784 pixels - wide enough to
# copy. A **sparsity penalty** prevents that: each unit should be active only a small fraction
# $\rho = 0.05$ of the time. With $\hat\rho_j$ the mean activation of unit $j$ over a batch:
#
# $$\Omega = \sum_j \mathrm{KL}(\rho \,\|\, \hat\rho_j) = \sum_j \rho \log\frac{\rho}{\hat\rho_j} + (1-\rho)\log\frac{1-\rho}{1-\hat\rho_j}$$

# %% slideshow={"slide_type": "subslide"}
def sparse_step(weight):
    def step(model, batch, loss_fn):
        x_hat, h = model(batch[0])
        return F.mse_loss(x_hat, batch[0]) + weight * kl_sparsity(h, rho=0.05) / h.shape[1], x_hat

    return step


sparse_models = {}
for weight in (0.0, 0.3):
    cl.seed_everything(0)
    model = SparseAutoencoder(784, 1024).to(device)
    fit(
        model,
        x_train[:3000],
        nn.MSELoss(),
        epochs=8,
        lr=3e-3,
        batch_size=64,
        step_fn=sparse_step(weight),
        desc=f"sparse AE, penalty weight {weight}",
    )
    sparse_models[weight] = model

for weight, model in sparse_models.items():
    with torch.no_grad():
        h = model.encode(x_test.to(device)).cpu()
    active = (h > 0.1).float().sum(1)
    print(
        f"penalty weight {weight}: mean activation {h.mean():.3f}, active units per digit {active.mean():.0f} of 1024, "
        f"test MSE {reconstruction_error(model, x_test):.4f}"
    )
    sparse_models[weight].active = active

# %% slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, 2, figsize=(12, 3.4), gridspec_kw={"width_ratios": [1, 2]})
for weight, model in sparse_models.items():
    axes[0].hist(model.active.numpy(), bins=40, range=(0, 1024), alpha=0.7, label=f"penalty {weight}")
axes[0].set(xlabel="units with activation > 0.1, per digit", ylabel="digits", title="how many units fire")
axes[0].legend()
units = sparse_models[0.3].decoder[0].weight.detach().cpu().T[:48].reshape(48, 1, 28, 28)
lo, hi = units.amin((1, 2, 3), keepdim=True), units.amax((1, 2, 3), keepdim=True)
plot.image_grid(
    (units - lo) / (hi - lo), nrow=16, ax=axes[1], title="what 48 sparse units draw (their decoder weights)"
)
fig.tight_layout()
active = {w: m.active.float().median().item() for w, m in sparse_models.items()}
print("median units firing per digit (of 1024):", {f"penalty {w}": int(n) for w, n in active.items()})
assert sparse_models[0.3].active.mean() < 0.5 * sparse_models[0.0].active.mean(), "the penalty halves the firing"


# %% [markdown] slideshow={"slide_type": "subslide"}
# With the penalty, a digit switches on far fewer of the 1024 units (the medians above). What a unit
# draws (right) is not a single pixel but a blurred **whole-digit template**: a digit is rebuilt by
# adding a few templates. Textbook pictures of sparse units show strokes - parts of digits; these
# small, briefly trained ones have not got there.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1 · The sparsity penalty
# Write `student_kl_sparsity(h, rho)` for activations `h` of shape `(B, units)` in (0, 1).

# %% slideshow={"slide_type": "-"}
def student_kl_sparsity(h, rho):
    """h: (B, units) activations in (0, 1); rho: target rate -> a number."""
    # Your answer here: rho_hat = mean of each unit over the batch, then the sum of the KL terms.
    return None


check.kl_sparsity(student_kl_sparsity)


# %% jupyter={"source_hidden": true} slideshow={"slide_type": "skip"} tags=["solution"]
def solution_kl_sparsity(h, rho):
    rho_hat = h.mean(0)
    return (rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).sum()


assert check.kl_sparsity(solution_kl_sparsity)
check.kl_sparsity(solution_kl_sparsity)


# %% [markdown] slideshow={"slide_type": "slide"}
# ## Denoising autoencoder
# Train on corrupted inputs with the **clean** image as the target: $f(x + \text{noise}) \approx x$.
# It cannot copy (the input is wrong), so it learns what digits look like. Noise levels drawn
# at random between 0 and 0.6 for each batch; a plain autoencoder of the same shape for comparison.

# %% slideshow={"slide_type": "-"}
def denoising_step(model, batch, loss_fn):
    clean = batch[0]
    level = float(torch.rand(1)) * 0.6
    return loss_fn(model(add_noise(clean, level)), clean), None


autoencoders = {}
for name, step in (("plain AE", None), ("denoising AE", denoising_step)):
    cl.seed_everything(0)
    model = Autoencoder(784, hidden=[256], code=64).to(device)
    fit(model, x_train, nn.MSELoss(), epochs=10, lr=2e-3, batch_size=128, step_fn=step, desc=name)
    autoencoders[name] = model

# %% slideshow={"slide_type": "subslide"}
levels = [0.0, 0.2, 0.4, 0.6, 0.8]
errors = {name: [] for name in autoencoders}
g = torch.Generator().manual_seed(0)
for level in levels:
    noisy = add_noise(x_test, level, generator=g)
    for name, model in autoencoders.items():
        with torch.no_grad():
            errors[name].append(F.mse_loss(model(noisy.to(device)).cpu(), x_test).item())
print("noise levels:", levels)
for name, errs in errors.items():
    print(f"{name:>13}: " + "  ".join(f"{e:.4f}" for e in errs))
assert errors["denoising AE"][2] < errors["plain AE"][2], "at noise 0.4 the denoising AE is closer to the clean digit"

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots(figsize=(6, 3.4))
for name, errs in errors.items():
    ax.plot(levels, errs, "o-", label=name)
ax.set(
    xlabel="Gaussian noise level (std)", ylabel="MSE against the clean digit", title="reconstructing noisy test digits"
)
ax.legend()
ax.grid(alpha=0.3)

# %% slideshow={"slide_type": "fragment"}
ratio = errors["plain AE"][-1] / errors["denoising AE"][-1]
print(f"at noise 0.8 the plain AE's output is {ratio:.1f}x further from the clean digit")
assert errors["plain AE"][-1] > 2 * errors["denoising AE"][-1], "several times further at noise 0.8 (speaker notes)"

# %% [markdown] slideshow={"slide_type": "subslide"}
# The noise is also **data augmentation**: every batch draws a new corruption, so in 10 epochs the
# denoising AE never sees the same input twice, while the plain AE sees each digit 10 times,
# unchanged. On *clean* digits, its test error relative to its training error:

# %% slideshow={"slide_type": "-"}
gaps = {}
for name, model in autoencoders.items():
    with torch.no_grad():
        train_err = F.mse_loss(model(x_train[:2000].to(device)).cpu(), x_train[:2000]).item()
        test_err = F.mse_loss(model(x_test.to(device)).cpu(), x_test).item()
    gaps[name] = test_err / train_err
    print(f"{name:>13}: clean MSE train {train_err:.4f}, test {test_err:.4f}, test / train {gaps[name]:.3f}")
assert gaps["denoising AE"] < gaps["plain AE"]

# %% [markdown] slideshow={"slide_type": "fragment"}
# A slightly smaller gap between training and test digits - the augmentation at work - but a small
# effect here, and the denoising AE rebuilds clean digits less precisely (it was trained on noisy ones).

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Slide the noise
# Noisy input, the two autoencoders' outputs, and the clean target. Push the noise up: the plain
# autoencoder's digit smudges and dissolves (its 64-number code cannot carry the noise either, but it
# never learnt to look past it); the denoising one still draws a clean digit.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes: move **noise** from 0.1 to 0.8 while the class watches the plain AE's column: its digit smudges into a blur (the table two slides back: several times further from the clean digit at 0.8). The denoising AE still draws a digit at high noise. Then step the **image** slider through a few digits and press **new noise**.

# %% slideshow={"slide_type": "-"}
from course_lib.widgets import DenoiseView

denoiser_view = DenoiseView(
    x_test[:100], {"plain AE": autoencoders["plain AE"], "denoising AE": autoencoders["denoising AE"]}, level=0.4
)
denoiser_view

# %% slideshow={"slide_type": "skip"}
before = denoiser_view.image.value
denoiser_view.level.value = 0.8
assert denoiser_view.image.value != before


# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 · The corruption
# Write `student_add_noise(x, level)`: Gaussian noise with standard deviation `level`, and a result
# that is still an image (values in [0, 1]).

# %% slideshow={"slide_type": "-"}
def student_add_noise(x, level):
    """x: images in [0, 1] -> noisy images in [0, 1]."""
    # Your answer here.
    return x


check.add_noise(student_add_noise)


# %% jupyter={"source_hidden": true} slideshow={"slide_type": "skip"} tags=["solution"]
def solution_add_noise(x, level):
    return (x + level * torch.randn_like(x)).clamp(0, 1)


assert check.add_noise(solution_add_noise)
check.add_noise(solution_add_noise)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Stacked autoencoders, then fine-tuning with labels
# **Greedy layer-wise training**: an autoencoder 784 -> 256 learns on the images; a second one
# 256 -> 64 learns on the first one's codes. No labels so far. Then the stacked encoders get a
# dense softmax layer on top, trained with only **100 labels** (10 per digit), as when labelling is
# expensive - either with the encoders **frozen** (only the softmax layer learns) or **fine-tuned**
# as a whole. The baseline: the same network with random encoder weights.

# %% slideshow={"slide_type": "-"}
stack = pretrain_stack(x_train, [784, 256, 64], epochs=5, lr=2e-3)
labelled = torch.cat([torch.nonzero(y_train == d)[:10, 0] for d in range(10)])
few = (x_train[labelled], y_train[labelled])
stacked_results = {}

# %% slideshow={"slide_type": "subslide"}
for start, make_encoders in (
    ("pre-trained", lambda: copy.deepcopy(stack)),
    ("random", lambda: fresh_stack([784, 256, 64])),
):
    for mode in ("frozen", "fine-tuned"):
        cl.seed_everything(0)
        classifier = StackedClassifier(make_encoders()).to(device)
        if mode == "frozen":
            classifier.encoders.requires_grad_(False)
        optimizer = torch.optim.Adam([p for p in classifier.parameters() if p.requires_grad], lr=1e-3)
        with warnings.catch_warnings():  # random frozen features barely learn: fit's warning is expected
            warnings.simplefilter("ignore", RuntimeWarning)
            h = fit(
                classifier,
                few,
                nn.CrossEntropyLoss(),
                epochs=60,
                batch_size=20,
                optimizer=optimizer,
                progress=False,
                eval_data=(x_test, y_test),
                metrics={"acc": accuracy},
            )
        stacked_results[(start, mode)] = h["val_acc"]
        stalled = " (training loss did not fall)" if h.stalled else ""
        print(f"{start:>11} encoders, {mode:>10}: held-out accuracy {h.last('val_acc'):.3f}{stalled}")

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots(figsize=(6.5, 3.6))
for (start, mode), accs in stacked_results.items():
    ax.plot(range(1, len(accs) + 1), accs, "-" if start == "pre-trained" else "--", label=f"{start}, {mode}")
ax.set(
    xlabel="epoch of supervised training (100 labels)",
    ylabel="held-out accuracy",
    title="stacked autoencoder features vs random ones",
)
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
final = {k: v[-1] for k, v in stacked_results.items()}

# %% slideshow={"slide_type": "subslide"}
assert final[("pre-trained", "frozen")] > final[("random", "frozen")] + 0.1, "pre-trained features beat random ones"
assert final[("pre-trained", "fine-tuned")] > final[("pre-trained", "frozen")], "fine-tuning with labels helps"
still_rising = {f"{start}, {mode}": round(accs[-1] - accs[-10], 3) for (start, mode), accs in stacked_results.items()}
print("accuracy gained over the last 10 epochs:", still_rising)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The greedy, label-free training found features that a linear layer can use: frozen, they are far
# better than random ones. Fine-tuning the whole stack with the labels improves it further. Note
# the honest part: fine-tuned from scratch, the same network does about as well here. And the
# frozen curves are still rising at epoch 60 (the gains over the last 10 epochs, above): this is a
# comparison at an equal, small training budget, not at convergence - trained longer, the frozen
# encoders would close part of the gap. Layer-wise
# pre-training was what made deep networks trainable in 2006 (sigmoid units, plain SGD); with
# ReLU, good initialisation and Adam, a network this size trains from scratch. The idea lives
# on as **self-supervised pre-training** (notebook 09).

# %% [markdown] slideshow={"slide_type": "subslide"}
# Are the features "more abstract" one level up? One way to ask: how much of the digit's class a
# linear classifier can read from each level (1,000 labels), next to how much of the image each
# level keeps (the reconstruction error of a linear map back to the pixels):

# %% slideshow={"slide_type": "-"}
from sklearn.linear_model import LinearRegression, LogisticRegression

with torch.no_grad():
    levels = {"pixels (784)": x_train.flatten(1)[:3000]}
    h = x_train.flatten(1)[:3000]
    for i, encoder in enumerate(stack, 1):
        h = encoder(h)
        levels[f"level {i} ({h.shape[1]})"] = h.clone()
level_scores = {}
for name, feats in levels.items():
    probe_acc = (
        LogisticRegression(max_iter=1000)
        .fit(feats[:1000].numpy(), y_train[:1000].numpy())
        .score(feats[1000:].numpy(), y_train[1000:3000].numpy())
    )
    back = LinearRegression().fit(feats[:1000].numpy(), x_train.flatten(1)[:1000].numpy())
    rec = F.mse_loss(torch.as_tensor(back.predict(feats[1000:].numpy())), x_train.flatten(1)[1000:3000]).item()
    print(f"{name:>14}: linear probe accuracy {probe_acc:.3f}, linear reconstruction MSE {rec:.4f}")
    level_scores[name] = (probe_acc, rec)
(px_acc, _), (l1_acc, l1_rec), (l2_acc, l2_rec) = level_scores.values()
assert l2_rec > l1_rec and l2_acc < px_acc, "what the text below says"

# %% [markdown] slideshow={"slide_type": "fragment"}
# Each level keeps less of the image (the reconstruction error grows), but the class does not get
# easier to read: level 2 is *below* the raw pixels for a linear classifier. "More abstract" here
# means more compressed, not more about digits - the label-free levels cannot know which details
# matter for the class. That is what the supervised fine-tuning above adds.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What autoencoders are for · 1. Storage and transmission
# Send the code instead of the image; the receiver runs the decoder. With the deep autoencoder
# above, 8 numbers per digit:

# %% slideshow={"slide_type": "-"}
with torch.no_grad():
    codes = deep28.encode(x_test.to(device)).cpu()
    as_half = deep28.decode(codes.half().float().to(device)).cpu()
bits_image, bits_code = 28 * 28 * 8, 8 * 16  # 8-bit pixels vs 8 float16 numbers
err_half = F.mse_loss(as_half, x_test).item()
psnr = 10 * np.log10(1.0 / err_half)
mean_digit_err = F.mse_loss(x_train.mean(0, keepdim=True).expand_as(x_test), x_test).item()  # 0 bits sent
print(f"image: {bits_image} bits; code: {bits_code} bits; compression ratio {bits_image / bits_code:.0f}:1")
print(
    f"reconstruction error with float16 codes: MSE {err_half:.4f} (PSNR {psnr:.1f} dB); float32 codes: {deep_err28:.4f}"
)
print(
    f"yardstick: sending nothing and showing the average digit scores MSE {mean_digit_err:.4f} "
    f"(PSNR {10 * np.log10(1.0 / mean_digit_err):.1f} dB); PSNR grows 10 dB for every 10x smaller error"
)
assert err_half < mean_digit_err / 2, "the code carries far more than the average digit"
assert abs(err_half - deep_err28) < 1e-3

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Compact features: neighbours, classification, clustering
# Similar digits should get nearby codes. Nearest neighbours of a few test digits among the
# training codes, by **cosine** similarity (the angle between codes) - and how often the 5
# nearest share the query's label, cosine vs Euclidean distance:

# %% slideshow={"slide_type": "subslide"}
with torch.no_grad():
    z_train = deep28.encode(x_train.to(device)).cpu()
    z_test = codes


def neighbours(z_query, z_base, k=5, metric="cosine"):
    if metric == "cosine":
        scores = F.normalize(z_query, dim=1) @ F.normalize(z_base, dim=1).T
        return scores.topk(k, dim=1).indices
    return torch.cdist(z_query, z_base).topk(k, dim=1, largest=False).indices


idx = neighbours(z_test[:6], z_train)
rows = torch.cat([torch.cat([x_test[i : i + 1], x_train[idx[i]]]) for i in range(6)])

# %% slideshow={"slide_type": "subslide"}
plot.image_grid(rows, nrow=6, title="each row: a test digit, then its 5 nearest training codes (cosine)")
for metric in ("cosine", "euclidean"):
    agree = (y_train[neighbours(z_test, z_train, metric=metric)] == y_test[:, None]).float().mean()
    print(f"{metric:>9}: {agree:.3f} of the 5 nearest neighbours share the label")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Features for a classifier and for clustering, with labels used only to score: a logistic
# regression on the 8-number codes vs on the 784 pixels (1,000 labels), and k-means with 10
# clusters on codes vs pixels (adjusted Rand index: 0 = chance, 1 = clusters are the digits).

# %% slideshow={"slide_type": "-"}
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score

table = {}
for name, (ftr, fte) in {
    "8-number codes": (z_train, z_test),
    "784 raw pixels": (x_train.flatten(1), x_test.flatten(1)),
}.items():
    clf = LogisticRegression(max_iter=500).fit(ftr[:1000].numpy(), y_train[:1000].numpy())
    km = KMeans(10, n_init=4, random_state=0).fit(fte.numpy())
    table[name] = (clf.score(fte.numpy(), y_test.numpy()), adjusted_rand_score(y_test.numpy(), km.labels_))
    print(f"{name:>15}: linear classifier accuracy {table[name][0]:.3f}, k-means ARI {table[name][1]:.3f}")
print("yardsticks: guessing gives accuracy 0.100 and ARI 0.000; clusters that are exactly the digits give ARI 1.000")
assert table["8-number codes"][1] > table["784 raw pixels"][1], "clusters in code space follow the digits better"
assert table["8-number codes"][0] < table["784 raw pixels"][0], "but 8 numbers classify worse than 784 pixels"
assert max(table["8-number codes"][1], table["784 raw pixels"][1]) < 0.3, "both clusterings are far from the digits"

# %% [markdown] slideshow={"slide_type": "fragment"}
# Two different answers: **k-means** finds the digits a little better in the 8-number code space
# than in pixel space (higher ARI) - though both are much nearer chance (0) than the digits (1) -
# and a **linear classifier** does worse on the codes than on the raw pixels. Squeezing a digit into
# 8 numbers throws away some of what tells digits apart: the codes are compact, not richer.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Generation by editing the code?
# Could we make new digits by decoding new codes? Between two codes (interpolation) and around
# the codes (random points in their range) the decoder of a plain autoencoder gives digits, but also
# ghostly blends: nothing in its training asked the space *between* codes to mean anything.

# %% slideshow={"slide_type": "subslide"}
a, b = z_test[0], z_test[3]
line = torch.stack([a + t * (b - a) for t in torch.linspace(0, 1, 10)])
lo, hi = z_train.min(0).values, z_train.max(0).values
g = torch.Generator().manual_seed(0)
random_codes = lo + (hi - lo) * torch.rand(20, 8, generator=g)
with torch.no_grad():
    between = deep28.decode(line.to(device)).cpu()
    around = deep28.decode(random_codes.to(device)).cpu()
fig, axes = plt.subplots(2, 1, figsize=(10, 4))
plot.image_grid(between, nrow=10, ax=axes[0], title="decoded along the line between two test codes")
plot.image_grid(around, nrow=10, ax=axes[1], title="decoded at random codes inside the training codes' range")
fig.tight_layout()

# %% [markdown] slideshow={"slide_type": "subslide"}
# How digit-like are they? A LeNet trained on the digits judges: how many it reads with confidence
# (max probability above 0.9), on real test digits and on the decoded random codes (below). **Variational autoencoders** (next notebook)
# make the code space continuous, so that decoding any nearby point gives a plausible digit.

# %% slideshow={"slide_type": "-"}
from course_lib.models import LeNet

cl.seed_everything(0)
judge = LeNet().to(device)
fit(judge, (x_train, y_train), nn.CrossEntropyLoss(), epochs=3, lr=2e-3, batch_size=128, progress=False)
confident = {
    name: (predict(judge, imgs).softmax(1).max(1).values > 0.9).float().mean().item()
    for name, imgs in (("real test digits", x_test[:200]), ("decoded random codes", around))
}
for name, share in confident.items():
    print(f"{name:>21}: {share:.0%} read with confidence above 0.9")
assert confident["decoded random codes"] < confident["real test digits"], "fewer clear digits among the decodes"
# the same judge on the 49:1 compressed digits of section 1: does the reconstruction keep the digit?
changed = (predict(judge, as_half).argmax(1) != predict(judge, x_test).argmax(1)).float().mean().item()
print(f"{changed:.1%} of the test digits decoded from their 8-number codes are read as a different digit")
assert 0.1 < changed < 0.35, "strong compression changes the identity of 10-35% of the digits, not only details"

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
# - An autoencoder must be constrained - a bottleneck, sparsity or noise - or it learns to copy.
# - A linear autoencoder finds PCA's subspace; a deep one beats PCA at small code sizes.
# - Sparse units fire rarely (here each learns a digit template); denoising autoencoders learn what digits look like;
#   greedy stacking gives a good start when labels are few.
# - Codes compress 49:1 (at a price: a sizeable share of the digits decodes as another digit) and cluster a little better
#   than pixels, but classify worse than raw pixels; decoding arbitrary codes does not generate
#   reliable digits. That is the job of the VAE: `04_variational_autoencoders`.
