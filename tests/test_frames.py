"""Pictures for a page without a kernel: the flagship widgets precompute what each position of
their controls shows (course_lib.widgets.base.Frames), for the course website."""

import base64
import json
from dataclasses import dataclass

import pytest
import torch

from course_lib import data
from course_lib.models.diffusion import NoiseSchedule, SmallUNet
from course_lib.models.gan import DCGenerator, MLPDiscriminator, MLPGenerator
from course_lib.train import GANTrainer, batch_sampler
from course_lib.widgets.base import FrameControl, Frames, export_frames, sweep


@dataclass(frozen=True)
class _State:
    a: int = 1
    b: float = 0.5


def test_sweep_draws_every_combination_last_control_fastest_and_starts_at_the_state():
    drawn = []

    def draw(s):
        drawn.append((s.a, s.b))
        return f"{s.a}-{s.b}".encode()

    frames = sweep(
        draw,
        _State(),
        [
            ("a", FrameControl("a", [0, 1, 2], kind="buttons")),
            ("b", FrameControl("b", [0.0, 0.4, 1.0])),
        ],
        caption=lambda s: f"a={s.a}",
    )
    assert drawn == [(a, b) for a in (0, 1, 2) for b in (0.0, 0.4, 1.0)]
    assert [c.index for c in frames.controls] == [1, 1], "the nearest value to the state's"
    assert frames.pictures[1 * 3 + 2] == b"1-1.0" and frames.captions[5] == "a=1"
    out = frames.to_json()
    assert out["controls"][0] == {
        "label": "a",
        "values": ["0", "1", "2"],
        "index": 1,
        "kind": "buttons",
    }
    assert base64.b64decode(out["frames"][0]) == b"0-0.0"


def test_frames_refuse_a_picture_count_that_does_not_match_the_controls():
    with pytest.raises(ValueError, match="6 pictures expected"):
        Frames([FrameControl("a", [1, 2]), FrameControl("b", [1, 2, 3])], [b"x"] * 5)
    with pytest.raises(ValueError, match="captions: 2 expected"):
        Frames([FrameControl("a", [1, 2])], [b"x", b"y"], captions=["only one"])


def test_noise_stepper_frames_follow_the_tab_shown():
    from course_lib.widgets import NoiseStepper, StepperState, render_forward, render_reverse

    torch.manual_seed(0)
    schedule = NoiseSchedule(12)
    stepper = NoiseStepper(
        SmallUNet(channels=8, t_dim=16), schedule, torch.rand(4, 1, 8, 8), n_samples=2
    )
    stepper.f_image.value = 2
    forward = stepper.frames()
    assert [c.label for c in forward.controls] == ["t"] and len(forward.pictures) == 13
    assert forward.pictures[7] == render_forward(
        schedule, stepper.images, StepperState(image=2, t=7), scale=5
    )
    assert "SNR" in forward.captions[7] and forward.pictures[0] != forward.pictures[12]
    stepper.view.selected_index = 1
    calls = []
    stepper.model.register_forward_hook(lambda *a: calls.append(1))
    stepper.chain()  # the chain shown
    calls.clear()
    reverse = stepper.frames()
    assert calls == [], "the reverse frames reuse the chain already computed"
    assert reverse.controls[0].label == "step" and len(reverse.pictures) == 13
    assert reverse.pictures[5] == render_reverse(stepper.chain(), 5, scale=4)


def test_latent_explorer_frames_cover_a_grid_and_place_the_marker_on_the_map():
    from course_lib.models.vae import VAE
    from course_lib.widgets import LatentExplorer, LatentState, render_latent

    torch.manual_seed(0)
    vae = VAE(64, hidden=[16], latent_dim=3)
    explorer = LatentExplorer(
        vae, codes=torch.randn(50, 3), labels=torch.randint(0, 10, (50,)), lim=2.0
    )
    explorer.sliders[2].value = 0.7  # a dimension the grid does not move stays where it is
    frames = explorer.frames(steps=5)
    assert [c.label for c in frames.controls] == ["z[0]", "z[1]"] and len(frames.pictures) == 25
    # row-major: z[0] = grid[1] = -1.0, z[1] = grid[4] = 2.0
    assert frames.pictures[1 * 5 + 4] == render_latent(vae, LatentState((-1.0, 2.0, 0.7)))
    assert frames.points[1 * 5 + 4] == [0.25, 0.0], "x from z[0], y from z[1] (up is positive)"
    assert frames.map is not None and frames.map.startswith(b"\x89PNG")


def test_class_control_frames_every_digit_and_noise_draw():
    from course_lib.widgets import ClassControl, ClassState, render_class_control

    torch.manual_seed(0)
    G = DCGenerator(8, 8, classes=10)
    frames = ClassControl(G).frames(draws=2, steps=3)
    assert [len(c.values) for c in frames.controls] == [10, 2, 3]
    assert frames.controls[0].kind == "buttons"
    assert frames.pictures[(7 * 2 + 1) * 3 + 2] == render_class_control(G, ClassState(7, 1, 1.0))


def test_gan_lab_frames_are_its_snapshots_within_a_byte_budget():
    from course_lib.widgets import GANLab

    torch.manual_seed(0)
    ring = data.make_toy2d("ring", 500, seed=0)
    trainer = GANTrainer(
        MLPGenerator(2, 2, 16), MLPDiscriminator(2, 16), batch_sampler(ring), 2, lr=1e-3
    )
    lab = GANLab(trainer, "2d", ring, snapshot_every=2)
    lab.run(20)
    everything = lab.frames(budget_bytes=10**9)
    assert everything.controls[0].values == [s.step for s in lab.snapshots]
    assert everything.pictures == [s.png for s in lab.snapshots]
    size = sum(len(p) for p in everything.pictures)
    small = lab.frames(budget_bytes=size // 3)
    assert 2 <= len(small.pictures) < len(everything.pictures)
    assert small.pictures[0] == lab.snapshots[0].png and small.pictures[-1] == lab.snapshots[-1].png
    assert small.controls[0].index == len(small.pictures) - 1, "starts where the run ended"


def test_export_frames_writes_every_shown_widget_that_has_frames(tmp_path):
    from course_lib.widgets import ClassControl, DatasetBrowser

    torch.manual_seed(0)
    control = ClassControl(DCGenerator(8, 8, classes=10))
    browser = DatasetBrowser(torch.rand(3, 1, 8, 8))
    hidden = ClassControl(DCGenerator(8, 8, classes=10))  # never displayed: not exported
    control._repr_mimebundle_()
    browser._repr_mimebundle_()
    assert export_frames(str(tmp_path / "f.json")) >= 1
    out = json.loads((tmp_path / "f.json").read_text())
    assert control.view.model_id in out and browser.view.model_id not in out
    assert hidden.view.model_id not in out
    assert len(out[control.view.model_id]["frames"]) == 10 * 4 * 6
