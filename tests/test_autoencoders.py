import math

import pytest
import torch
from torch import nn

from course_lib.models.autoencoders import (
    Autoencoder,
    SparseAutoencoder,
    StackedClassifier,
    add_noise,
    fresh_stack,
    kl_sparsity,
    l1_penalty,
    reconstruction_error,
)
from course_lib.train import pretrain_stack


def test_autoencoder_shapes_and_ranges():
    ae = Autoencoder(784, hidden=[64], code=5)
    x = torch.rand(3, 1, 28, 28)
    z = ae.encode(x)
    assert z.shape == (3, 5)
    out = ae(x)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    assert ae.decode(torch.zeros(2, 5)).shape == (2, 1, 28, 28)
    flat = Autoencoder(64, hidden=[], code=3, linear=True, sigmoid_output=False)
    assert not any(isinstance(m, (nn.ReLU, nn.Sigmoid)) for m in flat.modules())
    assert flat(torch.rand(4, 1, 8, 8)).shape == (4, 1, 8, 8)
    assert Autoencoder(10, hidden=[], code=2).decode(torch.zeros(1, 2)).shape == (1, 10)


def test_autoencoder_errors():
    ae = Autoencoder(784, hidden=[32], code=4)
    with pytest.raises(ValueError, match="784 values each"):
        ae(torch.rand(2, 1, 8, 8))
    with pytest.raises(ValueError, match=r"codes must have shape \(B, 4\)"):
        ae.decode(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="positive"):
        Autoencoder(784, code=0)
    with pytest.raises(ValueError, match="does not hold"):
        Autoencoder(784, code=2, image_shape=(1, 20, 20))


def test_linear_autoencoder_learns_pca_error():
    from sklearn.decomposition import PCA

    g = torch.Generator().manual_seed(0)
    basis = torch.randn(3, 20, generator=g)
    x = torch.randn(500, 3, generator=g) @ basis + 0.05 * torch.randn(500, 20, generator=g)
    pca = PCA(3).fit(x.numpy())
    pca_err = float(
        (
            (torch.from_numpy(pca.inverse_transform(pca.transform(x.numpy()))).float() - x) ** 2
        ).mean()
    )
    from course_lib.train import fit

    torch.manual_seed(0)
    ae = Autoencoder(20, hidden=[], code=3, linear=True, sigmoid_output=False)
    fit(ae, x, nn.MSELoss(), epochs=400, lr=1e-2, batch_size=50, progress=False)
    assert reconstruction_error(ae, x) == pytest.approx(pca_err, rel=0.1)


def test_sparsity_penalties_on_known_inputs():
    h = torch.tensor([[0.1, 0.5], [0.3, 0.5]])
    assert l1_penalty(h).item() == pytest.approx((0.6 + 0.8) / 2)
    # unit means 0.2 and 0.5; rho 0.2 -> first unit costs nothing
    rho = 0.2
    expected = rho * math.log(rho / 0.5) + (1 - rho) * math.log((1 - rho) / 0.5)
    assert kl_sparsity(h, rho).item() == pytest.approx(expected, rel=1e-5)
    assert kl_sparsity(torch.full((4, 3), 0.05), 0.05).item() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="rho"):
        kl_sparsity(h, 0.0)
    with pytest.raises(ValueError, match=r"\(B, units\)"):
        l1_penalty(torch.ones(3))


def test_sparse_autoencoder_is_overcomplete_and_returns_activations():
    model = SparseAutoencoder(64, 128, image_shape=(1, 8, 8))
    x_hat, h = model(torch.rand(5, 1, 8, 8))
    assert x_hat.shape == (5, 1, 8, 8) and h.shape == (5, 128)
    assert h.min() > 0 and h.max() < 1
    with pytest.raises(ValueError, match="64 values each"):
        model.encode(torch.rand(5, 1, 28, 28))


@pytest.mark.parametrize("kind", ["gaussian", "masking", "salt_pepper"])
def test_noise_stays_in_range_and_is_seeded(kind):
    x = torch.rand(10, 1, 8, 8)
    noisy = add_noise(x, 0.5, kind, generator=torch.Generator().manual_seed(1))
    assert noisy.shape == x.shape and noisy.min() >= 0 and noisy.max() <= 1
    assert not torch.equal(noisy, x)
    again = add_noise(x, 0.5, kind, generator=torch.Generator().manual_seed(1))
    assert torch.equal(noisy, again)
    assert torch.equal(add_noise(x, 0.0, kind), x)


def test_noise_statistics_and_errors():
    x = torch.full((200, 100), 0.5)
    g = torch.Generator().manual_seed(0)
    assert (add_noise(x, 0.1, generator=g) - x).std().item() == pytest.approx(0.1, rel=0.05)
    assert (add_noise(x, 0.3, "masking", generator=g) == 0).float().mean().item() == pytest.approx(
        0.3, abs=0.01
    )
    with pytest.raises(ValueError, match="kind"):
        add_noise(x, 0.1, "blur")
    with pytest.raises(ValueError, match="noise level"):
        add_noise(x, 1.5, "masking")


def test_stacked_pretraining_reduces_each_layers_reconstruction_error():
    torch.manual_seed(0)
    x = torch.rand(256, 1, 8, 8)
    encoders = pretrain_stack(x, [64, 32, 16], epochs=3, progress=False)
    assert [e[0].out_features for e in encoders] == [32, 16]
    clf = StackedClassifier(encoders, classes=10)
    assert clf(x[:4]).shape == (4, 10)
    fresh = fresh_stack([64, 32, 16])
    assert not torch.equal(fresh[0][0].weight, encoders[0][0].weight)
    with pytest.raises(ValueError, match="input size 64"):
        pretrain_stack(x, [100, 10])


def test_denoise_view_reacts_to_the_noise_slider():
    from course_lib.widgets import DenoiseState, DenoiseView, render_denoise

    torch.manual_seed(0)
    images = torch.rand(4, 1, 8, 8)
    models = {"a": Autoencoder(64, hidden=[], code=4), "b": Autoencoder(64, hidden=[8], code=4)}
    png = render_denoise(images, models, DenoiseState(0.3, 1, 0))
    assert png == render_denoise(images, models, DenoiseState(0.3, 1, 0))
    view = DenoiseView(images, models, level=0.3)
    first = view.image.value
    view.level.value = 0.9
    assert view.image.value != first
    second = view.image.value
    view.index.value = 2
    assert view.image.value != second
    third = view.image.value
    view.resample.click()
    assert view.state.noise_seed == 1 and view.image.value != third
    with pytest.raises(ValueError, match="at least one"):
        DenoiseView(images, {})
    with pytest.raises(ValueError, match="index must be in"):
        render_denoise(images, models, DenoiseState(0.3, 9, 0))


def test_checkers_of_notebook_03():
    from course_lib import check

    assert check.kl_sparsity(kl_sparsity)
    assert "sum the KL" in check.kl_sparsity(lambda h, r: kl_sparsity(h, r) / h.shape[1]).message
    swapped = lambda h, r: (
        h.mean(0) * torch.log(h.mean(0) / r)  # noqa: E731
        + (1 - h.mean(0)) * torch.log((1 - h.mean(0)) / (1 - r))
    ).sum()
    assert "KL(rho || rho_hat)" in check.kl_sparsity(swapped).message
    assert check.add_noise(lambda x, level: add_noise(x, level))
    assert "clip" in check.add_noise(lambda x, level: x + level * torch.randn_like(x)).message
    assert (
        "Gaussian"
        in check.add_noise(lambda x, level: (x + level * torch.rand_like(x)).clamp(0, 1)).message
    )
