# ---
# jupyter:
#   course_lab: 02_convolution_pooling_lenet_lab
#   kernelspec:
#     display_name: Python 3 (course)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab 02 · Convolution, pooling and LeNet
#
# After lecture 02. You write a convolution and max pooling by hand, work out a layer's output
# size, then build and train a LeNet.
#
# | task | what | points |
# |---|---|---|
# | 1 | a 2D convolution (the lecture's formula) | 1 |
# | 2 | max pooling | 1 |
# | 3 | a layer's output size | 1 |
# | 4 | a LeNet, trained and judged on digits it never saw | 4 |
# | 5 | in your words: what pooling buys | 2 (graded by hand) |
#
# **How you are graded.** Write your code where it says `# YOUR CODE HERE` (and delete the
# `raise NotImplementedError()`). The test cells print a hint when something is off; when you
# submit, the autograder also runs hidden tests on inputs drawn afresh, so make your functions
# right for any size, not only for the one printed. Check your copy at any time:
# `python -m course_lib grade YOUR_COPY.ipynb` gives the score the instructor's autograder gives.
#
# **Time budget.** The training in task 4 takes about 10 s on one core; the grader stops any cell
# after 180 s and runs your notebook on one CPU core.

# %%
import course_lib as cl  # first: the CPU thread policy

# isort: split
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import check
from course_lib.check import lab02_convolution as lab02
from course_lib.check.labs import require

cl.seed_everything(0)

# %% [markdown]
# ## Task 1 · Convolution (1 point)
# `conv2d(x, kernel)`: `x` is `(d, d')`, `kernel` is `(k, k')`; return the `(d-k+1, d'-k'+1)` map
# $\text{out}[i, j] = \sum_{a, b} x[i+a, j+b]\, K[a, b]$ (no padding, stride 1, the kernel not flipped).

# %% nbgrader={"grade": false, "grade_id": "t1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv2d(x, kernel):
    ### BEGIN SOLUTION
    k, k2 = kernel.shape
    out = torch.zeros(x.shape[0] - k + 1, x.shape[1] - k2 + 1)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = (x[i : i + k, j : j + k2] * kernel).sum()
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t1_test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(check.conv2d(conv2d))
### BEGIN HIDDEN TESTS
require(lab02.conv2d_fresh(conv2d))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 2 · Max pooling (1 point)
# `max_pool(x, size)`: `x` is `(H, W)` with `H` and `W` multiples of `size`; return the maximum of
# each disjoint `size x size` patch, `(H / size, W / size)`.

# %% nbgrader={"grade": false, "grade_id": "t2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def max_pool(x, size):
    ### BEGIN SOLUTION
    h, w = x.shape
    return x.reshape(h // size, size, w // size, size).amax(dim=(1, 3))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t2_test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(check.max_pool(max_pool))
### BEGIN HIDDEN TESTS
require(lab02.max_pool_fresh(max_pool))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 3 · Output size (1 point)
# `output_size(n, k, padding, stride)`: the side of a convolution's (or pooling's) output for an
# `n x n` input and a `k x k` kernel, with `padding` pixels added on each side and the kernel moved
# by `stride` pixels at a time.

# %% nbgrader={"grade": false, "grade_id": "t3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def output_size(n, k, padding, stride):
    ### BEGIN SOLUTION
    return (n + 2 * padding - k) // stride + 1
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t3_test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(lab02.output_size(output_size))
### BEGIN HIDDEN TESTS
require(lab02.output_size_fresh(output_size))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 4 · LeNet (4 points)
# Build a CNN with convolutions and pooling (LeNet's shape is a good start) mapping digits
# `(B, 1, 28, 28)` to 10 class scores, train it on the images below, and leave it in `model`. It
# is graded on 2,000 digits drawn afresh when the autograder runs: **held-out accuracy at least
# 0.96: 2 points; at least 0.97: 3 points**; 1 point for the network's form. Logistic regression
# on raw pixels reaches about 0.90. Budget: at most 60 s of training on one core.

# %%
x_train, y_train = lab02.train_digits()
print(f"training digits: {tuple(x_train.shape)}")

# %% nbgrader={"grade": false, "grade_id": "t4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
model = nn.Sequential(
    nn.Conv2d(1, 6, 5, padding=2),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(6, 16, 5),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(16 * 5 * 5, 120),
    nn.ReLU(),
    nn.Linear(120, 10),
)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(8):
    for idx in torch.randperm(len(x_train)).split(64):
        loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
print(f"last batch's loss: {loss.item():.3f}")
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "t4_network", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(lab02.network(model))

# %% nbgrader={"grade": true, "grade_id": "t4_accuracy", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# graded on digits drawn afresh: held-out accuracy >= 0.96: 2 points, >= 0.97: 3 points
### BEGIN HIDDEN TESTS
lab02.accuracy_points(model)
### END HIDDEN TESTS

# %% [markdown]
# ## Task 5 · In your words (2 points, graded by hand)
# Your LeNet pools twice. In three or four sentences: what does a 2x2 max pooling do to a feature
# map when the digit moves by one pixel, and what does the network gain and lose by it?

# %% [markdown] nbgrader={"grade": true, "grade_id": "t5_answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# A model answer (the student's copy has an empty cell here). A feature that moves by one pixel
# often stays in the same 2x2 patch, so the pooled map barely changes: the network becomes
# tolerant of small shifts, and each later unit sees a larger part of the image with fewer
# numbers (cheaper, less overfitting). It loses the exact position of features, which some tasks
# need. 1 point for shift tolerance, 1 for the trade-off (receptive field / lost position).
