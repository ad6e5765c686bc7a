"""Transfer learning (notebook 10): reuse the first blocks of a trained encoder in a new model.

`copy_blocks` copies them (values, not shared tensors), `freeze_blocks` stops their training, and
`TransferNet` puts a new head on top. The training runs themselves are in `course_lib.probes`.
"""

from __future__ import annotations

import torch
from torch import nn

from .. import model_device
from .contrastive import SiameseNet
from .encoder import ConvEncoder
from .pretext import InpaintingNet, JigsawNet

__all__ = ["copy_blocks", "freeze_blocks", "TransferNet", "PRETEXT_NETS"]

# Which network each shipped image pretext checkpoint holds (its `.encoder` is a ConvEncoder).
PRETEXT_NETS = {
    "ssl_inpainting": InpaintingNet,
    "ssl_jigsaw": JigsawNet,
    "ssl_siamese": SiameseNet,
    "ssl_simclr": SiameseNet,
    "ssl_triplet": SiameseNet,
}


def copy_blocks(source: ConvEncoder, k: int) -> ConvEncoder:
    """A new ConvEncoder whose first k blocks hold copies of `source`'s; the others keep a fresh random init."""
    if not isinstance(source, ConvEncoder):
        raise TypeError(f"source must be a ConvEncoder, got {type(source).__name__}")
    if not isinstance(k, int) or not 0 <= k <= len(source.blocks):
        raise ValueError(f"k must be an int in 0..{len(source.blocks)}, got {k!r}")
    widths = tuple(block[0].out_channels for block in source.blocks)
    new = ConvEncoder(source.in_channels, widths).to(model_device(source))
    for i in range(k):
        new.blocks[i].load_state_dict(source.blocks[i].state_dict())  # values, not shared tensors
    return new


def freeze_blocks(model: nn.Module, k: int) -> None:
    """Stop training the first k blocks of model.encoder (requires_grad=False)."""
    for block in model.encoder.blocks[:k]:
        block.requires_grad_(False)


class TransferNet(nn.Module):
    """A (pre-trained or fresh) encoder plus a new linear head: (B, 1, 28, 28) -> logits (B, classes).

    Frozen blocks (all parameters requires_grad=False) also stay in eval mode during training, so
    their batch-norm statistics do not drift either: frozen means the features do not change.
    """

    def __init__(self, encoder: ConvEncoder, classes: int = 10):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.features_dim, classes)

    def train(self, mode: bool = True):
        super().train(mode)
        for block in self.encoder.blocks:
            if not any(p.requires_grad for p in block.parameters()):
                block.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))
