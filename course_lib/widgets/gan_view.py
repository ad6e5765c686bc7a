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
from PIL import Image, ImageDraw, ImageFont

from .. import eval_mode, model_device
from ..models.gan import generator_loss
from ..plot import make_grid
from .base import encode_png

__all__ = ["render_gan_view", "render_game", "render_samples", "loss_chart"]

_REAL = np.array([27, 158, 119], np.float32)  # green
_FAKE = np.array([117, 112, 179], np.float32)  # purple


def _font(size: int = 13):
    """A readable font (Pillow's bundled one, scalable since Pillow 10.1); the bitmap default otherwise."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # pragma: no cover - old Pillow
        return ImageFont.load_default()


def loss_chart(history: dict, width: int = 320, height: int = 130, last: int = 600) -> Image.Image:
    """D and G loss curves (the last `last` steps, lightly smoothed) with a y axis, as a PIL image."""
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    font, small = _font(13), _font(11)
    d = np.asarray(history["d_loss"][-last:], float)
    g = np.asarray(history["g_loss"][-last:], float)
    draw.text((40, 2), "D loss", fill=(40, 40, 40), font=font)
    draw.text((100, 2), "G loss", fill=tuple(_FAKE.astype(int)), font=font)
    if len(d) < 2:
        draw.text((40, height // 2), "no training steps yet", fill=(120, 120, 120), font=font)
        return img
    top = float(np.nanmax(np.concatenate([d, g]))) * 1.05 + 1e-6
    steps = history["step"][-last:]
    left, bottom, y_top = 36, height - 18, 20  # the plot area
    # axes with values: 0 and the top of the y axis, the first and last step on the x axis
    draw.line([(left, y_top), (left, bottom), (width - 2, bottom)], fill=(150, 150, 150))
    draw.text((2, bottom - 7), "0", fill=(90, 90, 90), font=small)
    draw.text((2, y_top - 6), f"{top:.2g}", fill=(90, 90, 90), font=small)
    draw.text((left, bottom + 3), f"step {steps[0]}", fill=(90, 90, 90), font=small)
    label = f"step {steps[-1]}"
    draw.text(
        (width - 4 - draw.textlength(label, font=small), bottom + 3),
        label,
        fill=(90, 90, 90),
        font=small,
    )
    for series, colour in ((d, (40, 40, 40)), (g, tuple(_FAKE.astype(int)))):
        k = min(10, len(series))
        sm = np.convolve(series, np.ones(k) / k, mode="valid")
        xs = np.linspace(left + 2, width - 3, len(sm))
        ys = bottom - (sm / top) * (bottom - y_top)
        draw.line(list(zip(xs.tolist(), ys.tolist())), fill=colour, width=2)
    return img


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
