"""Hand-written layers of notebooks 01-02 against PyTorch, and their errors."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import data
from course_lib.features import gradient_histograms, pixel_statistics
from course_lib.models import LeNet, SmallCNN, deep_mlp
from course_lib.models.cnn import (
    conv2d_loops,
    conv2d_vectorized,
    conv_output_size,
    layer_shapes,
    pool2d,
)
from course_lib.models.layers import HandBatchNorm, batch_norm, dropout


def test_dropout_statistics_match_nn_dropout():
    x = torch.ones(500, 400)
    g = torch.Generator().manual_seed(0)
    ours = dropout(x, 0.3, generator=g)
    theirs = nn.Dropout(0.3)(x)
    assert abs((ours == 0).float().mean() - 0.3) < 0.01
    assert abs((ours == 0).float().mean() - (theirs == 0).float().mean()) < 0.01
    assert torch.allclose(ours[ours > 0], torch.full_like(ours[ours > 0], 1 / 0.7))
    assert abs(ours.mean().item() - 1.0) < 0.01, "expectation preserved"


def test_dropout_masks_differ_per_pass_and_eval_is_identity():
    x = torch.rand(1000)
    a, mask_a = dropout(x, 0.5, return_mask=True)
    b, mask_b = dropout(x, 0.5, return_mask=True)
    assert not torch.equal(mask_a, mask_b)
    assert torch.equal(dropout(x, 0.5, training=False), x)
    same = dropout(x, 0.5, generator=torch.Generator().manual_seed(3))
    assert torch.equal(same, dropout(x, 0.5, generator=torch.Generator().manual_seed(3)))


@pytest.mark.parametrize("p", [-0.1, 1.0, "0.5"])
def test_dropout_rejects_bad_p(p):
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\)"):
        dropout(torch.ones(3), p)


@pytest.mark.parametrize(
    "torch_cls, shape", [(nn.BatchNorm1d, (16, 5)), (nn.BatchNorm2d, (8, 3, 4, 4))]
)
def test_batch_norm_matches_pytorch_in_train_and_eval(torch_cls, shape):
    torch.manual_seed(0)
    ref = torch_cls(shape[1])
    hand = HandBatchNorm(shape[1])
    with torch.no_grad():
        ref.weight.uniform_(0.5, 2)
        ref.bias.uniform_(-1, 1)
    hand.load_state_dict(ref.state_dict(), strict=False)
    for _ in range(4):
        batch = torch.randn(shape) * 2 + 0.5
        assert torch.allclose(hand(batch), ref(batch), atol=1e-5)
    assert torch.allclose(hand.running_mean, ref.running_mean, atol=1e-6)
    assert torch.allclose(hand.running_var, ref.running_var, atol=1e-5)
    hand.eval()
    ref.eval()
    test = torch.randn(shape)
    assert torch.allclose(hand(test), ref(test), atol=1e-5)


def test_batch_norm_errors():
    c = torch.ones(3)
    with pytest.raises(ValueError, match=r"\(B, C\) or \(B, C, H, W\)"):
        batch_norm(torch.ones(2, 3, 4), c, c, c, c)
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\)"):
        batch_norm(torch.ones(2, 3), torch.ones(4), c, c, c)
    with pytest.raises(ValueError, match="more than one value"):
        batch_norm(torch.ones(1, 3), c, c, c.clone(), c.clone())


def test_deep_mlp_init_scale_and_bn():
    torch.manual_seed(0)
    net = deep_mlp(64, 32, depth=3, batch_norm=True, init_scale=2.0)
    assert sum(isinstance(m, nn.BatchNorm1d) for m in net) == 3
    w = net[1].weight
    assert abs(w.std().item() - 2 * math.sqrt(2 / 64)) < 0.05
    assert net(torch.rand(4, 1, 8, 8)).shape == (4, 10)


def test_conv2d_by_hand_matches_f_conv2d():
    g = torch.Generator().manual_seed(0)
    for shape, kshape in [((7, 9), (3, 3)), ((6, 6), (2, 4)), ((5, 5), (5, 5))]:
        x, k = torch.randn(shape, generator=g), torch.randn(kshape, generator=g)
        ref = F.conv2d(x[None, None], k[None, None])[0, 0]
        assert ref.shape == (shape[0] - kshape[0] + 1, shape[1] - kshape[1] + 1)
        assert torch.allclose(conv2d_loops(x, k), ref, atol=1e-5)
        assert torch.allclose(conv2d_vectorized(x, k), ref, atol=1e-5)


def test_conv_errors_and_output_size():
    assert conv_output_size(28, 5) == 24 and conv_output_size(32, 5, padding=2) == 32
    assert conv_output_size(28, 3, stride=2) == 13
    with pytest.raises(ValueError, match="larger than"):
        conv2d_loops(torch.ones(2, 2), torch.ones(3, 3))
    with pytest.raises(ValueError, match="larger than"):
        conv2d_vectorized(torch.ones(2, 5), torch.ones(3, 3))
    with pytest.raises(ValueError, match="2D tensor"):
        conv2d_vectorized(torch.ones(1, 5, 5), torch.ones(3, 3))


def test_pooling_on_the_lecture_example_and_batches():
    x = torch.tensor([[1.0, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])
    assert torch.equal(pool2d(x, 2, "max"), torch.tensor([[6.0, 8.0], [3.0, 4.0]]))
    assert torch.allclose(pool2d(x, 2, "avg"), torch.tensor([[3.25, 5.25], [2.0, 2.0]]))
    batch = torch.randn(2, 3, 6, 6)
    assert torch.equal(pool2d(batch, 3, "max"), F.max_pool2d(batch, 3))
    assert torch.allclose(pool2d(batch, 2, "avg"), F.avg_pool2d(batch, 2))
    with pytest.raises(ValueError, match="divisible"):
        pool2d(torch.ones(5, 4), 2)
    with pytest.raises(ValueError, match="mode"):
        pool2d(x, 2, "median")


def test_lenet_shapes_follow_the_lecture_table():
    lenet = LeNet()
    shapes = {name: shape[1:] for name, shape, _ in layer_shapes(lenet, torch.zeros(2, 1, 32, 32))}
    assert shapes["features.conv1"] == (6, 28, 28) and shapes["features.pool1"] == (6, 14, 14)
    assert shapes["features.conv2"] == (16, 10, 10) and shapes["features.pool2"] == (16, 5, 5)
    assert (
        shapes["classifier.fc1"] == (120,)
        and shapes["classifier.fc2"] == (84,)
        and shapes["classifier.fc3"] == (10,)
    )
    assert lenet(torch.zeros(3, 1, 28, 28)).shape == (3, 10), "28x28 inputs are padded to 32x32"
    assert sum(p.numel() for p in lenet.parameters()) == 61_706
    with pytest.raises(ValueError, match="LeNet expects"):
        lenet(torch.zeros(3, 1, 20, 20))
    with pytest.raises(ValueError, match="pad them"):
        LeNet(pad28=False)(torch.zeros(1, 1, 28, 28))


def test_small_cnn_is_shift_invariant_by_construction():
    torch.manual_seed(0)
    net = SmallCNN(8).eval()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Conv2d):
                m.bias.zero_()  # so the zero padding looks like the empty background
    x = torch.zeros(1, 1, 28, 28)
    x[0, 0, 8:12, 8:14] = 1.0
    other = torch.zeros(1, 1, 28, 28)
    other[0, 0, 6:16, 10:11] = 1.0  # a different pattern
    with torch.no_grad():
        f, f_shifted, f_other = (net.features(t) for t in (x, data.translate(x, 8, 4), other))
    # convolutions are equivariant and the global max pool forgets where: the features are equal
    # for a shift by a multiple of the two 2x2 pools, and differ for another pattern
    assert torch.allclose(f, f_shifted, atol=1e-6)
    assert (f - f_other).norm() > 0.1 * f.norm()
    with pytest.raises(ValueError, match="SmallCNN expects"):
        net(torch.zeros(1, 28, 28))


def test_translate():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    moved = data.translate(x, 1, 2)
    assert torch.equal(moved[0, 0, 2:, 1:], x[0, 0, :2, :3])
    assert moved[0, 0, :2].sum() == 0 and moved[0, 0, :, 0].sum() == 0
    assert torch.equal(data.translate(data.translate(x, -1, 0), 0, 0), data.translate(x, -1, 0))
    with pytest.raises(ValueError, match="smaller than the image"):
        data.translate(x, 4, 0)


def test_gradient_histograms_see_edge_orientation():
    vertical = torch.zeros(1, 1, 28, 28)
    vertical[..., :, 14:] = 1.0  # a vertical edge: the gradient points along x (angle 0)
    horizontal = vertical.transpose(-1, -2).contiguous()
    fv, fh = gradient_histograms(vertical), gradient_histograms(horizontal)
    assert fv.shape == (1, 16 * 9)
    per_bin_v, per_bin_h = fv.view(9, 16).sum(1), fh.view(9, 16).sum(1)  # (bins, cells)
    assert per_bin_v.argmax() == 0 and per_bin_h.argmax() == 4  # 0 deg and 90 deg bins
    with pytest.raises(ValueError, match="divisible"):
        gradient_histograms(torch.zeros(1, 1, 30, 30))
    stats = pixel_statistics(vertical)
    assert stats.shape == (1, 17) and stats[0, -1] > 0.6  # centre of mass on the right half


def test_checkers_of_notebooks_01_02_accept_references_and_name_mistakes():
    from course_lib import check

    assert check.dropout(lambda x, p: dropout(x, p))
    assert "1/(1-p)" in check.dropout(lambda x, p: x * (torch.rand_like(x) >= p)).message
    assert "divide" in check.dropout(lambda x, p: x * (torch.rand_like(x) >= p) * (1 - p)).message
    assert (
        "new random mask"
        in check.dropout(
            lambda x, p: (
                x * (torch.rand(x.shape, generator=torch.Generator().manual_seed(0)) >= p) / (1 - p)
            )
        ).message
    )
    ref_bn = lambda x, g, b, eps: F.batch_norm(x, None, None, g, b, training=True, eps=eps)  # noqa: E731
    assert check.batch_norm(ref_bn)
    assert (
        "dim=0"
        in check.batch_norm(
            lambda x, g, b, eps: (
                g
                * (x - x.mean(1, keepdim=True))
                / torch.sqrt(x.var(1, unbiased=False, keepdim=True) + eps)
                + b
            )
        ).message
    )
    assert (
        "gamma"
        in check.batch_norm(
            lambda x, g, b, eps: (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + eps)
        ).message
    )
    assert check.conv2d(conv2d_loops) and check.conv2d(conv2d_vectorized)
    assert "flipped" in check.conv2d(lambda x, k: conv2d_vectorized(x, k.flip(0, 1))).message
    assert (
        "(d-k+1)"
        in check.conv2d(
            lambda x, k: F.conv2d(x[None, None], k[None, None], padding=1)[0, 0]
        ).message
    )
    assert check.max_pool(lambda x, s: pool2d(x, s))
    assert "averaged" in check.max_pool(lambda x, s: pool2d(x, s, "avg")).message
    assert (
        "overlap"
        in check.max_pool(lambda x, s: F.max_pool2d(x[None, None], s, stride=1)[0, 0]).message
    )
