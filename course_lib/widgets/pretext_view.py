"""Pretext-task explorer (notebook 09): pick a task and a digit, make a new puzzle, see the trained net's answer.

state  -> PretextState(task, index, seed, mask, strength)
render -> render_pretext(images, nets, state) -> PNG bytes of pretext_row(...)[0]
          pretext_row(images, nets, state) -> (images (3, 1, H, W), caption)
          inpainting: masked input (hole in grey) | the net's fill pasted into the hole | original
          jigsaw:     shuffled input | put back with the net's predicted permutation | original
          views:      view 1 | view 2 of the same digit | a view of another digit
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .. import eval_mode, model_device
from ..models import contrastive, pretext
from .base import CourseWidget, png_grid

TASKS = ("inpainting", "jigsaw", "views")


@dataclass(frozen=True)
class PretextState:
    task: str = "inpainting"
    index: int = 0
    seed: int = 0
    mask: int = 12  # side of the hidden square (inpainting)
    strength: float = 1.0  # augmentation strength (views)


def pretext_row(images: torch.Tensor, nets: dict, state: PretextState) -> tuple[torch.Tensor, str]:
    """Deterministic for a state. nets: {"inpainting": InpaintingNet, "jigsaw": JigsawNet, "views": SiameseNet}."""
    if images.ndim != 4 or images.shape[1:] != (1, 28, 28):
        raise ValueError(f"images must have shape (N, 1, 28, 28), got {tuple(images.shape)}")
    if state.task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {state.task!r}")
    if state.task not in nets:
        raise ValueError(f"no network for task {state.task!r}; nets has {sorted(nets)}")
    if not 0 <= state.index < len(images):
        raise ValueError(f"index must be in [0, {len(images) - 1}], got {state.index}")
    x = images[state.index : state.index + 1]
    net = nets[state.task]
    device = model_device(net)
    g = torch.Generator().manual_seed(state.seed)
    with eval_mode(net):
        if state.task == "inpainting":
            masked, mask = pretext.mask_square(x, state.mask, generator=g)
            filled = net(masked.to(device)).cpu()
            shown = masked + mask * filled
            err = ((filled - x) ** 2 * mask).sum() / mask.sum()
            blank = (x**2 * mask).sum() / mask.sum()
            # the hole drawn grey, so you see where it is (the net itself saw zeros there)
            return (
                torch.cat([masked + 0.4 * mask, shown, x]),
                f"hole of {state.mask}x{state.mask}: squared error {err:.3f} (an empty hole: {blank:.3f})",
            )
        if state.task == "jigsaw":
            perm_set = pretext.permutation_set(9, net.head[-1].out_features)
            shuffled, label = pretext.jigsaw_batch(x, perm_set, 3, generator=g)
            probs = net(shuffled.to(device)).softmax(1).cpu()[0]
            guess = int(probs.argmax())
            restored = pretext.unshuffle_tiles(shuffled, perm_set[guess : guess + 1], 3)
            verdict = "right" if guess == int(label) else f"wrong (it was #{int(label)})"
            return torch.cat(
                [shuffled, restored, pretext.pad_for_grid(x, 3)]
            ), f"the net says permutation #{guess} with probability {probs[guess]:.2f}: {verdict}"
        other = images[(state.index + 1) % len(images)][None]
        v1 = contrastive.augment(x, g, state.strength)
        v2 = contrastive.augment(x, g, state.strength)
        v3 = contrastive.augment(other, g, state.strength)
        z = F.normalize(net(torch.cat([v1, v2, v3]).to(device)).cpu(), dim=1)
        return torch.cat(
            [v1, v2, v3]
        ), f"cosine similarity: same digit {z[0] @ z[1]:.2f}, another digit {z[0] @ z[2]:.2f}"


def render_pretext(images, nets: dict, state: PretextState, scale: int = 6) -> bytes:
    return png_grid(pretext_row(images, nets, state)[0], nrow=3, scale=scale)


class PretextView(CourseWidget):
    """images: (N, 1, 28, 28) test digits; nets: the trained pretext networks by task name."""

    HEADERS = {
        "inpainting": "masked input (the hole in grey) | the net's fill | original",
        "jigsaw": "shuffled input | put back by the net's guess | original",
        "views": "view 1 | view 2 (same digit) | a view of another digit",
    }

    css_class = "course-pretext-view"

    def __init__(self, images: torch.Tensor, nets: dict):
        import ipywidgets as w

        self.images, self.nets = images, dict(nets)
        tasks = [t for t in TASKS if t in self.nets]
        if not tasks:
            raise ValueError(f"nets must hold at least one of {TASKS}, got {sorted(nets)}")
        self.state = PretextState(task=tasks[0])
        self._last = None  # (state, row, caption): draw and describe share one forward pass
        self._row(self.state)  # fail early on bad inputs
        self.task = w.ToggleButtons(options=tasks, value=tasks[0], description="pretext")
        self.index = w.IntSlider(
            value=0, min=0, max=len(images) - 1, description="digit", continuous_update=True
        )
        self.mask = w.IntSlider(
            value=self.state.mask, min=4, max=20, description="hole", continuous_update=True
        )
        self.strength = w.FloatSlider(
            value=1.0, min=0.0, max=2.0, step=0.1, description="strength", continuous_update=True
        )
        self.new = w.Button(description="new puzzle", icon="refresh")
        self.header = w.HTML()
        self.caption = w.HTML()
        self.image = w.Image(format="png")
        self.bind(self.task, "task", str)
        self.bind(self.index, "index", int)
        self.bind(self.mask, "mask", int)
        self.bind(self.strength, "strength")
        self.new.on_click(lambda _: self.set(seed=self.state.seed + 1))
        # CSS classes: hooks for the browser tests
        self.index.add_class("course-slider")
        self.new.add_class("course-new")
        self.finish(
            w.VBox(
                [
                    self.task,
                    w.HBox([self.index, self.new]),
                    w.HBox([self.mask, self.strength]),
                    self.header,
                    self.image,
                    self.caption,
                ]
            )
        )

    def _row(self, state: PretextState):
        if self._last is None or self._last[0] != state:
            self._last = (state, *pretext_row(self.images, self.nets, state))
        return self._last[1:]

    def draw(self, state: PretextState) -> bytes:
        return png_grid(self._row(state)[0], nrow=3, scale=6)

    def describe(self, state: PretextState) -> str:
        return self._row(state)[1]

    def panel_labels(self, state: PretextState) -> dict:
        return {"columns": [part.strip() for part in self.HEADERS[state.task].split("|")]}

    def after_redraw(self) -> None:
        self.header.value = self.HEADERS[self.state.task]
