"""Dropout explorer (notebook 01): a slider for p, a button for a new forward pass.

state  -> DropoutState(p, pass_index)
render -> render_dropout(activations, state) -> PNG bytes: activations | mask | after dropout
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..models.layers import dropout
from .base import CourseWidget, png_grid


@dataclass(frozen=True)
class DropoutState:
    p: float = 0.5
    pass_index: int = 0  # each forward pass draws a new mask; the index seeds it


def dropout_pass(activations: torch.Tensor, state: DropoutState):
    """(output, mask) of one training-mode dropout pass, deterministic for a given state."""
    g = torch.Generator().manual_seed(1000 + state.pass_index)
    return dropout(activations, state.p, training=True, generator=g, return_mask=True)


def render_dropout(activations: torch.Tensor, state: DropoutState, scale: int = 12) -> bytes:
    """Three panels side by side, all on one brightness scale: activations, keep mask, dropped and rescaled.

    activations: (H, W), non-negative (e.g. a hidden layer of 256 units shown as 16x16).
    """
    if activations.ndim != 2:
        raise ValueError(f"activations must be 2D (H, W), got shape {tuple(activations.shape)}")
    if not 0.0 <= state.p < 1.0:
        raise ValueError(f"p must be in [0, 1), got {state.p}")
    out, mask = dropout_pass(activations, state)
    vmax = float(out.max().clamp(min=1e-6))
    panels = torch.stack([activations / vmax, mask, out / vmax])
    return png_grid(panels.clamp(0, 1), nrow=3, scale=scale)


class DropoutView(CourseWidget):
    """activations: (H, W) hidden-unit values for one input; shows how dropout masks and rescales them."""

    def __init__(self, activations: torch.Tensor, p: float = 0.5):
        import ipywidgets as w

        if not isinstance(activations, torch.Tensor) or activations.ndim != 2:
            raise ValueError("activations must be a 2D tensor (H, W)")
        self.activations = activations.detach().float().cpu()
        self.slider = w.FloatSlider(
            value=p,
            min=0.0,
            max=0.9,
            step=0.05,
            description="p (drop)",
            continuous_update=True,
            readout_format=".2f",
        )
        self.state = DropoutState(
            float(self.slider.value), 0
        )  # the value the slider shows (it clamps)
        self.button = w.Button(description="new forward pass", icon="refresh")
        self.image = w.Image(format="png")
        self.caption = w.HTML()
        self.bind(self.slider, "p")
        self.button.on_click(lambda _: self.set(pass_index=self.state.pass_index + 1))
        self.finish(
            w.VBox(
                [
                    w.HBox([self.slider, self.button]),
                    w.HTML(
                        "activations &nbsp;|&nbsp; keep mask (white = kept) &nbsp;|&nbsp; "
                        "after dropout, kept units x 1/(1-p)"
                    ),
                    self.image,
                    self.caption,
                ]
            )
        )

    def draw(self, state: DropoutState) -> bytes:
        return render_dropout(self.activations, state)

    def panel_labels(self, state: DropoutState) -> dict:
        return {
            "columns": [
                "activations",
                "keep mask (white = kept)",
                f"after dropout (kept x {1 / (1 - state.p):.2f})",
            ]
        }

    def describe(self, state: DropoutState) -> str:
        out, mask = dropout_pass(self.activations, state)
        p = state.p
        return (
            f"pass {state.pass_index}: dropped {1 - mask.mean().item():.0%} of units (p = {p:.2f}); "
            f"kept ones scaled by 1/(1-p) = {1 / (1 - p):.2f}; mean activation "
            f"{self.activations.mean().item():.3f} -> {out.mean().item():.3f}"
        )
