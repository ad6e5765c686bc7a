"""Plots the notebooks share: image grids, loss curves, latent scatter plots."""

from __future__ import annotations

import math
import time

import numpy as np
import torch

__all__ = [
    "image_grid",
    "make_grid",
    "loss_curves",
    "latent_scatter",
    "LiveLossPlot",
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


class LiveLossPlot:
    """A fit() callback that redraws a loss curve in place while training runs (at most every `every_s` s).

    live = LiveLossPlot()
    fit(..., callbacks=[live]); live.close()
    """

    def __init__(self, every_s: float = 0.5, smooth: int = 10, title: str = "training loss (live)"):
        import matplotlib.pyplot as plt
        from IPython.display import display

        self.every_s, self.smooth = every_s, smooth
        self.fig, self.ax = plt.subplots(figsize=(5, 3))
        self.ax.set_title(title)
        self.ax.set_xlabel("step")
        self.ax.set_ylabel("loss")
        self.ax.grid(alpha=0.3)
        (self.raw,) = self.ax.plot([], [], alpha=0.3, label="per step")
        (self.avg,) = self.ax.plot([], [], label=f"mean of {smooth}")
        self.ax.legend()
        plt.close(self.fig)  # shown through the display handle only, not again at cell end
        self._last = 0.0
        self.handle = display(self.fig, display_id=True)

    def __call__(self, info: dict) -> None:
        now = time.monotonic()
        if now - self._last >= self.every_s:
            self._last = now
            self.update(info["history"].step_loss)

    def update(self, losses) -> None:
        y = np.asarray(losses, dtype=float)
        if len(y) == 0:
            return
        x = np.arange(1, len(y) + 1)
        self.raw.set_data(x, y)
        k = min(self.smooth, len(y))
        self.avg.set_data(x[k - 1 :], np.convolve(y, np.ones(k) / k, mode="valid"))
        self.ax.relim()
        self.ax.autoscale_view()
        if self.handle is not None:
            self.handle.update(self.fig)

    def close(self, history=None) -> None:
        """Draw the final curve (pass the History fit returned)."""
        if history is not None:
            self.update(history.step_loss)
