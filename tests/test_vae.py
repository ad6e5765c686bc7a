import math

import pytest
import torch

from course_lib import checkpoints
from course_lib.models.autoencoders import Autoencoder
from course_lib.models.vae import (
    VAE,
    decode_grid,
    elbo_loss,
    encode_mean,
    kl_divergence,
    reparameterize,
    vae_step,
)


def test_vae_shapes_and_modes():
    vae = VAE(784, hidden=[32], latent_dim=3)
    x = torch.rand(5, 1, 28, 28)
    x_hat, mu, logvar = vae(x)
    assert x_hat.shape == x.shape and mu.shape == logvar.shape == (5, 3)
    assert x_hat.min() >= 0 and x_hat.max() <= 1
    vae.eval()
    assert torch.equal(vae(x)[0], vae.decode(vae.encode(x)[0])), "eval mode decodes the mean"
    assert vae.sample(4, generator=torch.Generator().manual_seed(0)).shape == (4, 1, 28, 28)


def test_vae_errors():
    vae = VAE(64, hidden=[16], latent_dim=2)
    with pytest.raises(ValueError, match="64 values each"):
        vae(torch.rand(2, 1, 28, 28))
    with pytest.raises(ValueError, match=r"\(B, 2\)"):
        vae.decode(torch.zeros(3, 5))
    with pytest.raises(ValueError, match="positive"):
        VAE(64, latent_dim=0)


def test_reparameterize_statistics_and_gradients():
    mu = torch.tensor([[0.5, 1.2]]).repeat(50_000, 1).requires_grad_(True)
    logvar = torch.log(torch.tensor([[0.1, 0.2]]) ** 2).repeat(50_000, 1).requires_grad_(True)
    z = reparameterize(mu, logvar, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(z.mean(0), torch.tensor([0.5, 1.2]), atol=0.005)
    assert torch.allclose(z.std(0), torch.tensor([0.1, 0.2]), rtol=0.02)
    z.sum().backward()
    assert torch.allclose(mu.grad, torch.ones_like(mu))
    assert logvar.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="same shape"):
        reparameterize(torch.zeros(2, 3), torch.zeros(2, 2))


def test_kl_against_reference_values_and_monte_carlo():
    assert kl_divergence(torch.zeros(4, 3), torch.zeros(4, 3)).item() == 0.0
    # KL(N(1, 1) || N(0, 1)) = 0.5 per dimension
    assert kl_divergence(torch.ones(2, 3), torch.zeros(2, 3)).item() == pytest.approx(1.5)
    mu, logvar = torch.tensor([[0.5, 1.2]]), torch.log(torch.tensor([[0.1, 0.2]]) ** 2)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros(2), torch.ones(2))
    assert kl_divergence(mu, logvar).item() == pytest.approx(
        torch.distributions.kl_divergence(q, p).sum().item(), rel=1e-5
    )
    with pytest.raises(ValueError, match=r"\(B, latent\)"):
        kl_divergence(torch.zeros(3), torch.zeros(3))


def test_elbo_is_reconstruction_plus_beta_kl():
    x = torch.rand(4, 1, 8, 8)
    x_hat = torch.full_like(x, 0.5)
    mu, logvar = torch.ones(4, 2), torch.zeros(4, 2)
    loss, recon, kl = elbo_loss(x_hat, x, mu, logvar, beta=3.0)
    expected_recon = -(x * math.log(0.5) + (1 - x) * math.log(0.5)).sum() / 4
    assert recon.item() == pytest.approx(expected_recon.item(), rel=1e-5)
    assert kl.item() == pytest.approx(1.0) and loss.item() == pytest.approx(recon.item() + 3.0)
    with pytest.raises(ValueError, match="beta"):
        elbo_loss(x_hat, x, mu, logvar, beta=-1)
    with pytest.raises(ValueError, match="same shape"):
        elbo_loss(x_hat[:2], x, mu, logvar)


def test_vae_step_trains_and_records_both_terms():
    from course_lib.train import fit

    torch.manual_seed(0)
    x = (torch.rand(256, 1, 8, 8) > 0.5).float()
    vae = VAE(64, hidden=[32], latent_dim=2)
    step = vae_step(1.0)
    history = fit(vae, x, None, epochs=5, lr=3e-3, step_fn=step, progress=False)
    assert len(step.recon) == len(step.kl) == len(history.step_loss)
    assert history["train_loss"][-1] < history["train_loss"][0]


def test_decode_grid_and_encode_mean():
    vae = VAE(64, hidden=[16], latent_dim=2)
    grid = decode_grid(vae, n=4, lim=2.0)
    assert grid.shape == (16, 1, 8, 8)
    ae = Autoencoder(64, hidden=[16], code=2)
    assert decode_grid(ae, n=3, lim=((0, 1), (0, 1))).shape == (9, 1, 8, 8)
    assert encode_mean(vae, torch.rand(7, 1, 8, 8)).shape == (7, 2)
    # rows go from high z[1] to low, columns from low z[0] to high
    vae_lin = VAE(64, hidden=[], latent_dim=2)
    assert not torch.equal(decode_grid(vae_lin, 2, 1.0)[0], decode_grid(vae_lin, 2, 1.0)[3])


def test_shipped_vae_and_ae_load_and_fit_their_configs():
    vae = checkpoints.load_checkpoint("vae_digits", VAE)
    ae = checkpoints.load_checkpoint("ae_digits", Autoencoder)
    assert vae.latent_dim == 2 and ae.code == ae.latent_dim == 2
    with torch.no_grad():
        assert vae.decode(torch.zeros(1, 2)).shape == (1, 1, 28, 28)
    entry = checkpoints.manifest()["checkpoints"]["vae_digits"]
    assert entry["metrics"]["test_kl"] > 1.0, "the shipped VAE uses its latent space"


def test_a_mismatched_checkpoint_is_refused_with_a_clear_error():
    with pytest.raises(checkpoints.CheckpointError, match="does not fit VAE"):
        checkpoints.load_checkpoint("vae_digits", VAE(784, hidden=[64], latent_dim=2))


def test_checkers_of_notebook_04():
    from course_lib import check

    assert check.reparameterize(lambda m, lv: reparameterize(m, lv))
    assert (
        "exponential of half"
        in check.reparameterize(lambda m, lv: m + torch.exp(lv) * torch.randn_like(m)).message
    )
    assert (
        "gradient"
        in check.reparameterize(
            lambda m, lv: (m + torch.exp(0.5 * lv) * torch.randn_like(m)).detach()
        ).message
    )
    assert check.kl_gaussian(kl_divergence)
    assert "sign" in check.kl_gaussian(lambda m, lv: -kl_divergence(m, lv)).message
    assert "1/2" in check.kl_gaussian(lambda m, lv: 2 * kl_divergence(m, lv)).message
