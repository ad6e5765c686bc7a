# ---
# jupyter:
#   course_lab: 05_gan_lab
#   kernelspec:
#     display_name: Python 3 (course)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab 05 · Generative adversarial networks
#
# After lecture 05. You write the two losses of the min-max game from the discriminator's logits,
# then train a GAN on the ring of eight Gaussians and make it cover the modes.
#
# | task | what | points |
# |---|---|---|
# | 1 | the discriminator's loss | 1 |
# | 2 | the generator's (non-saturating) loss | 1 |
# | 3 | the alternating training loop: a GAN that covers the ring | 4 |
# | 4 | in your words: mode collapse | 2 (graded by hand) |
#
# **How you are graded.** Write your code where it says `# YOUR CODE HERE` (and delete the
# `raise NotImplementedError()`). The test cells print a hint when something is off; when you
# submit, the autograder also runs hidden tests on inputs drawn afresh (also very large logits,
# where a loss computed through `sigmoid` then `log` overflows). Check your copy at any time:
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
from course_lib.check import lab05_gan as lab05
from course_lib.check.labs import require

cl.seed_everything(0)

# %% [markdown]
# ## Task 1 · The discriminator's loss (1 point)
# `discriminator_loss(real, fake)`: `real` and `fake` are the discriminator's **logits** `(B,)` on
# real and generated points. Return the binary cross-entropy of "real is 1" plus that of
# "fake is 0", each averaged over the batch.

# %% nbgrader={"grade": false, "grade_id": "t1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def discriminator_loss(real, fake):
    ### BEGIN SOLUTION
    return F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) + F.binary_cross_entropy_with_logits(
        fake, torch.zeros_like(fake)
    )
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t1_test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(check.discriminator_loss(discriminator_loss))
### BEGIN HIDDEN TESTS
require(lab05.discriminator_loss_fresh(discriminator_loss))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 2 · The generator's loss (1 point)
# `generator_loss(fake)`: the non-saturating loss $-\log D(G(z))$ from the logits `fake` `(B,)`,
# averaged over the batch.

# %% nbgrader={"grade": false, "grade_id": "t2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def generator_loss(fake):
    ### BEGIN SOLUTION
    return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t2_test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(check.generator_loss(generator_loss))
### BEGIN HIDDEN TESTS
require(lab05.generator_loss_fresh(generator_loss))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 3 · Train a GAN on the ring (4 points)
# Build a generator `G` mapping noise `(B, 2)` (standard normal) to points `(B, 2)` and a
# discriminator, and train them with your two losses, alternating one discriminator step and one
# generator step. Leave the generator in `G`.
#
# It is graded on 2,000 samples from noise drawn afresh: **at least 7 of the 8 modes covered (each
# with at least 2% of the samples within 0.3 of its centre): 2 points; and at least 60% of all
# samples on a mode: 3 points**; 1 point for the interface. A generator that collapses onto a few
# modes fails, however sharp its points. Budget: at most 60 s of training on one core.

# %%
points = lab05.train_points()
print(f"training points: {tuple(points.shape)}, 8 modes on a circle of radius 2")

# %% nbgrader={"grade": false, "grade_id": "t3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
G = nn.Sequential(nn.Linear(2, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 2))
D = nn.Sequential(nn.Linear(2, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 1))
opt_G = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
opt_D = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
for step in range(2_500):
    real = points[torch.randint(0, len(points), (128,))]
    fake = G(torch.randn(128, 2))
    d_loss = discriminator_loss(D(real).squeeze(1), D(fake.detach()).squeeze(1))
    opt_D.zero_grad()
    d_loss.backward()
    opt_D.step()
    g_loss = generator_loss(D(fake).squeeze(1))
    opt_G.zero_grad()
    g_loss.backward()
    opt_G.step()
print(f"last step: D loss {d_loss.item():.3f}, G loss {g_loss.item():.3f}")
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "t3_interface", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(lab05.interface(G))

# %% nbgrader={"grade": true, "grade_id": "t3_coverage", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# graded on fresh samples: >= 7 of 8 modes covered: 2 points; and >= 60% of samples on a mode: 3 points
### BEGIN HIDDEN TESTS
lab05.coverage_points(G)
### END HIDDEN TESTS

# %% [markdown]
# ## Task 4 · In your words (2 points, graded by hand)
# In three or four sentences: what is mode collapse, why does the min-max game allow it (what
# does the generator's loss reward?), and what in your samples would show it?

# %% [markdown] nbgrader={"grade": true, "grade_id": "t4_answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# A model answer (the student's copy has an empty cell here). Mode collapse: the generator maps most
# noise to one or a few modes. Its loss only asks each sample to fool the current discriminator,
# not to cover the data, so moving everything to the mode D currently rates most real is a
# winning move until D adapts, and the two can chase each other from mode to mode. It shows as
# samples piled on few of the eight Gaussians (few modes covered) although each looks real.
# 1 point for the definition, 1 for why the loss allows it.
