"""Plots the notebooks share: image grids, loss curves, latent scatter plots."""

from __future__ import annotations

import functools
import io
import math

import numpy as np
import torch

__all__ = [
    "image_grid",
    "make_grid",
    "loss_curves",
    "latent_scatter",
    "LiveLossPlot",
    "line_chart",
    "encode_png",
    "trailing_mean",
]


def _to_numpy_images(images) -> np.ndarray:
    """(N, 1, H, W) / (N, H, W) tensor or array -> (N, H, W) float array."""
    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().float().numpy()
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim == 2:
        images = images[None]
    if images.ndim != 3:
        raise ValueError(
            f"images must have shape (N, 1, H, W), (N, H, W) or (H, W), got {images.shape}"
        )
    return images


def make_grid(images, nrow: int | None = None, pad: int = 1, pad_value: float = 0.5) -> np.ndarray:
    """Tile N greyscale images into one 2D array (rows of `nrow` images), for a single imshow."""
    imgs = _to_numpy_images(images)
    n, h, w = imgs.shape
    nrow = nrow or int(math.ceil(math.sqrt(n)))
    if nrow < 1:
        raise ValueError(f"nrow must be positive, got {nrow}")
    ncol_rows = int(math.ceil(n / nrow))
    grid = np.full((ncol_rows * (h + pad) + pad, nrow * (w + pad) + pad), pad_value, np.float32)
    for i in range(n):
        r, c = divmod(i, nrow)
        grid[
            pad + r * (h + pad) : pad + r * (h + pad) + h,
            pad + c * (w + pad) : pad + c * (w + pad) + w,
        ] = imgs[i]
    return grid


def image_grid(
    images,
    nrow: int | None = None,
    ax=None,
    title: str | None = None,
    labels=None,
    vmin: float = 0.0,
    vmax: float = 1.0,
    cmap: str = "gray",
):
    """Show N images as one grid (one imshow). labels: optional list shown under the title."""
    import matplotlib.pyplot as plt

    imgs = _to_numpy_images(images)
    nrow = nrow or int(math.ceil(math.sqrt(len(imgs))))
    if ax is None:
        rows = int(math.ceil(len(imgs) / nrow))
        _, ax = plt.subplots(figsize=(min(12, 0.6 * nrow + 1), min(12, 0.6 * rows + 0.8)))
    ax.imshow(make_grid(imgs, nrow), cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    text = title or ""
    if labels is not None:
        labels = [int(v) if isinstance(v, (torch.Tensor, np.integer)) else v for v in labels]
        rows = [" ".join(str(v) for v in labels[i : i + nrow]) for i in range(0, len(labels), nrow)]
        text = (text + "\n" if text else "") + " | ".join(rows) if len(rows) <= 2 else text
    if text:
        ax.set_title(text, fontsize=10)
    return ax


def loss_curves(history, keys=None, ax=None, title: str = "loss", logy: bool = False):
    """Plot per-epoch curves from a History (or a dict of lists). keys default to every '*loss' entry."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2))
    keys = keys or [k for k in history if k.endswith("loss")]
    if not keys:
        raise ValueError(f"no loss values to plot; history has {sorted(history)}")
    for key in keys:
        values = history[key]
        ax.plot(
            range(1, len(values) + 1), values, marker="o" if len(values) < 30 else None, label=key
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("value")
    if logy:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def latent_scatter(
    z, labels=None, ax=None, title: str = "latent codes", s: float = 6, cmap: str = "tab10"
):
    """2D scatter of codes z: (N, 2), coloured by integer labels (N,) with a legend."""
    import matplotlib.pyplot as plt

    z = z.detach().cpu().numpy() if isinstance(z, torch.Tensor) else np.asarray(z)
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"z must have shape (N, 2), got {z.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    if labels is None:
        ax.scatter(z[:, 0], z[:, 1], s=s, alpha=0.7)
    else:
        labels = labels.cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
        sc = ax.scatter(
            z[:, 0],
            z[:, 1],
            c=labels,
            s=s,
            cmap=cmap,
            alpha=0.8,
            vmin=-0.5,
            vmax=9.5 if cmap == "tab10" else None,
        )
        ax.legend(*sc.legend_elements(), fontsize=7, loc="best", markerscale=0.8, title="label")
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
    ax.set_title(title)
    return ax


def encode_png(image, compress_level: int = 1) -> bytes:
    """The course's one PNG encoder: a PIL image, a uint8 array ((H, W) grey or (H, W, 3) colour) or a
    matplotlib figure -> PNG bytes. compress_level 1 is fast (live frames); 6 is smaller (pictures
    saved in notebooks)."""
    from PIL import Image

    buf = io.BytesIO()
    if hasattr(image, "savefig"):  # a matplotlib figure
        image.savefig(buf, format="png")
        return buf.getvalue()
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    image.save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def trailing_mean(values, k: int) -> np.ndarray:
    """The mean of the last k values at every position (fewer at the start): aligned with the values."""
    y = np.asarray(values, float)
    if len(y) == 0:
        return y
    c = np.cumsum(np.insert(y, 0, 0.0))
    idx = np.arange(1, len(y) + 1)
    start = np.maximum(idx - k, 0)
    return (c[idx] - c[start]) / (idx - start)


# Saved pictures (exports, decks, the website) have no live labels around them: what their panels
# are is written into the picture. Pillow's built-in font lacks arrows, Greek letters and even
# accents (they print as an empty box); DejaVu Sans, which matplotlib ships, has them.
ASCII_FALLBACK = {
    "\u2192": "->",
    "\u2190": "<-",
    "\u2194": "<->",
    "\u21d2": "=>",
    "\u2014": "-",
    "\u2013": "-",
    "\u2212": "-",
    "\u00d7": "x",
    "\u2248": "~",
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2026": "...",
}


@functools.lru_cache(maxsize=8)
def label_font(size: int = 13):
    """The font for words drawn into pictures: DejaVu Sans (matplotlib's), else Pillow's own."""
    from PIL import ImageFont

    try:
        from matplotlib import font_manager

        return ImageFont.truetype(font_manager.findfont("DejaVu Sans"), size)
    except (OSError, ValueError, ImportError):  # pragma: no cover - matplotlib always has it
        return ImageFont.load_default(size=size)


def missing_glyphs(text: str, font=None) -> list[str]:
    """The characters of text that `font` would draw as its missing-glyph box."""
    font = font or label_font()
    notdef = font.getmask("\U0010fffd")  # a code point no font has: the box itself
    box = (notdef.size, bytes(notdef))
    out = set()
    for ch in set(text):
        if ch.isspace() or ch.isascii() and ch.isprintable():
            continue
        mask = font.getmask(ch)
        if (mask.size, bytes(mask)) == box:
            out.add(ch)
    return sorted(out)


def drawable(text: str, font=None) -> str:
    """text with every character the font lacks replaced by an ASCII stand-in ("->" for an arrow)."""
    bad = set(missing_glyphs(text, font))
    return "".join(ASCII_FALLBACK.get(ch, "?") if ch in bad else ch for ch in text)


def font(size: int = 13):
    """A readable font for PIL pictures, with the glyphs the course's labels use (label_font)."""
    return label_font(size)


def line_chart(
    curves,
    steps,
    width: int = 420,
    height: int = 200,
    title: str | None = None,
    smooth: int = 1,
):
    """A light line chart as a PIL image, drawn in a few ms (a matplotlib figure takes 30-50 ms):
    for pictures that follow training. curves: [(label, values, (r, g, b)), ...], one value per step;
    steps: the step of each value. The legend names each curve in its colour; the y axis shows its
    range (from 0 when every value is positive), the x axis the first and last step."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    big, small = font(13), font(11)
    x, grey = 4, (90, 90, 90)
    if title:
        draw.text((x, 2), title, fill=(40, 40, 40), font=big)
        x += draw.textlength(title, font=big) + 12
    for label, _, colour in curves:
        draw.text((x, 2), label, fill=colour, font=big)
        x += draw.textlength(label, font=big) + 12
    values = [np.asarray(v, float) for _, v, _ in curves]
    if not values or min(len(v) for v in values) < 2:
        draw.text((40, height // 2), "no training steps yet", fill=(120, 120, 120), font=big)
        return img
    both = np.concatenate(values)
    both = both[np.isfinite(both)]
    low = 0.0 if both.size == 0 or both.min() >= 0 else float(both.min())
    top = (float(both.max()) if both.size else 1.0) * 1.05 + 1e-6
    left, bottom, y_top = 36, height - 18, 22  # the plot area
    draw.line([(left, y_top), (left, bottom), (width - 2, bottom)], fill=(150, 150, 150))
    draw.text((2, bottom - 7), f"{low:.2g}", fill=grey, font=small)
    draw.text((2, y_top - 6), f"{top:.2g}", fill=grey, font=small)
    draw.text((left, bottom + 3), f"step {steps[0]}", fill=grey, font=small)
    last = f"step {steps[-1]}"
    draw.text(
        (width - 4 - draw.textlength(last, font=small), bottom + 3), last, fill=grey, font=small
    )
    for series, (_, _, colour) in zip(values, curves):
        k = max(1, min(smooth, len(series) - 1))  # a short run still leaves a line (>= 2 points)
        smoothed = np.convolve(series, np.ones(k) / k, mode="valid")
        xs = np.linspace(left + 2, width - 3, len(smoothed))
        ys = bottom - (smoothed - low) / (top - low) * (bottom - y_top)
        draw.line(
            list(zip(xs.tolist(), np.nan_to_num(ys, nan=bottom).tolist())), fill=colour, width=2
        )
    return img


class LiveLossPlot:
    """A fit() callback: the loss curve follows training, paid for by the training it shows.

        live = LiveLossPlot(title="LeNet: training loss")
        history = fit(..., callbacks=[live])
        live.close(history)            # the final, labelled matplotlib figure, in the same place

    While training, a light picture (line_chart: the loss per step and its running mean) is redrawn
    in place when its feedback.Budget allows: drawing takes at most `share` of the training's CPU
    time, so a slower or crowded machine redraws less often. Where no frontend watches
    (feedback.live() is false) only the final figure is drawn - in the same place, the output of
    the cell that made the plot, wherever close() is called.
    """

    def __init__(self, smooth: int = 10, title: str = "training loss (live)", share: float = 0.05):
        from IPython.display import display

        from .feedback import Budget, live

        self.smooth, self.title = smooth, title
        self.budget = Budget(share)
        self.losses: list[float] = []
        self.live = live()
        # the place the curve is drawn: live frames while watched, the final figure in any case
        first = self._frame() if self.live else {"text/plain": f"{title}: drawn when training ends"}
        self.handle = display(first, display_id=True, raw=not self.live)

    def __call__(self, info: dict) -> None:
        self.update(info["history"].step_loss)

    def _frame(self):
        from IPython.display import Image

        y = np.asarray(self.losses, float)
        curves = [
            ("per step", y, (160, 190, 225)),
            (f"mean of the last {self.smooth}", trailing_mean(y, self.smooth), (31, 119, 180)),
        ]
        img = line_chart(curves, np.arange(1, len(y) + 1), title=self.title)
        return Image(data=encode_png(img), format="png")

    def update(self, losses) -> None:
        """Follow the losses so far (every step may call this: the budget decides when to draw)."""
        self.losses = list(losses)
        if self.live and self.handle is not None and self.budget.due():
            with self.budget.drawing():
                self.handle.update(self._frame())

    def figure(self):
        """The final figure: loss per step and its running mean, labelled."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3))
        y = np.asarray(self.losses, dtype=float)
        x = np.arange(1, len(y) + 1)
        ax.plot(x, y, alpha=0.3, label="per step")
        k = min(self.smooth, len(y))
        if k:
            ax.plot(x[k - 1 :], np.convolve(y, np.ones(k) / k, mode="valid"), label=f"mean of {k}")
        ax.set(title=self.title, xlabel="step", ylabel="loss")
        ax.grid(alpha=0.3)
        if len(y):
            ax.legend()
        fig.tight_layout()
        plt.close(fig)  # shown once, through display
        return fig

    def close(self, history=None) -> None:
        """Draw the final figure (pass the History fit returned), in the live picture's place."""
        from IPython.display import display

        if history is not None:
            self.losses = list(history.step_loss)
        fig = self.figure()
        if self.handle is not None:
            self.handle.update(fig)
        else:
            display(fig)
