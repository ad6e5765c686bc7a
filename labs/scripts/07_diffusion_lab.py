# ---
# jupyter:
#   course_lab: 07_diffusion_lab
#   kernelspec:
#     display_name: Python 3 (course)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab 07 · Diffusion models
#
# After lecture 07. You write the forward process, recover $x_0$ from predicted noise, write one
# reverse step of DDPM, and build the whole sampler on the course's trained denoiser: an
# independent classifier then reads your samples.
#
# | task | what | points |
# |---|---|---|
# | 1 | the forward process in closed form | 1 |
# | 2 | $x_0$ from the predicted noise | 1 |
# | 3 | one DDPM reverse step | 2 |
# | 4 | a DDPM sampler whose digits a judge can read | 4 |
# | 5 | in your words: why predict the noise | 2 (graded by hand) |
#
# **How you are graded.** Write your code where it says `# YOUR CODE HERE` (and delete the
# `raise NotImplementedError()`). The test cells print a hint when something is off; when you
# submit, the autograder also runs hidden tests on inputs drawn afresh. Check your copy at any
# time: `python -m course_lib grade YOUR_COPY.ipynb` gives the score the instructor's autograder
# gives.
#
# **Time budget.** Sampling 64 digits with 200 steps takes about 25 s on one core; the grader
# stops any cell after 180 s and runs your notebook on one CPU core.

# %%
import course_lib as cl  # first: the CPU thread policy

# isort: split
import torch

from course_lib import check, checkpoints
from course_lib.check import lab07_diffusion as lab07
from course_lib.check.labs import require
from course_lib.models.diffusion import NoiseSchedule, SmallUNet

cl.seed_everything(0)
schedule = NoiseSchedule(lab07.T)  # the schedule the course's denoiser was trained with
denoiser = checkpoints.load_checkpoint("diffusion", SmallUNet)  # eps_theta(x_t, t), images in [-1, 1]

# %% [markdown]
# ## Task 1 · The forward process (1 point)
# `q_sample(x0, noise, alpha_bar)`: $x_t = \sqrt{\bar\alpha_t}\, x_0 + \sqrt{1 - \bar\alpha_t}\,\varepsilon$.

# %% nbgrader={"grade": false, "grade_id": "t1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def q_sample(x0, noise, alpha_bar):
    ### BEGIN SOLUTION
    return alpha_bar**0.5 * x0 + (1 - alpha_bar) ** 0.5 * noise
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t1_test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(check.q_sample(q_sample))
### BEGIN HIDDEN TESTS
require(lab07.q_sample_fresh(q_sample))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 2 · $x_0$ from the noise (1 point)
# `predict_x0(x_t, eps, alpha_bar)`: solve the forward formula for $x_0$, given the noise.

# %% nbgrader={"grade": false, "grade_id": "t2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def predict_x0(x_t, eps, alpha_bar):
    ### BEGIN SOLUTION
    return (x_t - (1 - alpha_bar) ** 0.5 * eps) / alpha_bar**0.5
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t2_test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(check.predict_x0(predict_x0))
### BEGIN HIDDEN TESTS
require(lab07.predict_x0_fresh(predict_x0))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 3 · One reverse step (2 points)
# `reverse_step(eps, t, x_t, noise, schedule)`: given the denoiser's noise prediction `eps` at step
# `t` (an int), return $x_{t-1}$:
# 1. $\hat x_0$ = your `predict_x0` with `schedule.alpha_bars[t]`, **clipped to** $[-1, 1]$;
# 2. the mean of $q(x_{t-1} \mid x_t, \hat x_0)$:
#    $\frac{\sqrt{\bar\alpha_{t-1}}\,\beta_t}{1-\bar\alpha_t}\hat x_0 + \frac{\sqrt{\alpha_t}\,(1-\bar\alpha_{t-1})}{1-\bar\alpha_t} x_t$
#    (`schedule.alpha_bars_prev[t]`, `schedule.betas[t]`, `schedule.alphas[t]`);
# 3. plus `sqrt(schedule.posterior_variance[t]) * noise`, except at `t = 0`.

# %% nbgrader={"grade": false, "grade_id": "t3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def reverse_step(eps, t, x_t, noise, schedule):
    ### BEGIN SOLUTION
    ab, ab_prev = schedule.alpha_bars[t], schedule.alpha_bars_prev[t]
    x0 = predict_x0(x_t, eps, ab).clamp(-1, 1)
    mean = ab_prev**0.5 * schedule.betas[t] / (1 - ab) * x0 + schedule.alphas[t] ** 0.5 * (1 - ab_prev) / (1 - ab) * x_t
    if t == 0:
        return mean
    return mean + schedule.posterior_variance[t] ** 0.5 * noise
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t3_test", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
require(lab07.reverse_step(reverse_step))
### BEGIN HIDDEN TESTS
require(lab07.reverse_step_fresh(reverse_step))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 4 · The sampler (4 points)
# `ddpm_sample(model, schedule, n)`: start from standard normal noise `(n, 1, 28, 28)`, apply
# `reverse_step` for $t = T-1, \dots, 0$ with `eps = model(x, t_batch)` (`t_batch`: a `(n,)` tensor
# of `t`), and return the images mapped from $[-1, 1]$ to $[0, 1]$. Use `torch.no_grad()`.
#
# It is graded on 64 samples of your sampler with the course's denoiser: the share that an
# independent classifier (`course_lib.metrics.unreadable`) cannot read. **At most 0.35: 2 points;
# at most 0.25: 3 points**; 1 point for the interface. Uniform noise scores about 0.88.

# %% nbgrader={"grade": false, "grade_id": "t4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def ddpm_sample(model, schedule, n):
    ### BEGIN SOLUTION
    x = torch.randn(n, 1, 28, 28)
    with torch.no_grad():
        for t in range(schedule.T - 1, -1, -1):
            eps = model(x, torch.full((n,), t))
            x = reverse_step(eps, t, x, torch.randn_like(x), schedule)
    return ((x + 1) / 2).clamp(0, 1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t4_interface", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(lab07.sampler_interface(ddpm_sample, denoiser, schedule))

# %% nbgrader={"grade": true, "grade_id": "t4_judge", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# graded on 64 fresh samples: unreadable share <= 0.35: 2 points, <= 0.25: 3 points
### BEGIN HIDDEN TESTS
lab07.sampler_points(ddpm_sample, denoiser, schedule)
### END HIDDEN TESTS

# %% [markdown]
# ## Task 5 · In your words (2 points, graded by hand)
# The denoiser predicts the noise $\varepsilon$, not the clean image. In three or four sentences:
# how does a noise prediction give you both $\hat x_0$ and the next step, and why does the sampler
# add fresh noise at every step but the last?

# %% [markdown] nbgrader={"grade": true, "grade_id": "t5_answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# A model answer (the student's copy has an empty cell here). Since x_t is a known mix of x0 and
# eps, predicting eps determines x0_hat by solving that formula, and the mean of the Gaussian
# q(x_{t-1} | x_t, x0_hat) follows from both. The reverse process is itself random: each step
# samples from a Gaussian, so fresh noise keeps the samples varied and the chain on the data's
# distribution (without it every path collapses to a blurry average); the last step returns the
# mean, the final image. 1 point for eps -> x0 -> mean, 1 for the role of the noise.
