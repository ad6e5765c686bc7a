"""Static decks (make slides): slides from the cells' metadata, offline, math rendered, widgets drawn
with their controls, every slide inside 1280x720. Opened in Debian's Chromium with the network
blocked, as a projector laptop without internet would open them."""

import base64
import re
import sys
from pathlib import Path

import pytest

from bench.browser import INSTALL_HINT, chromium_available

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import static_widgets  # noqa: E402

# --- widgets drawn from their saved state (no browser needed) ---------------------------------


def _states(**models):
    return {
        k: {"model_name": v[0], "state": v[1], **({"buffers": v[2]} if len(v) > 2 else {})}
        for k, v in models.items()
    }


def test_a_widget_is_drawn_with_its_controls_values_not_a_repr():
    png = base64.b64encode(b"\x89PNG fake").decode()
    states = _states(
        box=("VBoxModel", {"children": ["IPY_MODEL_row", "IPY_MODEL_img", "IPY_MODEL_cap"]}),
        row=(
            "HBoxModel",
            {"children": ["IPY_MODEL_s", "IPY_MODEL_dd", "IPY_MODEL_b", "IPY_MODEL_t"]},
        ),
        s=("FloatSliderModel", {"description": "z[0]", "value": -1.23456}),
        dd=(
            "SelectionSliderModel",
            {"description": "DDIM steps", "index": 2, "_options_labels": ["5", "10", "50"]},
        ),
        b=("ButtonModel", {"description": "random z"}),
        t=("ToggleButtonModel", {"description": "play", "value": True}),
        img=(
            "ImageModel",
            {"format": "png"},
            [{"path": ["value"], "encoding": "base64", "data": png}],
        ),
        cap=("HTMLModel", {"value": "<b>digit 7</b>"}),
    )
    html = static_widgets.static_widget_html("box", states)
    assert "z[0]: <b>-1.23</b>" in html
    assert "DDIM steps: <b>50</b>" in html
    assert "random z" in html and "play: <b>on</b>" in html
    assert f"data:image/png;base64,{png}" in html and "<b>digit 7</b>" in html
    assert "Slider(" not in html and "Model" not in html


def test_hidden_parts_and_unknown_models_are_handled():
    states = _states(
        box=("HBoxModel", {"children": ["IPY_MODEL_a", "IPY_MODEL_x"]}),
        a=("IntSliderModel", {"description": "t", "value": 60, "layout": "IPY_MODEL_lay"}),
        lay=("LayoutModel", {"display": "none"}),
        x=("SomethingNewModel", {"description": "knob"}),
    )
    html = static_widgets.static_widget_html("box", states)
    assert "t:" not in html  # a hidden control is not drawn
    assert "knob" in html
    assert static_widgets.static_widget_html("missing", states) == ""


def test_widget_outputs_of_a_notebook_are_replaced():
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {
        static_widgets.WIDGET_STATE: {
            "state": _states(s=("IntSliderModel", {"description": "t", "value": 60}))
        }
    }
    cell = nbformat.v4.new_code_cell("stepper")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            {static_widgets.WIDGET_VIEW: {"model_id": "s"}, "text/plain": "IntSlider(value=60)"},
        )
    ]
    nb.cells.append(cell)
    assert static_widgets.replace_widget_outputs(nb) == 1
    data = nb.cells[0].outputs[0]["data"]
    assert list(data) == ["text/html"] and "t: <b>60</b>" in data["text/html"]


# --- a real deck, built and opened offline -----------------------------------------------------

needs_browser = pytest.mark.skipif(not chromium_available(), reason=f"no Chromium: {INSTALL_HINT}")


@pytest.fixture(scope="module")
def decks(tmp_path_factory):
    from build_slides import build, local_assets

    out = tmp_path_factory.mktemp("decks")
    assets = local_assets(out)
    return out, {
        name: build(ROOT / "notebooks" / f"{name}.ipynb", out, assets)
        for name in ("00_getting_started", "04_variational_autoencoders")
    }


def test_decks_load_nothing_from_the_network(decks):
    out, built = decks
    for deck in built.values():
        text = deck.read_text()
        remote = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?:[^"]+)"', text)
        assert remote == [], f"{deck.name} loads {remote}"
        assert "require.js" not in text and "jquery" not in text.lower()
    assert (out / "reveal.js" / "dist" / "reveal.js").exists()
    assert (out / "mathjax" / "tex-svg-full.js").exists()


def test_a_deck_has_its_slides_notes_and_no_skipped_cells(decks):
    import nbformat

    _, built = decks
    notebook = ROOT / "notebooks" / "04_variational_autoencoders.ipynb"
    deck = built["04_variational_autoencoders"].read_text()
    nb = nbformat.read(notebook, as_version=4)
    kinds = [c.metadata.get("slideshow", {}).get("slide_type", "-") for c in nb.cells]
    sections = re.findall(r"<section\b", deck)
    assert len(sections) >= kinds.count("slide") + kinds.count("subslide")
    assert deck.count('<aside class="notes">') == kinds.count("notes") >= 2
    setup = next(c for c in nb.cells if c.source.startswith("import course_lib as cl"))
    assert kinds[nb.cells.index(setup)] == "skip"
    hidden = next(
        ln for ln in setup.source.splitlines()[1:] if ln.strip() and not ln.startswith("#")
    )
    assert hidden not in deck, "the skipped setup cell is on a slide"


def test_the_latent_explorer_is_drawn_with_its_sliders_and_map(decks):
    _, built = decks
    deck = built["04_variational_autoencoders"].read_text()
    assert "z[0]: <b>" in deck and "z[1]: <b>" in deck, "the explorer's sliders and values"
    assert "random z ~ N(0, I)" in deck
    explorer = deck[deck.index("z[0]: <b>") - 20_000 : deck.index("z[0]: <b>") + 20_000]
    assert explorer.count("data:image/png;base64,") >= 2, "the digit and the latent map"
    assert "LatentExplorer(" not in deck and "FloatSlider(" not in deck


@needs_browser
def test_decks_start_offline_render_math_and_every_slide_fits(decks):
    from bench.slides import measure_decks

    _, built = decks
    reports, blocked = measure_decks(list(built.values()))
    assert blocked == [], f"the decks asked the network for {blocked}"
    for report in reports:
        assert report.slides >= 10
        assert report.overflowing == [], f"{report.notebook}: {report.overflowing}"
    vae = next(r for r in reports if r.notebook.startswith("04"))
    assert vae.math >= 10 and vae.raw_math == 0, "LaTeX is rendered, none left as $...$"
