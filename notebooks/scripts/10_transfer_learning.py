# %% [markdown] slideshow={"slide_type": "slide"}
# # 10 · Transfer learning
#
# Notebook 09 trained encoders on pretext tasks with no labels at all. Now we **reuse** one: copy
# its early layers into a new model, put a fresh classifier head on top, and train on a new task
# that has few labels. Three ways to do it:
#
# - **from scratch**: same architecture, random weights (the baseline);
# - **frozen**: copy the pre-trained layers and never change them; train only the head;
# - **fine-tuned**: copy them, then let them change too (gently: a smaller learning rate than the head).

# %% slideshow={"slide_type": "-"}
STEPS = 200  # training steps per run (about; small label sets are repeated)
SOURCE = "ssl_simclr"  # the pre-trained encoder: ssl_simclr, ssl_siamese, ssl_triplet, ssl_inpainting or ssl_jigsaw

# %% slideshow={"slide_type": "skip"}
import course_lib as cl  # first: it sets the CPU thread policy before torch loads (see 00)

# isort: split
import copy

import matplotlib.pyplot as plt
import torch

from course_lib import check, data, plot, probes
from course_lib.models import transfer
from course_lib.models.encoder import ConvEncoder
from course_lib.source import show_source
from course_lib.train import accuracy, predict

cl.seed_everything(0)
device = cl.get_device()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The new task: real handwriting
# The encoders learned from *procedural* digits rendered from fonts. The new task is the 1,797
# **real** handwritten digits scanned at 8x8 (scikit-learn), scaled up to 28x28 - a different
# source, blurrier strokes, different styles. Training set 1,438 images, test 359.

# %% slideshow={"slide_type": "-"}
x_train8, y_train = data.load_digits8("train")
x_test8, y_test = data.load_digits8("test")
x_train, x_test = data.upscale_digits8(x_train8), data.upscale_digits8(x_test8)
source_digits, _ = data.make_digits28(8, seed=0)
plot.image_grid(
    torch.cat([source_digits, x_train[:8]]),
    nrow=8,
    title="top: the pretext data (procedural digits)   bottom: the new task (real 8x8 scans, upscaled)",
);


# %% [markdown] slideshow={"slide_type": "slide"}
# ## Copying layers
# The `ConvEncoder` has three blocks (conv - batch norm - ReLU, each halving the size). Copying the
# first $k$ blocks means copying their **values** into a new model - not sharing the tensors, or
# training the new model would quietly change the pre-trained one.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1 · Copy the first k blocks
# Write `student_copy_blocks(source, k)`: a **new** `ConvEncoder()` whose blocks `0..k-1` hold
# copies of `source.blocks[i]` (try `load_state_dict(... .state_dict())`), the rest left fresh.

# %% slideshow={"slide_type": "-"}
def student_copy_blocks(source, k):
    """source: a ConvEncoder; k: 0..3 -> a new ConvEncoder."""
    # Your answer here.
    new = ConvEncoder()
    for i in range(k):
        new.blocks[i] = source.blocks[i]
    return new


check.copy_blocks(student_copy_blocks)


# %% jupyter={"source_hidden": true} slideshow={"slide_type": "skip"} tags=["solution"]
def solution_copy_blocks(source, k):
    new = ConvEncoder()
    for i in range(k):
        new.blocks[i].load_state_dict(source.blocks[i].state_dict())
    return new


assert check.copy_blocks(solution_copy_blocks)
check.copy_blocks(solution_copy_blocks)


# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 · Freeze them
# Write `student_freeze(model, k)`: the first `k` blocks of `model.encoder` stop learning
# (`requires_grad = False` on their parameters); later blocks and `model.head` keep learning.

# %% slideshow={"slide_type": "-"}
def student_freeze(model, k):
    """model: has .encoder.blocks and .head; freezes blocks 0..k-1 in place."""
    # Your answer here.
    model.encoder.requires_grad_(False)


check.freeze(student_freeze)


# %% jupyter={"source_hidden": true} slideshow={"slide_type": "skip"} tags=["solution"]
def solution_freeze(model, k):
    for block in model.encoder.blocks[:k]:
        for p in block.parameters():
            p.requires_grad = False


assert check.freeze(solution_freeze)
check.freeze(solution_freeze)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## One run of each, with the library versions
# `transfer.copy_blocks` and `transfer.freeze_blocks` do what you just wrote; `transfer.TransferNet` adds the
# head (and keeps frozen blocks' batch-norm statistics fixed too). `run` trains one model for
# about `STEPS` steps on a labelled subset and returns its test accuracy.

# %% slideshow={"slide_type": "-"}
show_source(transfer.TransferNet, skip_docstrings=True)

# %% slideshow={"slide_type": "subslide"}
pretrained = probes.load_encoder(SOURCE, device=device)
before = copy.deepcopy(pretrained.state_dict())


def run(strategy, fraction, k=3, source=pretrained):
    """strategy: "scratch" | "frozen" | "fine-tuned"; k: how many blocks are copied (and frozen)."""
    labelled = probes.label_subset(y_train, fraction)
    cl.seed_everything(0)
    model = transfer.TransferNet(transfer.copy_blocks(source, 0 if strategy == "scratch" else k))
    if strategy == "frozen":
        transfer.freeze_blocks(model, k)
    probes.train_steps(model, x_train[labelled], y_train[labelled], steps=STEPS)
    return accuracy(predict(model, x_test), y_test)


one_run = run("fine-tuned", 0.1)
print(f"fine-tuned, 10% of the labels: test accuracy {one_run:.3f}")
assert all(torch.equal(v, pretrained.state_dict()[n]) for n, v in before.items()), "the source is untouched"
assert one_run == probes.transfer_accuracy(
    pretrained, "fine-tuned", (x_train, y_train), (x_test, y_test), 0.1, steps=STEPS
), "the library's transfer_accuracy does the same"

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1%, 10% and 100% of the labels
# 1% is one labelled image per digit; 100% is all 1,438. Nine runs, a few seconds each:

# %% slideshow={"slide_type": "-"}
fractions = [0.01, 0.1, 1.0]
strategies = ["scratch", "frozen", "fine-tuned"]
results = {s: [run(s, f) for f in fractions] for s in strategies}
print(f"{'labels':>12} " + " ".join(f"{s:>11}" for s in strategies) + "   (guessing: 0.100)")
for j, f in enumerate(fractions):
    n = len(probes.label_subset(y_train, f))
    print(f"{f:>5.0%} ({n:>4}) " + " ".join(f"{results[s][j]:>11.3f}" for s in strategies))

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots(figsize=(6, 3.3))
for s, marker in zip(strategies, "osD"):
    ax.plot([len(probes.label_subset(y_train, f)) for f in fractions], results[s], marker=marker, label=s)
ax.set(
    xscale="log",
    xlabel="labelled training images (log scale)",
    ylabel="test accuracy",
    title=f"real 8x8 digits: transfer from {SOURCE} vs scratch",
    ylim=(0, 1),
)
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Reading the table
# - With **few labels** the copied layers help: the model does not have to learn strokes and
#   shapes from a handful of images.
# - With **all the labels** training from scratch catches up (here within a point or two): the
#   data alone can teach the features, and the pre-training's advantage shrinks.
# - **Frozen** is cheapest (only the head trains) but is capped by how well the source features
#   fit the new task; **fine-tuning** adapts them, which matters because these digits differ from
#   the pretext data.

# %% slideshow={"slide_type": "-"}
best_low = max(results["frozen"][1], results["fine-tuned"][1])
print(
    f"10% of labels: best transferred {best_low:.3f} vs scratch {results['scratch'][1]:.3f}; "
    f"100%: fine-tuned {results['fine-tuned'][2]:.3f} vs scratch {results['scratch'][2]:.3f}"
)
assert best_low >= results["scratch"][1], "transfer helps when labels are few"
assert abs(results["fine-tuned"][2] - results["scratch"][2]) < 0.05, "with every label, scratch catches up"

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Which layers to copy: shallow or deep?
# The usual hypothesis: early layers compute generic things - edges, stroke pieces - that any digit
# task needs, and deeper layers combine them into what the **pretext task** needed, which may not be
# what the new task needs. To test it, So copy $k$ = 1, 2 or 3 blocks, freeze them, and train the rest from scratch, with 10% of
# the labels - for the contrastive encoder and for the jigsaw encoder (whose pretext task has
# little to do with what digit it is). If the first block is generic, copying it from either should
# do about as well as training it:

# %% slideshow={"slide_type": "subslide"}
sources = {
    "contrastive (SimCLR)": probes.load_encoder("ssl_simclr", device=device),
    "jigsaw": probes.load_encoder("ssl_jigsaw", device=device),
}
depth = {name: [run("frozen", 0.1, k, src) for k in (1, 2, 3)] for name, src in sources.items()}
scratch_10 = results["scratch"][1]

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots(figsize=(6, 3.3))
for (name, accs), marker in zip(depth.items(), "os"):
    ax.plot([1, 2, 3], accs, marker=marker, label=f"copy + freeze from {name}")
    print(f"{name:>21}: k=1 {accs[0]:.3f}  k=2 {accs[1]:.3f}  k=3 {accs[2]:.3f}")
ax.axhline(scratch_10, color="#999999", ls="--", label=f"from scratch ({scratch_10:.3f})")
ax.set(xticks=[1, 2, 3], xlabel="blocks copied and frozen (the rest trained from scratch)", ylabel="test accuracy")
ax.set_title("10% of the labels: how deep to copy")
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
fig.tight_layout()
assert depth["jigsaw"][0] > depth["jigsaw"][2] + 0.1, "the jigsaw encoder's deepest block does not transfer"
assert min(accs[0] for accs in depth.values()) > scratch_10 - 0.03, "either first block does about as well as training"

# %% [markdown] slideshow={"slide_type": "subslide"}
# Copying and freezing the first one or two blocks is about as good as training them, or better,
# whichever pretext task trained them: evidence that those layers are generic. The third block is where the sources part ways: the contrastive
# encoder's deepest features still carry digit identity (though tuned to the procedural digits:
# copying two blocks does best here), while the jigsaw encoder's deepest block holds what the
# puzzle needed - how tiles meet - and freezing it costs many points.

# %% slideshow={"slide_type": "-"}
assert max(depth["contrastive (SimCLR)"][:2]) >= depth["contrastive (SimCLR)"][2], "a shallower copy is as good"

# %% [markdown] slideshow={"slide_type": "slide"}
# ### What a shallow layer computes
# The first block's 32 feature maps for one real digit (15 shown): ink, edges on one side of a
# stroke, strokes of one orientation - what the hypothesis expects of a generic layer (the depth
# test above is the evidence that it transfers; the pictures only show what it computes).

# %% slideshow={"slide_type": "-"}
with torch.no_grad():
    maps = sources["contrastive (SimCLR)"].blocks[0](x_test[:1].to(device))[0].cpu()  # (32, 14, 14)
maps = maps / maps.amax((1, 2), keepdim=True).clamp(min=1e-6)
plot.image_grid(
    torch.cat([torch.nn.functional.interpolate(x_test[:1], size=14), maps[:15, None]]),
    nrow=8,
    title="a real test digit (first image, 14x14) and 15 maps of the first copied block",
);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Your turn: the transfer lab
# Pick a source encoder, a strategy, a share of the labels and how many blocks to copy, then
# press **train** (a few seconds; it trains in the background, so the notebook stays usable).
# Every finished run becomes a point. Questions to try: does the inpainting encoder transfer as
# well as the contrastive one? At 2% of the labels, is frozen or fine-tuned better? Copy 3 blocks
# of the jigsaw encoder and freeze them - what happens? The nine runs of the table are already on
# the chart.

# %% slideshow={"slide_type": "subslide"}
from course_lib.widgets import TransferLab, TransferState

lab = TransferLab(
    {
        name: probes.load_encoder(name, device=device)
        for name in ("ssl_simclr", "ssl_triplet", "ssl_siamese", "ssl_inpainting", "ssl_jigsaw")
    },
    (x_train, y_train),
    (x_test, y_test),
    steps=STEPS,
)

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes: ask the class to predict first, then choose **source** ssl_inpainting, **strategy** frozen, **labels** 2% and press **train**: a new point joins the chart in a few seconds. Repeat with ssl_simclr and compare.

# %% slideshow={"slide_type": "subslide"}
lab.source.value = SOURCE
for s in strategies:
    for f, acc in zip(fractions, results[s]):
        lab.record(TransferState(SOURCE, s, f, 3), acc)
lab

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What to take away
# - Transfer = copy the early layers of a model trained on something else (here a pretext task
#   with no labels), add a new head, train on the new task.
# - Frozen: fast, needs the source features to fit. Fine-tuned: adapts them. Both beat scratch when
#   labels are scarce; with plenty of labels scratch catches up.
# - Copy shallow layers when the source task or data differ (they are generic); copy deep ones
#   only when the source task is close to yours. Measure it - as above - rather than guess.
