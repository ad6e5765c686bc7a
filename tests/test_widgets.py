import base64

import pytest
import torch

from course_lib.widgets import BrowserState, DatasetBrowser, render_browser


@pytest.fixture
def images():
    g = torch.Generator().manual_seed(0)
    return torch.rand(5, 1, 8, 8, generator=g)


def test_render_is_pure_and_follows_the_state(images):
    a = render_browser(images, BrowserState(0))
    assert a == render_browser(images, BrowserState(0)), "same state, same bytes"
    assert a != render_browser(images, BrowserState(1)), "another index, another image"
    assert a.startswith(b"\x89PNG")


def test_render_bad_state(images):
    with pytest.raises(ValueError, match=r"index must be in \[0, 4\]"):
        render_browser(images, BrowserState(5))
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        render_browser(images[:, 0], BrowserState(0))


def test_moving_the_slider_changes_the_image_and_caption(images):
    browser = DatasetBrowser(images, torch.tensor([3, 1, 4, 1, 5]), title="test")
    first_image, first_caption = browser.image.value, browser.caption.value
    assert "label: <b>3</b>" in first_caption
    browser.slider.value = 2  # what a drag in the browser does
    assert browser.state.index == 2
    assert browser.image.value != first_image
    assert browser.image.value == render_browser(images, BrowserState(2), browser.scale)
    assert "label: <b>4</b>" in browser.caption.value
    assert browser.slider.max == 4


def test_class_names_and_bad_inputs(images):
    browser = DatasetBrowser(images, torch.tensor([0, 1, 0, 1, 0]), class_names=["cat", "dog"])
    browser.set_index(1)
    assert "dog" in browser.caption.value
    with pytest.raises(ValueError, match="one entry per image"):
        DatasetBrowser(images, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        DatasetBrowser(images[:, 0])


def test_exports_carry_a_picture_of_the_current_view(images):
    browser = DatasetBrowser(images)
    browser.set_index(3)
    bundle = browser._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]) == browser.image.value
