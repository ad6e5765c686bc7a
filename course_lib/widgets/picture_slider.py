"""A slider over pictures computed beforehand: one setting -> one cached picture (e.g. DDIM's step
count -> its samples). Moving it only swaps bytes; the saved copy of a notebook keeps the picture of
the setting it shows, with the setting written under it.

state  -> PictureState(choice)
widget -> PictureSlider({5: png, 10: png, ...}, description="DDIM steps", value=50)
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from .base import CourseWidget


@dataclass(frozen=True)
class PictureState:
    choice: object = None


class PictureSlider(CourseWidget):
    """pictures: {setting: PNG bytes}, in slider order; captions: optional {setting: text}."""

    css_class = "course-picture-slider"

    def __init__(self, pictures: dict, description: str, value=None, captions: dict | None = None):
        import ipywidgets as w

        if not pictures or not all(isinstance(p, bytes) for p in pictures.values()):
            raise ValueError("pictures must map each setting to PNG bytes, e.g. {5: png_grid(...)}")
        self.pictures, self.description = dict(pictures), description
        self.captions = dict(captions or {})
        value = next(iter(self.pictures)) if value is None else value
        if value not in self.pictures:
            raise ValueError(f"value must be one of {list(self.pictures)}, got {value!r}")
        self.state = PictureState(value)
        self.slider = w.SelectionSlider(
            options=list(self.pictures),
            value=value,
            description=description,
            continuous_update=True,
        )
        self.image = w.Image(format="png")
        self.caption = w.HTML()
        self.bind(self.slider, "choice", lambda v: v)
        self.finish(w.VBox([self.slider, self.image, self.caption]))

    def draw(self, state: PictureState) -> bytes:
        return self.pictures[state.choice]

    def describe(self, state: PictureState) -> str:
        extra = self.captions.get(state.choice, "")
        return f"{html.escape(self.description)} = {state.choice}" + (
            f": {html.escape(extra)}" if extra else ""
        )
