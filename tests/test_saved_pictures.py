"""Saved widget pictures can be read without a kernel: what an exported notebook, a static deck and the
course website show in place of a live widget.

A picture tiled from several panels (png_grid's grey separators) must say what each panel is - a
label over each column (or one title over all) and one beside each row of a multi-row picture - and
no word drawn into a picture may come out as the font's empty missing-glyph box.
"""

import base64
import io

import numpy as np
import pytest
import torch
from PIL import Image

from course_lib.plot import drawable, label_font, missing_glyphs
from course_lib.widgets.base import annotate, labelled_png, png_grid

PAD = round(0.35 * 255)  # png_grid's separators


def _grid_shape(png: bytes) -> tuple[int, int]:
    """(rows, columns) of panels in a png_grid picture, from its full-length separator lines."""
    arr = np.asarray(Image.open(io.BytesIO(png)).convert("L")).astype(int)

    def runs(is_sep):
        inner, inside = 0, False
        for i, sep in enumerate(is_sep):
            if sep and not inside and 0 < i:
                inner += 1
            inside = sep
        return inner - (1 if is_sep[-1] else 0)  # the closing border is not between panels

    cols = runs([bool((arr[:, j] == PAD).all()) for j in range(arr.shape[1])])
    rows = runs([bool((arr[i, :] == PAD).all()) for i in range(arr.shape[0])])
    return rows + 1, cols + 1


def test_the_grid_reader_counts_panels():
    assert _grid_shape(png_grid(torch.rand(3, 1, 6, 6), nrow=3)) == (1, 3)
    assert _grid_shape(png_grid(torch.rand(8, 1, 6, 6), nrow=4)) == (2, 4)
    assert _grid_shape(png_grid(torch.rand(1, 1, 6, 6), nrow=1)) == (1, 1)


def _widgets():
    from course_lib.data import make_digits28
    from course_lib.models.autoencoders import Autoencoder
    from course_lib.models.diffusion import NoiseSchedule, SmallUNet
    from course_lib.models.vae import VAE
    from course_lib.widgets import (
        DenoiseView,
        DropoutView,
        InterpolationView,
        KernelView,
        LatentExplorer,
        NoiseStepper,
    )

    torch.manual_seed(0)
    images = make_digits28(8, seed=3)[0]
    vae = VAE(784, hidden=[16], latent_dim=2)
    yield DropoutView(torch.rand(8, 16), p=0.5)
    yield DenoiseView(images, {"plain AE": Autoencoder(784, hidden=[16], code=4)}, level=0.4)
    yield InterpolationView(
        {"VAE": vae, "plain AE": Autoencoder(784, hidden=[16], code=2)}, images, a=0, b=3
    )
    yield KernelView(images[0, 0], preset="vertical edges (Sobel x)")
    yield LatentExplorer(vae, codes=torch.randn(50, 2), labels=torch.randint(0, 10, (50,)))
    yield NoiseStepper(
        SmallUNet(channels=8, t_dim=16), NoiseSchedule(20), torch.rand(3, 1, 8, 8), n_samples=2
    )


@pytest.mark.parametrize("widget", list(_widgets()), ids=lambda w: type(w).__name__)
def test_a_saved_multi_panel_picture_names_its_panels(widget):
    live = widget.render()
    rows, cols = _grid_shape(live)
    labels = widget.panel_labels(widget.state)
    saved = widget.snapshot_png()
    name = type(widget).__name__
    if type(widget).snapshot_png is not type(widget).__mro__[-2].snapshot_png:
        # a widget that composes its own saved picture (two views): it must be larger than the live one
        big, small = Image.open(io.BytesIO(saved)), Image.open(io.BytesIO(live))
        assert big.width * big.height > small.width * small.height, (
            f"{name}: the saved picture adds its labels"
        )
    elif rows * cols > 1:
        assert len(labels.get("columns", ())) in (1, cols), (
            f"{name}: {cols} panels side by side need their labels"
        )
        assert rows == 1 or len(labels.get("rows", ())) == rows, (
            f"{name}: {rows} rows of panels need labels"
        )
        assert all(text.strip() for text in labels.get("columns", ())), f"{name}: an empty label"
        assert (
            saved != live
            and Image.open(io.BytesIO(saved)).height > Image.open(io.BytesIO(live)).height
        )
    for text in [*labels.get("columns", ()), *labels.get("rows", ()), widget.static_caption()]:
        assert missing_glyphs(text) == [], (
            f"{name}: {text!r} would draw boxes for {missing_glyphs(text)}"
        )
    # and what is exported (the caption strip under the picture) decodes as a picture
    bundle = widget._repr_mimebundle_()
    Image.open(io.BytesIO(base64.b64decode(bundle["image/png"]))).verify()


def test_labels_are_drawn_over_each_panel():
    live = png_grid(torch.zeros(3, 1, 8, 8), nrow=3, scale=8)
    saved = Image.open(io.BytesIO(annotate(live, columns=["input", "middle", "output"]))).convert(
        "L"
    )
    strip = np.asarray(saved)[: saved.height - Image.open(io.BytesIO(live)).height]
    thirds = np.array_split(strip, 3, axis=1)
    assert all((part < 128).any() for part in thirds), "each panel has dark text over it"


def test_no_word_in_a_picture_is_a_missing_glyph_box():
    font = label_font()
    for text in (
        "input 28x28 \u2192 output 26x26",
        "D(x) \u2248 0.5, \u03c3 = 1, \u03b2 = 4, x\u2080",
        "caf\u00e9",
    ):
        assert missing_glyphs(text, font) == [], text
    # a font without them (Pillow's own) gets ASCII stand-ins instead of boxes
    from PIL import ImageFont

    bare = ImageFont.load_default(size=13)
    assert "\u2192" in missing_glyphs("a \u2192 b", bare)
    assert drawable("a \u2192 b", bare) == "a -> b"
    png = labelled_png(png_grid(torch.rand(1, 1, 4, 4), nrow=1), "kernel: 28x28 \u2192 26x26")
    assert Image.open(io.BytesIO(png)).height > 4
