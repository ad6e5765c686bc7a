"""The one shape every course widget has, so that a new widget is one small file.

    state                    a frozen dataclass: everything the picture depends on that a control changes
    draw(state) -> bytes     pure: the same state gives the same PNG bytes (tests call it without a browser)
    describe(state) -> str   optional caption under the picture (pure as well)
    bind(control, field)     a control's value goes into that field of the state
    set(**changes)           replace the state and redraw once (what every control ends up calling)

A subclass builds its controls in __init__, sets `self.state`, `self.image` (an ipywidgets.Image)
and, if it has one, `self.caption` (an ipywidgets.HTML), and calls `self.finish(view)` last.

Displaying the widget shows the live view in JupyterLab. The same output also carries a PNG of
the current view, so an exported deck or HTML page (no kernel) still shows a picture.
"""

from __future__ import annotations

import base64
from dataclasses import fields, is_dataclass, replace
from typing import Any, Callable


class CourseWidget:
    state: Any = None
    view = None  # the ipywidgets container shown in the notebook
    image = None  # its ipywidgets.Image: gets draw(state) on every change
    caption = None  # optional ipywidgets.HTML: gets describe(state)
    css_class: str | None = None  # a hook for the browser tests, e.g. "course-latent-explorer"

    # ------------------------------------------------------------------ what a subclass writes
    def draw(self, state) -> bytes:  # pragma: no cover - every subclass implements it
        raise NotImplementedError

    def describe(self, state) -> str | None:
        return None

    def after_redraw(self) -> None:
        """Anything else that follows the state (a second picture, a header); called after each redraw."""

    # ------------------------------------------------------------------ what the base does for it
    def render(self) -> bytes:
        """PNG bytes of the current state (the picture the widget shows)."""
        return self.draw(self.state)

    def snapshot_png(self) -> bytes:
        """The static picture that exports carry."""
        return self.render()

    def set(self, **changes) -> None:
        """Change some fields of the state and redraw once."""
        self.state = replace(self.state, **changes)
        self.redraw()

    def redraw(self) -> None:
        if self.image is not None:
            self.image.value = self.render()
        if self.caption is not None:
            self.caption.value = self.describe(self.state) or ""
        self.after_redraw()

    def bind(self, control, field: str, cast: Callable = float) -> None:
        """When `control` changes, set that field of the state to cast(its value)."""

        def on_change(change):
            if (
                change["new"] is not None
            ):  # selection widgets pass through None while their options change
                self.set(**{field: cast(change["new"])})

        control.observe(on_change, names="value")

    def finish(self, view) -> None:
        """Set the view, draw the first picture and add the CSS hooks the browser tests use."""
        self.view = view
        if self.image is not None:
            self.image.value = self.render()
            self.image.add_class("course-image")
        if self.caption is not None:
            self.caption.value = self.describe(self.state) or ""
        self.after_redraw()
        if self.css_class:
            view.add_class(self.css_class)
        readable_labels(view)

    def static_caption(self) -> str:
        """The line printed under the static picture: the caption, or else the state's values."""
        text = self.describe(self.state) if self.state is not None else None
        if not text and is_dataclass(self.state):
            text = ", ".join(
                f"{f.name} = {_short(getattr(self.state, f.name))}" for f in fields(self.state)
            )
        return f"{type(self).__name__}: {_plain(text or '')}".rstrip(": ")

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = self.view._repr_mimebundle_(include=include, exclude=exclude)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        png = labelled_png(self.snapshot_png(), self.static_caption())
        data["image/png"] = base64.b64encode(png).decode("ascii")
        return data


def _descendants(widget):
    yield widget
    for child in getattr(widget, "children", ()) or ():
        yield from _descendants(child)


def readable_labels(view) -> None:
    """No cut labels: every control's description gets the width it needs, and buttons grow to fit
    their text (ipywidgets cuts a description at about 80 px and a button at 148 px)."""
    import ipywidgets as w

    for widget in _descendants(view):
        style = getattr(widget, "style", None)
        if getattr(widget, "description", "") and hasattr(style, "description_width"):
            if not style.description_width:
                style.description_width = "initial"
        if isinstance(widget, (w.Button, w.ToggleButton)) and widget.layout.width is None:
            widget.layout.width = "auto"


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    return str(value)


def _plain(text: str) -> str:
    """Caption HTML (<b>, &nbsp;, &mdash;) as plain text."""
    import html
    import re

    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split())


def labelled_png(png: bytes, caption: str) -> bytes:
    """The static picture with its caption written under it (exports and decks have no live labels)."""
    import io
    import textwrap

    from PIL import Image, ImageDraw, ImageFont

    image = Image.open(io.BytesIO(png)).convert("RGB")
    try:
        font = ImageFont.load_default(size=13)
    except TypeError:  # pragma: no cover - old Pillow
        font = ImageFont.load_default()
    width = max(image.width, 320)
    lines = textwrap.wrap(caption, width=max(20, width // 7)) or [""]
    out = Image.new("RGB", (width, image.height + 6 + 17 * len(lines)), "white")
    out.paste(image, (0, 0))
    draw = ImageDraw.Draw(out)
    for i, line in enumerate(lines):
        draw.text((4, image.height + 3 + 17 * i), line, fill=(40, 40, 40), font=font)
    buf = io.BytesIO()
    out.save(buf, format="PNG")
    return buf.getvalue()
