"""Checkers of notebook 10: copying pre-trained blocks, and freezing them."""

from __future__ import annotations

import secrets

import torch

from .base import Hint, call, exercise


@exercise("copy_blocks")
def copy_blocks(fn) -> str:
    """fn(source: ConvEncoder, k: int) -> a new ConvEncoder whose first k blocks hold copies of source's."""
    from ..models.encoder import ConvEncoder

    torch.manual_seed(secrets.randbits(62))
    source = ConvEncoder()
    # give the BatchNorm layers running statistics of their own, as after training
    with torch.no_grad():
        source.train()
        source(torch.rand(64, 1, 28, 28) * 2)
        source.eval()
    before = {k: v.clone() for k, v in source.state_dict().items()}
    for k in (1, 2, 3):
        new = call(fn, source, k)
        if not isinstance(new, ConvEncoder):
            raise Hint(f"return a new ConvEncoder, got {type(new).__name__}")
        if new is source:
            raise Hint(
                "that is the source itself: fine-tuning it would change the pre-trained encoder; build a new one"
            )
        for i, (nb, sb) in enumerate(zip(new.blocks, source.blocks)):
            if i < k:
                if any(a is b for a, b in zip(nb.parameters(), sb.parameters())) or nb is sb:
                    raise Hint(
                        f"block {i} shares its tensors with the source; copy the values "
                        "(load_state_dict or copy.deepcopy), so training one does not change the other"
                    )
                if not all(
                    torch.equal(a, b)
                    for a, b in zip(nb.state_dict().values(), sb.state_dict().values())
                ):
                    params_equal = all(
                        torch.equal(a, b) for a, b in zip(nb.parameters(), sb.parameters())
                    )
                    if params_equal:
                        raise Hint(
                            f"block {i} has the source's parameters but not its BatchNorm running "
                            "statistics (buffers): copy the whole state_dict, not only parameters()"
                        )
                    raise Hint(f"block {i} should hold the source's weights (k={k})")
            elif all(
                torch.equal(a, b)
                for a, b in zip(nb.state_dict().values(), sb.state_dict().values())
            ):
                raise Hint(
                    f"with k={k}, block {i} should stay freshly initialised; only the first k blocks are copied"
                )
        if not all(torch.equal(v, source.state_dict()[n]) for n, v in before.items()):
            raise Hint("the source encoder was changed; copy from it, never into it")
    return "the first k blocks are copies, the rest are new, and the source is untouched"


@exercise("freeze")
def freeze(fn) -> str:
    """fn(model with .encoder.blocks, k) -> sets requires_grad=False on the first k blocks only (returns nothing)."""
    from torch import nn

    from ..models.encoder import ConvEncoder

    for k in (0, 2, 3):
        model = nn.Module()
        model.encoder = ConvEncoder()
        model.head = nn.Linear(128, 10)
        call(fn, model, k)
        for i, block in enumerate(model.encoder.blocks):
            flags = {p.requires_grad for p in block.parameters()}
            if i < k and flags != {False}:
                raise Hint(
                    f"with k={k}, block {i} should be frozen (requires_grad=False on all its parameters)"
                )
            if i >= k and flags != {True}:
                raise Hint(
                    f"with k={k}, block {i} should still train; freeze only the first k blocks"
                )
        if not all(p.requires_grad for p in model.head.parameters()):
            raise Hint("the new head must train, or nothing can learn the new task")
    return "the first k blocks are frozen, the rest of the encoder and the head train"
