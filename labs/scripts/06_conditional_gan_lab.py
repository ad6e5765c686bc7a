# ---
# jupyter:
#   course_lab: 06_conditional_gan_lab
#   kernelspec:
#     display_name: Python 3 (course)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab 06 · Conditional GANs
#
# After lecture 06. You write two tools the lecture used to test a conditional generator, then
# train one on the ring of eight Gaussians: asked for mode 3, it must draw near mode 3.
#
# | task | what | points |
# |---|---|---|
# | 1 | wrong labels (for the matching-aware discriminator) | 1 |
# | 2 | class agreement | 1 |
# | 3 | a conditional GAN that draws the mode asked for | 4 |
# | 4 | in your words: how the label gets in | 2 (graded by hand) |
#
# **How you are graded.** Write your code where it says `# YOUR CODE HERE` (and delete the
# `raise NotImplementedError()`). The test cells print a hint when something is off; when you
# submit, the autograder also runs hidden tests on inputs drawn afresh. Check your copy at any
# time: `python -m course_lib grade YOUR_COPY.ipynb` gives the score the instructor's autograder
# gives.
#
# **Time budget.** The training in task 3 takes about 10 s on one core; the grader stops any cell
# after 180 s and runs your notebook on one CPU core.

# %%
import course_lib as cl  # first: the CPU thread policy

# isort: split
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import check
from course_lib.check import lab06_conditional_gan as lab06
from course_lib.check.labs import require

cl.seed_everything(0)

# %% [markdown]
# ## Task 1 · Wrong labels (1 point)
# `wrong_labels(labels)`: for digit labels `(B,)` in 0..9, return labels that are random, spread
# evenly over the nine other classes, and never equal to the given ones.

# %% nbgrader={"grade": false, "grade_id": "t1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def wrong_labels(labels):
    ### BEGIN SOLUTION
    return (labels + torch.randint(1, 10, labels.shape)) % 10
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t1_test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(check.wrong_labels(wrong_labels))
### BEGIN HIDDEN TESTS
require(lab06.wrong_labels_fresh(wrong_labels))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 2 · Class agreement (1 point)
# `class_agreement(logits, requested)`: `logits` `(N, K)` of a classifier on generated samples and
# the classes `requested` `(N,)`; return the share of samples classified as requested.

# %% nbgrader={"grade": false, "grade_id": "t2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def class_agreement(logits, requested):
    ### BEGIN SOLUTION
    return (logits.argmax(1) == requested).float().mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t2_test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(check.class_agreement(class_agreement))
### BEGIN HIDDEN TESTS
require(lab06.class_agreement_fresh(class_agreement))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 3 · A conditional GAN (4 points)
# Each training point comes with the mode it was drawn around (0..7). Build a generator
# `G(z, y)` taking noise `z` `(B, 2)` and one-hot labels `y` `(B, 8)` to points `(B, 2)`, and a
# discriminator that sees a point **and** its label; train them and leave the generator in `G`.
#
# It is graded on 250 samples per mode from fresh noise: the share of samples landing within 0.3
# of the mode asked for. **At least 0.8: 2 points; at least 0.9: 3 points**; 1 point for the
# interface. Budget: at most 60 s of training on one core.

# %%
points, modes = lab06.train_data()
print(f"training points: {tuple(points.shape)}, labels: {modes.unique().tolist()}")

# %% nbgrader={"grade": false, "grade_id": "t3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
class CondG(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2 + 8, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 2))

    def forward(self, z, y):
        return self.net(torch.cat([z, y], 1))


G = CondG()
D = nn.Sequential(nn.Linear(2 + 8, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 1))
opt_G = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
opt_D = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
ones, zeros = torch.ones(128), torch.zeros(128)
for step in range(3_000):
    idx = torch.randint(0, len(points), (128,))
    y = F.one_hot(modes[idx], 8).float()
    fake = G(torch.randn(128, 2), y)
    d_real = D(torch.cat([points[idx], y], 1)).squeeze(1)
    d_fake = D(torch.cat([fake.detach(), y], 1)).squeeze(1)
    d_loss = F.binary_cross_entropy_with_logits(d_real, ones) + F.binary_cross_entropy_with_logits(d_fake, zeros)
    opt_D.zero_grad()
    d_loss.backward()
    opt_D.step()
    g_loss = F.binary_cross_entropy_with_logits(D(torch.cat([fake, y], 1)).squeeze(1), ones)
    opt_G.zero_grad()
    g_loss.backward()
    opt_G.step()
print(f"last step: D loss {d_loss.item():.3f}, G loss {g_loss.item():.3f}")
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "t3_interface", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(lab06.interface(G))

# %% nbgrader={"grade": true, "grade_id": "t3_agreement", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# graded on fresh samples: share on the mode asked for >= 0.8: 2 points, >= 0.9: 3 points
### BEGIN HIDDEN TESTS
lab06.agreement_points(G)
### END HIDDEN TESTS

# %% [markdown]
# ## Task 4 · In your words (2 points, graded by hand)
# In three or four sentences: why must the discriminator see the label too - what would the
# generator learn if only the generator got it?

# %% [markdown] nbgrader={"grade": true, "grade_id": "t4_answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# A model answer (the student's copy has an empty cell here). A discriminator without the label
# only judges whether a point looks like the data; a generator told "mode 3" that draws a perfect
# mode 5 point fools it fully, so nothing pushes the label to matter and G can ignore y. With the
# label, D learns which points go with which labels, and a point near the wrong mode is rated
# fake, so G must follow y. 1 point for "D without labels cannot punish the wrong mode", 1 for
# what D learns with it.
