"""Class control for a conditional generator (notebook 06): choose the digit, resample or slide the noise.

state  -> ClassState(digit, seed, t)
render -> render_class_control(G, state) -> PNG bytes of n samples of that digit, with noise
          (1 - t) * z_a + t * z_b, where z_a and z_b are drawn from the seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import eval_mode, model_device
from .base import CourseWidget, FrameControl, Frames, png_grid, sweep


@dataclass(frozen=True)
class ClassState:
    digit: int = 0
    seed: int = 0
    t: float = 0.0


def class_samples(G, state: ClassState, n: int = 8) -> torch.Tensor:
    classes = getattr(G, "classes", 0)
    if not classes:
        raise TypeError("G must be a conditional generator (a `classes` attribute > 0)")
    if not 0 <= state.digit < classes:
        raise ValueError(f"digit must be in [0, {classes - 1}], got {state.digit}")
    if not 0.0 <= state.t <= 1.0:
        raise ValueError(f"t must be in [0, 1], got {state.t}")
    g = torch.Generator().manual_seed(state.seed)
    z_a, z_b = torch.randn(2, n, G.noise_dim, generator=g)
    z = (1 - state.t) * z_a + state.t * z_b
    device = model_device(G)
    with eval_mode(G):
        return G(z.to(device), torch.full((n,), state.digit, device=device)).cpu()


def render_class_control(G, state: ClassState, n: int = 8, scale: int = 4) -> bytes:
    return png_grid(class_samples(G, state, n), nrow=n, scale=scale)


class ClassControl(CourseWidget):
    """G: a conditional generator from course_lib (DCGenerator(classes=10))."""

    def __init__(self, G, n: int = 8):
        import ipywidgets as w

        self.G, self.n = G, n
        self.state = ClassState()
        class_samples(G, self.state, n)  # fail early for an unconditional G
        self.digit = w.ToggleButtons(
            options=list(range(G.classes)),
            value=0,
            description="digit",
            style={"button_width": "32px"},
        )
        self.resample = w.Button(description="resample noise", icon="random")
        self.t = w.FloatSlider(
            value=0.0,
            min=0.0,
            max=1.0,
            step=0.02,
            description="noise a -> b",
            continuous_update=True,
        )
        self.image = w.Image(format="png")
        self.bind(self.digit, "digit", int)
        self.bind(self.t, "t")
        self.resample.on_click(lambda _: self.set(seed=self.state.seed + 1))
        self.finish(w.VBox([self.digit, w.HBox([self.resample, self.t]), self.image]))

    def draw(self, state: ClassState) -> bytes:
        return render_class_control(self.G, state, self.n)

    def frames(self, draws: int = 4, steps: int = 6) -> Frames:
        """Every digit x `draws` noise draws x `steps` points from noise a to b (a page without a kernel)."""
        return sweep(
            self.draw,
            self.state,
            [
                ("digit", FrameControl("digit", list(range(self.G.classes)), kind="buttons")),
                ("seed", FrameControl("noise draw", list(range(draws)), kind="buttons")),
                (
                    "t",
                    FrameControl("noise a -> b", [round(i / (steps - 1), 2) for i in range(steps)]),
                ),
            ],
            caption=lambda s: (
                f"{self.n} samples of G(z, digit = {s.digit}), noise draw {s.seed}, t = {s.t:.2f}"
            ),
            title="class control: one generator, the digit chosen by its label input",
        )
