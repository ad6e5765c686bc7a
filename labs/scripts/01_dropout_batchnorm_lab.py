# ---
# jupyter:
#   course_lab: 01_dropout_batchnorm_lab
#   kernelspec:
#     display_name: Python 3 (course)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab 01 · Dropout and batch normalization
#
# After lecture 01. You write dropout and batch normalization by hand, then use both in a network
# trained on digits.
#
# | task | what | points |
# |---|---|---|
# | 1 | dropout (inverted, training mode) | 1 |
# | 2 | batch normalization (training mode) | 2 |
# | 3 | a network with both, trained and judged on digits it never saw | 4 |
# | 4 | in your words: train mode and eval mode | 2 (graded by hand) |
#
# **How you are graded.** Write your code where it says `# YOUR CODE HERE` (and delete the
# `raise NotImplementedError()`). The test cells print a hint when something is off; when you
# submit, the autograder also runs hidden tests on inputs drawn afresh, so make your functions
# right for any shape, not only for the one printed. Check your copy at any time:
# `python -m course_lib grade YOUR_COPY.ipynb` gives the score the instructor's autograder gives.
#
# **Time budget.** The training in task 3 takes a few seconds on one core; the grader stops any
# cell after 180 s and runs your notebook on one CPU core.

# %%
import course_lib as cl  # first: the CPU thread policy

# isort: split
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import check
from course_lib.check import lab01_dropout_batchnorm as lab01
from course_lib.check.labs import require

cl.seed_everything(0)

# %% [markdown]
# ## Task 1 · Dropout (1 point)
# `dropout(x, p)` in training mode: each element of `x` (any shape) is zeroed with probability `p`,
# independently, and the elements kept are scaled by $1 / (1 - p)$ so the expectation is unchanged.

# %% nbgrader={"grade": false, "grade_id": "t1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def dropout(x, p):
    ### BEGIN SOLUTION
    keep = (torch.rand_like(x) >= p).to(x.dtype)
    return x * keep / (1 - p)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t1_test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(check.dropout(dropout))
### BEGIN HIDDEN TESTS
require(lab01.dropout_fresh(dropout))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 2 · Batch normalization (2 points)
# `batch_norm(x, gamma, beta, eps)` in training mode, for `x` of shape `(B, C)`: normalise each
# channel with the batch's mean and (biased) variance, then scale by `gamma` and shift by `beta`.

# %% nbgrader={"grade": false, "grade_id": "t2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def batch_norm(x, gamma, beta, eps):
    ### BEGIN SOLUTION
    mean = x.mean(0)
    var = x.var(0, unbiased=False)
    return (x - mean) / torch.sqrt(var + eps) * gamma + beta
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t2_test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
require(check.batch_norm(batch_norm))
### BEGIN HIDDEN TESTS
require(lab01.batch_norm_fresh(batch_norm))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 3 · A regularised network (4 points)
# Build a network with at least one `nn.BatchNorm1d` (or `2d`) and one `nn.Dropout` layer that maps
# digits `(B, 1, 28, 28)` to 10 class scores, train it on the images below, and leave it in
# `model`. It is graded on 2,000 digits drawn afresh when the autograder runs: **held-out accuracy
# at least 0.93: 2 points; at least 0.945: 3 points**; 1 point for the network's form. For
# comparison, logistic regression on the raw pixels reaches about 0.90.
# Budget: at most 60 s of training on one core (a few seconds suffice).

# %%
x_train, y_train = lab01.train_digits()
print(f"training digits: {tuple(x_train.shape)}, labels {tuple(y_train.shape)}")

# %% nbgrader={"grade": false, "grade_id": "t3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
model = nn.Sequential(
    nn.Flatten(),
    nn.Linear(784, 512),
    nn.BatchNorm1d(512),
    nn.ReLU(),
    nn.Dropout(0.3),
    nn.Linear(512, 10),
)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
model.train()
for epoch in range(15):
    for idx in torch.randperm(len(x_train)).split(64):
        loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
model.eval()
print(f"last batch's loss: {loss.item():.3f}")
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "t3_network", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(lab01.network(model))

# %% nbgrader={"grade": true, "grade_id": "t3_accuracy", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# graded on digits drawn afresh: held-out accuracy >= 0.93: 2 points, >= 0.945: 3 points
### BEGIN HIDDEN TESTS
lab01.accuracy_points(model)
### END HIDDEN TESTS

# %% [markdown]
# ## Task 4 · In your words (2 points, graded by hand)
# Your network behaves differently in `model.train()` and `model.eval()`. In three or four
# sentences: what do dropout and batch normalization each do differently at test time, and what
# would go wrong if you classified one test image at a time in train mode?

# %% [markdown] nbgrader={"grade": true, "grade_id": "t4_answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# A model answer (the student's copy has an empty cell here). At test time dropout keeps every unit
# (inverted dropout already scaled during training, so nothing is rescaled); batch norm uses the
# running mean and variance gathered in training instead of the batch's. In train mode a single
# test image would be normalised by its own statistics (a batch of one: zero variance, the output
# collapses to beta) and would get random units dropped, so predictions would be noisy and wrong.
# 1 point for each layer's difference, the batch-of-one failure for full marks.
