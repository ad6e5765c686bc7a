# %% [markdown] slideshow={"slide_type": "slide"}
# # 00 · Getting started
#
# Welcome to a hands-on course on deep learning architectures. Every notebook:
#
# - **runs top to bottom on a laptop CPU in about a minute**, offline;
# - imports one small library, `course_lib`, for the things you have already learnt
#   (datasets, a training loop, plots, widgets);
# - writes each new idea out in a few lines first, then checks it against the library or PyTorch;
# - has **sliders and buttons** to play with, and **exercises** that check your answer.
#
# Run a cell with **Shift+Enter**. Change a number and run it again: that is the point.
# Wait until the kernel is ready (the circle at the top right is empty and the status bar says
# "Idle") before *Run All*: pressed earlier, JupyterLab silently runs nothing.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The one knob
# Each notebook keeps the setting that trades time for quality in one visible variable at the top.

# %% slideshow={"slide_type": "-"}
EPOCHS = 30  # more epochs: a better classifier, a longer wait

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Check the environment
# `seed_everything` makes every run print the same numbers; `get_device` picks a GPU when there
# is one (cuda, then Apple's mps) and the CPU otherwise.

# %% slideshow={"slide_type": "-"}
import course_lib as cl  # first: it sets the CPU thread policy before torch loads (section 7)

# isort: split
import time

import matplotlib.pyplot as plt
import torch
from torch import nn

from course_lib import check, data, plot
from course_lib.train import accuracy, evaluate, fit

cl.seed_everything(0)
device = cl.get_device()
for name, value in cl.environment_report().items():
    print(f"{name:>15}: {value}")
assert torch.__version__.startswith("2.13"), "run `make lab` so the course's own environment is used"

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The datasets
# All of them live in `course_lib.data`, need no network, and give the same images for the same seed.
# Images are tensors of shape `(N, 1, H, W)` with values in `[0, 1]`.
#
# **Real handwritten 8x8 digits** (1,797 scans bundled with scikit-learn), with a fixed train/test split:

# %% slideshow={"slide_type": "-"}
x8_train, y8_train = data.load_digits8("train")
x8_test, y8_test = data.load_digits8("test")
print(
    "train:",
    tuple(x8_train.shape),
    " test:",
    tuple(x8_test.shape),
    " range:",
    x8_train.min().item(),
    "to",
    x8_train.max().item(),
)
plot.image_grid(x8_train[:32], nrow=16, title="load_digits8: real 8x8 scans, labels below", labels=y8_train[:32]);

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Procedural 28x28 digits**: glyphs from 13 fonts, with random stroke width, rotation, shear, shift
# and an elastic warp. MNIST-like, any number of them, in seconds.

# %% slideshow={"slide_type": "-"}
start = time.perf_counter()
x28, y28 = data.make_digits28(10_000, seed=0)
print(
    f"10,000 digits in {time.perf_counter() - start:.1f} s; shape {tuple(x28.shape)}; images per class:",
    torch.bincount(y28).tolist(),
)
again, _ = data.make_digits28(10_000, seed=0)
assert torch.equal(x28, again), "same seed, same images"
plot.image_grid(x28[:48], nrow=16, title="make_digits28: procedural 28x28 digits", labels=y28[:48]);

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Shapes with known factors**: each image is made from five numbers (shape, scale, rotation, x, y) that we keep.
# Later a VAE will try to discover them without being told.

# %% slideshow={"slide_type": "-"}
x_shapes, factors = data.make_shapes(2_000, seed=0)
print("factors:", {k: tuple(v.shape) for k, v in factors.items()})
plot.image_grid(x_shapes[:16], nrow=16, title="make_shapes: random factors");

# %% [markdown] slideshow={"slide_type": "fragment"}
# `render_shapes` draws from chosen factors. Here each row moves **one** factor and keeps the other four fixed:

# %% slideshow={"slide_type": "subslide"}
steps = torch.linspace(0, 1, 8)
base = {
    "shape": torch.full((8,), 2),
    "scale": torch.full((8,), 0.8),
    "rotation": torch.zeros(8),
    "x": torch.zeros(8),
    "y": torch.zeros(8),
}
sweeps = {
    "shape": torch.arange(8) % 3,
    "scale": 0.5 + 0.5 * steps,
    "rotation": (steps - 0.5) * 1.04,
    "x": steps - 0.5,
    "y": steps - 0.5,
}
rows = [data.render_shapes(**{**base, name: values}) for name, values in sweeps.items()]
plot.image_grid(torch.cat(rows), nrow=8, title="rows: shape, scale, rotation, x, y (one factor changes per row)");

# %% [markdown] slideshow={"slide_type": "subslide"}
# **2D toy distributions** for watching a GAN learn, and **moving shapes** for next-frame prediction.

# %% slideshow={"slide_type": "-"}
fig, axes = plt.subplots(1, 4, figsize=(13, 3.2))
for ax, name in zip(axes, data.TOY2D_NAMES):
    pts = data.make_toy2d(name, 2_000, seed=0)
    ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.5)
    ax.set_title(f"make_toy2d('{name}')")
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
    ax.set_aspect("equal")
fig.tight_layout()

# %% slideshow={"slide_type": "subslide"}
clips = data.make_moving_shapes(4, frames=8, seed=0)
print("clips:", tuple(clips.shape), "= (clip, frame, channel, height, width)")
plot.image_grid(clips.reshape(-1, 1, 32, 32), nrow=8, title="make_moving_shapes: 4 clips, time runs left to right");

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. A widget: browse the digits
# Drag the slider (or click it and use the arrow keys). Widgets in this course keep a small **state**
# and draw it with a **pure render function** (state -> PNG bytes), so they are fast and testable.

# %% slideshow={"slide_type": "subslide"}
from course_lib.widgets import DatasetBrowser

browser = DatasetBrowser(x28[:1000], y28[:1000], title="make_digits28, first 1,000")
browser

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes: drag the **index** slider slowly through a few hundred digits, then jump to the end of its range. (In the slideshow, drag with the mouse: the arrow keys move between slides.) Ask: which of the 13 fonts look least like handwriting? Each move swaps a PNG (about a millisecond), which is why it keeps up with the mouse.

# %% [markdown] slideshow={"slide_type": "fragment"}
# The same thing the slider does, from code: moving it changes the picture.

# %% slideshow={"slide_type": "subslide"}
before = browser.image.value
browser.set_index(7)
assert browser.image.value != before and browser.state.index == 7
print("label of image 7:", int(y28[7]))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Train a tiny classifier with `fit`
# A multilayer perceptron on the real 8x8 digits: 64 pixels -> 128 -> 64 -> 10 class scores.
# `fit` shows a progress bar and a live loss curve, and returns the history per epoch.

# %% slideshow={"slide_type": "-"}
cl.seed_everything(0)
model = cl.models.MLPClassifier(in_features=64, hidden=[128, 64], classes=10).to(device)
print(model)

# %% slideshow={"slide_type": "subslide"}
live = plot.LiveLossPlot()
history = fit(
    model,
    (x8_train, y8_train),
    nn.CrossEntropyLoss(),
    epochs=EPOCHS,
    lr=2e-3,
    batch_size=64,
    eval_data=(x8_test, y8_test),
    metrics={"acc": accuracy},
    callbacks=[live],
)
live.close(history)
print(f"test accuracy after {EPOCHS} epochs: {history.last('val_acc'):.3f}")

# %% slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
plot.loss_curves(history, ["train_loss", "val_loss"], ax=axes[0], title="cross-entropy per epoch")
epochs = range(1, EPOCHS + 1)
axes[1].plot(epochs, history["train_acc"], label="train")
axes[1].plot(epochs, history["val_acc"], label="test (held out)")
axes[1].set_xlabel("epoch")
axes[1].set_ylabel("accuracy")
axes[1].set_title("accuracy per epoch")
axes[1].legend()
axes[1].grid(alpha=0.3)
fig.tight_layout()

# %% [markdown] slideshow={"slide_type": "fragment"}
# Claims in this course are checked by code. This one: the tiny model gets more than 90% of
# held-out digits right.

# %% slideshow={"slide_type": "subslide"}
test_acc = history.last("val_acc")
assert test_acc > 0.9, test_acc
print(f"held-out accuracy {test_acc:.3f} > 0.9")


# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Exercise: accuracy by hand
# Write `my_accuracy(logits, labels)`: `logits` is a `(B, 10)` tensor of class scores, `labels` a `(B,)`
# tensor of integers. Return the **fraction** (a float between 0 and 1) of rows whose highest score is
# at the label. Run the cell: `check.accuracy` says *passed*, or gives a hint that names the mistake.

# %% slideshow={"slide_type": "-"}
def my_accuracy(logits, labels):
    """logits: (B, C), labels: (B,) -> fraction of rows whose arg-max equals the label."""
    # Your answer here (hint: Tensor.argmax takes a dim).
    return None


check.accuracy(my_accuracy)


# %% [markdown] slideshow={"slide_type": "skip"}
# Solution (open it once you have tried):

# %% jupyter={"source_hidden": true} slideshow={"slide_type": "skip"} tags=["solution"]
def solution_accuracy(logits, labels):
    return (logits.argmax(dim=1) == labels).float().mean().item()


assert check.accuracy(solution_accuracy)
check.accuracy(solution_accuracy)

# %% [markdown] slideshow={"slide_type": "fragment"}
# A typical slip and the hint it gets:

# %% slideshow={"slide_type": "-"}
check.accuracy(lambda logits, labels: (logits.argmax(dim=1) == labels).sum().item())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Shipped weights, loaded safely
# Long trainings are shipped as small checkpoints in `data/`, each rebuilt by
# `python -m course_lib.pretrain NAME`. Loading checks the file's sha256 against `data/MANIFEST.json`
# and reads tensors only (`torch.load(..., weights_only=True)`): a checkpoint never runs code.

# %% slideshow={"slide_type": "-"}
from course_lib import checkpoints

shipped = checkpoints.load_checkpoint("digits_mlp", cl.models.MLPClassifier)
result = evaluate(shipped, (x8_test, y8_test), nn.CrossEntropyLoss(), {"acc": accuracy})
recorded = checkpoints.manifest()["checkpoints"]["digits_mlp"]["metrics"]["test_acc"]
print(f"shipped digits_mlp: test accuracy {result['acc']:.4f} (manifest says {recorded})")
assert abs(result["acc"] - recorded) < 1e-3

# %% [markdown] slideshow={"slide_type": "fragment"}
# A damaged copy is refused before anything is read, with the command that rebuilds it:

# %% slideshow={"slide_type": "subslide"}
import shutil
import tempfile
from pathlib import Path

with tempfile.TemporaryDirectory() as tmp:
    shutil.copytree(cl.DATA_DIR / "checkpoints", Path(tmp) / "checkpoints")
    shutil.copy(cl.DATA_DIR / "MANIFEST.json", tmp)
    damaged = Path(tmp) / "checkpoints" / "digits_mlp.pt"
    blob = bytearray(damaged.read_bytes())
    blob[-100] ^= 0xFF
    damaged.write_bytes(bytes(blob))
    try:
        checkpoints.load_checkpoint("digits_mlp", cl.models.MLPClassifier, data_dir=tmp)
        raise AssertionError("a damaged checkpoint was loaded")
    except checkpoints.CheckpointError as err:
        print("CheckpointError:", err)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Behind the scenes: sharing the CPU
# PyTorch splits big operations over threads. By default it starts one per core and lets idle threads
# *spin*, which is a little faster alone and much slower beside anything else: a second notebook,
# the tests, or 30 classmates on one server (the bench measured two such processes on 2 cores at about
# 4x slower each, not 2x: [bench/results.md](../bench/results.md), section 5).
# So `import course_lib` sets a policy **before torch loads**: idle threads sleep (`OMP_WAIT_POLICY=PASSIVE`),
# and it uses one thread fewer than the CPUs this kernel may really use (its CPU affinity and container
# quota, not the host's core count), at least one: the spare CPU keeps the browser, the server and other
# kernels responsive. `COURSE_THREADS=N` overrides the count. That is why every notebook imports
# `course_lib` first; the course's kernel also carries the setting. The line `threads because` of section 1 says what it chose:

# %% slideshow={"slide_type": "subslide"}
policy = cl.threads.current()
print(policy.describe())
print(
    "torch uses",
    torch.get_num_threads(),
    "thread(s); this kernel may run on",
    policy.affinity,
    "CPU(s);",
    "container CPU quota:",
    "none" if policy.quota is None else policy.quota,
)
assert torch.get_num_threads() == policy.threads

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What next
# - `01_dropout_batchnorm`: two tricks that made deep networks trainable.
# - Change `EPOCHS` at the top to 3 and run everything again (**Run > Run All Cells**): what happens to the accuracy?
