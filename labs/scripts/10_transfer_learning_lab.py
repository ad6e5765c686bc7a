# ---
# jupyter:
#   course_lab: 10_transfer_learning_lab
#   kernelspec:
#     display_name: Python 3 (course)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab 10 · Transfer learning
#
# After lecture 10. You write the two tools of transfer learning - copying a pre-trained
# encoder's first blocks into a new network, and freezing them - then fine-tune the course's
# self-supervised encoder on real scanned digits with only 143 labels.
#
# | task | what | points |
# |---|---|---|
# | 1 | copy the first k blocks | 1 |
# | 2 | freeze the first k blocks | 1 |
# | 3 | fine-tune a pre-trained encoder, judged on scans it never saw | 4 |
# | 4 | in your words: frozen or fine-tuned | 2 (graded by hand) |
#
# **How you are graded.** Write your code where it says `# YOUR CODE HERE` (and delete the
# `raise NotImplementedError()`). The test cells print a hint when something is off; when you
# submit, the autograder also runs hidden tests. Check your copy at any time:
# `python -m course_lib grade YOUR_COPY.ipynb` gives the score the instructor's autograder gives.
# The test scans (`data.load_digits8("test")`) are for grading only: training on them is
# cheating, and the instructor reads your code.
#
# **Time budget.** The fine-tuning in task 3 takes a few seconds on one core; the grader stops
# any cell after 180 s and runs your notebook on one CPU core.

# %%
import course_lib as cl  # first: the CPU thread policy

# isort: split
import torch
import torch.nn.functional as F

from course_lib import check, probes
from course_lib.check import lab10_transfer as lab10
from course_lib.check.labs import require
from course_lib.models.encoder import ConvEncoder
from course_lib.models.transfer import TransferNet

cl.seed_everything(0)
pretrained = probes.load_encoder("ssl_simclr")  # a ConvEncoder trained without labels (lecture 09)

# %% [markdown]
# ## Task 1 · Copy blocks (1 point)
# `copy_blocks(source, k)`: a **new** `ConvEncoder()` whose blocks `0..k-1` hold copies of the
# values of `source.blocks[0..k-1]` (not shared tensors); its other blocks keep their fresh values.

# %% nbgrader={"grade": false, "grade_id": "t1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def copy_blocks(source, k):
    ### BEGIN SOLUTION
    new = ConvEncoder()
    for i in range(k):
        new.blocks[i].load_state_dict(source.blocks[i].state_dict())
    return new
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t1_test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(check.copy_blocks(copy_blocks))
### BEGIN HIDDEN TESTS
require(lab10.copy_blocks_fresh(copy_blocks))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 2 · Freeze blocks (1 point)
# `freeze(model, k)`: `model` has `.encoder.blocks` and `.head`; the parameters of the first `k`
# blocks stop learning (`requires_grad = False`), everything else stays trainable. In place.

# %% nbgrader={"grade": false, "grade_id": "t2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def freeze(model, k):
    ### BEGIN SOLUTION
    for block in model.encoder.blocks[:k]:
        for p in block.parameters():
            p.requires_grad = False
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t2_test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(check.freeze(freeze))
### BEGIN HIDDEN TESTS
require(lab10.freeze_fresh(freeze))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 3 · Fine-tune (4 points)
# Build `model = TransferNet(copy_blocks(pretrained, ...))` (the encoder plus a new linear head)
# and train it on the 143 labelled scans below; freeze what you think best. It is graded on the
# 359 held-out test scans: **accuracy at least 0.915: 2 points; at least 0.93: 3 points**; 1 point
# for the interface. With these labels, logistic regression on pixels reaches 0.891 and the same
# network trained from scratch 0.908. Budget: at most 60 s of training on one core.

# %%
x_labelled, y_labelled = lab10.labelled_scans()
print(f"labelled scans: {tuple(x_labelled.shape)}, {len(y_labelled.unique())} classes")

# %% nbgrader={"grade": false, "grade_id": "t3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
model = TransferNet(copy_blocks(pretrained, 3))
optimizer = torch.optim.Adam(
    [{"params": model.encoder.parameters(), "lr": 1e-3}, {"params": model.head.parameters(), "lr": 1e-2}]
)
model.train()
for step in range(200):
    idx = torch.randint(0, len(x_labelled), (64,))
    loss = F.cross_entropy(model(x_labelled[idx]), y_labelled[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
model.eval()
print(f"last batch's loss: {loss.item():.3f}")
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "t3_interface", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(lab10.interface(model))

# %% nbgrader={"grade": true, "grade_id": "t3_accuracy", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# graded on the held-out scans: accuracy >= 0.915: 2 points, >= 0.93: 3 points
### BEGIN HIDDEN TESTS
lab10.accuracy_points(model)
### END HIDDEN TESTS

# %% [markdown]
# ## Task 4 · In your words (2 points, graded by hand)
# In three or four sentences: when would you freeze the copied blocks and train only the head,
# and when fine-tune them all? Answer with the number of labels and how close the new task is to
# the pretext data.

# %% [markdown] nbgrader={"grade": true, "grade_id": "t4_answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# A model answer (the student's copy has an empty cell here). With very few labels, freezing keeps
# the pre-trained features and trains only a few parameters, so the network cannot overfit the
# handful of examples; it works when the new task resembles the pretext data. With more labels, or
# a task further from the pretext data (real scans vs rendered digits), fine-tuning lets the early
# features adapt and usually wins, with a small learning rate so they are not destroyed.
# 1 point for few labels -> freeze, 1 for more labels / domain shift -> fine-tune.
