"""Automatic checks for the exercises in the notebooks, one module per lecture.

    from course_lib import check
    check.accuracy(my_accuracy)      # prints a pass, or a hint that names the mistake

Each checker runs the student's answer as a function: on several inputs drawn afresh on every call
(different batch sizes, non-square shapes where they apply, values that are not all ones), with
statistical tests for random operations (mean, spread, shape of the distribution, independence across
the batch and the dimensions). It never lets a traceback escape and never prints the value it
expects (so a constant cannot be copied in); a hint names the mistake instead. It returns a `Result`
that is truthy only on a pass, so a notebook's solution cell can `assert check.accuracy(solution)`.
Answers in another dtype (float64, int64) are converted before they are compared.

    base.py                          the shared skeleton: fresh inputs, compare, explain from a
                                     table of mistakes (data)
    lecture00_getting_started.py     accuracy
    lecture01_dropout_batchnorm.py   dropout, batch_norm
    lecture02_convolution.py         conv2d, max_pool
    lecture03_autoencoders.py        kl_sparsity, add_noise
    lecture04_vae.py                 reparameterize, kl_gaussian
    lecture05_gan.py                 discriminator_loss, generator_loss
    lecture06_conditional_gan.py     wrong_labels, class_agreement
    lecture07_diffusion.py           q_sample, predict_x0
    lecture08_rnn.py                 rnn_step, lstm_cell_update
    lecture09_self_supervised.py     triplet_loss, unshuffle_tiles, contrastive_loss
    lecture10_transfer.py            copy_blocks, freeze
"""

from .base import Result
from .lecture00_getting_started import accuracy
from .lecture01_dropout_batchnorm import batch_norm, dropout
from .lecture02_convolution import conv2d, max_pool
from .lecture03_autoencoders import add_noise, kl_sparsity
from .lecture04_vae import kl_gaussian, reparameterize
from .lecture05_gan import discriminator_loss, generator_loss
from .lecture06_conditional_gan import class_agreement, wrong_labels
from .lecture07_diffusion import predict_x0, q_sample
from .lecture08_rnn import lstm_cell_update, rnn_step
from .lecture09_self_supervised import contrastive_loss, triplet_loss, unshuffle_tiles
from .lecture10_transfer import copy_blocks, freeze

__all__ = [
    "Result",
    "accuracy",
    "dropout",
    "batch_norm",
    "conv2d",
    "max_pool",
    "kl_sparsity",
    "add_noise",
    "reparameterize",
    "kl_gaussian",
    "discriminator_loss",
    "generator_loss",
    "wrong_labels",
    "class_agreement",
    "q_sample",
    "predict_x0",
    "rnn_step",
    "lstm_cell_update",
    "triplet_loss",
    "unshuffle_tiles",
    "contrastive_loss",
    "copy_blocks",
    "freeze",
]
