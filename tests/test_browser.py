"""A real JupyterLab in headless Chromium: run each widget notebook through its widget, then act as a student.

Chromium is Debian's (/usr/bin/chromium) driven by playwright; .ci/run installs it, and in CI
(CI=true) these tests must run. Locally they skip, saying how to install Chromium.
Screenshots go to test-artifacts/browser/ (and, with COURSE_UPDATE_SCREENSHOTS=1, to docs/screenshots/).
"""

import os
import shutil
import time
from pathlib import Path

import pytest

from support import ARTIFACTS, require_chromium, wait_quiet

ROOT = Path(__file__).resolve().parent.parent

require_chromium()

pytestmark = pytest.mark.browser


def _shot(locator, name):
    path = ARTIFACTS / f"{name}.png"
    locator.screenshot(path=str(path))
    if os.environ.get("COURSE_UPDATE_SCREENSHOTS"):
        shutil.copy(path, ROOT / "docs" / "screenshots" / f"{name}.png")
    return path.read_bytes()


def _open_widget(lab, notebook, cell_text, css):
    """Run a notebook in JupyterLab through the cell that contains `cell_text` (the one that shows the
    widget); return (page, its first widget with this CSS class, the widget's image)."""
    page = lab.open(f"notebooks/{notebook}")
    lab.run_through(page, cell_text)
    errors = lab.error_outputs(page)
    assert not errors, f"{notebook} shows errors: {errors}"
    widget = page.locator(css).first
    widget.scroll_into_view_if_needed()
    return page, widget, widget.locator(".course-image").first


def _press_slider(lab, page, widget, image, presses):
    """Focus the widget's first slider, press the right arrow, wait until the image shows new bytes."""
    before_src = lab.image_src(image)
    widget.locator(".course-slider").first.locator(".noUi-handle").focus()
    for _ in range(presses):
        page.keyboard.press("ArrowRight")
    lab.wait_for_change(image, before_src)
    time.sleep(0.3)  # let the new image paint before the screenshot


def test_vae_explorer_slider_changes_the_image(lab):
    page, widget, image = _open_widget(
        lab,
        "04_variational_autoencoders.ipynb",
        "explorer = LatentExplorer(",
        ".course-latent-explorer",
    )
    before_png = _shot(widget, "vae_latent_explorer_before")
    _press_slider(lab, page, widget, image, 10)
    assert _shot(widget, "vae_latent_explorer") != before_png
    assert not lab.error_outputs(page)
    page.close()


def test_diffusion_stepper_t_slider_changes_the_image(lab):
    page, widget, image = _open_widget(
        lab, "07_diffusion.ipynb", "stepper = NoiseStepper(", ".course-noise-stepper"
    )
    page.locator(".lm-TabBar-tab", has_text="forward").first.click()
    before_png = _shot(widget, "diffusion_noise_stepper_before")
    _press_slider(lab, page, widget, image, 15)
    assert _shot(widget, "diffusion_noise_stepper") != before_png
    assert not lab.error_outputs(page)
    page.close()


def test_diffusion_reverse_play_plays_and_pops_back_up(lab):
    page, _, _ = _open_widget(
        lab, "07_diffusion.ipynb", "sampler = NoiseStepper(", ".course-noise-stepper"
    )
    widget = page.locator(".course-noise-stepper").nth(1)  # the second stepper, on its reverse tab
    widget.scroll_into_view_if_needed()
    image = widget.locator(".course-reverse-image").first
    play = widget.locator(".course-stepper-play")
    seen = {lab.image_src(image)}
    play.click()
    deadline = time.time() + 30
    while time.time() < deadline and "mod-active" in (play.get_attribute("class") or ""):
        seen.add(lab.image_src(image))
        time.sleep(0.1)
    seen.add(lab.image_src(image))
    assert len(seen) >= 10, f"play showed only {len(seen)} different frames"
    assert "mod-active" not in (play.get_attribute("class") or ""), (
        "at the end the button pops back up"
    )
    assert "step 200 of 200" in widget.inner_text()
    _shot(widget, "diffusion_reverse_played")
    assert not lab.error_outputs(page)
    page.close()


def test_gan_lab_play_and_pause(lab):
    page, widget, image = _open_widget(
        lab, "05_gan.ipynb", "lab = GANLab(trainer", ".course-gan-lab"
    )
    before_src = lab.image_src(image)
    status_before = widget.locator(".widget-html").last.inner_text()
    widget.locator(".course-play").click()  # play: trains in a background thread
    lab.wait_for_change(image, before_src, timeout=20)
    time.sleep(1.5)
    widget.locator(".course-play").click()  # pause
    # a round under way may still land (later on a busy machine): wait for the view to go quiet
    paused_src = wait_quiet(image)
    assert paused_src is not None, "paused: the view never stopped changing"
    status_after = widget.locator(".widget-html").last.inner_text()
    assert status_after != status_before, (status_before, status_after)
    time.sleep(1.5)
    assert lab.image_src(image) == paused_src, "paused: the view stops changing"
    _shot(widget, "gan_lab")
    # scrub the timeline back: an older snapshot, and the status says so
    widget.locator(".course-timeline .noUi-handle").focus()
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    scrubbed_src = lab.wait_for_change(image, paused_src)
    assert "timeline" in widget.locator(".widget-html").last.inner_text()
    # step while scrubbed back: it trains and the view jumps to the new live step
    widget.locator(".course-step").click()
    lab.wait_for_change(image, scrubbed_src)
    time.sleep(0.5)
    assert lab.image_src(image) != paused_src
    assert not lab.error_outputs(page)
    page.close()


def test_pretext_view_task_and_new_puzzle_change_the_image(lab):
    page, widget, image = _open_widget(
        lab, "09_self_supervised.ipynb", "PretextView(x_test", ".course-pretext-view"
    )
    before_png = _shot(widget, "pretext_view_before")
    before_src = lab.image_src(image)
    widget.locator("button", has_text="jigsaw").first.click()
    lab.wait_for_change(image, before_src)
    jigsaw_src = lab.image_src(image)
    widget.locator(".course-new").click()
    lab.wait_for_change(image, jigsaw_src)
    time.sleep(0.3)
    assert _shot(widget, "pretext_view") != before_png
    assert "permutation" in widget.locator(".widget-html").last.inner_text()
    assert not lab.error_outputs(page)
    page.close()


def test_transfer_lab_trains_in_the_background_and_adds_a_point(lab):
    page, widget, image = _open_widget(
        lab, "10_transfer_learning.ipynb", "lab.record(TransferState", ".course-transfer-lab"
    )
    before_src = lab.image_src(image)
    widget.locator("button", has_text="frozen").first.click()
    widget.locator(".course-train").click()
    lab.wait_for_change(image, before_src, timeout=60)
    time.sleep(0.3)
    _shot(widget, "transfer_lab")
    assert "test accuracy" in widget.locator(".widget-html").first.inner_text()
    assert not lab.error_outputs(page)
    page.close()
