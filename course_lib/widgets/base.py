"""The one shape every course widget has, so that a new widget is one small file; the one PNG
encoder every picture goes through; the one player every play button runs on.

    state                    a frozen dataclass: everything the picture depends on that a control changes
    draw(state) -> bytes     pure: the same state gives the same PNG bytes (tests call it without a browser)
    describe(state) -> str   optional caption under the picture (pure as well)
    bind(control, field)     a control's value goes into that field of the state
    set(**changes)           replace the state and redraw once (what every control ends up calling)

A subclass builds its controls in __init__, sets `self.state`, `self.image` (an ipywidgets.Image)
and, if it has one, `self.caption` (an ipywidgets.HTML), and calls `self.finish(view)` last.

Displaying the widget shows the live view in JupyterLab. The same output also carries a PNG of
the current view, so an exported deck or HTML page (no kernel) still shows a picture.

    encode_png(image)        a PIL image, a uint8 array or a matplotlib figure -> PNG bytes
    png_bytes / png_grid     greyscale tensors -> upscaled PNG frames (no matplotlib: about a ms)
    KernelPlayer             a play button's loop in a background thread (the kernel stays free)

A page without a kernel (the course website) can still move a widget when the widget precomputes
its pictures: `frames()` returns a Frames (the controls' values and one picture per combination).
The executions the tests, decks and site share call `export_frames(path)` after the last cell.
"""

from __future__ import annotations

import base64
import contextlib
import io
import itertools
import json
import math
import threading
import warnings
import weakref
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any, Callable

import numpy as np
import torch

from ..plot import drawable, encode_png, label_font, make_grid, missing_glyphs  # noqa: F401


# ----------------------------------------------------------------------------- pictures
def png_bytes(image, scale: int = 8, vmin: float = 0.0, vmax: float = 1.0) -> bytes:
    """One greyscale image (H, W) or (1, H, W) -> PNG bytes, upscaled `scale` times (nearest).

    This is how widgets update: a few hundred microseconds, no matplotlib redraw.
    """
    arr = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    arr = np.squeeze(arr)
    if arr.ndim != 2:
        raise ValueError(f"png_bytes expects one greyscale image (H, W), got shape {arr.shape}")
    if not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be a positive int, got {scale!r}")
    arr = np.clip((arr - vmin) / (vmax - vmin), 0.0, 1.0)
    arr = (arr * 255 + 0.5).astype(np.uint8)
    if scale > 1:
        arr = np.kron(arr, np.ones((scale, scale), np.uint8))
    return encode_png(arr)


def png_grid(
    images, nrow: int | None = None, scale: int = 6, pad: int = 1, pad_value: float = 0.35
) -> bytes:
    """Several greyscale images (N, 1, H, W) tiled into one PNG: one widget frame, no matplotlib."""
    return png_bytes(make_grid(images, nrow=nrow, pad=pad, pad_value=pad_value), scale=scale)


def stack_png(*pngs: bytes, gap: int = 8) -> bytes:
    """PNG pictures one under the other, with white gaps (a widget's two views in one saved picture)."""
    from PIL import Image

    images = [Image.open(io.BytesIO(p)).convert("RGB") for p in pngs]
    out = Image.new(
        "RGB",
        (max(i.width for i in images), sum(i.height for i in images) + gap * (len(images) - 1)),
        "white",
    )
    y = 0
    for image in images:
        out.paste(image, (0, y))
        y += image.height + gap
    return encode_png(out, compress_level=6)


def hstack_png(*pngs: bytes, gap: int = 12) -> bytes:
    """PNG pictures side by side, tops aligned, with white gaps."""
    from PIL import Image

    images = [Image.open(io.BytesIO(p)).convert("RGB") for p in pngs]
    out = Image.new(
        "RGB",
        (sum(i.width for i in images) + gap * (len(images) - 1), max(i.height for i in images)),
        "white",
    )
    x = 0
    for image in images:
        out.paste(image, (x, 0))
        x += image.width + gap
    return encode_png(out, compress_level=6)


# ----------------------------------------------------------------------------- words in pictures
def _wrap(text: str, font, width: int) -> list[str]:
    """Lines of text no wider than `width` pixels (a word longer than that gets a line of its own)."""
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and font.getlength(trial) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return lines + [line] if line else lines or [""]


def annotate(png: bytes, columns=(), rows=(), size: int = 13) -> bytes:
    """The picture with a label over each column of panels and left of each row of panels (the
    picture is split evenly: png_grid's panels). What a saved multi-panel picture needs to be read."""
    from PIL import Image, ImageDraw

    image = Image.open(io.BytesIO(png)).convert("RGB")
    font, line = label_font(size), size + 4
    columns = [drawable(c, font) for c in columns]
    rows = [drawable(r, font) for r in rows]
    cell_w = image.width / max(len(columns), 1)
    wrapped = [_wrap(c, font, int(cell_w) - 4) for c in columns]
    top = (max((len(w) for w in wrapped), default=0) * line + 6) if columns else 0
    left = int(max((font.getlength(r) for r in rows), default=0)) + 10 if rows else 0
    out = Image.new("RGB", (image.width + left, image.height + top), "white")
    out.paste(image, (left, top))
    draw = ImageDraw.Draw(out)
    for i, lines in enumerate(wrapped):
        for j, text in enumerate(lines):
            x = left + (i + 0.5) * cell_w - font.getlength(text) / 2
            draw.text((max(left, x), 3 + j * line), text, fill=(30, 30, 30), font=font)
    cell_h = image.height / max(len(rows), 1)
    for i, text in enumerate(rows):
        draw.text((4, top + (i + 0.5) * cell_h - size / 2 - 1), text, fill=(30, 30, 30), font=font)
    return encode_png(out, compress_level=6)


# ----------------------------------------------------------------------------- playing
class KernelPlayer:
    """What every play button runs: `step()` over and over in a background thread, so the kernel
    (other cells, the widget's own controls) stays free while it plays.

        player = KernelPlayer(step, button=play_toggle, interval_s=0.05, on_end=refresh)
        player.start(); player.pause(); player.playing

    step() -> bool: one unit of work (a training round, a frame); False ends playing.
    interval_s: the wait before each step (an animation's pace); 0 runs as fast as the work goes.
    on_start(): called before the thread starts (e.g. move a timeline to its live end).
    on_end(error): called in the thread when playing ends; error is "Type: message" or None.
    button: a ToggleButton that starts and pauses it, and always shows whether it plays.
    """

    def __init__(
        self,
        step: Callable[[], bool],
        button=None,
        interval_s: float = 0.0,
        on_start: Callable[[], None] | None = None,
        on_end: Callable[[str | None], None] | None = None,
        name: str = "course-player",
    ):
        self.step_fn, self.button, self.interval_s = step, button, interval_s
        self.on_start, self.on_end, self.name = on_start, on_end, name
        self._control = threading.Lock()  # start / pause: one at a time, never two threads
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._quiet = False  # True while the code (not a person) sets the button
        self.error: str | None = None
        if button is not None:
            button.observe(self._on_button, names="value")

    @property
    def playing(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start playing (what pressing play does); never a second thread."""
        with self._control:
            if self.playing:
                self._show(True)
                return
            self.error = None
            self._stop.clear()
            if self.on_start is not None:
                self.on_start()
            self._thread = threading.Thread(target=self._loop, daemon=True, name=self.name)
            self._show(True)
            self._thread.start()

    def pause(self, timeout: float = 10.0) -> bool:
        """Stop after the step in progress and wait for it (the state stays consistent).

        Returns True once stopped; False (with a warning) if the step in progress did not finish
        within `timeout` seconds - the thread still stops after it, and start() will not run a second.
        """
        with self._control:
            self._stop.set()
            thread = self._thread
            current = threading.current_thread()
            if thread is not None and thread is not current:
                thread.join(timeout)
            stopped = thread is None or not thread.is_alive() or thread is current
            if stopped:
                self._thread = None
            self._show(False)
        if not stopped:
            warnings.warn(
                f"{self.name}: the step in progress did not finish within {timeout} s; playing "
                "stops after it",
                RuntimeWarning,
                stacklevel=2,
            )
        return stopped

    def wait(self, timeout: float | None = None) -> None:
        """Wait until playing ends by itself (a step returned False) or `timeout` seconds pass."""
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _loop(self) -> None:
        torch.set_flush_denormal(
            True
        )  # a per-thread setting (threads.apply sets the main thread's)
        error = None
        try:
            while (
                not self._stop.wait(self.interval_s) if self.interval_s else not self._stop.is_set()
            ):
                if self.step_fn() is False:
                    break
        except Exception as exc:  # the widget keeps its state consistent; say why it stopped
            error = f"{type(exc).__name__}: {exc}"
            self.error = error
        finally:
            if self.on_end is not None:
                self.on_end(error)
            if threading.current_thread() is self._thread:
                self._show(False)

    def _show(self, playing: bool) -> None:
        """Make the button show the real state, without its own event starting or pausing anything."""
        if self.button is None:
            return
        self._quiet = True
        try:
            self.button.value = playing
            self.button.description, self.button.icon = (
                ("pause", "pause") if playing else ("play", "play")
            )
        finally:
            self._quiet = False

    def _on_button(self, change) -> None:
        if self._quiet:
            return
        if change["new"]:
            self.start()
        else:
            self.pause()


@contextlib.contextmanager
def working(button, label: str):
    """While a slow action runs (a second or more), its button says so and cannot be pressed again:
    the change reaches the browser before the work starts, and the button comes back after it,
    also when the work fails."""
    description, icon, disabled = button.description, button.icon, button.disabled
    button.description, button.icon, button.disabled = label, "hourglass-half", True
    try:
        yield
    finally:
        button.description, button.icon, button.disabled = description, icon, disabled


def refuse_non_finite(widget, control, value, old) -> None:
    """A NaN or infinite number set on a control from code is refused: the control goes back to its
    last value (without redrawing) and a ValueError names the control."""
    if isinstance(value, float) and not math.isfinite(value):
        with widget.quietly():
            control.value = old
        name = getattr(control, "description", "") or type(control).__name__
        raise ValueError(f"{name!r} must be a finite number, got {value}; it stays at {old}")


# ----------------------------------------------------------------------------- pictures for a page without a kernel
@dataclass
class FrameControl:
    """One control of a precomputed figure: its label, its values (shown as text) and which value
    the widget shows now. kind "slider" (a range) or "buttons" (one button per value)."""

    label: str
    values: list
    index: int = 0
    kind: str = "slider"


@dataclass
class Frames:
    """A widget's pictures for every combination of its controls' values (the last control varies
    fastest), with an optional caption per picture, and optionally a map drawn once with a marker
    placed per picture at `points` (x, y as fractions of the map's width and height)."""

    controls: list
    pictures: list
    captions: list | None = None
    title: str = ""
    map: bytes | None = None
    points: list | None = None

    def __post_init__(self):
        expected = math.prod(len(c.values) for c in self.controls)
        if len(self.pictures) != expected:
            raise ValueError(
                f"{expected} pictures expected (one per combination), got {len(self.pictures)}"
            )
        for name in ("captions", "points"):
            value = getattr(self, name)
            if value is not None and len(value) != expected:
                raise ValueError(f"{name}: {expected} expected, got {len(value)}")

    def to_json(self) -> dict:
        b64 = lambda data: base64.b64encode(data).decode("ascii")  # noqa: E731
        return {
            "title": self.title,
            "controls": [
                {
                    "label": c.label,
                    "values": [str(v) for v in c.values],
                    "index": c.index,
                    "kind": c.kind,
                }
                for c in self.controls
            ],
            "frames": [b64(p) for p in self.pictures],
            "captions": self.captions,
            "map": b64(self.map) if self.map is not None else None,
            "points": self.points,
        }


def sweep(
    draw: Callable, state, axes: list, caption: Callable | None = None, title: str = ""
) -> Frames:
    """Frames of draw(state with each combination of values): axes = [(field, FrameControl)], the
    control's values being the field's values; the control's index starts at the state's value
    (or the nearest one)."""
    controls = []
    for name, control in axes:
        now = getattr(state, name)
        distance = [
            abs(v - now) if isinstance(v, (int, float)) else float(v != now) for v in control.values
        ]
        controls.append(replace(control, index=int(np.argmin(distance))))
    pictures, captions = [], []
    for combo in itertools.product(*(c.values for _, c in axes)):
        s = replace(state, **{name: value for (name, _), value in zip(axes, combo)})
        pictures.append(draw(s))
        if caption is not None:
            captions.append(caption(s))
    return Frames(controls, pictures, captions if caption is not None else None, title=title)


_SHOWN: "weakref.WeakValueDictionary[str, CourseWidget]" = (
    weakref.WeakValueDictionary()
)  # by view id


def export_frames(path: str) -> int:
    """Write {widget view's model id: Frames as JSON} for every course widget shown in this kernel
    that precomputes its pictures; returns how many. What the course website moves without a kernel."""
    out = {}
    for model_id, widget in list(_SHOWN.items()):
        frames = widget.frames()
        if frames is not None:
            out[model_id] = frames.to_json()
    with open(path, "w") as f:
        json.dump(out, f)
    return len(out)


# ----------------------------------------------------------------------------- the widget
class CourseWidget:
    state: Any = None
    view = None  # the ipywidgets container shown in the notebook
    image = None  # its ipywidgets.Image: gets draw(state) on every change
    caption = None  # optional ipywidgets.HTML: gets describe(state)
    css_class: str | None = None  # a hook for the browser tests, e.g. "course-latent-explorer"
    _quiet = False  # True while the code (not a person) moves a bound control

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

    def panel_labels(self, state) -> dict:
        """What the panels of draw(state)'s picture are, for the saved picture: {"columns": [...],
        "rows": [...]} (either may be left out); {} for a picture of one panel."""
        return {}

    def snapshot_png(self) -> bytes:
        """The static picture that exports carry: the current picture, its panels labelled."""
        labels = self.panel_labels(self.state)
        return annotate(self.render(), **labels) if labels else self.render()

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
            # selection widgets pass through None while their options change
            if change["new"] is not None and not self._quiet:
                value = cast(change["new"])
                refuse_non_finite(self, control, value, change["old"])
                self.set(**{field: value})

        control.observe(on_change, names="value")

    @contextlib.contextmanager
    def quietly(self):
        """Move bound controls from code without their events changing the state or redrawing."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

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

    def frames(self) -> Frames | None:
        """The pictures a page without a kernel shows when its controls move (None: only the saved
        picture). Computed after the notebook ran, by export_frames; never while a student works."""
        return None

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
        _SHOWN[self.view.model_id] = self
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
    from PIL import Image, ImageDraw

    image = Image.open(io.BytesIO(png)).convert("RGB")
    font = label_font(13)
    width = max(image.width, 320)
    lines = _wrap(drawable(caption, font), font, width - 8)
    out = Image.new("RGB", (width, image.height + 6 + 17 * len(lines)), "white")
    out.paste(image, (0, 0))
    draw = ImageDraw.Draw(out)
    for i, line in enumerate(lines):
        draw.text((4, image.height + 3 + 17 * i), line, fill=(40, 40, 40), font=font)
    return encode_png(out, compress_level=6)
