"""Denoising explorer (notebook 03): a noise slider; noisy input, reconstructions and the clean target.

state  -> DenoiseState(level, index, noise_seed)
render -> render_denoise(images, models, state) -> PNG bytes of one row:
          noisy input | model 1(noisy) | model 2(noisy) | ... | clean target
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import eval_mode, model_device
from ..models.autoencoders import add_noise
from .base import CourseWidget, png_grid


@dataclass(frozen=True)
class DenoiseState:
    level: float = 0.3
    index: int = 0
    noise_seed: int = 0


def denoise_row(
    images: torch.Tensor, models: dict, state: DenoiseState, kind: str = "gaussian"
) -> torch.Tensor:
    """(2 + len(models), 1, H, W): noisy, each model's output, clean. Deterministic for a state."""
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"images must have shape (N, 1, H, W), got {tuple(images.shape)}")
    if not 0 <= state.index < len(images):
        raise ValueError(f"index must be in [0, {len(images) - 1}], got {state.index}")
    clean = images[state.index : state.index + 1]
    g = torch.Generator().manual_seed(state.noise_seed)
    noisy = add_noise(clean, state.level, kind, generator=g)
    outs = []
    for model in models.values():
        with eval_mode(model):
            out = model(noisy.to(model_device(model)))
        out = out[0] if isinstance(out, tuple) else out
        outs.append(out.reshape(clean.shape).cpu())
    return torch.cat([noisy, *outs, clean])


def render_denoise(
    images, models: dict, state: DenoiseState, kind: str = "gaussian", scale: int = 6
) -> bytes:
    return png_grid(denoise_row(images, models, state, kind), nrow=len(models) + 2, scale=scale)


class DenoiseView(CourseWidget):
    """images: (N, 1, H, W) clean test images; models: {"name": autoencoder}, shown left to right."""

    def __init__(
        self, images: torch.Tensor, models: dict, level: float = 0.3, kind: str = "gaussian"
    ):
        import ipywidgets as w

        if not models:
            raise ValueError(
                "models must name at least one autoencoder, e.g. {'denoising AE': dae}"
            )
        self.images, self.models, self.kind = images, dict(models), kind
        self.level = w.FloatSlider(
            value=level,
            min=0.0,
            max=1.0,
            step=0.05,
            description="noise",
            continuous_update=True,
            readout_format=".2f",
        )
        self.index = w.IntSlider(
            value=0, min=0, max=len(images) - 1, description="image", continuous_update=True
        )
        self.state = DenoiseState(
            float(self.level.value), 0, 0
        )  # the value the slider shows (it clamps)
        denoise_row(images, self.models, self.state, kind)  # fail early on bad inputs
        self.resample = w.Button(description="new noise", icon="refresh")
        self.image = w.Image(format="png")
        self.bind(self.level, "level")
        self.bind(self.index, "index", int)
        self.resample.on_click(lambda _: self.set(noise_seed=self.state.noise_seed + 1))
        header = " &nbsp;|&nbsp; ".join(["noisy input", *self.models, "clean target"])
        self.finish(
            w.VBox([w.HBox([self.level, self.index, self.resample]), w.HTML(header), self.image])
        )

    def draw(self, state: DenoiseState) -> bytes:
        return render_denoise(self.images, self.models, state, self.kind)

    def panel_labels(self, state: DenoiseState) -> dict:
        return {"columns": [f"noisy input ({state.level:.2f})", *self.models, "clean target"]}
