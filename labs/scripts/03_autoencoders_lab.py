# ---
# jupyter:
#   course_lab: 03_autoencoders_lab
#   kernelspec:
#     display_name: Python 3 (course)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab 03 · Autoencoders
#
# After lecture 03. You write the noise of a denoising autoencoder and the penalty of a sparse one,
# then train a denoising autoencoder that must clean digits better than PCA can.
#
# | task | what | points |
# |---|---|---|
# | 1 | noise for a denoising autoencoder | 1 |
# | 2 | the sparsity penalty | 2 |
# | 3 | a denoising autoencoder that beats PCA, on digits it never saw | 4 |
# | 4 | in your words: why a DAE beats PCA | 2 (graded by hand) |
#
# **How you are graded.** Write your code where it says `# YOUR CODE HERE` (and delete the
# `raise NotImplementedError()`). The test cells print a hint when something is off; when you
# submit, the autograder also runs hidden tests on inputs drawn afresh, so make your functions
# right for any shape, not only for the one printed. Check your copy at any time:
# `python -m course_lib grade YOUR_COPY.ipynb` gives the score the instructor's autograder gives.
#
# **Time budget.** The training in task 3 takes about 5 s on one core; the grader stops any cell
# after 180 s and runs your notebook on one CPU core.

# %%
import course_lib as cl  # first: the CPU thread policy

# isort: split
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import check
from course_lib.check import lab03_autoencoders as lab03
from course_lib.check.labs import require

cl.seed_everything(0)

# %% [markdown]
# ## Task 1 · Noise (1 point)
# `add_noise(x, level)`: `x` holds images in $[0, 1]$ (any shape); add Gaussian noise with standard
# deviation `level` to every pixel, new noise on every call, and clip the result to $[0, 1]$.

# %% nbgrader={"grade": false, "grade_id": "t1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def add_noise(x, level):
    ### BEGIN SOLUTION
    return (x + level * torch.randn_like(x)).clamp(0, 1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t1_test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(check.add_noise(add_noise))
### BEGIN HIDDEN TESTS
require(lab03.add_noise_fresh(add_noise))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 2 · The sparsity penalty (2 points)
# `kl_sparsity(h, rho)`: `h` is `(B, units)` of activations in $(0, 1)$. With $\hat\rho_j$ the mean
# activation of unit $j$ over the batch, return $\sum_j \mathrm{KL}(\rho \,\|\, \hat\rho_j)$
# between Bernoulli distributions.

# %% nbgrader={"grade": false, "grade_id": "t2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def kl_sparsity(h, rho):
    ### BEGIN SOLUTION
    q = h.mean(0)
    return (rho * torch.log(rho / q) + (1 - rho) * torch.log((1 - rho) / (1 - q))).sum()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t2_test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
require(check.kl_sparsity(kl_sparsity))
### BEGIN HIDDEN TESTS
require(lab03.kl_sparsity_fresh(kl_sparsity))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 3 · A denoising autoencoder (4 points)
# Write an autoencoder with `encode(x)`: `(B, 1, 28, 28)` -> codes `(B, k)` with **k at most 32**,
# and `decode(z)` -> images `(B, 1, 28, 28)` in $[0, 1]$. Train it to rebuild clean digits from
# copies noised by your `add_noise` at level `lab03.NOISE` (0.4), and leave it in `model`.
#
# It is graded on 1,000 digits drawn afresh, noised anew: its denoising error (MSE to the clean
# digit) divided by that of **PCA with as many components as your code** (fitted on the same
# training digits). **At most 0.85: 2 points; at most 0.75: 3 points**; 1 point for the interface.
# Budget: at most 60 s of training on one core.

# %%
x_train = lab03.train_digits()
print(f"training digits: {tuple(x_train.shape)}; noise level {lab03.NOISE}")

# %% nbgrader={"grade": false, "grade_id": "t3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
class DenoisingAE(nn.Module):
    def __init__(self, code=32, hidden=256):
        super().__init__()
        self.enc = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, code))
        self.dec = nn.Sequential(nn.Linear(code, hidden), nn.ReLU(), nn.Linear(hidden, 784), nn.Sigmoid())

    def encode(self, x):
        return self.enc(x)

    def decode(self, z):
        return self.dec(z).view(-1, 1, 28, 28)


model = DenoisingAE()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(20):
    for batch in x_train[torch.randperm(len(x_train))].split(64):
        loss = F.mse_loss(model.decode(model.encode(add_noise(batch, lab03.NOISE))), batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
print(f"last batch's loss: {loss.item():.4f}")
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "t3_interface", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(lab03.interface(model))

# %% nbgrader={"grade": true, "grade_id": "t3_denoising", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# graded on digits drawn afresh: error / PCA's error <= 0.85: 2 points, <= 0.75: 3 points
### BEGIN HIDDEN TESTS
lab03.denoising_points(model)
### END HIDDEN TESTS

# %% [markdown]
# ## Task 4 · In your words (2 points, graded by hand)
# PCA and your autoencoder both squeeze each digit into the same number of values. In three or
# four sentences: why can the autoencoder rebuild cleaner digits, and why does training on noisy
# inputs (rather than clean ones) matter for that?

# %% [markdown] nbgrader={"grade": true, "grade_id": "t4_answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# A model answer (the student's copy has an empty cell here). PCA is linear: it keeps the noise
# that falls inside its k directions and rebuilds with straight combinations of them. The
# autoencoder's encoder and decoder are non-linear, so the codes can lie on the curved set of
# digit images and the decoder can output sharp strokes. Trained on noisy inputs with clean
# targets, it learns to map every noisy version back onto a clean digit (to remove the noise),
# instead of copying whatever it is given. 1 point for linear vs non-linear, 1 for the role of the
# noisy inputs.
