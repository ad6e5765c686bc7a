"""How the live GAN view is drawn (notebooks 05 and 06), with numpy + PIL, not matplotlib (a few
ms per frame); pure functions of the models and the loss history.

  2D toys: the discriminator's decision surface (green = "real", purple = "fake"), real points
           (green), generated points (purple) and the gradient arrows D gives the generator;
  images:  samples from a fixed noise batch;
and under it the D and G loss curves.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from .. import eval_mode, model_device
from ..models.gan import generator_loss
from ..plot import font as _font
from ..plot import line_chart, make_grid
from .base import encode_png

__all__ = ["render_gan_view", "render_game", "render_samples", "loss_chart"]

_REAL = np.array([27, 158, 119], np.float32)  # green
_FAKE = np.array([117, 112, 179], np.float32)  # purple


def loss_chart(history: dict, width: int = 320, height: int = 130, last: int = 600) -> Image.Image:
    """D and G loss curves (the last `last` steps, lightly smoothed) with their axes, as a PIL image."""
    curves = [
        ("D loss", history["d_loss"][-last:], (40, 40, 40)),
        ("G loss", history["g_loss"][-last:], tuple(_FAKE.astype(int))),
    ]
    return line_chart(curves, history["step"][-last:] or [0], width, height, smooth=10)


def _legend(draw: ImageDraw.ImageDraw, size: int) -> None:
    """What the colours of the 2D game mean, in its bottom-left corner."""
    font = _font(12)
    items = [
        ("real data", tuple(_REAL.astype(int) - 20), "dot"),
        ("generated", tuple(_FAKE.astype(int) - 40), "dot"),
        ("where G pushes its points", (60, 60, 60), "line"),
    ]
    x0, y0 = 6, size - 6 - 16 * len(items) - 16
    draw.rectangle(
        [x0 - 3, y0 - 3, x0 + 178, size - 4], fill=(255, 255, 255), outline=(190, 190, 190)
    )
    for i, (text, colour, mark) in enumerate(items):
        y = y0 + 16 * i + 7
        if mark == "dot":
            draw.ellipse([x0 + 3, y - 3, x0 + 9, y + 3], fill=colour)
        else:
            draw.line([(x0 + 1, y), (x0 + 11, y)], fill=colour, width=2)
        draw.text((x0 + 16, y - 7), text, fill=(40, 40, 40), font=font)
    y = y0 + 16 * len(items) + 7
    draw.text((x0, y - 7), "background: D(x), green = says real", fill=(40, 40, 40), font=font)


def _surface(D, extent, res, device):
    lo, hi = extent
    xs = torch.linspace(lo, hi, res)
    gy, gx = torch.meshgrid(torch.linspace(hi, lo, res), xs, indexing="ij")
    grid = torch.stack([gx.flatten(), gy.flatten()], 1).to(device)
    with eval_mode(D):
        return torch.sigmoid(D(grid)).reshape(res, res).cpu().numpy()


def render_game(
    G,
    D,
    real: torch.Tensor,
    noise: torch.Tensor,
    extent=(-3.0, 3.0),
    size: int = 320,
    arrows: int = 40,
    res: int = 48,
) -> Image.Image:
    """The 2D game: decision surface, real and generated points, and the generator's gradient arrows."""
    device = model_device(G)
    p = _surface(D, extent, res, device)
    colours = (1 - p)[..., None] * _FAKE + p[..., None] * _REAL
    colours = 255 - 0.45 * (255 - colours)  # light background, so the points stand out
    img = Image.fromarray(colours.astype(np.uint8)).resize((size, size), Image.BILINEAR)
    draw = ImageDraw.Draw(img)
    lo, hi = extent

    def to_px(pts):
        pts = pts.detach().cpu().numpy()
        return np.stack(
            [(pts[:, 0] - lo) / (hi - lo) * size, (hi - pts[:, 1]) / (hi - lo) * size], 1
        )

    for x, y in to_px(real):
        draw.ellipse([x - 1.5, y - 1.5, x + 1.5, y + 1.5], fill=tuple(_REAL.astype(int) - 20))
    with eval_mode(G):
        fake = G(noise.to(device))
    for x, y in to_px(fake):
        draw.ellipse([x - 1.5, y - 1.5, x + 1.5, y + 1.5], fill=tuple(_FAKE.astype(int) - 40))
    # where would the generator like to move its points? minus the gradient of its loss
    pts = fake[:arrows].clone().requires_grad_(True)
    with eval_mode(D, grad=True), torch.enable_grad():
        (grad,) = torch.autograd.grad(generator_loss(D(pts)), pts)
    direction = -F.normalize(grad, dim=1) * 0.25
    starts, ends = to_px(pts.detach()), to_px(pts.detach() + direction)
    for (x0, y0), (x1, y1) in zip(starts, ends):
        draw.line([(x0, y0), (x1, y1)], fill=(60, 60, 60), width=1)
        draw.ellipse([x1 - 1, y1 - 1, x1 + 1, y1 + 1], fill=(60, 60, 60))
    _legend(draw, size)
    return img


def render_samples(
    G, noise: torch.Tensor, labels=None, size: int = 320, nrow: int = 8
) -> Image.Image:
    """A grid of generated images from a fixed noise batch (and labels, for a conditional G)."""
    with eval_mode(G):
        images = G(noise) if labels is None else G(noise, labels)
    grid = make_grid(images.cpu(), nrow=nrow, pad=1, pad_value=0.3)
    return Image.fromarray((grid * 255).clip(0, 255).astype(np.uint8)).resize(
        (size, size), Image.NEAREST
    )


def render_gan_view(
    kind: str, G, D, history: dict, real, noise, extent=(-3.0, 3.0), labels=None
) -> bytes:
    """The live picture as PNG bytes, a pure function of the models and the loss history:
    the 2D game (kind="2d") or fixed-noise samples (kind="images"), with the loss chart under it."""
    top = (
        render_game(G, D, real, noise, extent) if kind == "2d" else render_samples(G, noise, labels)
    )
    chart = loss_chart(history, width=top.width)
    img = Image.new("RGB", (top.width, top.height + chart.height), "white")
    img.paste(top, (0, 0))
    img.paste(chart, (0, top.height))
    return encode_png(img)
