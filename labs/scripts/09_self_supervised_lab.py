# ---
# jupyter:
#   course_lab: 09_self_supervised_lab
#   kernelspec:
#     display_name: Python 3 (course)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab 09 · Self-supervised learning
#
# After lecture 09. You write the two losses of siamese networks, then train an encoder on digits
# **without labels** - two shifted copies of a digit should get close codes, two different digits
# distant ones - and show that its features beat raw pixels when only 200 labels are available.
#
# | task | what | points |
# |---|---|---|
# | 1 | the triplet loss | 1 |
# | 2 | the contrastive loss | 1 |
# | 3 | a siamese encoder trained without labels that beats raw pixels | 4 |
# | 4 | in your words: what the pretext task teaches | 2 (graded by hand) |
#
# **How you are graded.** Write your code where it says `# YOUR CODE HERE` (and delete the
# `raise NotImplementedError()`). The test cells print a hint when something is off; when you
# submit, the autograder also runs hidden tests on inputs drawn afresh. Check your copy at any
# time: `python -m course_lib grade YOUR_COPY.ipynb` gives the score the instructor's autograder
# gives.
#
# **Time budget.** The training in task 3 takes about 25 s on one core; the grader stops any cell
# after 180 s and runs your notebook on one CPU core.

# %%
import course_lib as cl  # first: the CPU thread policy

# isort: split
import torch
from torch import nn

from course_lib import check
from course_lib.check import lab09_self_supervised as lab09
from course_lib.check.labs import require

cl.seed_everything(0)

# %% [markdown]
# ## Task 1 · The triplet loss (1 point)
# `triplet_loss(a, p, n, alpha)`: for batches of anchor, positive and negative codes `(B, d)`,
# the mean over the batch of $\max(\lVert a - p\rVert - \lVert a - n\rVert + \alpha,\ 0)$.

# %% nbgrader={"grade": false, "grade_id": "t1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def triplet_loss(a, p, n, alpha):
    ### BEGIN SOLUTION
    return ((a - p).norm(dim=1) - (a - n).norm(dim=1) + alpha).clamp_min(0).mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t1_test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(check.triplet_loss(triplet_loss))
### BEGIN HIDDEN TESTS
require(lab09.triplet_loss_fresh(triplet_loss))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 2 · The contrastive loss (1 point)
# `contrastive_loss(z1, z2, same, margin)`: pairs of codes `(B, d)` and `same` `(B,)` (1 for a pair
# of the same thing, 0 otherwise); with $d = \lVert z_1 - z_2\rVert$, the mean of
# $\text{same}\cdot d^2 + (1 - \text{same})\cdot\max(\text{margin} - d, 0)^2$.

# %% nbgrader={"grade": false, "grade_id": "t2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def contrastive_loss(z1, z2, same, margin):
    ### BEGIN SOLUTION
    d = (z1 - z2).norm(dim=1)
    return (same * d**2 + (1 - same) * (margin - d).clamp_min(0) ** 2).mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t2_test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(check.contrastive_loss(contrastive_loss))
### BEGIN HIDDEN TESTS
require(lab09.contrastive_loss_fresh(contrastive_loss))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 3 · A siamese encoder, without labels (4 points)
# Build an `encoder` mapping digits `(B, 1, 28, 28)` to at most 128 features and train it with your
# triplet loss on the unlabelled digits below: the anchor and the positive are two random shifts of
# the same digit (`lab09.augment`), the negative another digit of the batch.
#
# It is graded on fresh digits: a logistic-regression probe trained on **200 labelled digits**
# reads your features, and the same probe reads the raw pixels; both are scored on 2,000 test
# digits. **Gain over raw pixels at least +0.03: 2 points; at least +0.06: 3 points**; 1 point for
# the interface. Budget: at most 60 s of training on one core.

# %%
x_unlabelled = lab09.unlabelled_digits()
print(f"unlabelled digits: {tuple(x_unlabelled.shape)}")

# %% nbgrader={"grade": false, "grade_id": "t3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
encoder = nn.Sequential(
    nn.Conv2d(1, 16, 5, padding=2),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 5, padding=2),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(32 * 7 * 7, 64),
)
optimizer = torch.optim.Adam(encoder.parameters(), lr=1e-3)
for epoch in range(10):
    for idx in torch.randperm(len(x_unlabelled)).split(64):
        batch = x_unlabelled[idx]
        anchor, positive = encoder(lab09.augment(batch)), encoder(lab09.augment(batch))
        negative = positive.roll(1, dims=0)  # another digit of the batch
        loss = triplet_loss(anchor, positive, negative, 1.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
print(f"last batch's triplet loss: {loss.item():.3f}")
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "t3_interface", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(lab09.interface(encoder))

# %% nbgrader={"grade": true, "grade_id": "t3_probe", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# graded on fresh digits: probe gain over raw pixels >= +0.03: 2 points, >= +0.06: 3 points
### BEGIN HIDDEN TESTS
lab09.probe_points(encoder)
### END HIDDEN TESTS

# %% [markdown]
# ## Task 4 · In your words (2 points, graded by hand)
# Your encoder never saw a label. In three or four sentences: what did the pretext task (shifted
# copies close, other digits far) teach it, and why does that help a classifier that has only 200
# labels?

# %% [markdown] nbgrader={"grade": true, "grade_id": "t4_answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# A model answer (the student's copy has an empty cell here). To put two shifted copies close and
# other digits far, the encoder must ignore where the digit sits and keep what distinguishes one
# digit's shape from another's: its features are shift-tolerant descriptions of shape. Digits of
# the same class share shape, so they land near each other, and a linear probe needs few labels
# to separate them; on raw pixels the same digit shifted by a few pixels looks unrelated, which
# 200 labels cannot cover. 1 point for invariance to the augmentation, 1 for the few-labels gain.
