import pytest
import torch

from course_lib.models.diffusion import (
    NoiseSchedule,
    SmallUNet,
    diffusion_loss,
    sample,
    timestep_embedding,
)


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_schedule_values(kind):
    s = NoiseSchedule(100, kind)
    assert s.betas.shape == (100,) and (s.betas > 0).all() and (s.betas < 1).all()
    assert torch.allclose(s.alphas, 1 - s.betas)
    assert torch.allclose(s.alpha_bars, torch.cumprod(1 - s.betas.double(), 0).float(), atol=1e-6)
    assert (s.alpha_bars[1:] < s.alpha_bars[:-1]).all(), "the signal only decreases"
    assert s.alpha_bars[0] > 0.98 and s.alpha_bars[-1] < 0.01, (
        "from almost clean to almost pure noise"
    )
    assert (s.snr()[1:] < s.snr()[:-1]).all()


def test_linear_schedule_matches_ho_et_al_for_1000_steps():
    s = NoiseSchedule(1000, "linear")
    assert s.betas[0].item() == pytest.approx(1e-4) and s.betas[-1].item() == pytest.approx(0.02)


def test_closed_form_equals_iterated_forward_process_in_distribution():
    s = NoiseSchedule(50, "cosine")
    x0 = torch.linspace(-1, 1, 16).view(1, 1, 4, 4)
    g = torch.Generator().manual_seed(0)
    x = x0.repeat(40_000, 1, 1, 1)
    for t in range(30):
        x = s.q_step(x, torch.randn(x.shape, generator=g), t)
    ab = s.alpha_bars[29]
    assert torch.allclose(x.mean(0), ab.sqrt() * x0[0], atol=0.02)
    assert torch.allclose(x.var(0), (1 - ab).expand(1, 4, 4), atol=0.02)
    closed = s.add_noise(x0.repeat(40_000, 1, 1, 1), torch.randn(40_000, 1, 4, 4, generator=g), 29)
    assert torch.allclose(closed.mean(0), x.mean(0), atol=0.03) and torch.allclose(
        closed.var(0), x.var(0), atol=0.03
    )


def test_step_against_a_reference_computation():
    s = NoiseSchedule(20, "linear")
    g = torch.Generator().manual_seed(1)
    x_t, eps = torch.randn(3, 1, 4, 4, generator=g), torch.randn(3, 1, 4, 4, generator=g)
    t = 7
    b, a = s.betas[t].double(), s.alphas[t].double()
    ab = torch.prod(1 - s.betas[: t + 1].double())
    ab_prev = torch.prod(1 - s.betas[:t].double())
    x0 = ((x_t.double() - (1 - ab).sqrt() * eps.double()) / ab.sqrt()).clamp(-1, 1)
    mean = ab_prev.sqrt() * b / (1 - ab) * x0 + a.sqrt() * (1 - ab_prev) / (1 - ab) * x_t.double()
    var = (1 - ab_prev) / (1 - ab) * b
    z = torch.randn(x_t.shape, generator=torch.Generator().manual_seed(2))
    x_prev, x0_hat = s.step(eps, t, x_t, generator=torch.Generator().manual_seed(2))
    assert torch.allclose(x0_hat.double(), x0, atol=1e-5)
    assert torch.allclose(x_prev.double(), mean + var.sqrt() * z.double(), atol=1e-5)
    # at t = 0 no noise is added: the step returns the posterior mean
    last, _ = s.step(eps, 0, x_t, generator=torch.Generator().manual_seed(3))
    last2, _ = s.step(eps, 0, x_t, generator=torch.Generator().manual_seed(4))
    assert torch.equal(last, last2)


def test_predict_x0_inverts_add_noise_and_ddim_is_deterministic():
    s = NoiseSchedule(30, "cosine")
    x0 = torch.rand(2, 1, 4, 4) * 2 - 1
    eps = torch.randn(2, 1, 4, 4)
    x_t = s.add_noise(x0, eps, 10)
    assert torch.allclose(s.predict_x0(eps, 10, x_t), x0, atol=1e-5)
    a, x0a = s.ddim_step(eps, 10, 5, x_t)
    b, _ = s.ddim_step(eps, 10, 5, x_t)
    assert torch.equal(a, b) and torch.allclose(x0a, x0, atol=1e-5)
    assert torch.allclose(a, s.add_noise(x0, eps, 5), atol=1e-5), (
        "DDIM with the true noise lands on the same curve"
    )


def test_schedule_errors():
    s = NoiseSchedule(10)
    x = torch.zeros(2, 1, 4, 4)
    with pytest.raises(ValueError, match=r"t must be in \[0, 9\]"):
        s.add_noise(x, x, 10)
    with pytest.raises(ValueError, match=r"t must be in \[0, 9\]"):
        s.add_noise(x, x, torch.tensor([0, -1]))
    with pytest.raises(TypeError, match="integers"):
        s.add_noise(x, x, 0.5)
    with pytest.raises(ValueError, match="x0's shape"):
        s.add_noise(x, torch.zeros(2, 1, 3, 3), 1)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        s.add_noise(x, x, torch.tensor([1, 2, 3]))
    with pytest.raises(TypeError, match="noise must be a tensor"):
        s.add_noise(x, 3, x)  # the old (x0, t, noise) order
    with pytest.raises(ValueError, match="x_t's shape"):
        s.step(torch.zeros(1, 1, 4, 4), 1, x)
    with pytest.raises(ValueError, match="kind"):
        NoiseSchedule(10, "quadratic")
    with pytest.raises(ValueError, match="T must be"):
        NoiseSchedule(1)


def test_unet_shapes_loss_and_sampling():
    torch.manual_seed(0)
    unet = SmallUNet(channels=8, t_dim=16)
    x = torch.randn(3, 1, 8, 8)
    assert unet(x, torch.tensor([0, 5, 9])).shape == x.shape
    assert unet(x, 4).shape == x.shape
    with pytest.raises(ValueError, match="divisible by 4"):
        unet(torch.randn(1, 1, 6, 6), 0)
    s = NoiseSchedule(10)
    loss = diffusion_loss(unet, s, x, generator=torch.Generator().manual_seed(0))
    assert loss.ndim == 0 and loss.item() > 0
    images, (ts, xs, x0s) = sample(
        unet, s, 2, shape=(1, 8, 8), generator=torch.Generator().manual_seed(0), return_chain=True
    )
    assert images.shape == (2, 1, 8, 8) and images.min() >= 0 and images.max() <= 1
    assert ts == list(range(9, -1, -1)) and len(xs) == 11 and len(x0s) == 10
    ddim = sample(unet, s, 2, steps=3, shape=(1, 8, 8), generator=torch.Generator().manual_seed(0))
    assert ddim.shape == (2, 1, 8, 8)
    with pytest.raises(ValueError, match="steps must be in"):
        sample(unet, s, 1, steps=50, shape=(1, 8, 8))
    assert timestep_embedding(torch.tensor([0, 1]), 6).shape == (2, 6)


def test_noise_stepper_forward_and_cached_reverse_chain():
    from course_lib.widgets import NoiseStepper, StepperState, render_forward

    torch.manual_seed(0)
    s = NoiseSchedule(12)
    unet = SmallUNet(channels=8, t_dim=16)
    images = torch.rand(5, 1, 8, 8)
    assert render_forward(s, images, StepperState(t=4)) == render_forward(
        s, images, StepperState(t=4)
    )
    stepper = NoiseStepper(unet, s, images, n_samples=2)
    before = stepper.f_view.value
    stepper.f_t.value = 6
    assert stepper.f_view.value != before and "SNR" in stepper.f_caption.value
    calls = []
    hook = unet.register_forward_hook(lambda *a: calls.append(1))
    first = stepper.r_view.value
    stepper.r_pos.value = 5
    assert stepper.r_view.value != first
    stepper.r_pos.value = 0
    assert stepper.r_view.value == first, "back and forth shows the same cached frames"
    stepper.step()
    assert stepper.state.position == 1
    assert calls == [], "scrubbing the cached chain never calls the denoiser"
    seen = []  # what the browser is sent while the chain is computed: the button says it is working
    stepper.r_new.observe(
        lambda c: seen.append((c["name"], c["new"])), names=["description", "disabled"]
    )
    stepper.new_sample()
    assert len(calls) == s.T, "a new sample computes its chain once"
    assert ("description", "sampling...") in seen and ("disabled", True) in seen
    assert (stepper.r_new.description, stepper.r_new.disabled) == ("new sample", False), (
        "and comes back"
    )
    hook.remove()
    with pytest.raises(TypeError, match="NoiseSchedule"):
        NoiseStepper(unet, "not a schedule", images)


def test_noise_stepper_play_plays_to_the_end_and_pause_stops_it():
    import time

    from course_lib.widgets import NoiseStepper

    torch.manual_seed(0)
    s = NoiseSchedule(40)
    stepper = NoiseStepper(SmallUNet(channels=8, t_dim=16), s, torch.rand(3, 1, 8, 8), n_samples=2)
    stepper.r_pos.value = 10
    frames = {stepper.r_view.value}
    stepper.r_view.observe(lambda change: frames.add(change["new"]), names="value")
    stepper.r_play.value = True  # what pressing the button does
    assert stepper.playing and stepper.r_play.description == "pause"
    deadline = time.time() + 10
    while stepper.playing and time.time() < deadline:
        time.sleep(0.02)
    assert not stepper.playing, "play stops by itself at the end of the chain"
    assert stepper.r_pos.value == s.T and stepper.state.position == s.T
    assert stepper.r_play.value is False and stepper.r_play.description == "play", (
        "the button pops up"
    )
    assert len(frames) >= 10, f"only {len(frames)} frames were shown while playing"
    # pressed at the end, play starts again from the noise; pressing again pauses where it is
    stepper.r_play.value = True
    time.sleep(0.3)
    stepper.r_play.value = False
    paused_at = stepper.r_pos.value
    assert 0 < paused_at < s.T and not stepper.playing
    time.sleep(0.2)
    assert stepper.r_pos.value == paused_at, "paused: the chain stays where it is"


def test_shipped_diffusion_checkpoint_loads():
    from course_lib import checkpoints

    entry = checkpoints.manifest()["checkpoints"].get("diffusion")
    assert entry is not None, "run: python -m course_lib.pretrain diffusion"
    unet = checkpoints.load_checkpoint("diffusion", SmallUNet)
    assert unet(torch.zeros(1, 1, 28, 28), 5).shape == (1, 1, 28, 28)
