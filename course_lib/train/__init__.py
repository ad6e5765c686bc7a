"""THE training loop of the course, in pieces a lecture can read one at a time
(d2l's Trainer: fit -> fit_epoch -> step; nanoGPT's one explicit loop).

    loop.py      fit(): epochs or a step budget, eval sets, metrics, progress, callbacks -> History;
                 Trainer.step (forward, guard, backward, clip, optimizer, scheduler, EMA) and
                 Trainer.epoch; EMA; evaluate, predict, accuracy
    guards.py    LossGuard (a bad loss never reaches the weights) and Snapshot (the one rollback)
    batches.py   shuffled epochs, random batches with replacement, a sampler for the GAN trainer
    gan.py       GANTrainer: the alternating GAN loop, on the same rollback
    recipes.py   pretrain_stack (stacked autoencoders), train_char_lm (character LSTM)
"""

from .batches import batch_sampler, random_batches, shuffled_batches
from .gan import GANTrainer
from .guards import EXPLODE_FACTOR, LossGuard, NonFiniteLossError, Snapshot
from .loop import EMA, History, Trainer, accuracy, evaluate, fit, last_history, predict
from .recipes import next_char_loss, pretrain_stack, train_char_lm

__all__ = [
    "fit",
    "Trainer",
    "EMA",
    "History",
    "last_history",
    "evaluate",
    "predict",
    "accuracy",
    "NonFiniteLossError",
    "LossGuard",
    "Snapshot",
    "EXPLODE_FACTOR",
    "shuffled_batches",
    "random_batches",
    "batch_sampler",
    "GANTrainer",
    "pretrain_stack",
    "train_char_lm",
    "next_char_loss",
]
