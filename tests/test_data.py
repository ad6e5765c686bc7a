import math

import numpy as np
import pytest
import torch

from course_lib import data


def test_digits8_fixed_split_shapes_and_ranges():
    x_train, y_train = data.load_digits8("train")
    x_test, y_test = data.load_digits8("test")
    x_all, y_all = data.load_digits8("all")
    assert x_train.shape == (1438, 1, 8, 8) and x_test.shape == (359, 1, 8, 8)
    assert x_all.shape == (1797, 1, 8, 8)
    assert x_train.dtype == torch.float32 and y_train.dtype == torch.int64
    assert 0.0 == x_all.min() and x_all.max() == 1.0
    assert set(y_test.tolist()) == set(range(10))
    # stratified: each digit has about 20% of its images in the test split
    for d in range(10):
        frac = (y_test == d).sum() / (y_all == d).sum()
        assert abs(frac.item() - 0.2) < 0.01
    # disjoint and complete: no test image is also a train image
    train_rows = {tuple(r) for r in x_train.flatten(1).tolist()}
    overlap = sum(tuple(r) in train_rows for r in x_test.flatten(1).tolist())
    assert overlap <= 3  # a couple of scans are pixel-identical duplicates in the original data
    again = data.load_digits8("train")
    assert torch.equal(again[0], x_train) and torch.equal(again[1], y_train)


def test_digits8_bad_split():
    with pytest.raises(ValueError, match="'train', 'test' or 'all'"):
        data.load_digits8("validation")


def test_digits28_deterministic_shapes_ranges_balance():
    x, y = data.make_digits28(600, seed=3)
    assert x.shape == (600, 1, 28, 28) and y.shape == (600,)
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    assert x.min() >= 0 and x.max() <= 1
    assert set(y.tolist()) == set(range(10))
    x2, y2 = data.make_digits28(600, seed=3)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    x3, _ = data.make_digits28(600, seed=4)
    assert not torch.equal(x, x3)
    # chunked generation gives the same images as a small batch with the same seed prefix
    small, _ = data.make_digits28(5, seed=3)
    assert small.shape == (5, 1, 28, 28)


def test_digits28_look_like_digits():
    x, y = data.make_digits28(500, seed=0)
    ink = x.mean(dim=(1, 2, 3))
    assert (ink > 0.015).all() and (ink < 0.5).all(), "every image has some ink, none is filled"
    # the border stays mostly empty, as in MNIST
    border = torch.cat([x[..., :2, :].flatten(1), x[..., -2:, :].flatten(1)], 1).mean()
    assert border < 0.02
    # digits of the same class are more alike than digits of different classes
    means = torch.stack([x[y == d].mean(0).flatten() for d in range(10)])
    sample = x.flatten(1)
    nearest = torch.cdist(sample, means).argmin(1)
    assert (nearest == y).float().mean() > 0.5


def test_digits28_difficulty_zero_is_clean_glyphs():
    import torch.nn.functional as F

    x, y = data.make_digits28(40, seed=0, difficulty=0.0)
    glyphs = F.avg_pool2d(data._digit_templates(), 2)  # (fonts, 10, 28, 28)
    for img, label in zip(x[:, 0], y):
        error = (glyphs[:, label] - img).abs().amax(dim=(1, 2)).min()
        assert error < 1e-4, "with no distortion every image is one font's glyph, as drawn"
    distorted, _ = data.make_digits28(40, seed=0, difficulty=1.0)
    assert not torch.allclose(distorted, x)


def test_stroke_widths_dilate_each_glyph_as_an_image_would():
    """make_digits28 dilates the few templates once; that must equal pooling every image."""
    import torch.nn.functional as F

    base = data._digit_templates()
    bank = data._stroke_templates()
    assert bank.shape == (4, *base.shape)
    images = base.flatten(0, 1)[:, None]  # every glyph as a (B, 1, 56, 56) image
    thick = F.max_pool2d(images, 3, 1, 1)
    expected = [-F.max_pool2d(-images, 3, 1, 1), images, thick, F.max_pool2d(thick, 3, 1, 1)]
    for width, want in enumerate(expected):
        assert torch.equal(bank[width].flatten(0, 1)[:, None], want)
    assert (bank[0] <= bank[1]).all() and (bank[1] <= bank[2]).all() and (bank[2] <= bank[3]).all()
    assert bank[3].sum() > bank[1].sum() > bank[0].sum(), "bolder strokes carry more ink"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 0}, "n must be between"),
        ({"n": 2.5}, "n must be an int"),
        ({"n": 10, "seed": -1}, "seed must be between"),
        ({"n": 10, "difficulty": 3}, "difficulty"),
    ],
)
def test_digits28_bad_inputs(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        data.make_digits28(**kwargs)


def test_shapes_return_their_factors():
    x, f = data.make_shapes(300, seed=1)
    assert x.shape == (300, 1, 32, 32) and x.min() >= 0 and x.max() <= 1
    assert set(f) == set(data.SHAPE_FACTORS)
    assert all(v.shape == (300,) for v in f.values())
    assert set(f["shape"].tolist()) == {0, 1, 2}
    assert f["scale"].min() >= 0.5 and f["scale"].max() <= 1.0
    assert f["rotation"].abs().max() <= math.pi / 6 + 1e-6
    assert f["x"].abs().max() <= 0.5 and f["y"].abs().max() <= 0.5
    x2, f2 = data.make_shapes(300, seed=1)
    assert torch.equal(x, x2) and all(torch.equal(f[k], f2[k]) for k in f)
    # the factors really are the ones drawn: re-rendering them gives the same images
    again = data.render_shapes(f["shape"], f["scale"], f["rotation"], f["x"], f["y"])
    assert torch.allclose(again, x)


def test_shape_factors_change_the_image_as_named():
    n = 2
    base = dict(
        shape=torch.tensor([0, 0]),
        scale=torch.tensor([0.5, 1.0]),
        rotation=torch.zeros(n),
        x=torch.zeros(n),
        y=torch.zeros(n),
    )
    small, big = data.render_shapes(**base)
    assert big.sum() > 2.5 * small.sum()  # area grows with scale squared
    moved = data.render_shapes(
        **{**base, "x": torch.tensor([-0.4, 0.4]), "scale": torch.tensor([0.6, 0.6])}
    )
    cols = torch.arange(32).float()
    centre = (moved[:, 0].sum(1) * cols).sum(1) / moved[:, 0].sum((1, 2))
    assert centre[0] < 12 and centre[1] > 20  # x moves the shape left to right


def test_render_shapes_bad_inputs():
    with pytest.raises(ValueError, match="one length"):
        data.render_shapes(
            torch.zeros(2), torch.ones(3), torch.zeros(2), torch.zeros(2), torch.zeros(2)
        )
    with pytest.raises(ValueError, match="0 \\(square\\)"):
        data.render_shapes(
            torch.tensor([5]), torch.ones(1), torch.zeros(1), torch.zeros(1), torch.zeros(1)
        )


def test_moving_shapes_move_and_stay_in_frame():
    clips = data.make_moving_shapes(10, frames=12, seed=0)
    assert clips.shape == (10, 12, 1, 32, 32)
    assert torch.equal(clips, data.make_moving_shapes(10, frames=12, seed=0))
    mass = clips.sum(dim=(2, 3, 4))
    assert (mass > 5).all(), "the shape never leaves the frame"
    assert (clips[:, 1:] - clips[:, :-1]).abs().sum() > 0, "frames differ: the shapes move"
    with pytest.raises(ValueError, match="frames"):
        data.make_moving_shapes(2, frames=1)


@pytest.mark.parametrize("name", data.TOY2D_NAMES)
def test_toy2d(name):
    pts = data.make_toy2d(name, 500, seed=0)
    assert pts.shape == (500, 2) and pts.dtype == torch.float32
    assert pts.abs().max() < 4
    assert torch.equal(pts, data.make_toy2d(name, 500, seed=0))


def test_toy2d_ring_has_eight_modes_on_radius_two():
    pts = data.make_toy2d("ring", 4000, seed=0)
    radius = pts.norm(dim=1)
    assert abs(radius.mean().item() - 2.0) < 0.05
    angles = torch.atan2(pts[:, 1], pts[:, 0])
    modes = torch.round(angles / (math.pi / 4)).remainder(8)
    assert torch.bincount(modes.long(), minlength=8).min() > 350


def test_toy2d_bad_inputs():
    with pytest.raises(ValueError, match="name must be one of"):
        data.make_toy2d("moons")
    with pytest.raises(ValueError, match="noise"):
        data.make_toy2d("ring", 10, noise=-1.0)


def test_load_mnist_explains_what_is_missing(tmp_path):
    with pytest.raises(ValueError, match="kind"):
        data.load_mnist("kmnist")
    try:
        import torchvision  # noqa: F401

        has_tv = True
    except Exception:
        has_tv = False
    if has_tv:
        with pytest.raises(FileNotFoundError, match="download=True"):
            data.load_mnist("mnist", root=tmp_path)
    else:
        with pytest.raises(RuntimeError, match="torchvision"):
            data.load_mnist("mnist", root=tmp_path)


# ----------------------------------------------------------------------------- bad input, big requests
def test_nan_and_inf_are_refused_with_the_name_of_the_argument():
    with pytest.raises(ValueError, match="noise must be a finite number"):
        data.make_toy2d("ring", 10, noise=float("nan"))
    with pytest.raises(ValueError, match="difficulty must be a finite number"):
        data.make_digits28(4, difficulty=float("inf"))
    ones = torch.ones(2)
    with pytest.raises(ValueError, match="scale must hold finite numbers"):
        data.render_shapes(
            torch.zeros(2), torch.tensor([0.5, float("nan")]), 0 * ones, 0 * ones, 0 * ones
        )


def test_numpy_scalars_are_accepted():
    x, y = data.make_digits28(np.int64(4), seed=np.int64(1), difficulty=np.float32(0.5))
    assert x.shape == (4, 1, 28, 28) and torch.equal(
        x, data.make_digits28(4, seed=1, difficulty=0.5)[0]
    )
    assert data.make_toy2d("ring", 5, noise=np.float64(0.1)).shape == (5, 2)
    images = torch.rand(2, 1, 8, 8)
    assert torch.equal(
        data.translate(images, np.int64(2), np.int32(-1)), data.translate(images, 2, -1)
    )


@pytest.mark.parametrize(
    "call, need",
    [
        (lambda: data.make_shapes(10**6), "4.1 GB"),
        (lambda: data.make_shapes(100_000, size=256), "26.2 GB"),
        (lambda: data.make_moving_shapes(10**6, frames=256, size=256), "67108.9 GB"),
        (lambda: data.make_digits28(10**6), "3.1 GB"),
    ],
)
def test_an_oversized_request_is_refused_before_allocating(call, need):
    with pytest.raises(ValueError, match=rf"would need about {need}.*limit is 2\.1 GB"):
        call()


def test_large_shape_sets_render_in_chunks_with_the_same_result():
    small = data.make_shapes(50, seed=3)[0]
    many = data.make_shapes(data._CHUNK + 50, seed=3)
    assert many[0].shape == (data._CHUNK + 50, 1, 32, 32)
    f = many[1]
    again = data.render_shapes(
        f["shape"][:50], f["scale"][:50], f["rotation"][:50], f["x"][:50], f["y"][:50]
    )
    assert torch.allclose(again, many[0][:50])
    assert small.shape == (50, 1, 32, 32)
