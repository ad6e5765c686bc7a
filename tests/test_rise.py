"""Presenting live: the RISE slideshow (jupyterlab-rise) of a lecture in a real JupyterLab, in
Debian's Chromium at projector size (1280x720), as `make present NB=05` opens it.

The instructor presses the course's run-everything key once (Ctrl+Shift+Enter, installed by
`python -m course_lib kernel`), then teaches: the GAN plays and pauses on its slide, the VAE's
latent slider moves the digit, no slide needs scrolling, and leaving the slideshow finds the
notebook intact in JupyterLab.
"""

import json
import time
from pathlib import Path

import pytest

from bench.slides import go_to_live_slide, live_slides, measure_live

from support import ARTIFACTS, require_chromium, wait_quiet

ROOT = Path(__file__).resolve().parent.parent

require_chromium()

pytestmark = pytest.mark.browser


def _slide_with(page, css: str) -> str:
    """Go to the first slide that shows an element matching css; return its id. (Widgets are
    drawn when their slide is shown, so each slide is visited.)"""
    for slide_id in live_slides(page):
        go_to_live_slide(page, slide_id)
        try:
            page.wait_for_selector(f"#{slide_id} {css}", timeout=400)
            return slide_id
        except Exception:
            continue
    raise LookupError(f"no slide shows {css}")


def _src(locator) -> str:
    return locator.evaluate("el => el.src")


def _settled_box(locator, seconds: float = 5.0) -> dict:
    """The element's box once it stops moving (reveal.js slides animate into place)."""
    deadline = time.time() + seconds
    box = locator.bounding_box()
    while time.time() < deadline:
        time.sleep(0.25)
        again = locator.bounding_box()
        if again == box:
            return box
        box = again
    return box


def _changes_within(locator, before: str, seconds: float) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if _src(locator) != before:
            return True
        time.sleep(0.1)
    return False


def test_gan_slide_plays_and_pauses_live_and_the_notebook_stays_intact(lab):
    page = lab.open_slideshow("notebooks/05_gan.ipynb")
    lab.run_all_in_slideshow(page)
    errors = lab.error_outputs(page)
    assert not errors, f"the slideshow shows errors: {errors}"

    _slide_with(page, ".course-gan-lab")
    widget = page.locator(".reveal section.present .course-gan-lab").first
    assert widget.is_visible()
    image = widget.locator("img.course-image").first
    play = widget.locator(".course-play").first  # reads "play", then "pause" while training
    page.screenshot(path=str(ARTIFACTS / "rise_gan_slide.png"))

    before = _src(image)
    assert "play" in play.inner_text()
    play.click()
    assert _changes_within(image, before, 8), "pressing play did not move the GAN on its slide"
    assert "pause" in play.inner_text()
    play.click()  # pause
    paused = wait_quiet(image)  # a round under way may still land
    assert paused is not None, "the picture never stopped changing after pause"
    time.sleep(2.0)
    assert _src(image) == paused, "the picture kept changing after pause"
    page.screenshot(path=str(ARTIFACTS / "rise_gan_paused.png"))

    # every slide of the lecture fits the projector, with every cell run and the widgets live
    report = measure_live(page, "05_gan")
    assert report.slides >= 15
    assert report.overflowing == [], report.overflowing

    # leave the slideshow: the same notebook opens in JupyterLab, unchanged and without errors
    original = json.loads((ROOT / "notebooks" / "05_gan.ipynb").read_text())
    page.close()
    notebook = lab.open("notebooks/05_gan.ipynb")
    cells = notebook.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.widgets"
        ".map(c => c.model.sharedModel.getSource())"
    )
    assert cells == ["".join(c["source"]) for c in original["cells"]]
    assert not lab.error_outputs(notebook)
    saved = json.loads((lab.root / "notebooks" / "05_gan.ipynb").read_text())
    assert [c["source"] for c in saved["cells"]] == [c["source"] for c in original["cells"]]
    notebook.close()


def test_latent_slider_moves_the_digit_inside_the_slideshow(lab):
    page = lab.open_slideshow("notebooks/04_variational_autoencoders.ipynb")
    lab.run_all_in_slideshow(page)
    assert not lab.error_outputs(page)
    slide = _slide_with(page, ".course-latent-explorer")
    widget = page.locator(f"#{slide} .course-latent-explorer").first
    image = widget.locator("img.course-image").first
    handle = widget.locator(".course-slider").first.locator(".noUi-handle")

    # with the mouse, as an instructor drags it (once the slide has finished moving in)
    before = _src(image)
    box = _settled_box(handle)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 60, box["y"] + box["height"] / 2, steps=6)
    page.mouse.up()
    assert _changes_within(image, before, 5), "dragging the latent slider did not change the digit"

    assert "present" in (page.locator(f"#{slide}").get_attribute("class") or ""), (
        "dragging a slider changed the slide"
    )
    page.screenshot(path=str(ARTIFACTS / "rise_latent_explorer.png"))
    report = measure_live(page, "04_variational_autoencoders")
    assert report.overflowing == [], report.overflowing
    assert report.math >= 10, "LaTeX renders in the live slideshow"
    page.close()


def test_the_course_kernel_command_installs_the_run_everything_key(tmp_path):
    from course_lib.__main__ import RUN_ALL_KEYS, install_lab_settings

    settings = tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"other:plugin": {"x": 1}}))
    assert install_lab_settings(str(tmp_path)) == settings
    install_lab_settings(str(tmp_path))  # twice: still one shortcut
    data = json.loads(settings.read_text())
    assert data["other:plugin"] == {"x": 1}, "settings already there are kept"
    shortcuts = data["@jupyterlab/shortcuts-extension:shortcuts"]["shortcuts"]
    assert shortcuts == [
        {"command": "notebook:run-all-cells", "keys": [RUN_ALL_KEYS], "selector": ".jp-Notebook"}
    ]
    settings.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        install_lab_settings(str(tmp_path))
