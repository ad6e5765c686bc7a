"""Self-supervised learning and transfer learning (notebooks 09-10): losses, jigsaw, augmentations, probes."""

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import check, data, probes
from course_lib.checkpoints import load_checkpoint
from course_lib.models import contrastive, pretext, sequence_tasks, transfer
from course_lib.models.encoder import ConvEncoder


# ----------------------------------------------------------------------------- losses against references
@pytest.mark.parametrize("alpha", [0.05, 0.2, 1.0, 3.0])
def test_triplet_loss_matches_torch(alpha):
    g = torch.Generator().manual_seed(0)
    a, p, n = (torch.randn(64, 8, generator=g) for _ in range(3))
    ours = contrastive.triplet_loss(a, p, n, alpha)
    ref = nn.TripletMarginLoss(margin=alpha)(a, p, n)
    assert torch.allclose(ours, ref, atol=1e-5), (ours, ref)


def test_triplet_loss_hand_values():
    a = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    p = torch.tensor([[3.0, 4.0], [1.0, 0.0]])  # d(A,P) = 5 and 1
    n = torch.tensor([[0.0, 1.0], [0.0, 4.0]])  # d(A,N) = 1 and 4
    # max(5 - 1 + 0.5, 0) = 4.5 and max(1 - 4 + 0.5, 0) = 0 -> mean 2.25
    assert contrastive.triplet_loss(a, p, n, 0.5).item() == pytest.approx(2.25)


def test_contrastive_loss_hand_values():
    z1 = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    z2 = torch.tensor([[3.0, 4.0], [0.0, 0.5], [0.0, 3.0]])  # d = 5, 0.5, 3
    same = torch.tensor([1.0, 0.0, 0.0])
    # same pair: 5^2 = 25; different at 0.5 with margin 2: (2 - 0.5)^2 = 2.25; different at 3: 0
    assert contrastive.contrastive_loss(z1, z2, same, margin=2.0).item() == pytest.approx(
        (25 + 2.25 + 0) / 3
    )


def test_info_nce_matches_an_explicit_loop():
    g = torch.Generator().manual_seed(1)
    z1, z2 = torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)
    t = 0.3
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    losses = []
    for i in range(12):
        partner = (i + 6) % 12
        sims = torch.stack([z[i] @ z[j] / t for j in range(12) if j != i])
        others = [j for j in range(12) if j != i]
        losses.append(-(z[i] @ z[partner] / t) + torch.logsumexp(sims, 0))
        assert partner in others
    assert contrastive.info_nce_loss(z1, z2, t).item() == pytest.approx(
        torch.stack(losses).mean().item(), abs=1e-5
    )


def test_info_nce_is_low_when_views_agree_and_high_when_shuffled():
    g = torch.Generator().manual_seed(2)
    z = torch.randn(32, 16, generator=g)
    assert contrastive.info_nce_loss(z, z + 0.01 * torch.randn(32, 16, generator=g), 0.1) < 0.1
    assert contrastive.info_nce_loss(z, z[torch.randperm(32, generator=g)], 0.1) > 2


def test_inpainting_loss_counts_hidden_pixels_only_with_outside_zero():
    x = torch.zeros(2, 1, 4, 4)
    x_hat = torch.ones(2, 1, 4, 4)
    mask = torch.zeros(2, 1, 4, 4)
    mask[:, :, :2, :2] = 1
    assert pretext.inpainting_loss(x_hat, x, mask, outside=0.0).item() == pytest.approx(1.0)
    x_hat2 = x_hat * mask  # perfect outside, wrong inside
    assert pretext.inpainting_loss(x_hat2, x, mask, outside=1.0).item() == pytest.approx(1.0)


# ----------------------------------------------------------------------------- jigsaw
def test_permutation_set_is_fixed_valid_and_spread_out():
    perms = pretext.permutation_set(9, 24, seed=0)
    assert perms.shape == (24, 9)
    assert torch.equal(perms[0], torch.arange(9)), "row 0 is the identity"
    assert torch.equal(perms.sort(1).values, torch.arange(9).expand(24, 9)), (
        "every row is a permutation"
    )
    assert len({tuple(r.tolist()) for r in perms}) == 24, "no duplicates"
    assert torch.equal(perms, pretext.permutation_set(9, 24, seed=0)), "same seed, same set"
    hamming = (perms[:, None] != perms[None]).sum(-1) + 100 * torch.eye(24, dtype=torch.long)
    random_rows = torch.stack(
        [torch.randperm(9, generator=torch.Generator().manual_seed(s)) for s in range(24)]
    )
    random_hamming = (random_rows[:, None] != random_rows[None]).sum(-1) + 100 * torch.eye(
        24, dtype=torch.long
    )
    assert hamming.min() >= 6 and hamming.min() > random_hamming.min()
    all_perms = pretext.permutation_set(3, 10)
    assert all_perms.shape == (6, 3), "k >= tiles! gives every permutation"


@pytest.mark.parametrize("grid,size", [(2, 28), (3, 30), (4, 32)])
def test_jigsaw_round_trip(grid, size):
    g = torch.Generator().manual_seed(3)
    x = torch.rand(5, 1, size, size, generator=g)
    perms = torch.stack([torch.randperm(grid * grid, generator=g) for _ in range(5)])
    shuffled = pretext.shuffle_tiles(x, perms, grid)
    assert not torch.equal(shuffled, x)
    assert torch.equal(pretext.unshuffle_tiles(shuffled, perms, grid), x)
    identity = torch.arange(grid * grid).expand(5, -1)
    assert torch.equal(pretext.shuffle_tiles(x, identity, grid), x)


def test_shuffle_tiles_moves_the_named_tile():
    x = torch.arange(16.0).view(
        1, 1, 4, 4
    )  # 2x2 tiles: top-left holds 0, top-right 2, bottom-left 8
    perm = torch.tensor([[3, 2, 1, 0]])  # position 0 gets tile 3 (bottom-right), ...
    out = pretext.shuffle_tiles(x, perm, 2)
    assert (
        out[0, 0, 0, 0] == 10
        and out[0, 0, 0, 2] == 8
        and out[0, 0, 2, 0] == 2
        and out[0, 0, 2, 2] == 0
    )


def test_jigsaw_batch_pads_digits_and_labels_index_the_set():
    x, _ = data.make_digits28(8, seed=0)
    perms = pretext.permutation_set(9, 24)
    shuffled, labels = pretext.jigsaw_batch(x, perms, 3, generator=torch.Generator().manual_seed(0))
    assert shuffled.shape == (8, 1, 30, 30) and labels.shape == (8,)
    assert 0 <= labels.min() and labels.max() < 24
    back = pretext.unshuffle_tiles(shuffled, perms[labels], 3)
    assert torch.equal(back[:, :, 1:29, 1:29], x)


def test_jigsaw_errors_are_clear():
    x = torch.rand(2, 1, 28, 28)
    with pytest.raises(ValueError, match="divisible by grid=3"):
        pretext.shuffle_tiles(x, torch.arange(9).expand(2, 9), 3)
    with pytest.raises(ValueError, match=r"perms must have shape \(2, 4\)"):
        pretext.shuffle_tiles(x, torch.arange(9).expand(2, 9), 2)
    with pytest.raises(ValueError, match="permutation of"):
        pretext.shuffle_tiles(x, torch.zeros(2, 4, dtype=torch.long), 2)
    with pytest.raises(ValueError, match="tiles must be an int"):
        pretext.permutation_set(1, 4)


# ----------------------------------------------------------------------------- augmentations and masks
def test_augment_is_deterministic_under_a_seed():
    x, _ = data.make_digits28(16, seed=0)
    a = contrastive.augment(x, torch.Generator().manual_seed(5))
    b = contrastive.augment(x, torch.Generator().manual_seed(5))
    c = contrastive.augment(x, torch.Generator().manual_seed(6))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert a.shape == x.shape and a.min() >= 0 and a.max() <= 1
    assert (a - x).abs().mean() > 0.02, "the views really differ from the originals"


def test_augment_strength_zero_is_the_identity():
    x, _ = data.make_digits28(4, seed=0)
    assert torch.allclose(
        contrastive.augment(x, torch.Generator().manual_seed(0), strength=0.0), x, atol=1e-5
    )


def test_mask_square_hides_exactly_one_square():
    x = torch.ones(6, 1, 28, 28)
    masked, mask = pretext.mask_square(x, 12, torch.Generator().manual_seed(0))
    assert torch.equal(mask.sum((1, 2, 3)), torch.full((6,), 144.0))
    assert torch.equal(masked, 1 - mask)
    rows = mask[:, 0].amax(2).sum(1)
    assert torch.equal(rows, torch.full((6,), 12.0)), "a square, not scattered pixels"


def test_augment_and_mask_errors_name_the_expected_shape():
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        contrastive.augment(torch.rand(28, 28))
    with pytest.raises(TypeError, match="torch.Tensor"):
        pretext.mask_square([[0.0]])
    with pytest.raises(ValueError, match="size must be an int"):
        pretext.mask_square(torch.rand(1, 1, 8, 8), 9)
    with pytest.raises(ValueError, match="strength"):
        contrastive.augment(torch.rand(1, 1, 8, 8), strength=5)


# ----------------------------------------------------------------------------- models and windows
def test_encoder_and_heads_shapes():
    enc = ConvEncoder()
    x = torch.rand(3, 1, 28, 28)
    assert enc(x).shape == (3, 128) and enc.maps(x).shape == (3, 128, 4, 4)
    assert pretext.InpaintingNet()(x).shape == (3, 1, 28, 28)
    assert pretext.JigsawNet(24)(torch.rand(3, 1, 30, 30)).shape == (3, 24)
    assert contrastive.SiameseNet(dim=32)(x).shape == (3, 32)
    assert pretext.NextFrameNet(3)(torch.rand(3, 3, 32, 32)).shape == (3, 1, 32, 32)
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        enc(torch.rand(3, 3, 28, 28))


def test_next_frame_net_starts_from_the_last_frame():
    net = pretext.NextFrameNet(3)
    last_layer = net.decoder[-2]
    nn.init.zeros_(last_layer.weight)
    nn.init.zeros_(last_layer.bias)
    frames = torch.rand(2, 3, 32, 32)
    assert torch.allclose(net(frames), frames[:, -1:])


def test_frame_windows_pairs_past_frames_with_the_next():
    clips = torch.arange(2 * 5.0).view(2, 5, 1, 1, 1).expand(2, 5, 1, 2, 2).contiguous()
    x, y = pretext.frame_windows(clips, past=3)
    assert x.shape == (4, 3, 2, 2) and y.shape == (4, 1, 2, 2)
    assert x[0, :, 0, 0].tolist() == [0, 1, 2] and y[0, 0, 0, 0] == 3
    assert x[3, :, 0, 0].tolist() == [6, 7, 8] and y[3, 0, 0, 0] == 9
    with pytest.raises(ValueError, match="past must be an int in 1..4"):
        pretext.frame_windows(clips, past=5)
    with pytest.raises(ValueError, match=r"\(N, T, 1, H, W\)"):
        pretext.frame_windows(torch.rand(2, 5, 4, 4))


def test_moving_shapes_factors_do_not_change_the_clips():
    plain = data.make_moving_shapes(6, 4, seed=2)
    clips, factors = data.make_moving_shapes(6, 4, seed=2, factors=True)
    assert torch.equal(plain, clips)
    assert factors["shape"].shape == (6,) and factors["velocity"].shape == (6, 2)
    # the first move of the centre of mass points the way of the recorded velocity
    grid = torch.linspace(-1, 1, 32)
    mass = clips[:, :2, 0].sum((2, 3))
    cx = (clips[:, :2, 0].sum(2) * grid).sum(2) / mass
    assert ((cx[:, 1] - cx[:, 0]) * factors["velocity"][:, 0] >= -1e-3).float().mean() >= 0.8


def test_word_windows_and_next_word_model():
    tokens = [0, 1, 2, 3, 4, 5]
    x, y = sequence_tasks.word_windows(tokens, k=2)
    assert x.tolist() == [[0, 1], [1, 2], [2, 3], [3, 4]] and y.tolist() == [2, 3, 4, 5]
    model = pretext.NextWordMLP(vocab=6, k=2)
    assert model(x).shape == (4, 6)
    with pytest.raises(ValueError, match=r"\(B, 2\)"):
        model(torch.zeros(4, 3, dtype=torch.long))
    assert sequence_tasks.tokenize_words("The cats run.\nA dog sleeps.") == [
        "the",
        "cats",
        "run",
        ".",
        "a",
        "dog",
        "sleeps",
        ".",
    ]


# ----------------------------------------------------------------------------- probes
def test_linear_probe_and_label_subset():
    g = torch.Generator().manual_seed(4)
    y = torch.arange(200) % 4
    feats = F.one_hot(y, 4).float() * 3 + torch.randn(200, 4, generator=g) * 0.3
    assert probes.linear_probe(feats[:100], y[:100], feats[100:], y[100:]) > 0.98
    assert (
        probes.linear_probe(
            torch.randn(100, 4, generator=g), y[:100], torch.randn(100, 4, generator=g), y[100:]
        )
        < 0.5
    )
    idx = probes.label_subset(y, 0.1)
    assert len(idx) == 20 and torch.equal(torch.bincount(y[idx]), torch.full((4,), 5))
    assert torch.equal(idx, probes.label_subset(y, 0.1)), "deterministic"
    with pytest.raises(ValueError, match="fraction"):
        probes.label_subset(y, 0)


def test_shipped_contrastive_encoder_beats_random_init_by_ten_points():
    x_l, y_l = data.make_digits28(3_000, seed=11)
    x_t, y_t = data.make_digits28(1_000, seed=12)
    idx = probes.label_subset(y_l, 0.1)
    pretrained = load_checkpoint("ssl_simclr", contrastive.SiameseNet).encoder
    torch.manual_seed(0)
    random_init = ConvEncoder()
    scores = {
        name: probes.linear_probe(probes.encode(e, x_l[idx]), y_l[idx], probes.encode(e, x_t), y_t)
        for name, e in (("pretrained", pretrained), ("random", random_init))
    }
    assert scores["pretrained"] >= scores["random"] + 0.10, scores


# ----------------------------------------------------------------------------- checkers
def test_ssl_checkers_accept_references_and_name_mistakes():
    assert check.triplet_loss(lambda a, p, n, alpha: contrastive.triplet_loss(a, p, n, alpha))
    assert check.triplet_loss(lambda a, p, n, alpha: nn.TripletMarginLoss(margin=alpha)(a, p, n))
    r = check.triplet_loss(
        lambda a, p, n, alpha: ((a - p).norm(dim=1) - (a - n).norm(dim=1) + alpha).mean()
    )
    assert not r and "clip at zero" in r.message
    r = check.triplet_loss(
        lambda a, p, n, alpha: F.relu(((a - p) ** 2).sum(1) - ((a - n) ** 2).sum(1) + alpha).mean()
    )
    assert not r and "not their squares" in r.message

    assert check.unshuffle_tiles(lambda x, perms, grid: pretext.unshuffle_tiles(x, perms, grid))
    r = check.unshuffle_tiles(lambda x, perms, grid: pretext.shuffle_tiles(x, perms, grid))
    assert not r and "inverse" in r.message

    assert check.contrastive_loss(lambda z1, z2, s, m: contrastive.contrastive_loss(z1, z2, s, m))
    r = check.contrastive_loss(lambda z1, z2, s, m: (s * (z1 - z2).norm(dim=1) ** 2).mean())
    assert not r and "collapses" in r.message


def _good_copy(source, k):
    new = ConvEncoder()
    for i in range(k):
        new.blocks[i].load_state_dict(source.blocks[i].state_dict())
    return new


def _shared_copy(source, k):
    new = ConvEncoder()
    for i in range(k):
        new.blocks[i] = source.blocks[i]
    return new


def _good_freeze(model, k):
    for block in model.encoder.blocks[:k]:
        block.requires_grad_(False)


def test_transfer_checkers_accept_references_and_name_mistakes():
    assert check.copy_blocks(_good_copy)
    r = check.copy_blocks(_shared_copy)
    assert not r and "shares its tensors" in r.message
    r = check.copy_blocks(lambda source, k: copy.deepcopy(source))
    assert not r and "freshly initialised" in r.message
    r = check.copy_blocks(lambda source, k: source)
    assert not r and "source itself" in r.message

    assert check.freeze(_good_freeze)
    r = check.freeze(lambda model, k: model.encoder.requires_grad_(False))
    assert not r
    r = check.freeze(lambda model, k: model.requires_grad_(False))
    assert not r


def test_probe_numbers_are_not_nan_for_tiny_inputs():
    feats = torch.rand(10, 3)
    y = torch.tensor([0, 1] * 5)
    acc = probes.linear_probe(feats, y, feats, y)
    assert 0 <= acc <= 1 and not math.isnan(acc)


@pytest.mark.parametrize(
    "name,build",
    [
        ("ssl_inpainting", pretext.InpaintingNet),
        ("ssl_jigsaw", pretext.JigsawNet),
        ("ssl_siamese", contrastive.SiameseNet),
        ("ssl_simclr", contrastive.SiameseNet),
        ("ssl_triplet", contrastive.SiameseNet),
        ("ssl_next_frame", pretext.NextFrameNet),
    ],
)
def test_ssl_pretrainers_rebuild_loadable_checkpoints(tmp_path, name, build):
    from course_lib import pretrain
    from course_lib.checkpoints import manifest

    metrics = pretrain.RECIPES[name](data_dir=tmp_path, quick=True)
    assert metrics["steps"] == 5
    model = load_checkpoint(name, build, data_dir=tmp_path)
    assert isinstance(model, build)
    shipped = manifest()["checkpoints"][name]
    assert shipped["metrics"]["steps"] == pretrain.SSL.steps or name == "ssl_next_frame"


def test_transfer_helpers():
    torch.manual_seed(0)
    source = ConvEncoder()
    new = transfer.copy_blocks(source, 2)
    assert torch.equal(new.blocks[1][0].weight, source.blocks[1][0].weight)
    assert new.blocks[1][0].weight is not source.blocks[1][0].weight
    assert not torch.equal(new.blocks[2][0].weight, source.blocks[2][0].weight)
    model = transfer.TransferNet(new)
    transfer.freeze_blocks(model, 2)
    model.train()
    assert not model.encoder.blocks[0].training and not model.encoder.blocks[1].training
    assert model.encoder.blocks[2].training, "unfrozen blocks train"
    frozen_before = model.encoder.blocks[0][1].running_mean.clone()
    x, y = data.make_digits28(64, seed=0)
    probes.train_steps(model, x, y, steps=3)
    assert torch.equal(model.encoder.blocks[0][1].running_mean, frozen_before), (
        "frozen batch norm stays put"
    )
    assert torch.equal(model.encoder.blocks[0][0].weight, source.blocks[0][0].weight)
    with pytest.raises(ValueError, match="k must be an int in 0..3"):
        transfer.copy_blocks(source, 4)
    x8, _ = data.load_digits8("test")
    big = data.upscale_digits8(x8[:5])
    assert big.shape == (5, 1, 28, 28) and big[:, :, :4].abs().max() == 0
    with pytest.raises(ValueError, match="8x8"):
        data.upscale_digits8(torch.rand(2, 1, 28, 28))


def test_load_encoder_gives_the_shipped_encoders():
    for name in transfer.PRETEXT_NETS:
        enc = probes.load_encoder(name)
        assert isinstance(enc, ConvEncoder) and not enc.training
        assert enc(torch.rand(2, 1, 28, 28)).shape == (2, 128)
    with pytest.raises(ValueError, match="ssl_simclr"):
        probes.load_encoder("simclr")
