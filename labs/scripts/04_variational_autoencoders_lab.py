# ---
# jupyter:
#   course_lab: 04_variational_autoencoders_lab
#   kernelspec:
#     display_name: Python 3 (course)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab 04 · Variational autoencoders
#
# After lecture 04. You write the pieces of a VAE, then build one and train it on digits.
#
# | task | what | points |
# |---|---|---|
# | 1 | the reparameterization trick | 1 |
# | 2 | the KL term, in closed form | 1 |
# | 3 | the negative ELBO | 2 |
# | 4 | build and train a VAE, judged on digits it never saw | 4 |
# | 5 | in your words: why sample z? | 2 (graded by hand) |
#
# **How you are graded.** Write your code where it says `# YOUR CODE HERE` (and delete the
# `raise NotImplementedError()`). The test cells print a hint when something is off; when you
# submit, the autograder also runs hidden tests on inputs drawn afresh, so make your functions
# right for any batch, not only for the one printed. Check your copy at any time:
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
from course_lib.check import lab04_vae as lab04
from course_lib.check.labs import require

cl.seed_everything(0)

# %% [markdown]
# ## Task 1 · The reparameterization trick (1 point)
# `reparameterize(mu, logvar)` returns $z = \mu + \sigma \odot \varepsilon$ with
# $\varepsilon \sim \mathcal N(0, I)$ and $\sigma = e^{\log\sigma^2 / 2}$. Gradients must reach
# `mu` and `logvar`; `mu` and `logvar` are `(B, d)`.

# %% nbgrader={"grade": false, "grade_id": "t1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def reparameterize(mu, logvar):
    ### BEGIN SOLUTION
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t1_test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(check.reparameterize(reparameterize))
### BEGIN HIDDEN TESTS
require(lab04.reparameterize_fresh(reparameterize))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 2 · The KL term (1 point)
# `kl_gaussian(mu, logvar)`: $\mathrm{KL}\big(\mathcal N(\mu, \sigma^2) \,\|\, \mathcal N(0, I)\big)$
# in closed form, summed over the `d` latent dimensions and averaged over the batch.

# %% nbgrader={"grade": false, "grade_id": "t2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def kl_gaussian(mu, logvar):
    ### BEGIN SOLUTION
    return (-0.5 * (1 + logvar - mu**2 - logvar.exp())).sum(1).mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t2_test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(check.kl_gaussian(kl_gaussian))
### BEGIN HIDDEN TESTS
require(lab04.kl_fresh(kl_gaussian))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 3 · The negative ELBO (2 points)
# `neg_elbo(x, logits, mu, logvar)`: the loss a VAE minimises, averaged over the batch. The
# reconstruction term is the binary cross-entropy between the images `x` (in $[0, 1]$) and the
# decoder's **logits**, summed over the pixels; add the KL term of task 2.

# %% nbgrader={"grade": false, "grade_id": "t3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def neg_elbo(x, logits, mu, logvar):
    ### BEGIN SOLUTION
    reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
    return reconstruction + kl_gaussian(mu, logvar)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t3_test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
require(lab04.neg_elbo(neg_elbo))
### BEGIN HIDDEN TESTS
require(lab04.neg_elbo_fresh(neg_elbo))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 4 · Build and train a VAE (4 points)
# Write a VAE for the 28x28 digits below, with
# - `encode(x)`: `x` of shape `(B, 1, 28, 28)` -> `(mu, logvar)`, each `(B, d)`;
# - `decode(z)`: `(B, d)` -> **logits** of shape `(B, 1, 28, 28)`;
#
# then train it with your `reparameterize` and `neg_elbo`, and leave the trained network in `model`.
#
# It is graded on 1,000 digits drawn afresh when the autograder runs, by its negative ELBO in nats
# per image (lower is better). One Bernoulli per pixel, fitted to the training images, scores
# about 246. **At most 160: 2 points; at most 140: 3 points**; 1 point for the interface.
# Budget: at most 60 s of training on one core (about 10 s suffices).

# %%
x_train = lab04.train_digits()
print(f"training images: {tuple(x_train.shape)}, pixel values in [{x_train.min():.0f}, {x_train.max():.0f}]")

# %% nbgrader={"grade": false, "grade_id": "t4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
class VAE(nn.Module):
    def __init__(self, latent=8, hidden=256):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.dec = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, 784))

    def encode(self, x):
        h = self.body(x)
        return self.mu(h), self.logvar(h)

    def decode(self, z):
        return self.dec(z).view(-1, 1, 28, 28)


model = VAE()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(25):
    for batch in x_train[torch.randperm(len(x_train))].split(64):
        mu, logvar = model.encode(batch)
        loss = neg_elbo(batch, model.decode(reparameterize(mu, logvar)), mu, logvar)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
print(f"last batch's negative ELBO: {loss.item():.1f} nats per image")
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "t4_interface", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(lab04.vae_interface(model))

# %% nbgrader={"grade": true, "grade_id": "t4_elbo", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# graded on digits drawn afresh: negative ELBO <= 160 nats: 2 points, <= 140: 3 points
### BEGIN HIDDEN TESTS
lab04.elbo_points(model)
### END HIDDEN TESTS

# %% [markdown]
# ## Task 5 · In your words (2 points, graded by hand)
# Your decoder is trained on a *sample* $z$, not on $\mu$. In three or four sentences: what would
# happen to the codes of the training images if the VAE decoded $\mu$ instead (and dropped the KL
# term), and why does sampling together with the KL term make the space between the codes decode to
# plausible digits?

# %% [markdown] nbgrader={"grade": true, "grade_id": "t5_answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# A model answer (the student's copy has an empty cell here). Without sampling and KL it is a plain autoencoder: codes may sit anywhere, far apart, and the
# space between them was never decoded in training (holes). Sampling makes the decoder see a
# neighbourhood of radius about sigma around each mu, so nearby points must decode to similar
# images; the KL term pulls the mu towards 0 and keeps sigma near 1, so the neighbourhoods overlap
# and fill the space. 1 point for the holes, 1 for overlap/continuity.
