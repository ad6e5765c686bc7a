"""course_lib.plot: grids, the labelled plots, LiveLossPlot; the widgets' PNG frames."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from course_lib import plot  # noqa: E402
from course_lib.train import History  # noqa: E402
from course_lib.widgets import png_bytes, png_grid  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


def test_make_grid_places_each_image_in_its_tile():
    images = torch.stack([torch.full((1, 3, 2), float(i) / 10) for i in range(5)])
    grid = plot.make_grid(images, nrow=3, pad=1, pad_value=-1)
    assert grid.shape == (2 * (3 + 1) + 1, 3 * (2 + 1) + 1)
    for i in range(5):
        r, c = divmod(i, 3)
        tile = grid[1 + r * 4 : 1 + r * 4 + 3, 1 + c * 3 : 1 + c * 3 + 2]
        assert np.allclose(tile, i / 10), i
    assert np.all(grid[0] == -1) and np.all(grid[:, 0] == -1), "padding around the tiles"
    assert np.all(grid[5:8, 7:9] == -1), "the missing sixth tile stays padding"


def test_images_of_every_accepted_shape_and_a_clear_error():
    assert plot.make_grid(torch.rand(4, 8, 8)).shape == plot.make_grid(torch.rand(4, 1, 8, 8)).shape
    assert plot.make_grid(np.random.rand(8, 8), pad=0).shape == (8, 8)
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        plot.make_grid(torch.rand(2, 3, 8, 8))
    with pytest.raises(ValueError, match="nrow must be positive"):
        plot.make_grid(torch.rand(4, 8, 8), nrow=-1)


def test_png_bytes_scales_and_maps_the_value_range():
    image = torch.tensor([[0.0, 0.5], [1.0, 2.0]])
    pixels = _decode(png_bytes(image, scale=3))
    assert pixels.shape == (6, 6) and pixels.dtype == np.uint8
    assert pixels[0, 0] == 0 and pixels[0, 3] == 128 and pixels[3, 0] == 255
    assert pixels[3, 3] == 255, "values above vmax are clipped"
    signed = _decode(png_bytes(torch.tensor([[-1.0, 1.0], [0.0, 0.0]]), scale=1, vmin=-1, vmax=1))
    assert signed.tolist() == [[0, 255], [128, 128]]
    with pytest.raises(ValueError, match="one greyscale image"):
        png_bytes(torch.rand(2, 4, 4))
    with pytest.raises(ValueError, match="scale must be a positive int"):
        png_bytes(torch.rand(4, 4), scale=0)


def test_png_grid_is_the_grid_upscaled():
    images = torch.rand(6, 1, 5, 5)
    pixels = _decode(png_grid(images, nrow=3, scale=2, pad=1))
    grid = plot.make_grid(images, nrow=3, pad=1, pad_value=0.35)
    assert pixels.shape == (grid.shape[0] * 2, grid.shape[1] * 2)
    assert np.allclose(pixels[::2, ::2] / 255, grid, atol=1 / 255)


def test_image_grid_draws_the_images_and_the_labels():
    images = torch.rand(4, 1, 8, 8)
    ax = plot.image_grid(images, nrow=2, title="digits", labels=torch.tensor([1, 2, 3, 4]))
    shown = ax.get_images()[0].get_array()
    assert np.allclose(shown, plot.make_grid(images, 2))
    assert ax.get_title() == "digits\n1 2 | 3 4"


def test_loss_curves_plots_every_loss_and_refuses_an_empty_history():
    history = {"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.7, 0.6], "val_acc": [0.5, 0.7, 0.8]}
    ax = plot.loss_curves(history, logy=True)
    assert [line.get_label() for line in ax.get_lines()] == ["loss", "val_loss"]
    assert list(ax.get_lines()[0].get_xdata()) == [1, 2, 3] and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "epoch"
    with pytest.raises(ValueError, match="no loss values"):
        plot.loss_curves({"acc": [0.1]})


def test_latent_scatter_has_one_legend_entry_per_label():
    z, labels = torch.randn(30, 2), torch.arange(3).repeat(10)
    ax = plot.latent_scatter(z, labels)
    offsets = ax.collections[0].get_offsets()
    assert np.allclose(offsets, z.numpy())
    assert len(ax.get_legend().get_texts()) == 3
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("z[0]", "z[1]")
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plot.latent_scatter(torch.randn(5, 3))


class _Handle:
    """What IPython's display(..., display_id=True) returns in a kernel: updated in place."""

    def __init__(self):
        self.shown = []

    def update(self, obj):
        self.shown.append(obj)


def test_live_loss_plot_follows_training_and_ends_with_the_labelled_figure(monkeypatch):
    import IPython.display

    handle = _Handle()
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: handle)
    monkeypatch.setenv("COURSE_LIVE", "1")
    live = plot.LiveLossPlot(smooth=2, title="t")
    history = History()
    history.step_loss.extend([4.0, 2.0, 1.0, 3.0])
    live({"history": history})
    assert live.losses == [4.0, 2.0, 1.0, 3.0] and live.handle is not None
    fig = live.figure()
    raw, mean = fig.axes[0].lines
    assert list(raw.get_ydata()) == [4.0, 2.0, 1.0, 3.0]
    assert list(mean.get_xdata()) == [2, 3, 4] and list(mean.get_ydata()) == [3.0, 1.5, 2.0]
    assert fig.axes[0].get_xlabel() == "step" and fig.axes[0].get_title() == "t"
    live.update([])  # nothing to draw yet: no error
    live.close(history)
    assert handle.shown[-1].axes[0].get_title() == "t", "the final figure replaces the live picture"


def test_with_nobody_watching_only_the_final_figure_is_drawn_in_the_same_place(monkeypatch):
    import IPython.display

    handle = _Handle()
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: handle)
    monkeypatch.setenv("COURSE_LIVE", "0")
    live = plot.LiveLossPlot()
    for n in range(1, 200):
        live.update([1.0] * n)
    assert live.budget.redraws == 0 and handle.shown == []
    live.close()
    assert len(handle.shown) == 1 and handle.shown[0].axes[0].get_xlabel() == "step"


def test_trailing_mean_and_line_chart():
    assert list(plot.trailing_mean([4.0, 2.0, 1.0, 3.0], 2)) == [4.0, 3.0, 1.5, 2.0]
    img = plot.line_chart([("a", [1.0, 2.0, 3.0], (200, 0, 0))], [1, 2, 3], 200, 100, title="x")
    pixels = np.asarray(img)
    assert img.size == (200, 100) and (pixels[..., 0] > 150).sum() > 0  # the red curve is drawn
    empty = np.asarray(plot.line_chart([("a", [1.0], (200, 0, 0))], [1], 200, 100))
    assert empty.shape == (100, 200, 3)


def test_line_chart_draws_a_short_run_even_with_a_long_smoothing_window():
    import numpy as np

    from course_lib.plot import line_chart

    colour = (200, 30, 30)
    img = line_chart([("loss", [1.4, 1.3, 1.5, 1.2, 1.1], colour)], [1, 2, 3, 4, 5], smooth=10)
    pixels = np.asarray(img)[22:-18, 36:]  # the plot area, below the legend
    assert (np.abs(pixels.astype(int) - colour).sum(-1) < 30).sum() > 50, "five steps draw a line"
