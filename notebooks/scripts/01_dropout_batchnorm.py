# %% [markdown] slideshow={"slide_type": "slide"}
# # 01 · Dropout and batch normalization
#
# Two small layers that made deep networks practical:
#
# - **dropout** fights over-fitting by switching off random units while training;
# - **batch normalization** keeps each layer's inputs at a steady scale, so training survives
#   higher learning rates and is less sensitive to the initial weights.
#
# For each we write the layer by hand, check it against PyTorch, then test the claims made for it.

# %% slideshow={"slide_type": "-"}
EPOCHS = 60  # epochs of the over-fitting experiment; more makes the gap clearer and takes longer

# %% slideshow={"slide_type": "skip"}
import course_lib as cl  # first: it sets the CPU thread policy before torch loads (see 00)

# isort: split
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from course_lib import check, data
from course_lib.models import MLPClassifier, deep_mlp, layers
from course_lib.train import NonFiniteLossError, accuracy, fit

cl.seed_everything(0)
device = cl.get_device()


# %% [markdown] slideshow={"slide_type": "slide"}
# ## Part A · Dropout
# During **training only**, each unit of a layer is set to zero with probability **p**, for every
# forward (and backward) pass anew. The surviving units are multiplied by **1/(1-p)**, so the
# expected value of each unit is unchanged: $\mathbb{E}[\text{out}] = (1-p)\cdot\frac{x}{1-p} + p\cdot 0 = x$.
#
# By hand, it is three lines:

# %% slideshow={"slide_type": "-"}
def my_dropout(x, p):
    keep = (torch.rand_like(x) >= p).float()  # 1 with probability 1-p
    return x * keep / (1 - p)


x = torch.ones(8)
for forward_pass in range(3):
    print(f"pass {forward_pass}:", my_dropout(x, p=0.5).tolist())

# %% [markdown] slideshow={"slide_type": "fragment"}
# A new mask on every pass, and the kept units become 1/(1-p) = 2. Averaged over many passes, the
# output is the input again:

# %% slideshow={"slide_type": "-"}
x = torch.linspace(0.1, 1.0, 6)
mean_out = torch.stack([my_dropout(x, 0.5) for _ in range(20_000)]).mean(0)
print("input:                ", [round(v, 3) for v in x.tolist()])
print("mean of 20,000 passes:", [round(v, 3) for v in mean_out.tolist()])
assert torch.allclose(mean_out, x, atol=0.02)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Checked against `nn.Dropout`
# PyTorch draws its random numbers differently, so the masks differ; what must agree is the
# **statistics**: the fraction dropped, the value of the survivors, the expectation, and that
# `model.eval()` turns dropout off.

# %% slideshow={"slide_type": "-"}
p = 0.3
big = torch.ones(400, 1000)
torch_dropout = nn.Dropout(p)
ours, theirs = my_dropout(big, p), torch_dropout(big)
for name, out in (("ours", ours), ("nn.Dropout", theirs)):
    survivors = out[out > 0].unique().tolist()
    print(f"{name:>10}: dropped {(out == 0).float().mean():.4f}, survivors = {survivors}, mean {out.mean():.4f}")
assert abs((ours == 0).float().mean() - (theirs == 0).float().mean()) < 0.005
assert torch.allclose(ours[ours > 0].unique(), theirs[theirs > 0].unique())
torch_dropout.eval()
assert torch.equal(torch_dropout(big), big), "in eval mode dropout is the identity"
print("eval mode: output == input")

# %% [markdown] slideshow={"slide_type": "fragment"}
# `course_lib.models.layers.dropout` is the same function with a `training` flag; with the same
# random generator it gives exactly our mask.

# %% slideshow={"slide_type": "-"}
g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
by_hand = big * (torch.rand(big.shape, generator=g1) >= p).float() / (1 - p)
assert torch.equal(layers.dropout(big, p, generator=g2), by_hand)
assert torch.equal(layers.dropout(big, p, training=False), big)


# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1 · Dropout by hand
# Write `student_dropout(x, p)` for training mode (no helpers from `course_lib`).
# The checker tries all-ones inputs and looks at what you drop and how you scale.

# %% slideshow={"slide_type": "-"}
def student_dropout(x, p):
    """x: any shape; zero each entry with probability p, scale the rest by 1/(1-p)."""
    # Your answer here.
    return x


check.dropout(student_dropout)


# %% jupyter={"source_hidden": true} slideshow={"slide_type": "skip"} tags=["solution"]
def solution_dropout(x, p):
    return x * (torch.rand_like(x) >= p).float() / (1 - p)


assert check.dropout(solution_dropout)
check.dropout(solution_dropout)

# %% [markdown] slideshow={"slide_type": "slide"}
# ### See it on a real hidden layer
# The 128 hidden units of the small digit classifier from notebook 00 (shipped weights), for one
# digit, drawn as an 8x16 picture. Move **p**; press **new forward pass** for another mask.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes: leave **p (drop)** at 0.5 and press **new forward pass** three times: a different half of the units goes dark each time, and the survivors get twice as bright. Then move p to 0.9 and ask what the next layer sees now (a tenth of the units, ten times as strong).

# %% slideshow={"slide_type": "-"}
from course_lib import checkpoints
from course_lib.widgets import DropoutView

mlp = checkpoints.load_checkpoint("digits_mlp", MLPClassifier)
x8_test, y8_test = data.load_digits8("test")
with torch.no_grad():
    hidden = mlp.net[:3](x8_test[:1])[0]  # Flatten -> Linear(64, 128) -> ReLU
view = DropoutView(hidden.view(8, 16), p=0.5)
view

# %% slideshow={"slide_type": "skip"}
before = view.image.value
view.slider.value = 0.8
assert view.image.value != before and "dropped" in view.caption.value
view.caption.value

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Dropout against over-fitting
# A wide fully connected net (784 -> 512 -> 512 -> 10) and only **500 training digits**: enough
# capacity to memorise them. We train it twice, without and with dropout (p = 0.5) on the hidden
# layers, and measure both sets in eval mode after every epoch.

# %% slideshow={"slide_type": "-"}
x28, y28 = data.make_digits28(2_500, seed=1)
train_set, test_set = (x28[:500], y28[:500]), (x28[500:], y28[500:])
runs, nets = {}, {}
for p in (0.0, 0.5):
    cl.seed_everything(0)
    net = nets[p] = MLPClassifier(784, [512, 512], 10, dropout=p).to(device)
    runs[p] = fit(
        net,
        train_set,
        nn.CrossEntropyLoss(),
        epochs=EPOCHS,
        lr=1e-3,
        batch_size=50,
        eval_data={"train": train_set, "test": test_set},
        metrics={"acc": accuracy},
        desc=f"dropout p={p}",
    )

# %% slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
epochs = np.arange(1, EPOCHS + 1)
for p, colour in ((0.0, "tab:red"), (0.5, "tab:blue")):
    h = runs[p]
    axes[0].plot(epochs, h["train_eval_loss"], "--", color=colour, label=f"train, p={p}")
    axes[0].plot(epochs, h["test_loss"], color=colour, label=f"test, p={p}")
    axes[1].plot(epochs, h["train_eval_acc"], "--", color=colour, label=f"train, p={p}")
    axes[1].plot(epochs, h["test_acc"], color=colour, label=f"test, p={p}")
axes[0].set(title="loss (eval mode)", xlabel="epoch", ylabel="cross-entropy", yscale="log")
axes[1].set(title="accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0.5, 1.01))
for ax in axes:
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
fig.tight_layout()

# %% slideshow={"slide_type": "subslide"}
rows = []
for p, h in runs.items():
    gap = h["test_loss"][-1] - h["train_eval_loss"][-1]
    rows.append((p, h["train_eval_acc"][-1], h["test_acc"][-1], h["test_loss"][-1], gap))
    print(
        f"p={p}: train acc {rows[-1][1]:.3f}, test acc {rows[-1][2]:.3f}, test loss {rows[-1][3]:.3f}, "
        f"loss gap test-train {gap:.3f}"
    )
(no_drop, with_drop) = rows
assert with_drop[4] < no_drop[4], "dropout shrinks the gap between training and test loss"
assert with_drop[3] < no_drop[3], "and lowers the test loss"


# %% [markdown] slideshow={"slide_type": "fragment"}
# Without dropout the test loss turns up while the training loss goes to zero: the net memorises.
# With dropout no unit can rely on a particular other unit being present, and the gap is smaller.

# %% [markdown] slideshow={"slide_type": "fragment"}
# **Co-adaptation**, measured: remove a random share of the first hidden layer's units at test time
# (in eval mode, no rescaling) and see how much accuracy each net loses. A net whose units learnt to
# work alone (dropout) should suffer less than one whose units rely on each other:

# %% slideshow={"slide_type": "subslide"}
def accuracy_without_units(net, share, seed=0):
    mask = (torch.rand(512, generator=torch.Generator().manual_seed(seed)) >= share).float().to(device)
    hook = net.net[2].register_forward_hook(lambda module, inputs, out: out * mask)  # after the first ReLU
    try:
        with cl.eval_mode(net):
            return accuracy(net(test_set[0].to(device)), test_set[1].to(device))
    finally:
        hook.remove()


knockout = {
    p: {share: sum(accuracy_without_units(nets[p], share, s) for s in range(3)) / 3 for share in (0.0, 0.25, 0.5)}
    for p in nets
}
for p, accs in knockout.items():
    print(
        f"dropout p={p}: test accuracy with 0% / 25% / 50% of the units removed: "
        + " / ".join(f"{a:.3f}" for a in accs.values())
    )
loss_at_half = {p: accs[0.0] - accs[0.5] for p, accs in knockout.items()}
print("accuracy lost when half the units are removed:", {p: round(v, 3) for p, v in loss_at_half.items()})
assert loss_at_half[0.5] < loss_at_half[0.0], "the dropout net depends less on any particular unit"

# %% [markdown] slideshow={"slide_type": "fragment"}
# The dropout-trained net loses less when units go missing (above): it learnt features that work
# without particular partners, which is what "less co-adaptation" means.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Dropout is not a penalty
# The lecture calls regularization a **penalty added to the loss**, e.g. L2: $L + \lambda \lVert w \rVert^2$.
# Dropout adds nothing to the loss: it trains a randomly thinned network on the plain loss, and the
# regularising comes from the noise. The same net with an explicit L2 penalty instead (its
# objective is visibly bigger than its data loss; dropout's is not):

# %% slideshow={"slide_type": "subslide"}
LAMBDA = 1e-3


def l2_step(model, batch, loss_fn):
    out = model(batch[0])
    penalty = sum((w**2).sum() for name, w in model.named_parameters() if name.endswith("weight"))
    return loss_fn(out, batch[1]) + LAMBDA * penalty, out


cl.seed_everything(0)
l2_net = MLPClassifier(784, [512, 512], 10, dropout=0.0).to(device)
runs["L2"] = fit(
    l2_net,
    train_set,
    nn.CrossEntropyLoss(),
    epochs=EPOCHS,
    lr=1e-3,
    batch_size=50,
    step_fn=l2_step,
    eval_data={"train": train_set, "test": test_set},
    metrics={"acc": accuracy},
    desc="L2 penalty",
)

# %% slideshow={"slide_type": "subslide"}
with torch.no_grad():
    data_loss = nn.functional.cross_entropy(l2_net(train_set[0].to(device)), train_set[1].to(device)).item()
    l2_term = LAMBDA * sum((w**2).sum() for n, w in l2_net.named_parameters() if n.endswith("weight")).item()
print(f"L2 run, training objective = data loss {data_loss:.3f} + penalty {l2_term:.3f}")
for name, h in (("no regularization", runs[0.0]), ("dropout p=0.5", runs[0.5]), ("L2, lambda=1e-3", runs["L2"])):
    print(
        f"{name:>18}: test acc {h['test_acc'][-1]:.3f}, test loss {h['test_loss'][-1]:.3f}, "
        f"loss gap test-train {h['test_loss'][-1] - h['train_eval_loss'][-1]:.3f}"
    )
assert l2_term > 0.01, "the penalty is a real part of the L2 objective"
assert runs["L2"]["test_loss"][-1] < runs[0.0]["test_loss"][-1], "both regularizers beat no regularization"
assert runs[0.5]["test_loss"][-1] < runs[0.0]["test_loss"][-1]

# %% [markdown] slideshow={"slide_type": "subslide"}
# Both lower the test loss and shrink the gap. L2 does it through a term in the objective (the
# penalty above is larger than the data loss it sits beside); dropout through noise in the network,
# with nothing added to the loss.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Dropout on convolutional layers
# "Dropout is applied to fully connected layers only" was the rule when the lecture's sources were
# written. Dropping single pixels of a feature map does little (neighbouring pixels carry the same
# information); **spatial dropout** (`nn.Dropout2d`, Tompson et al., 2015) drops whole channels
# instead. What each one zeroes in a batch of feature maps (8 channels of 6x6, p = 0.5):

# %% slideshow={"slide_type": "subslide"}
maps = torch.ones(1, 8, 6, 6)
torch.manual_seed(0)
plain, spatial = nn.Dropout(0.5).train()(maps), nn.Dropout2d(0.5).train()(maps)
fig, axes = plt.subplots(2, 8, figsize=(9, 2.6))
for row, (name, out) in enumerate((("nn.Dropout", plain), ("nn.Dropout2d", spatial))):
    for c in range(8):
        axes[row, c].imshow(out[0, c], cmap="gray", vmin=0, vmax=2)
        axes[row, c].set(xticks=[], yticks=[])
    axes[row, 0].set_ylabel(name, fontsize=8)
fig.suptitle("white: kept (scaled x2), black: dropped - per pixel (top) or per channel (bottom)", fontsize=9)
whole = [bool((spatial[0, c] == 0).all() or (spatial[0, c] == 2).all()) for c in range(8)]
assert all(whole), "Dropout2d keeps or drops each channel as a whole"

# %% [markdown] slideshow={"slide_type": "fragment"}
# The effect on a small CNN trained on the same 500 digits (dropout after each conv block):

# %% slideshow={"slide_type": "subslide"}
def small_cnn(drop):
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        drop(),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        drop(),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, 10),
    )


conv_runs = {}

# %% slideshow={"slide_type": "subslide"}
for name, drop in (
    ("none", nn.Identity),
    ("nn.Dropout(0.3)", lambda: nn.Dropout(0.3)),
    ("nn.Dropout2d(0.3)", lambda: nn.Dropout2d(0.3)),
):
    cl.seed_everything(0)
    conv_runs[name] = fit(
        small_cnn(drop).to(device),
        train_set,
        nn.CrossEntropyLoss(),
        epochs=15,
        lr=1e-3,
        batch_size=50,
        eval_data={"test": test_set},
        metrics={"acc": accuracy},
        progress=False,
    )
    h = conv_runs[name]
    print(f"{name:>18}: test acc {h['test_acc'][-1]:.3f}, test loss {h['test_loss'][-1]:.3f}")
conv_loss = {name: h["test_loss"][-1] for name, h in conv_runs.items()}
assert conv_loss["none"] < min(conv_loss["nn.Dropout(0.3)"], conv_loss["nn.Dropout2d(0.3)"])


# %% [markdown] slideshow={"slide_type": "subslide"}
# An honest result: on this small CNN (16 and 32 channels, few weights to over-fit with) and at this
# budget, neither kind of dropout helps - both slow learning more than they regularise. Dropout on
# conv layers pays off in bigger networks that do over-fit, and there the channel-wise
# `nn.Dropout2d` is the form used. Convolution itself is the stronger regulariser here: far fewer
# weights than a dense layer, shared across positions.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Part B · Batch normalization
# For a batch of B values of one unit (or one channel of a convolution):
#
# $$\hat x = \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}}, \qquad y = \gamma \hat x + \beta$$
#
# with $\mu_B, \sigma_B^2$ the batch mean and (biased) variance, and $\gamma, \beta$ learnt.
# During training it also keeps **running averages** of $\mu$ and $\sigma^2$, used at test time
# (when there may be a single example).

# %% slideshow={"slide_type": "-"}
def my_batch_norm(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=0)
    var = x.var(dim=0, unbiased=False)
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta


x = torch.randn(32, 4) * torch.tensor([1.0, 10.0, 0.1, 3.0]) + torch.tensor([5.0, -2.0, 0.0, 1.0])
y = my_batch_norm(x, torch.ones(4), torch.zeros(4))
print("before: mean", x.mean(0).numpy().round(2), " std", x.std(0, unbiased=False).numpy().round(2))
print("after:  mean", y.mean(0).numpy().round(2), " std", y.std(0, unbiased=False).numpy().round(2))


# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Checked against `nn.BatchNorm1d` and `nn.BatchNorm2d`, in both modes
# `layers.HandBatchNorm` wraps the same formula with running statistics. We give it the same
# parameters as PyTorch's layer, feed both five training batches, then compare in eval mode too.

# %% slideshow={"slide_type": "-"}
def compare_batch_norm(torch_bn, shape, steps=5):
    hand = layers.HandBatchNorm(shape[1])
    with torch.no_grad():
        torch_bn.weight.uniform_(0.5, 2.0)
        torch_bn.bias.uniform_(-1, 1)
        hand.weight.copy_(torch_bn.weight)
        hand.bias.copy_(torch_bn.bias)
    for _ in range(steps):
        batch = torch.randn(shape) * 3 + 1
        assert torch.allclose(hand(batch), torch_bn(batch), atol=1e-5), "training mode"
    assert torch.allclose(hand.running_mean, torch_bn.running_mean, atol=1e-6)
    assert torch.allclose(hand.running_var, torch_bn.running_var, atol=1e-5)
    hand.eval()
    torch_bn.eval()
    test = torch.randn(shape)
    assert torch.allclose(hand(test), torch_bn(test), atol=1e-5), "eval mode"
    return torch_bn.running_mean[:3]


print("after dense layers, (B, C):        ", compare_batch_norm(nn.BatchNorm1d(6), (16, 6)))
print("after convolutions, (B, C, H, W):  ", compare_batch_norm(nn.BatchNorm2d(3), (8, 3, 5, 5)))
print("train and eval mode match PyTorch; running means shown")


# %% [markdown] slideshow={"slide_type": "fragment"}
# After a convolution the statistics are taken per **channel**, over the batch *and* all positions:
# every position shares the channel's $\gamma$ and $\beta$, as it shares the kernel.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 · Batch normalization (training mode)
# Complete `student_batch_norm(x, gamma, beta, eps)` for `x` of shape `(B, C)`.

# %% slideshow={"slide_type": "-"}
def student_batch_norm(x, gamma, beta, eps=1e-5):
    """x: (B, C) -> normalise each column over the batch, then scale by gamma and shift by beta."""
    # Your answer here.
    return x


check.batch_norm(student_batch_norm)

# %% jupyter={"source_hidden": true} slideshow={"slide_type": "skip"} tags=["solution"]
assert check.batch_norm(my_batch_norm)
check.batch_norm(my_batch_norm)

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Where it goes
# After the linear part of a layer, before the non-linearity: `Linear -> BatchNorm1d -> ReLU`
# and `Conv2d -> BatchNorm2d -> ReLU`.

# %% slideshow={"slide_type": "-"}
cnn_bn = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding=1),
    nn.BatchNorm2d(8),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(8 * 4 * 4, 32),
    nn.BatchNorm1d(32),
    nn.ReLU(),
    nn.Linear(32, 10),
)
x8_train, y8_train = data.load_digits8("train")
acts = {}
for index in (1, 6):
    cnn_bn[index].register_forward_hook(lambda m, i, o, index=index: acts.__setitem__(index, o.detach()))
cnn_bn(x8_train[:64] * 5 + 2)  # a badly scaled input on purpose
channel_mean, channel_std = acts[1].mean((0, 2, 3)).abs().max(), acts[1].std((0, 2, 3)).mean()
print(f"after BatchNorm2d: channel means {channel_mean:.1e} (max |.|), stds ~ {channel_std:.3f}")
print(
    f"after BatchNorm1d: unit means    {acts[6].mean(0).abs().max():.1e} (max |.|), stds ~ {acts[6].std(0).mean():.3f}"
)


# %% [markdown] slideshow={"slide_type": "slide"}
# ### Claim 1 · It allows higher learning rates
# The same 6-layer MLP (He initialisation) on the 8x8 digits, plain SGD, 8 epochs, without and with
# BN after each hidden layer. Final training loss per learning rate; a cross marks a run that blew
# up (NaN, caught by `fit`'s guard).

# %% slideshow={"slide_type": "subslide"}
def final_loss(batch_norm, lr=0.05, init_scale=1.0, epochs=8):
    cl.seed_everything(0)
    net = deep_mlp(64, 64, depth=6, batch_norm=batch_norm, init_scale=init_scale)
    try:
        with warnings.catch_warnings():  # bad settings on purpose: fit's "loss did not fall" is expected
            warnings.simplefilter("ignore", RuntimeWarning)
            h = fit(
                net,
                (x8_train, y8_train),
                nn.CrossEntropyLoss(),
                epochs=epochs,
                batch_size=64,
                optimizer=torch.optim.SGD(net.parameters(), lr=lr),
                progress=False,
            )
    except NonFiniteLossError:
        return float("nan")
    return float(np.mean(h.step_loss[-20:]))


learning_rates = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
lr_sweep = {bn: [final_loss(bn, lr=lr) for lr in learning_rates] for bn in (False, True)}


def plot_sweep(ax, xs, sweep, xlabel, title):
    for bn, colour in ((False, "tab:red"), (True, "tab:blue")):
        ys = np.array(sweep[bn])
        ok = ~np.isnan(ys)
        ax.plot(np.array(xs)[ok], ys[ok], "o-", color=colour, label="with BN" if bn else "without BN")
        ax.plot(np.array(xs)[~ok], np.full((~ok).sum(), 2.5), "x", color=colour, markersize=12, mew=3)
    ax.axhline(np.log(10), color="grey", ls=":", label="chance (log 10)")
    ax.set(xscale="log", xlabel=xlabel, ylabel="final training loss", title=title, ylim=(0, 2.7))
    ax.set_xticks(xs, [f"{v:g}" for v in xs])
    ax.minorticks_off()
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots(figsize=(6, 3.6))
plot_sweep(ax, learning_rates, lr_sweep, "learning rate (SGD)", "final loss vs learning rate (x = diverged)")
for lr, a, b in zip(learning_rates, lr_sweep[False], lr_sweep[True]):
    print(f"lr {lr:>4}: without BN {a:.3f}   with BN {b:.3f}")

# %% slideshow={"slide_type": "subslide"}
high = [i for i, lr in enumerate(learning_rates) if lr >= 1.0]
assert all(lr_sweep[True][i] < 0.5 for i in high), "with BN, lr >= 1 still trains"
assert all(not lr_sweep[False][i] < 1.0 for i in high), "without BN, lr >= 1 fails or diverges (NaN)"
print("at lr >= 1 only the BN network trains")

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Claim 2 · It is less sensitive to the initial weights
# Initial weights = He initialisation times a scale. Too small and the signal fades layer by
# layer; too large and it explodes. Learning rate 0.05 for all.

# %% slideshow={"slide_type": "subslide"}
init_scales = [0.25, 0.5, 1.0, 2.0, 4.0]
init_sweep = {bn: [final_loss(bn, lr=0.05, init_scale=s) for s in init_scales] for bn in (False, True)}
fig, ax = plt.subplots(figsize=(6, 3.6))
plot_sweep(ax, init_scales, init_sweep, "scale of the initial weights (x He)", "final loss vs initial scale")
worst = {bn: np.nan_to_num(np.array(v), nan=np.inf).max() for bn, v in init_sweep.items()}
print(f"worst final loss over the scales: without BN {worst[False]:.3f}, with BN {worst[True]:.3f}")
assert worst[True] < 1.5 and worst[True] < worst[False]

# %% slideshow={"slide_type": "subslide"}
bn_losses = init_sweep[True]
print(
    f"less sensitive, not immune: with BN the loss still grows from {bn_losses[0]:.2f} at {init_scales[0]}x "
    f"to {bn_losses[-1]:.2f} at {init_scales[-1]}x (chance is {np.log(10):.2f})"
)
assert bn_losses[-1] > bn_losses[0], "BN's own loss grows with the initial scale"
assert any(not v < 1.5 for v in init_sweep[False]), "without BN some scale fails (diverges or stays near chance)"


# %% [markdown] slideshow={"slide_type": "slide"}
# ### Claim 3 · A layer's inputs move less during training
# The inputs of the 4th hidden layer, on a fixed batch of 256 training digits, recorded every 5
# steps of training (SGD, lr 0.1), in training mode - what the layer sees while it learns. Without
# BN, every update of the earlier layers shifts what the 4th layer sees; with BN, that layer's
# input is re-normalised each time and only moves as the learnt $\gamma, \beta$ move.

# %% slideshow={"slide_type": "subslide"}
def record_layer_inputs(batch_norm, steps=300, every=5, layer=4):
    cl.seed_everything(0)
    net = deep_mlp(64, 64, depth=6, batch_norm=batch_norm)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    seen = []
    hook = linears[layer - 1].register_forward_hook(lambda m, inp, out: seen.append(inp[0].detach()))
    probe = x8_train[:256]
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    gen = torch.Generator().manual_seed(0)
    snapshots = []
    bns = [m for m in net if isinstance(m, nn.BatchNorm1d)]
    for step in range(steps + 1):
        if step % every == 0:
            for bn in bns:
                bn.momentum = 0.0  # look without updating the running statistics
            with torch.no_grad():
                seen.clear()
                net(probe)
                snapshots.append(seen[0])
            for bn in bns:
                bn.momentum = 0.1
        idx = torch.randint(0, len(x8_train), (64,), generator=gen)
        loss = nn.functional.cross_entropy(net(x8_train[idx]), y8_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    hook.remove()
    return torch.stack(snapshots)  # (snapshots, 256 examples, 64 units)


inputs = {bn: record_layer_inputs(bn) for bn in (False, True)}

# %% slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, 3, figsize=(13, 3.1))
for bn, colour in ((False, "tab:red"), (True, "tab:blue")):
    snaps = inputs[bn]
    label = "with BN" if bn else "without BN"
    steps_axis = np.arange(len(snaps)) * 5
    axes[0].plot(steps_axis, snaps.mean((1, 2)), color=colour, label=label)
    axes[1].plot(steps_axis, snaps.std((1, 2)), color=colour, label=label)
for ax, what in zip(axes[:2], ("mean", "standard deviation")):
    ax.set(xlabel="training step", ylabel=what, title=f"{what} of layer 4's inputs")
    ax.legend()
    ax.grid(alpha=0.3)
for bn, colour in ((False, "tab:red"), (True, "tab:blue")):
    for snap, ls in ((inputs[bn][0], ":"), (inputs[bn][-1], "-")):
        axes[2].hist(snap.flatten().numpy(), bins=60, range=(0, 4), histtype="step", color=colour, ls=ls, density=True)
axes[2].set(title="histograms: dotted = start, solid = end", xlabel="input value", yscale="log")
keys = (("tab:red", "-", "without BN"), ("tab:blue", "-", "with BN"), ("grey", ":", "step 0"), ("grey", "-", "end"))
axes[2].legend(handles=[plt.Line2D([], [], color=c, ls=ls, label=t) for c, ls, t in keys], fontsize=8)
fig.tight_layout()


# %% slideshow={"slide_type": "subslide"}
def drift(snaps):
    """How far the (per-unit) mean and std travel from their starting values, relative to the starting std."""
    mean, std = snaps.mean(1), snaps.std(1)
    return ((mean - mean[0]).abs().mean() + (std - std[0]).abs().mean()).item() / snaps[0].std().item()


moves = {bn: drift(inputs[bn]) for bn in (False, True)}
print(f"drift of layer 4's input distribution: without BN {moves[False]:.3f}, with BN {moves[True]:.3f}")
print("(in starting standard deviations: 1 = the units' means and spreads moved by a whole starting std)")
assert moves[True] < moves[False]

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
# - **Dropout**: zero units with probability p in training, scale the rest by 1/(1-p), nothing at
#   test time (`model.eval()`). It narrowed the train/test gap of an over-fitting network.
# - **Batch norm**: normalise per unit (per channel for convolutions) over the batch, then scale and
#   shift; running statistics at test time. It trained at learning rates where the plain network
#   diverged, kept training at initial scales where the plain network failed (its own loss still grew
#   with the scale), and kept a layer's inputs steadier.
#
# Try: set `EPOCHS = 150` at the top, or p = 0.2 in the over-fitting experiment. Next:
# `02_convolution_pooling_lenet`.
