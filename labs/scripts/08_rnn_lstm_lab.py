# ---
# jupyter:
#   course_lab: 08_rnn_lstm_lab
#   kernelspec:
#     display_name: Python 3 (course)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab 08 · Recurrent networks and LSTMs
#
# After lecture 08. You write one step of a plain RNN and the LSTM's memory update, then train an
# LSTM to remember a symbol across a stream of distractors.
#
# | task | what | points |
# |---|---|---|
# | 1 | one step of a plain (tanh) RNN | 1 |
# | 2 | the LSTM's memory update | 1 |
# | 3 | an LSTM that remembers, judged on sequences it never saw | 4 |
# | 4 | in your words: why the LSTM remembers | 2 (graded by hand) |
#
# **How you are graded.** Write your code where it says `# YOUR CODE HERE` (and delete the
# `raise NotImplementedError()`). The test cells print a hint when something is off; when you
# submit, the autograder also runs hidden tests on inputs drawn afresh. Check your copy at any
# time: `python -m course_lib grade YOUR_COPY.ipynb` gives the score the instructor's autograder
# gives.
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
from course_lib.check import lab08_rnn as lab08
from course_lib.check.labs import require

cl.seed_everything(0)

# %% [markdown]
# ## Task 1 · One RNN step (1 point)
# `rnn_step(x_t, h_prev, W, U, b)`: $h_t = \tanh(x_t W^\top + h_{t-1} U^\top + b)$ for a batch:
# `x_t` `(B, D)`, `h_prev` `(B, H)`, `W` `(H, D)`, `U` `(H, H)`, `b` `(H,)`.

# %% nbgrader={"grade": false, "grade_id": "t1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rnn_step(x_t, h_prev, W, U, b):
    ### BEGIN SOLUTION
    return torch.tanh(x_t @ W.T + h_prev @ U.T + b)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t1_test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(check.rnn_step(rnn_step))
### BEGIN HIDDEN TESTS
require(lab08.rnn_step_fresh(rnn_step))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 2 · The memory update (1 point)
# `lstm_cell_update(c_prev, f, i, g)`: the new memory $c_t = f_t \odot c_{t-1} + i_t \odot g_t$.

# %% nbgrader={"grade": false, "grade_id": "t2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def lstm_cell_update(c_prev, f, i, g):
    ### BEGIN SOLUTION
    return f * c_prev + i * g
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "t2_test", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(check.lstm_cell_update(lstm_cell_update))
### BEGIN HIDDEN TESTS
require(lab08.lstm_cell_update_fresh(lstm_cell_update))
### END HIDDEN TESTS

# %% [markdown]
# ## Task 3 · An LSTM that remembers (4 points)
# Each sequence shows one of 4 symbols at step 0, then 15 steps of distractor symbols, then a
# "recall now" flag; the answer is the first symbol. Build a model with an `nn.LSTM` that maps
# `(B, 17, 9)` sequences to 4 scores (read out the last hidden state), train it on the sequences
# below, and leave it in `model`. It is graded on 1,000 fresh sequences: **held-out accuracy at
# least 0.9: 2 points; at least 0.98: 3 points** (chance is 0.25); 1 point for the interface.
# Budget: at most 60 s of training on one core.

# %%
x_train, y_train = lab08.train_sequences()
print(f"training sequences: {tuple(x_train.shape)}; answers {y_train.unique().tolist()}")

# %% nbgrader={"grade": false, "grade_id": "t3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
class Recall(nn.Module):
    def __init__(self, hidden=64):
        super().__init__()
        self.lstm = nn.LSTM(9, hidden, batch_first=True)
        with torch.no_grad():  # forget gate open at the start: remember by default
            self.lstm.bias_ih_l0[hidden : 2 * hidden].fill_(1.0)
        self.head = nn.Linear(hidden, 4)

    def forward(self, x):
        return self.head(self.lstm(x)[0][:, -1])


model = Recall()
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
for epoch in range(12):
    for idx in torch.randperm(len(x_train)).split(64):
        loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
print(f"last batch's loss: {loss.item():.4f}")
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "t3_interface", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
require(lab08.interface(model))

# %% nbgrader={"grade": true, "grade_id": "t3_accuracy", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# graded on fresh sequences: held-out accuracy >= 0.9: 2 points, >= 0.98: 3 points
### BEGIN HIDDEN TESTS
lab08.accuracy_points(model)
### END HIDDEN TESTS

# %% [markdown]
# ## Task 4 · In your words (2 points, graded by hand)
# In three or four sentences: why does a plain tanh RNN struggle to carry the first symbol across
# many steps, and which part of the LSTM's update (task 2) lets the symbol - and its gradient -
# pass unchanged?

# %% [markdown] nbgrader={"grade": true, "grade_id": "t4_answer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# A model answer (the student's copy has an empty cell here). In a plain RNN the state is
# re-squashed through tanh and multiplied by U at every step, so the symbol is overwritten by the
# distractors and the gradient through time shrinks (or grows) geometrically: vanishing gradients.
# The LSTM's memory c_t = f * c_{t-1} + i * g is additive: with the forget gate near 1 and the input
# gate near 0 the memory, and the gradient along it, pass unchanged through the distractors.
# 1 point for the vanishing gradient / overwriting, 1 for the additive gated memory.
