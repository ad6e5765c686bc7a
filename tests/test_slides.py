"""Building a deck: the slides follow the cells' metadata and widgets show a picture, not an empty box."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))


def test_a_deck_has_its_slides_and_the_widget_pictures(tmp_path):
    import nbformat
    from build_slides import build

    notebook = ROOT / "notebooks" / "00_getting_started.ipynb"
    deck = build(notebook, tmp_path, reveal_prefix=None).read_text()
    nb = nbformat.read(notebook, as_version=4)
    wanted = sum(c.metadata["slideshow"]["slide_type"] == "slide" for c in nb.cells)
    sections = re.findall(r"<section\b", deck)
    assert len(sections) >= wanted, f"{len(sections)} <section>s for {wanted} slides"
    # skipped cells (the hidden solution) are not in the deck
    solution = next(c for c in nb.cells if "solution" in c.metadata.get("tags", []))
    assert solution.source.splitlines()[0] not in deck
    # the dataset browser widget is shown as its PNG snapshot
    images = [
        m.replace("\n", "")
        for m in re.findall(r'<img[^>]*src="data:image/png;base64,([A-Za-z0-9+/=\n]{200,})"', deck)
    ]
    # the matplotlib figures plus the dataset browser widget, shown as the PNG of its current view
    assert len(images) >= 9, f"{len(images)} pictures embedded"
    import base64

    from course_lib.data import make_digits28
    from course_lib.widgets import DatasetBrowser

    x, y = make_digits28(10_000, seed=0)
    browser = DatasetBrowser(x[:1000], y[:1000])
    from course_lib.widgets.base import labelled_png

    # the picture is taken when the widget is displayed (image 0), with its caption under it
    picture = labelled_png(browser.render(), browser.static_caption())
    assert base64.b64encode(picture).decode() in images, "the widget's picture is in the deck"
    assert "Getting started" in deck
