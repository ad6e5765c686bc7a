import base64
import re

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
    from course_lib.widgets.base import labelled_png

    expected = labelled_png(browser.image.value, browser.static_caption())
    assert base64.b64decode(bundle["image/png"]) == expected, "the current view, with its caption"


def test_dropout_view_slider_and_button_change_the_picture():
    from course_lib.widgets import DropoutState, DropoutView, render_dropout

    acts = torch.rand(8, 16)
    assert render_dropout(acts, DropoutState(0.5, 0)) == render_dropout(acts, DropoutState(0.5, 0))
    view = DropoutView(acts, p=0.5)
    first = view.image.value
    view.slider.value = 0.8
    assert view.state.p == 0.8 and view.image.value != first
    assert "dropped" in view.caption.value and "5.00" in view.caption.value
    second = view.image.value
    view.button.click()  # a new forward pass: a new mask
    assert view.state.pass_index == 1 and view.image.value != second
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\)"):
        render_dropout(acts, DropoutState(1.0, 0))
    with pytest.raises(ValueError, match="2D"):
        DropoutView(torch.rand(4))


def test_kernel_view_presets_and_edits_change_the_output():
    from course_lib.widgets import PRESETS, KernelState, KernelView, render_kernel

    image = torch.zeros(12, 12)
    image[3:9, 5:7] = 1.0
    view = KernelView(image, preset="identity")
    identity_png = view.image.value
    assert view.image.value == render_kernel(image, KernelState(PRESETS["identity"]), 8)
    renders = []
    view.image.observe(lambda change: renders.append(change), names="value")
    view.menu.value = "vertical edges (Sobel x)"
    assert view.state.kernel == PRESETS["vertical edges (Sobel x)"]
    assert [c.value for c in view.cells] == list(PRESETS["vertical edges (Sobel x)"])
    assert len(renders) == 1, "choosing a preset renders once, not once per number box"
    assert view.image.value != identity_png
    edges_png = view.image.value
    view.cells[4].value = 3.0  # edit one number by hand
    assert view.state.kernel[4] == 3.0 and view.image.value != edges_png
    assert "output 10x10" in view.caption.value
    with pytest.raises(ValueError, match="preset must be one of"):
        KernelView(image, preset="nope")
    with pytest.raises(ValueError, match="9 numbers"):
        view.set_kernel([1, 2, 3])


def test_latent_explorer_every_slider_changes_the_image():
    from course_lib.models.vae import VAE
    from course_lib.widgets import LatentExplorer, LatentState, render_latent

    torch.manual_seed(0)
    vae = VAE(64, hidden=[16], latent_dim=3)
    assert render_latent(vae, LatentState((0.1, 0.2, 0.3))) == render_latent(
        vae, LatentState((0.1, 0.2, 0.3))
    )
    explorer = LatentExplorer(
        vae, codes=torch.randn(50, 3), labels=torch.randint(0, 10, (50,)), lim=2.0
    )
    for i, slider in enumerate(explorer.sliders):
        before, map_before = explorer.image.value, explorer.map.value
        slider.value = 1.0 + 0.2 * i
        assert explorer.image.value != before, f"slider {i} did not change the image"
        assert explorer.state.z[i] == pytest.approx(1.0 + 0.2 * i)
        if i < 2:
            assert explorer.map.value != map_before, "the map's cross follows the first two sliders"
    explorer.reset_button.click()
    assert explorer.state.z == (0.0, 0.0, 0.0)
    explorer.sample_button.click()
    assert explorer.state.z != (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match=r"within \[-2.0, 2.0\]"):
        explorer.set_z([5.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="3 values"):
        explorer.set_z([0.0])
    z_before = explorer.state.z
    with pytest.raises(ValueError, match="finite number"):
        explorer.set_z([float("nan"), 0.0, 0.0])
    assert explorer.state.z == z_before, "a refused z leaves the view as it was"
    with pytest.raises(ValueError, match="lim must be a positive number"):
        LatentExplorer(vae, lim=-1)
    with pytest.raises(ValueError, match="model expects 3"):
        render_latent(vae, LatentState((0.0,)))


def test_latent_explorer_works_with_a_plain_autoencoder_and_rejects_other_models():
    from torch import nn

    from course_lib.models.autoencoders import Autoencoder
    from course_lib.widgets import LatentExplorer

    ae = Autoencoder(64, hidden=[8], code=2)
    explorer = LatentExplorer(ae)
    before = explorer.image.value
    explorer.sliders[1].value = -1.0
    assert explorer.image.value != before
    with pytest.raises(TypeError, match="decode"):
        LatentExplorer(nn.Linear(2, 2))


def test_interpolation_view_walks_between_two_codes():
    from course_lib.models.autoencoders import Autoencoder
    from course_lib.models.vae import VAE
    from course_lib.widgets import InterpolationState, InterpolationView, interpolation_row

    torch.manual_seed(0)
    images = torch.rand(6, 1, 8, 8)
    models = {"VAE": VAE(64, hidden=[16], latent_dim=2), "AE": Autoencoder(64, hidden=[16], code=2)}
    row0 = interpolation_row(models, images, InterpolationState(1, 4, 0.0))
    row1 = interpolation_row(models, images, InterpolationState(1, 4, 1.0))
    with torch.no_grad():
        assert torch.allclose(row0[2], models["AE"](images[1:2])[0], atol=1e-6), (
            "t=0 decodes image A's code"
        )
        assert torch.allclose(row1[2], models["AE"](images[4:5])[0], atol=1e-6), (
            "t=1 decodes image B's code"
        )
    assert torch.equal(row0[0], images[1]) and torch.equal(row0[-1], images[4])
    view = InterpolationView(models, images, a=1, b=4)
    before = view.image.value
    view.t.value = 0.9
    assert view.image.value != before
    before = view.image.value
    view.b.value = 2
    assert view.state.b == 2 and view.image.value != before
    with pytest.raises(ValueError, match="image index"):
        InterpolationView(models, images, a=0, b=10)
    with pytest.raises(ValueError, match=r"t must be in \[0, 1\]"):
        interpolation_row(models, images, InterpolationState(0, 1, 2.0))


def _pretext_nets():
    from course_lib.checkpoints import load_checkpoint
    from course_lib.models import transfer

    return {
        task: load_checkpoint(name, transfer.PRETEXT_NETS[name])
        for task, name in (
            ("inpainting", "ssl_inpainting"),
            ("jigsaw", "ssl_jigsaw"),
            ("views", "ssl_simclr"),
        )
    }


def test_pretext_view_every_control_changes_the_picture_and_caption():
    from course_lib.data import make_digits28
    from course_lib.widgets import PretextState, PretextView, render_pretext

    images = make_digits28(12, seed=12)[0]
    nets = _pretext_nets()
    view = PretextView(images, nets)
    seen = {view.image.value}
    for control, value in (
        (view.index, 3),
        (view.mask, 18),
        (view.task, "jigsaw"),
        (view.task, "views"),
        (view.strength, 0.3),
    ):
        caption = view.caption.value
        control.value = value
        assert view.image.value not in seen, f"{control.description} did not change the image"
        assert view.caption.value != caption or control is view.strength
        seen.add(view.image.value)
    view.new.click()
    assert view.image.value not in seen and view.state.seed == 1
    assert "cosine similarity" in view.caption.value and "view 1" in view.header.value
    # pure render: same state, same bytes
    state = PretextState("jigsaw", 2, 5)
    assert render_pretext(images, nets, state) == render_pretext(images, nets, state)


def test_pretext_view_nets_do_their_jobs_and_bad_inputs_are_named():
    from course_lib.data import make_digits28
    from course_lib.widgets import PretextState
    from course_lib.widgets.pretext_view import pretext_row

    images = make_digits28(10, seed=12)[0]
    nets = _pretext_nets()
    right = sum(
        "right" in pretext_row(images, nets, PretextState("jigsaw", i, i))[1] for i in range(10)
    )
    assert right >= 9, "the shipped jigsaw net solves the puzzles"
    row, caption = pretext_row(images, nets, PretextState("views", 0, 0))
    same, other = (float(v) for v in re.findall(r"-?\d+\.\d+", caption))
    assert same > other, caption
    with pytest.raises(ValueError, match="task must be one of"):
        pretext_row(images, nets, PretextState("rotation"))
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        pretext_row(torch.rand(3, 1, 8, 8), nets, PretextState())
    with pytest.raises(ValueError, match="index must be in"):
        pretext_row(images, nets, PretextState(index=10))


def _transfer_lab(steps=20):
    from course_lib import data, probes
    from course_lib.widgets import TransferLab

    x, y = data.load_digits8("train")
    xt, yt = data.load_digits8("test")
    encoders = {
        "ssl_simclr": probes.load_encoder("ssl_simclr"),
        "ssl_jigsaw": probes.load_encoder("ssl_jigsaw"),
    }
    return TransferLab(
        encoders,
        (data.upscale_digits8(x), y),
        (data.upscale_digits8(xt[:100]), yt[:100]),
        steps=steps,
    )


def test_transfer_lab_train_adds_a_run_to_the_chart():
    from course_lib import probes
    from course_lib.widgets import TransferState

    lab = _transfer_lab()
    empty = lab.image.value
    lab.strategy.value = "scratch"
    assert lab.k.disabled and lab.state.strategy == "scratch"
    lab.fraction.value = 0.25
    lab.train_button.click()  # trains in a background thread
    lab.wait(120)
    assert (
        len(lab.runs) == 1
        and lab.runs[0]["strategy"] == "scratch"
        and lab.runs[0]["fraction"] == 0.25
    )
    assert lab.image.value != empty and "test accuracy" in lab.status.value
    assert not lab.train_button.disabled
    first = lab.image.value
    run = lab.run_now(TransferState("ssl_jigsaw", "frozen", 0.25, 1))
    assert lab.image.value != first and len(lab.runs) == 2
    # the same configuration through the library function gives the same number
    again = probes.transfer_accuracy(
        lab.encoders["ssl_jigsaw"], "frozen", lab.train_data, lab.test_data, 0.25, 1, 20
    )
    assert again == run["accuracy"]


def test_transfer_lab_reports_errors_in_the_widget():
    lab = _transfer_lab()
    lab.encoders["ssl_simclr"] = None  # a broken source
    lab.start()
    lab.wait(60)
    assert "the run failed" in lab.status.value and not lab.runs
    with pytest.raises(ValueError, match="strategy must be one of"):
        from course_lib import probes
        from course_lib.models.encoder import ConvEncoder

        probes.transfer_accuracy(ConvEncoder(), "partly", lab.train_data, lab.test_data)


def test_every_widget_label_fits(tmp_path):
    """No cut labels: descriptions get the width they need and buttons grow to their text."""
    import ipywidgets as w

    from course_lib.models.vae import VAE
    from course_lib.widgets import DropoutView, LatentExplorer
    from course_lib.widgets.base import _descendants

    for view in (
        LatentExplorer(VAE(64, hidden=[16], latent_dim=2)),
        DropoutView(torch.rand(8, 16)),
    ):
        controls = [c for c in _descendants(view.view) if getattr(c, "description", "")]
        assert controls
        for c in controls:
            if isinstance(c, (w.Button, w.ToggleButton)):
                assert c.layout.width == "auto", c.description
            elif hasattr(c.style, "description_width"):
                assert c.style.description_width == "initial", c.description


def test_widgets_draw_exactly_the_value_their_control_shows():
    from course_lib.models.autoencoders import Autoencoder
    from course_lib.widgets import DenoiseView, DropoutView

    view = DropoutView(torch.rand(8, 16), p=0.95)  # the slider stops at 0.9
    assert view.slider.value == view.state.p == pytest.approx(0.9)
    denoise = DenoiseView(
        torch.rand(4, 1, 8, 8), {"AE": Autoencoder(64, hidden=[16], code=4)}, level=3
    )
    assert denoise.level.value == denoise.state.level == pytest.approx(1.0)


def test_the_static_picture_carries_its_caption():
    import base64
    import io

    from PIL import Image

    from course_lib.models.vae import VAE
    from course_lib.widgets import DropoutView, LatentExplorer
    from course_lib.widgets.base import _plain

    for widget, words in (
        (LatentExplorer(VAE(64, hidden=[16], latent_dim=2)), "z = (0, 0)"),
        (DropoutView(torch.rand(8, 16)), "dropped"),
    ):
        assert words in widget.static_caption()
        bundle = widget._repr_mimebundle_()
        static = Image.open(io.BytesIO(base64.b64decode(bundle["image/png"])))
        bare = Image.open(io.BytesIO(widget.snapshot_png()))
        assert static.height > bare.height, "a caption strip is added under the picture"
    assert _plain("a <b>bold</b>&nbsp;&mdash; b") == "a bold — b"


# ----------------------------------------------------------------------------- the shared player
def test_kernel_player_plays_until_the_step_says_stop_and_the_button_shows_it():
    import threading

    import ipywidgets as w

    from course_lib.widgets import KernelPlayer

    button = w.ToggleButton(value=False)
    count, main = [], threading.current_thread()
    player = KernelPlayer(
        lambda: count.append(threading.current_thread()) or len(count) < 5, button
    )
    button.value = True  # a person presses play
    player.wait(5)
    assert len(count) == 5 and all(t is not main for t in count), "steps run in the background"
    assert not player.playing and button.value is False and button.description == "play"


def test_kernel_player_pauses_reports_errors_and_never_runs_two_threads():
    import threading
    import time

    from course_lib.widgets import KernelPlayer

    running, peak, ended = [0], [0], []
    lock = threading.Lock()

    def step():
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.002)
        with lock:
            running[0] -= 1
        return True

    player = KernelPlayer(step, on_end=ended.append)
    for _ in range(20):
        player.start()
    assert player.playing
    assert player.pause(5) and not player.playing and peak[0] == 1 and ended == [None]

    def broken():
        raise ValueError("the learning rate is too large")

    failing = KernelPlayer(broken, on_end=ended.append)
    failing.start()
    failing.wait(5)
    assert (
        failing.error == "ValueError: the learning rate is too large" and ended[-1] == failing.error
    )


def test_code_moves_a_bound_control_quietly():

    from course_lib.widgets import DatasetBrowser

    browser = DatasetBrowser(torch.rand(5, 1, 8, 8))
    slider = browser.slider
    before = browser.render()
    with browser.quietly():
        slider.value = 3
    assert browser.state.index == 0 and browser.render() == before
    slider.value = 2
    assert browser.state.index == 2


# ----------------------------------------------------------------------------- faults (issue 37)
def test_nan_set_on_a_control_from_code_is_refused_and_the_control_goes_back():
    import ipywidgets as w

    from course_lib.models.vae import VAE
    from course_lib.widgets import DropoutView, KernelView, LatentExplorer

    dropout = DropoutView(torch.rand(8, 8))
    slider = next(c for c in _all_controls(dropout.view) if isinstance(c, w.FloatSlider))
    before, picture = slider.value, dropout.image.value
    with pytest.raises(ValueError, match="must be a finite number, got nan"):
        slider.value = float("nan")
    assert slider.value == before and dropout.image.value == picture

    explorer = LatentExplorer(VAE(784, [16], 2))
    with pytest.raises(ValueError, match="finite number"):
        explorer.sliders[0].value = float("nan")
    assert explorer.sliders[0].value == 0.0 and explorer.state.z == (0.0, 0.0)

    kernel = KernelView(torch.rand(10, 10))
    with pytest.raises(ValueError, match="finite number"):
        kernel.cells[4].value = float("inf")
    assert all(v == v and abs(v) < float("inf") for v in kernel.state.kernel)


def _all_controls(view):
    yield view
    for child in getattr(view, "children", ()) or ():
        yield from _all_controls(child)


def test_user_strings_in_captions_are_escaped():
    from course_lib.widgets import DatasetBrowser

    browser = DatasetBrowser(
        torch.rand(2, 1, 8, 8),
        labels=torch.tensor([0, 1]),
        class_names=["<b>zero", "a & b"],
        title="<script>alert(1)</script>",
    )
    shown = " ".join(
        c.value for c in _all_controls(browser.view) if isinstance(c, __import__("ipywidgets").HTML)
    )
    assert "<script>" not in shown and "&lt;script&gt;" in shown
    assert "&lt;b&gt;zero" in browser.describe(browser.state)


def test_the_agreement_test_refuses_a_size_that_would_fill_memory():
    from course_lib import data

    with pytest.raises(ValueError, match="n_per_depth must be between 1 and 20000"):
        data.make_agreement_test(10_000_000)


def test_working_marks_the_button_for_the_time_of_the_work_even_when_it_fails():
    import ipywidgets as w

    from course_lib.widgets.base import working

    button = w.Button(description="go", icon="play")
    with working(button, "busy..."):
        assert (button.description, button.icon, button.disabled) == (
            "busy...",
            "hourglass-half",
            True,
        )
    assert (button.description, button.icon, button.disabled) == ("go", "play", False)
    with pytest.raises(RuntimeError), working(button, "busy..."):
        raise RuntimeError("the work failed")
    assert (button.description, button.disabled) == ("go", False)


def test_picture_slider_swaps_cached_pictures_and_saves_the_shown_one():
    import base64

    from course_lib.widgets import PictureSlider, png_grid

    pictures = {k: png_grid(torch.full((2, 1, 4, 4), k / 10), nrow=2) for k in (1, 5, 9)}
    view = PictureSlider(pictures, description="steps", value=5, captions={9: "the longest"})
    assert view.image.value == pictures[5] and "steps = 5" in view.static_caption()
    view.slider.value = 9
    assert view.image.value == pictures[9] and "the longest" in view.caption.value
    saved = base64.b64decode(view._repr_mimebundle_()["image/png"])
    assert saved != pictures[9] and saved.startswith(b"\x89PNG"), (
        "the shown picture with its setting"
    )
    with pytest.raises(ValueError, match="one of"):
        PictureSlider(pictures, description="steps", value=3)
    with pytest.raises(ValueError, match="PNG bytes"):
        PictureSlider({1: "not a picture"}, description="steps")
