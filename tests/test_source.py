"""course_lib.source: the lectures show the library's own code."""

import numpy as np
import pytest
import torch

from course_lib import plot, source
from course_lib.models.autoencoders import Autoencoder
from course_lib.widgets import png_bytes, png_grid


def test_source_of_is_the_code_that_runs():
    src = source.source_of(Autoencoder)
    assert src.startswith("class Autoencoder(nn.Module):") and "def forward" in src
    namespace = {}
    exec(
        source.source_of(plot.make_grid),
        {"np": np, "math": __import__("math"), **vars(plot)},
        namespace,
    )
    images = torch.rand(3, 1, 4, 4)
    assert np.array_equal(namespace["make_grid"](images), plot.make_grid(images))


def test_source_of_can_drop_docstrings_and_stays_valid_python():
    import ast

    full, short = source.source_of(Autoencoder), source.source_of(Autoencoder, skip_docstrings=True)
    assert '"""Fully connected autoencoder' in full and "Fully connected autoencoder" not in short
    assert "def forward" in short and len(short) < len(full)
    ast.parse(short)
    both = source.source_of(png_bytes, png_grid)
    assert both.index("def png_bytes") < both.index("def png_grid")
    with pytest.raises(TypeError, match="at least one"):
        source.source_of()
    with pytest.raises(TypeError, match="a class or a function"):
        source.source_of(42)


def test_show_source_returns_highlighted_code():
    from IPython.display import Code

    shown = source.show_source(png_grid)
    assert isinstance(shown, Code) and "def png_grid" in shown.data
    assert "highlight" in shown._repr_html_()
    assert shown._repr_html_().startswith('<div class="course-source">')  # two columns on slides
