import math
import time

import pytest
import torch

from course_lib import data
from course_lib.models.gan import (
    DCDiscriminator,
    DCGenerator,
    MLPDiscriminator,
    MLPGenerator,
    conditional_discriminator_loss,
    discriminator_loss,
    discriminator_step,
    generator_loss,
    generator_step,
    modes_covered,
    value_function,
)
from course_lib.train import GANTrainer, batch_sampler


def _params(net):
    return [p.detach().clone() for p in net.parameters()]


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


def test_each_step_changes_only_its_own_network_and_frozen_d_gets_no_gradient():
    torch.manual_seed(0)
    G, D = MLPGenerator(2, 2, 16), MLPDiscriminator(2, 16)
    opt_G, opt_D = torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters())
    g0, d0 = _params(G), _params(D)
    discriminator_step(G, D, torch.randn(32, 2), torch.randn(32, 2), opt_D)
    assert _same(g0, _params(G)) and not _same(d0, _params(D))
    d1 = _params(D)
    for p in D.parameters():
        p.grad = None  # forget the D step's gradients, to see whether the G step adds any
    seen = []
    hooks = [p.register_hook(lambda grad: seen.append(grad)) for p in D.parameters()]
    generator_step(G, D, torch.randn(32, 2), opt_G)
    assert seen == [] and all(p.grad is None for p in D.parameters())
    assert _same(d1, _params(D)) and not _same(g0, _params(G))
    assert all(p.requires_grad for p in D.parameters()), "D is unfrozen again afterwards"
    for h in hooks:
        h.remove()


def test_losses_against_reference_values():
    real, fake = torch.tensor([0.0]), torch.tensor([0.0])  # D(x) = 0.5 everywhere
    assert discriminator_loss(real, fake).item() == pytest.approx(2 * math.log(2))
    assert value_function(real, fake).item() == pytest.approx(-2 * math.log(2))
    assert generator_loss(fake).item() == pytest.approx(math.log(2))
    assert generator_loss(fake, saturating=True).item() == pytest.approx(math.log(0.5))


def test_cgan_loss_has_the_three_cases():
    class Judge(torch.nn.Module):  # says "real" only for genuine images whose label matches
        def forward(self, x, y):
            genuine = x.mean(dim=(1, 2, 3)) > 0.5
            return torch.where(genuine & (y == 3), 10.0, -10.0)

    real, labels = torch.ones(4, 1, 28, 28), torch.full((4,), 3)
    fake, fake_labels = torch.zeros(4, 1, 28, 28), torch.full((4,), 3)
    loss, parts = conditional_discriminator_loss(Judge(), real, labels, fake, fake_labels)
    assert set(parts) == {"genuine_correct", "genuine_wrong", "fake_any"}
    assert all(v.item() < 1e-3 for v in parts.values()), "the perfect judge makes every case right"
    _, parts = conditional_discriminator_loss(
        lambda x, y: torch.full((x.shape[0],), 10.0), real, labels, fake, fake_labels
    )
    assert parts["genuine_correct"] < 1e-3 and parts["genuine_wrong"] > 5 and parts["fake_any"] > 5


def test_trainer_learns_the_ring_and_is_resumable():
    torch.manual_seed(0)
    ring = data.make_toy2d("ring", 2000, seed=0)
    centres = 2 * torch.stack(
        [torch.cos(torch.arange(8) * math.pi / 4), torch.sin(torch.arange(8) * math.pi / 4)], 1
    )
    trainer = GANTrainer(
        MLPGenerator(2, 2, 64), MLPDiscriminator(2, 64), batch_sampler(ring), 2, lr=1e-3
    )
    trainer.run(400)
    with torch.no_grad():
        assert modes_covered(trainer.G(trainer.noise(2000)), centres) >= 6
    assert trainer.history["step"] == list(range(1, 401))


def test_an_exception_mid_round_leaves_everything_as_before():
    torch.manual_seed(0)
    ring = data.make_toy2d("ring", 500, seed=0)
    calls = {"n": 0}

    def flaky(n, g):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # a user pressing stop in the middle of a round
        return ring[torch.randint(0, 500, (n,), generator=g)]

    trainer = GANTrainer(MLPGenerator(2, 2, 16), MLPDiscriminator(2, 16), flaky, 2, k=2)
    trainer.train_step()
    g_before, d_before = _params(trainer.G), _params(trainer.D)
    history_before = {k: list(v) for k, v in trainer.history.items()}
    with pytest.raises(KeyboardInterrupt):
        trainer.train_step()  # the first D step of this round ran, then the second raised
    assert _same(g_before, _params(trainer.G)) and _same(d_before, _params(trainer.D)), (
        "rolled back"
    )
    assert trainer.history == history_before and trainer.steps == 1
    trainer.train_step()  # resume goes on from there
    assert trainer.steps == 2


def test_trainer_settings_and_errors():
    trainer = GANTrainer(
        MLPGenerator(2, 2, 8), MLPDiscriminator(2, 8), batch_sampler(torch.randn(50, 2)), 2
    )
    trainer.set_lr(5e-4)
    assert trainer.opt_D.param_groups[0]["lr"] == trainer.opt_G.param_groups[0]["lr"] == 5e-4
    with pytest.raises(ValueError, match="positive"):
        trainer.set_lr(0)
    with pytest.raises(ValueError, match="positive int"):
        trainer.set_k(0)
    with pytest.raises(ValueError, match=r"\(B, 2\)"):
        trainer.G(torch.zeros(3, 5))


def test_dc_networks_shapes_and_conditioning():
    G, D = DCGenerator(16, 8), DCDiscriminator(8)
    images = G(torch.randn(3, 16))
    assert images.shape == (3, 1, 28, 28) and images.min() >= 0 and images.max() <= 1
    assert D(images).shape == (3,)
    cG, cD = DCGenerator(16, 8, classes=10), DCDiscriminator(8, classes=10)
    y = torch.tensor([1, 2, 3])
    assert cD(cG(torch.randn(3, 16), y), y).shape == (3,)
    with pytest.raises(ValueError, match="needs labels"):
        cG(torch.randn(3, 16))
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\)"):
        D(torch.zeros(2, 1, 8, 8))


def test_conditional_trainer_round():
    torch.manual_seed(0)
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    trainer = GANTrainer(
        DCGenerator(8, 8, classes=10),
        DCDiscriminator(8, classes=10),
        batch_sampler(x, y),
        8,
        batch_size=16,
        classes=10,
    )
    d, g = trainer.train_step()
    assert math.isfinite(d) and math.isfinite(g) and trainer.steps == 1


def test_gan_lab_buttons_change_state_and_view_headless():
    from course_lib.widgets import GANLab

    torch.manual_seed(0)
    ring = data.make_toy2d("ring", 1000, seed=0)
    trainer = GANTrainer(
        MLPGenerator(2, 2, 16), MLPDiscriminator(2, 16), batch_sampler(ring), 2, lr=1e-3
    )
    lab = GANLab(trainer, "2d", ring, snapshot_every=5)
    first = lab.image.value
    lab.step_button.click()
    assert trainer.steps == 1 and lab.image.value != first
    lab.lr.value = 1e-2
    assert trainer.lr == pytest.approx(1e-2)
    lab.k.value = 3
    assert trainer.k == 3
    lab.run(10)
    assert trainer.steps == 11 and len(lab.snapshots) == 3  # steps 0, 5, 10
    live = lab.image.value
    lab.timeline.value = lab.timeline.min  # scrub back to the first snapshot
    assert lab.image.value == lab.snapshots[0].png != live and "timeline" in lab.status.value
    lab.step_button.click()  # a step while scrubbed back trains AND shows the new live step
    assert trainer.steps == 12 and lab.timeline.value == lab.timeline.max
    assert lab.image.value == lab.render_live() != lab.snapshots[0].png
    # play runs in a background thread; pause stops it and the models stay consistent
    lab.play.value = True
    deadline = time.time() + 10
    while trainer.steps < 20 and time.time() < deadline:
        time.sleep(0.05)
    lab.play.value = False
    assert not lab.playing and trainer.steps >= 20
    assert len(trainer.history["step"]) == trainer.steps
    steps = trainer.steps
    time.sleep(0.2)
    assert trainer.steps == steps, "paused: no more training"
    with pytest.raises(ValueError, match="real_points"):
        GANLab(trainer, "2d")


def test_class_control_changes_digit_and_noise():
    from course_lib.widgets import ClassControl, ClassState, render_class_control

    torch.manual_seed(0)
    G = DCGenerator(8, 8, classes=10)
    assert render_class_control(G, ClassState(3, 0, 0.5)) == render_class_control(
        G, ClassState(3, 0, 0.5)
    )
    control = ClassControl(G)
    a = control.image.value
    control.digit.value = 4
    b = control.image.value
    control.t.value = 0.5
    c = control.image.value
    control.resample.click()
    assert len({a, b, c, control.image.value}) == 4
    with pytest.raises(TypeError, match="conditional"):
        ClassControl(DCGenerator(8, 8))


def test_checkers_of_notebooks_05_06():
    from course_lib import check

    assert check.discriminator_loss(discriminator_loss)
    assert "swapped" in check.discriminator_loss(lambda r, f: discriminator_loss(f, r)).message
    assert check.generator_loss(generator_loss)
    assert (
        "saturating" in check.generator_loss(lambda f: generator_loss(f, saturating=True)).message
    )
    assert check.wrong_labels(lambda y: (y + torch.randint(1, 10, y.shape)) % 10)
    assert (
        "equal the correct one"
        in check.wrong_labels(lambda y: torch.randint(0, 10, y.shape)).message
    )
    assert check.class_agreement(lambda lg, r: (lg.argmax(1) == r).float().mean())
    assert (
        "percentage"
        in check.class_agreement(lambda lg, r: 100 * (lg.argmax(1) == r).float().mean()).message
    )


def test_gan_lab_stress_never_runs_two_training_threads():
    """Play / pause / step / parameter changes, hundreds of times from another thread: one training
    thread at most, a history that matches the step count, no error, and a button that tells the truth."""
    import random
    import threading as th

    from course_lib.widgets import GANLab

    torch.manual_seed(0)
    ring = data.make_toy2d("ring", 500, seed=0)
    trainer = GANTrainer(
        MLPGenerator(2, 2, 8), MLPDiscriminator(2, 8), batch_sampler(ring), 2, lr=1e-3
    )
    lab = GANLab(trainer, "2d", ring, snapshot_every=5)
    errors, most_threads = [], [0]
    rnd = random.Random(0)

    def hammer():
        try:
            for _ in range(300):
                action = rnd.choice(["play", "pause", "step", "lr", "k", "start", "button"])
                if action == "play":
                    lab.start()
                elif action == "pause":
                    lab.pause(timeout=5)
                elif action == "step":
                    lab.step()
                elif action == "lr":
                    lab.lr.value = rnd.choice([1e-3, 3e-3, 1e-2])
                elif action == "k":
                    lab.k.value = rnd.choice([1, 2, 3])
                elif action == "start":
                    lab.start()
                    lab.start()
                else:
                    lab.play.value = not lab.play.value
                alive = [t for t in th.enumerate() if t.name == "gan-lab" and t.is_alive()]
                most_threads[0] = max(most_threads[0], len(alive))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    worker = th.Thread(target=hammer)
    worker.start()
    worker.join(120)
    assert not worker.is_alive(), "the stress run did not finish in 120 s"
    assert lab.pause(timeout=10)
    assert not errors, errors
    assert lab.error is None, lab.error
    assert most_threads[0] <= 1, f"{most_threads[0]} training threads ran at once"
    assert len(trainer.history["step"]) == trainer.steps
    assert lab.play.value is False and not lab.playing, "the button shows the real (paused) state"


def test_a_round_with_finite_losses_but_broken_weights_is_undone():
    """An extreme learning rate can leave NaN weights after a round whose losses were finite: the
    round is undone (weights, optimisers, random state) and the error says why."""
    torch.manual_seed(0)
    ring = data.make_toy2d("ring", 500, seed=0)
    trainer = GANTrainer(MLPGenerator(2, 2, 8), MLPDiscriminator(2, 8), batch_sampler(ring), 2)
    trainer.run(3)
    before = [p.detach().clone() for p in (*trainer.G.parameters(), *trainer.D.parameters())]
    original = trainer.opt_G.step

    def breaking_step(*args, **kwargs):  # the generator's update writes a NaN, its loss was finite
        original(*args, **kwargs)
        with torch.no_grad():
            next(trainer.G.parameters()).view(-1)[0] = float("nan")

    trainer.opt_G.step = breaking_step
    with pytest.raises(FloatingPointError, match="weights became NaN or inf at step 4"):
        trainer.train_step()
    after = [p.detach() for p in (*trainer.G.parameters(), *trainer.D.parameters())]
    assert all(torch.equal(a, b) for a, b in zip(before, after)) and trainer.steps == 3


def test_gan_lab_timeline_right_end_is_live_whatever_arrives_meanwhile():
    """Snapshots arriving while a person scrubs must neither move their view nor make the right end
    of the timeline mean an old snapshot (it froze the view in 13 of 30 tries before)."""
    from course_lib.widgets import GANLab

    torch.manual_seed(0)
    ring = data.make_toy2d("ring", 1000, seed=0)
    trainer = GANTrainer(MLPGenerator(2, 2, 16), MLPDiscriminator(2, 16), batch_sampler(ring), 2)
    lab = GANLab(trainer, "2d", ring, snapshot_every=2)
    lab.run(6)  # snapshots at steps 0, 2, 4, 6
    lab.timeline.value = -2  # two back from the newest: step 2
    assert not lab.live and lab.frame(lab.state).step == 2
    lab.run(4)  # two more snapshots while the view is scrubbed back
    assert lab.frame(lab.state).step == 2 and lab.image.value == lab.snapshots[1].png
    lab.timeline.value = 0  # the right end, as the person last saw it: live, never a snapshot
    assert lab.live and lab.frame(lab.state).step == trainer.steps == 10
