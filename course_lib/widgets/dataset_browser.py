"""A slider that browses a dataset: the smallest example of the course's widget pattern.

state  -> BrowserState(index)
render -> render_browser(images, state) -> PNG bytes   (pure: no widgets, no globals)
widget -> DatasetBrowser(images, labels): slider + image, updated by setting bytes
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import torch

from .base import CourseWidget, png_bytes


@dataclass(frozen=True)
class BrowserState:
    index: int = 0


def render_browser(images: torch.Tensor, state: BrowserState, scale: int = 8) -> bytes:
    """PNG bytes of images[state.index]. images: (N, 1, H, W) in [0, 1]."""
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"images must have shape (N, 1, H, W), got {tuple(images.shape)}")
    if not 0 <= state.index < len(images):
        raise ValueError(f"index must be in [0, {len(images) - 1}], got {state.index}")
    return png_bytes(images[state.index, 0], scale=scale)


class DatasetBrowser(CourseWidget):
    """Browse images (N, 1, H, W) with a slider; labels (N,) and class_names are shown as text."""

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor | None = None,
        class_names=None,
        size_px: int = 224,
        title: str = "dataset",
    ):
        import ipywidgets as w

        if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 1:
            raise ValueError(
                f"images must be a tensor of shape (N, 1, H, W), got "
                f"{tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__}"
            )
        if labels is not None and len(labels) != len(images):
            raise ValueError(
                f"labels must have one entry per image ({len(images)}), got {len(labels)}"
            )
        self.images, self.labels, self.class_names, self.title = images, labels, class_names, title
        self.scale = max(1, size_px // images.shape[-1])
        self.state = BrowserState(0)
        self.slider = w.IntSlider(
            value=0,
            min=0,
            max=len(images) - 1,
            description="index",
            continuous_update=True,
            layout=w.Layout(width="360px"),
        )
        self.image = w.Image(format="png", layout=w.Layout(width=f"{size_px}px"))
        self.caption = w.HTML()
        self.bind(self.slider, "index", int)
        self.finish(
            w.VBox([w.HTML(f"<b>{html.escape(title)}</b>"), self.slider, self.image, self.caption])
        )

    def draw(self, state: BrowserState) -> bytes:
        return render_browser(self.images, state, self.scale)

    def describe(self, state: BrowserState) -> str:
        text = f"image {state.index} of {len(self.images)}"
        if self.labels is not None:
            label = int(self.labels[state.index])
            name = self.class_names[label] if self.class_names is not None else str(label)
            text += f" &mdash; label: <b>{html.escape(name)}</b>"
        return text

    def set_index(self, index: int) -> None:
        self.slider.value = index  # goes through the binding, as a drag in the browser does
