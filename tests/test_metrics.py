"""course_lib.metrics: Frechet distance against a reference formula, the class test, the judges,
and that every metric ranks a trivial generator clearly below real digits."""

import numpy as np
import pytest
import torch

from course_lib import metrics
from course_lib.data import generative_digits, judge_digits


def _reference_fd(a, b):
    from scipy.linalg import sqrtm

    a, b = np.asarray(a, float), np.asarray(b, float)
    ca, cb = np.cov(a.T), np.cov(b.T)
    root = sqrtm(ca @ cb).real
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(ca + cb - 2 * root))


def test_frechet_distance_matches_the_formula_with_scipy():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(400, 6, generator=g)
    b = torch.randn(400, 6, generator=g) * torch.tensor([1, 2, 0.5, 1, 1, 3]) + 0.7
    assert metrics.frechet_distance(a, b) == pytest.approx(_reference_fd(a, b), rel=1e-6)
    assert metrics.frechet_distance(a, b) == pytest.approx(metrics.frechet_distance(b, a), rel=1e-9)
    assert metrics.frechet_distance(a, a) == pytest.approx(0, abs=1e-8)
    # a pure shift costs its squared length
    assert metrics.frechet_distance(a, a + 2.0) == pytest.approx(6 * 4.0, rel=1e-6)


def test_frechet_distance_refuses_bad_shapes():
    with pytest.raises(ValueError, match="more samples than feature dimensions"):
        metrics.frechet_distance(torch.randn(5, 8), torch.randn(5, 8))
    with pytest.raises(ValueError, match=r"two \(N, D\) feature sets"):
        metrics.frechet_distance(torch.randn(50, 4), torch.randn(50, 3))


def test_class_counts_and_chi_square_against_scipy():
    from scipy.stats import chisquare

    labels = torch.tensor([0] * 30 + [1] * 10 + list(range(10)) * 6)
    counts = metrics.class_counts(labels)
    assert counts.tolist() == [36, 16, 6, 6, 6, 6, 6, 6, 6, 6]
    stat, p = metrics.chi_square_uniform(counts)
    ref = chisquare(counts.numpy())
    assert stat == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue)
    assert metrics.chi_square_uniform(torch.full((10,), 50))[1] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="1-D integer"):
        metrics.class_counts(torch.rand(5))


def test_nearest_distance_is_the_brute_force_minimum():
    x, _ = generative_digits("test", 60)
    samples, train = x[:7], x[7:]
    brute = torch.stack([(train.flatten(1) - s.flatten()).norm(dim=1).min() for s in samples])
    assert torch.allclose(metrics.nearest_distance(samples, train, chunk=3), brute, atol=1e-4)
    assert metrics.nearest_distance(train[:5], train).max() < 0.01  # itself: 0, up to rounding


def test_per_class_gaussian_draws_equal_classes_of_valid_images():
    x, y = generative_digits("train", 2_000)
    images, labels = metrics.per_class_gaussian(x, y, 200, seed=1)
    assert images.shape == (200, 1, 28, 28) and images.min() >= 0 and images.max() <= 1
    assert metrics.class_counts(labels).tolist() == [20] * 10
    again, _ = metrics.per_class_gaussian(x, y, 200, seed=1)
    assert torch.equal(images, again), "seeded"


@pytest.mark.parametrize(
    "bad, match",
    [
        (torch.rand(4, 28, 28), r"\(B, 1, 28, 28\)"),
        (torch.full((4, 1, 28, 28), float("nan")), "NaN"),
        ([[0.0]], "torch.Tensor"),
    ],
)
def test_images_are_checked(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        metrics.judge_features(bad)


def test_the_judge_reads_real_digits_and_was_trained_on_its_own_seed():
    from course_lib import checkpoints

    entry = checkpoints.manifest()["checkpoints"]["judge"]
    assert metrics.JUDGE_DIGITS["seed"] not in (1, 2), "not the generators' data"
    x, y = generative_digits("test", 1_000)
    assert metrics.judge_accuracy(x, y) >= 0.97
    assert entry["metrics"]["accuracy_on_generative_test"] >= 0.97
    # the second judge is of another kind and also reads real digits
    agree = (metrics.second_judge_labels(x[:300]) == y[:300]).float().mean()
    assert agree >= 0.9
    assert judge_digits(5)[0].shape == (5, 1, 28, 28)


@pytest.fixture(scope="module")
def references():
    return metrics.reference_reports(600)


def test_every_metric_ranks_the_trivial_generator_clearly_worse(references):
    real, gauss = references["real vs real"], references["per-class Gaussian"]
    assert gauss["fd"] > 3 * real["fd"], (gauss["fd"], real["fd"])
    assert gauss["unreadable"] > real["unreadable"] + 0.05
    assert real["unreadable"] < 0.1 and real["chi2_p"] > 1e-3
    # yet a classifier alone is fooled: the Gaussian's blobs are read confidently
    assert gauss["confidence"] > 0.7
    assert sum(real["counts"]) == real["n"] == 600


def test_fd_ratio_is_relative_to_real_vs_real(references):
    assert metrics.fd_ratio(references["real vs real"], references) == pytest.approx(1.0)
    assert metrics.fd_ratio(references["per-class Gaussian"], references) > 3
