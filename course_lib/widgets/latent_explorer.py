"""Latent-space explorer for any trained VAE or autoencoder of course_lib (notebook 04).

    LatentExplorer(model)            one slider per latent dimension -> the decoded image, plus a map
                                     of the codes with the current point (first two dimensions)
    InterpolationView({"VAE": vae, "plain AE": ae}, images)
                                     pick two images, a slider walks the line between their codes

Both follow the course's pattern: a frozen state object and pure render functions
(`render_latent`, `render_interpolation`) that return PNG bytes; moving a slider sets the
state and replaces the image bytes (about a millisecond), never redraws a matplotlib figure.
The model only needs `decode(z)` and a `latent_dim` attribute (the VAE and the Autoencoder have both);
it can live on cpu or cuda.
"""

from __future__ import annotations

import html
import itertools
import math
from dataclasses import dataclass

import numpy as np
import torch

from .. import eval_mode, model_device
from .base import (
    CourseWidget,
    FrameControl,
    Frames,
    annotate,
    encode_png,
    hstack_png,
    png_bytes,
    png_grid,
    refuse_non_finite,
)

_TAB10 = np.array(
    [
        [31, 119, 180],
        [255, 127, 14],
        [44, 160, 44],
        [214, 39, 40],
        [148, 103, 189],
        [140, 86, 75],
        [227, 119, 194],
        [127, 127, 127],
        [188, 189, 34],
        [23, 190, 207],
    ],
    np.uint8,
)


def latent_size(model) -> int:
    size = getattr(model, "latent_dim", None)
    if not isinstance(size, int) or not hasattr(model, "decode"):
        raise TypeError(
            f"{type(model).__name__} is not a course_lib VAE/autoencoder: it needs decode(z) and "
            "a latent_dim attribute"
        )
    return size


def decode_one(model, z) -> torch.Tensor:
    """Decode a single code (latent,) -> (H, W) image on the CPU (the model's mode is left as it was)."""
    z = torch.as_tensor(z, dtype=torch.float32).reshape(1, -1)
    with eval_mode(model):
        image = model.decode(z.to(model_device(model)))
    if image.ndim != 4 or image.shape[1] != 1:
        raise ValueError(f"the decoder must return images (B, 1, H, W), got {tuple(image.shape)}")
    return image[0, 0].cpu()


@dataclass(frozen=True)
class LatentState:
    z: tuple  # one float per latent dimension


def render_latent(model, state: LatentState, scale: int = 7) -> bytes:
    """PNG bytes of decode(z) for the state's z."""
    n = latent_size(model)
    if len(state.z) != n:
        raise ValueError(f"state has {len(state.z)} latent values, the model expects {n}")
    return png_bytes(decode_one(model, state.z), scale=scale)


def latent_map_background(
    codes: torch.Tensor, labels=None, size: int = 180, lim: float = 3.0
) -> np.ndarray:
    """An RGB picture (size, size, 3) of 2D codes coloured by label, for the explorer's map."""
    codes = codes.detach().cpu().numpy() if isinstance(codes, torch.Tensor) else np.asarray(codes)
    if codes.ndim != 2 or codes.shape[1] < 2:
        raise ValueError(f"codes must be (N, >= 2), got {codes.shape}")
    img = np.full((size, size, 3), 255, np.uint8)
    cols = ((codes[:, 0] + lim) / (2 * lim) * (size - 1)).round().astype(int)
    rows = ((lim - codes[:, 1]) / (2 * lim) * (size - 1)).round().astype(int)
    keep = (cols >= 0) & (cols < size) & (rows >= 0) & (rows < size)
    colours = (
        _TAB10[np.asarray(labels)[keep] % 10]
        if labels is not None
        else np.array([[120, 120, 120]], np.uint8)
    )
    img[rows[keep], cols[keep]] = colours
    mid = size // 2
    img[mid, :] = np.minimum(img[mid, :], 200)
    img[:, mid] = np.minimum(img[:, mid], 200)
    return img


def render_latent_map(background: np.ndarray, z, lim: float = 3.0) -> bytes:
    """The map with a marker at (z[0], z[1]): a black ring and cross with a white outline, so it
    stands out on any colour; pure function of its inputs."""
    from PIL import Image, ImageDraw

    img = Image.fromarray(background.copy())
    size = img.width
    c = (float(z[0]) + lim) / (2 * lim) * (size - 1)
    r = (lim - float(z[1])) / (2 * lim) * (size - 1)
    draw = ImageDraw.Draw(img)
    for colour, width in (((255, 255, 255), 5), ((0, 0, 0), 2)):
        draw.line([(c - 10, r), (c + 10, r)], fill=colour, width=width)
        draw.line([(c, r - 10), (c, r + 10)], fill=colour, width=width)
        draw.ellipse([c - 6, r - 6, c + 6, r + 6], outline=colour, width=width - 1)
    return encode_png(img)


class LatentExplorer(CourseWidget):
    """Sliders through the latent space of `model`; `codes`/`labels` (optional) draw the map."""

    css_class = "course-latent-explorer"

    def __init__(
        self,
        model,
        codes: torch.Tensor | None = None,
        labels=None,
        lim: float = 3.0,
        size_px: int = 196,
        title: str = "latent explorer",
    ):
        import ipywidgets as w

        self.model = model
        self.n = latent_size(model)
        if not (isinstance(lim, (int, float)) and lim > 0):
            raise ValueError(f"lim must be a positive number (slider range -lim..lim), got {lim!r}")
        self.lim = float(lim)
        self.state = LatentState(tuple([0.0] * self.n))
        self.sliders = [
            w.FloatSlider(
                value=0.0,
                min=-lim,
                max=lim,
                step=0.05,
                description=f"z[{i}]",
                continuous_update=True,
                readout_format=".2f",
            )
            for i in range(self.n)
        ]
        self.image = w.Image(format="png", layout=w.Layout(width=f"{size_px}px"))
        self.background = (
            latent_map_background(codes, labels, lim=lim) if codes is not None else None
        )
        self.map = w.Image(
            format="png",
            layout=w.Layout(
                width=f"{size_px}px", display="" if self.background is not None else "none"
            ),
        )
        self.sample_button = w.Button(description="random z ~ N(0, I)", icon="random")
        self.reset_button = w.Button(description="reset to 0", icon="undo")
        for i, s in enumerate(self.sliders):
            s.observe(lambda ch, i=i, s=s: self._on_slider(i, ch, s), names="value")
            s.add_class("course-slider")
        self._gen = torch.Generator().manual_seed(0)
        self.sample_button.on_click(
            lambda _: self.set_z(torch.randn(self.n, generator=self._gen).clamp(-lim, lim).tolist())
        )
        self.reset_button.on_click(lambda _: self.set_z([0.0] * self.n))
        controls = w.VBox(
            [
                w.HTML(f"<b>{html.escape(title)}</b>"),
                *self.sliders,
                w.HBox([self.sample_button, self.reset_button]),
            ]
        )
        self.finish(w.HBox([controls, self.image, self.map]))

    def draw(self, state: LatentState) -> bytes:
        return render_latent(self.model, state)

    def snapshot_png(self) -> bytes:
        """The decoded image and, where there is one, the map beside it, each labelled."""
        z = ", ".join(f"{v:.2f}" for v in self.state.z)
        image = annotate(self.render(), columns=[f"decoded z = ({z})"])
        if self.background is None:
            return image
        where = annotate(self.render_map(), columns=["test codes by digit; ring = z"])
        return hstack_png(image, where)

    def frames(self, steps: int = 21) -> Frames:
        """Decoded pictures on a steps x steps grid of (z[0], z[1]) from -lim to lim, the other
        dimensions as they are now; the map once, with where each picture sits on it."""
        grid = [round(float(v), 2) for v in np.linspace(-self.lim, self.lim, steps)]
        moved = min(self.n, 2)
        controls = [
            FrameControl(
                f"z[{i}]", grid, index=int(np.argmin([abs(v - self.state.z[i]) for v in grid]))
            )
            for i in range(moved)
        ]
        pictures, captions, points = [], [], []
        for values in itertools.product(grid, grid) if moved == 2 else ((v,) for v in grid):
            z = list(self.state.z)
            z[:moved] = values
            pictures.append(self.draw(LatentState(tuple(z))))
            captions.append("decoded z = (" + ", ".join(f"{v:.2f}" for v in z) + ")")
            x, y = (z[0], z[1] if self.n >= 2 else 0.0)
            points.append(
                [
                    round((x + self.lim) / (2 * self.lim), 4),
                    round((self.lim - y) / (2 * self.lim), 4),
                ]
            )
        has_map = self.background is not None
        return Frames(
            controls,
            pictures,
            captions,
            title="latent explorer: decode(z) and where z sits among the test codes",
            map=encode_png(self.background) if has_map else None,
            points=points if has_map else None,
        )

    def render_map(self) -> bytes:
        return render_latent_map(
            self.background, self.state.z[:2] if self.n >= 2 else (self.state.z[0], 0.0), self.lim
        )

    def after_redraw(self) -> None:
        if self.background is not None:
            self.map.value = self.render_map()

    def set_z(self, z) -> None:
        """Move every slider at once (as the buttons do); renders once."""
        z = [float(v) for v in z]
        if len(z) != self.n:
            raise ValueError(f"z must have {self.n} values, got {len(z)}")
        if any(not math.isfinite(v) or abs(v) > self.lim for v in z):
            raise ValueError(
                f"every value of z must be a finite number within [-{self.lim}, {self.lim}], got {z}"
            )
        with self.quietly():
            for s, v in zip(self.sliders, z):
                s.value = v
        self.set(z=tuple(float(s.value) for s in self.sliders))  # exactly what the sliders show

    def _on_slider(self, i, change, slider) -> None:
        if not self._quiet:
            refuse_non_finite(self, slider, float(change["new"]), change["old"])
            z = list(self.state.z)
            z[i] = float(change["new"])
            self.set(z=tuple(z))


@dataclass(frozen=True)
class InterpolationState:
    a: int = 0
    b: int = 1
    t: float = 0.5


def interpolation_row(
    models: dict, images: torch.Tensor, state: InterpolationState
) -> torch.Tensor:
    """(2 + len(models), 1, H, W): image a, each model's decode((1-t) z_a + t z_b), image b."""
    if not 0.0 <= state.t <= 1.0:
        raise ValueError(f"t must be in [0, 1], got {state.t}")
    for idx in (state.a, state.b):
        if not 0 <= idx < len(images):
            raise ValueError(f"image index must be in [0, {len(images) - 1}], got {idx}")
    pair = images[[state.a, state.b]]
    out = [pair[:1]]
    for model in models.values():
        with eval_mode(model):
            code = model.encode(pair.to(model_device(model)))
            z = code[0] if isinstance(code, tuple) else code  # a VAE walks between the means
            zt = (1 - state.t) * z[0] + state.t * z[1]
            out.append(model.decode(zt[None]).cpu().reshape(1, *pair.shape[1:]))
    out.append(pair[1:])
    return torch.cat(out)


def render_interpolation(
    models: dict, images: torch.Tensor, state: InterpolationState, scale: int = 6
) -> bytes:
    return png_grid(interpolation_row(models, images, state), nrow=len(models) + 2, scale=scale)


class InterpolationView(CourseWidget):
    """models: {"VAE": vae, "plain AE": ae}; images: (N, 1, H, W) to pick the two ends from."""

    def __init__(self, models: dict, images: torch.Tensor, a: int = 0, b: int = 1):
        import ipywidgets as w

        if not models:
            raise ValueError("models must name at least one model, e.g. {'VAE': vae}")
        for m in models.values():
            latent_size(m)
        self.models, self.images = dict(models), images
        self.state = InterpolationState(a, b, 0.5)
        interpolation_row(self.models, images, self.state)  # fail early on bad indices
        n = len(images) - 1
        self.a = w.BoundedIntText(
            value=a, min=0, max=n, description="image A", layout=w.Layout(width="160px")
        )
        self.b = w.BoundedIntText(
            value=b, min=0, max=n, description="image B", layout=w.Layout(width="160px")
        )
        self.t = w.FloatSlider(
            value=0.5, min=0.0, max=1.0, step=0.02, description="A -> B", continuous_update=True
        )
        self.image = w.Image(format="png")
        self.bind(self.a, "a", int)
        self.bind(self.b, "b", int)
        self.bind(self.t, "t")
        header = " &nbsp;|&nbsp; ".join(["image A", *[f"{k} at t" for k in self.models], "image B"])
        self.finish(w.VBox([w.HBox([self.a, self.b, self.t]), w.HTML(header), self.image]))

    def draw(self, state: InterpolationState) -> bytes:
        return render_interpolation(self.models, self.images, state)

    def panel_labels(self, state: InterpolationState) -> dict:
        return {
            "columns": [
                f"image A (#{state.a})",
                *[f"{k} at t = {state.t:.2f}" for k in self.models],
                f"image B (#{state.b})",
            ]
        }
