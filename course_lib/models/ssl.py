"""Self-supervised learning (notebook 09) and transfer learning (notebook 10).

Every image pretext task below trains the same small `ConvEncoder`; only the head and the
pretext labels differ. The labels are made from the images themselves:

- inpainting:   hide a square, predict its pixels        -> `mask_square`, `InpaintingNet`
- jigsaw:       shuffle tiles, predict which permutation  -> `permutation_set`, `shuffle_tiles`, `JigsawNet`
- siamese:      two augmentations of one image are close,
                of two images far                         -> `augment`, `contrastive_loss`, `info_nce_loss`
- triplet:      anchor nearer its positive than a negative -> `triplet_loss`
- video:        predict the next frame from the last ones -> `NextFrameNet`
- text:         predict the next word from the last k     -> `NextWordMLP`, `word_windows`

`linear_probe` evaluates any encoder the same way: logistic regression on frozen features.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def _check_images(x, name: str = "x", channels: int | None = 1) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (B, C, H, W), got {type(x).__name__}")
    if x.ndim != 4 or (channels is not None and x.shape[1] != channels):
        want = f"(B, {channels}, H, W)" if channels is not None else "(B, C, H, W)"
        raise ValueError(f"{name} must have shape {want}, got {tuple(x.shape)}")


# ----------------------------------------------------------------------------- the shared encoder
class ConvEncoder(nn.Module):
    """Three conv blocks (Conv 3x3 stride 2 - BatchNorm - ReLU), then global average pooling.

    x: (B, in_channels, 28, 28) -> maps (B, 128, 4, 4) -> features (B, 128).
    (32 x 32 inputs give 4 x 4 maps too.) `blocks[i]` is block i, so transfer learning can copy
    the first k blocks into a new model.
    """

    def __init__(self, in_channels: int = 1, widths: tuple[int, ...] = (32, 64, 128)):
        super().__init__()
        layers, c = [], in_channels
        for w in widths:
            layers.append(nn.Sequential(nn.Conv2d(c, w, 3, stride=2, padding=1), nn.BatchNorm2d(w), nn.ReLU()))
            c = w
        self.blocks = nn.Sequential(*layers)
        self.in_channels, self.features_dim = in_channels, c

    def maps(self, x: torch.Tensor) -> torch.Tensor:
        _check_images(x, "x", self.in_channels)
        return self.blocks(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.maps(x).mean((2, 3))


def _decoder(in_channels: int, out_channels: int, size: int, last: nn.Module | None = None) -> nn.Sequential:
    """4x4 maps -> (out_channels, size, size), through `last` (default Sigmoid: in [0, 1]); size 28 or 32."""
    first = nn.ConvTranspose2d(in_channels, 64, 3, stride=2, padding=1) if size == 28 else \
        nn.ConvTranspose2d(in_channels, 64, 4, stride=2, padding=1)  # 4 -> 7 or 4 -> 8
    return nn.Sequential(first, nn.ReLU(),
                         nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1), nn.ReLU(),
                         nn.ConvTranspose2d(32, out_channels, 4, stride=2, padding=1), last or nn.Sigmoid())


# ----------------------------------------------------------------------------- inpainting
def _random_squares(b: int, h: int, w: int, size: int, generator, device) -> torch.Tensor:
    """(b, 1, h, w) bool: one size x size square per image at a random place. The random numbers come
    from a CPU generator (seeded, same on every machine); the mask is moved to `device`."""
    top = torch.randint(0, h - size + 1, (b,), generator=generator)[:, None, None]
    left = torch.randint(0, w - size + 1, (b,), generator=generator)[:, None, None]
    rows, cols = torch.arange(h)[None, :, None], torch.arange(w)[None, None, :]
    inside = (rows >= top) & (rows < top + size) & (cols >= left) & (cols < left + size)
    return inside[:, None].to(device)


def mask_square(x: torch.Tensor, size: int = 12, generator: torch.Generator | None = None):
    """Hide one random size x size square per image (set to 0).

    x: (B, 1, H, W) -> (masked x, mask) with mask (B, 1, H, W) = 1 where hidden.
    """
    _check_images(x)
    h, w = x.shape[-2:]
    if not isinstance(size, int) or not 1 <= size <= min(h, w):
        raise ValueError(f"size must be an int in 1..{min(h, w)}, got {size!r}")
    mask = _random_squares(x.shape[0], h, w, size, generator, x.device).to(x.dtype)
    return x * (1 - mask), mask


class InpaintingNet(nn.Module):
    """Context encoder: the masked image -> encoder -> decoder -> the whole image (B, 1, 28, 28)."""

    def __init__(self, encoder: ConvEncoder | None = None):
        super().__init__()
        self.encoder = encoder or ConvEncoder()
        self.decoder = _decoder(self.encoder.features_dim, 1, 28)

    def forward(self, x_masked: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder.maps(x_masked))


def inpainting_loss(x_hat: torch.Tensor, x: torch.Tensor, mask: torch.Tensor, outside: float = 0.1) -> torch.Tensor:
    """Squared error on the hidden pixels (the task), plus a little on the visible ones (keeps the decoder tidy)."""
    err = (x_hat - x) ** 2
    hidden = (err * mask).sum() / mask.sum().clamp(min=1)
    visible = (err * (1 - mask)).sum() / (1 - mask).sum().clamp(min=1)
    return hidden + outside * visible


# ----------------------------------------------------------------------------- jigsaw
def permutation_set(tiles: int = 9, k: int = 24, seed: int = 0) -> torch.Tensor:
    """A fixed set of k permutations of `tiles` tiles, far apart in Hamming distance: (k, tiles) int64.

    As in Noroozi & Favaro (2016): the network predicts which of the k was applied, so the
    classes must differ in many positions. Row 0 is always the identity (the unshuffled image).
    With k >= tiles! every permutation is returned, in lexicographic order.
    """
    if not isinstance(tiles, int) or tiles < 2 or tiles > 16:
        raise ValueError(f"tiles must be an int in 2..16, got {tiles!r}")
    if not isinstance(k, int) or k < 2:
        raise ValueError(f"k must be an int >= 2, got {k!r}")
    if math.factorial(tiles) <= k:
        return torch.tensor(list(itertools.permutations(range(tiles))), dtype=torch.long)
    rng = np.random.default_rng(seed)
    pool = np.stack([rng.permutation(tiles) for _ in range(max(2_000, 20 * k))])
    chosen = [np.arange(tiles)]
    dist = (pool != chosen[0]).sum(1)
    while len(chosen) < k:  # greedily add the candidate farthest from everything chosen so far
        i = int(dist.argmax())
        chosen.append(pool[i])
        dist = np.minimum(dist, (pool != pool[i]).sum(1))
    return torch.from_numpy(np.stack(chosen)).long()


def _tile_view(x: torch.Tensor, grid: int) -> torch.Tensor:
    _check_images(x, "x", None)
    b, c, h, w = x.shape
    if h % grid or w % grid:
        raise ValueError(f"image size {h}x{w} must be divisible by grid={grid} (pad it first)")
    th, tw = h // grid, w // grid
    # (B, C, grid, th, grid, tw) -> (B, grid*grid, C, th, tw), tiles in reading order
    return x.view(b, c, grid, th, grid, tw).permute(0, 2, 4, 1, 3, 5).reshape(b, grid * grid, c, th, tw)


def _untile(tiles: torch.Tensor, grid: int) -> torch.Tensor:
    b, n, c, th, tw = tiles.shape
    return tiles.view(b, grid, grid, c, th, tw).permute(0, 3, 1, 4, 2, 5).reshape(b, c, grid * th, grid * tw)


def shuffle_tiles(x: torch.Tensor, perms: torch.Tensor, grid: int = 3) -> torch.Tensor:
    """Cut each image into grid x grid tiles and rearrange them: tile `perms[b, i]` goes to position i.

    x: (B, C, H, W) with H, W divisible by grid; perms: (B, grid*grid) permutations.
    `unshuffle_tiles(shuffle_tiles(x, p), p) == x`.
    """
    tiles = _tile_view(x, grid)
    perms = _check_perms(perms, x.shape[0], grid).to(x.device)
    return _untile(tiles[torch.arange(x.shape[0], device=x.device)[:, None], perms], grid)


def unshuffle_tiles(x: torch.Tensor, perms: torch.Tensor, grid: int = 3) -> torch.Tensor:
    """Undo `shuffle_tiles`: apply the inverse permutation, which puts every tile back where it came from."""
    return shuffle_tiles(x, torch.argsort(_check_perms(perms, x.shape[0], grid), dim=1), grid)


def _check_perms(perms, batch: int, grid: int) -> torch.Tensor:
    perms = torch.as_tensor(perms, dtype=torch.long)
    if perms.shape != (batch, grid * grid):
        raise ValueError(f"perms must have shape ({batch}, {grid * grid}), got {tuple(perms.shape)}")
    if not torch.equal(perms.sort(1).values, torch.arange(grid * grid, device=perms.device).expand(batch, -1)):
        raise ValueError("every row of perms must be a permutation of 0..grid*grid-1")
    return perms


def jigsaw_batch(x: torch.Tensor, perm_set: torch.Tensor, grid: int = 3, generator: torch.Generator | None = None):
    """Shuffle each image with a random member of the permutation set: (shuffled x, class index).

    28x28 digits are padded to 30x30 first when grid=3 (tiles of 10x10).
    """
    _check_images(x)
    x = pad_for_grid(x, grid)
    labels = torch.randint(0, len(perm_set), (x.shape[0],), generator=generator)
    return shuffle_tiles(x, perm_set[labels].to(x.device), grid), labels.to(x.device)


def pad_for_grid(x: torch.Tensor, grid: int) -> torch.Tensor:
    """Pad (B, C, H, W) with zeros so that H and W are divisible by grid."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % grid, (-w) % grid
    return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2)) if ph or pw else x


class JigsawNet(nn.Module):
    """Shuffled image (B, 1, 30, 30) -> encoder maps -> linear -> logits over the k permutations."""

    def __init__(self, k: int, encoder: ConvEncoder | None = None):
        super().__init__()
        self.encoder = encoder or ConvEncoder()
        # the head sees the 4x4 map, not just the pooled vector: where things are is the whole task
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(self.encoder.features_dim * 16, 128), nn.ReLU(),
                                  nn.Linear(128, k))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder.maps(x))


# ----------------------------------------------------------------------------- augmentations, siamese, triplet
def augment(x: torch.Tensor, generator: torch.Generator | None = None, strength: float = 1.0) -> torch.Tensor:
    """A random view of each image: rotation, scale, shift, a stroke-thickness change and an erased patch.

    x: (B, 1, H, W) in [0, 1] -> same shape. Same generator state -> same views (deterministic).
    strength scales every distortion (0 = the images unchanged).
    """
    _check_images(x)
    if not isinstance(strength, (int, float)) or not 0 <= strength <= 2:
        raise ValueError(f"strength must be a number in [0, 2], got {strength!r}")
    b = x.shape[0]
    u = (torch.rand(b, 6, generator=generator) * 2 - 1).to(x.device)  # CPU generator, x may be on a GPU
    angle = u[:, 0] * math.radians(20) * strength
    scale = 1 + u[:, 1] * 0.2 * strength
    shift = u[:, 2:4] * 0.2 * strength  # in units of half the image: 0.2 = 10% of the width
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, padding_mode="zeros", align_corners=False)
    # thicker or thinner strokes: max-pool dilates, min-pool erodes
    thick = u[:, 4] * strength
    dilated = F.max_pool2d(out, 3, 1, 1)
    eroded = -F.max_pool2d(-out, 3, 1, 1)
    w = thick.clamp(min=0)[:, None, None, None]
    v = (-thick).clamp(min=0)[:, None, None, None] * 0.5
    out = out * (1 - w - v) + dilated * w + eroded * v
    # erase one random square of a quarter of the side in half the images
    h, wd = x.shape[-2:]
    erase = (u[:, 5] > 0) & (strength > 0)
    patch = _random_squares(b, h, wd, max(1, h // 4), generator, x.device) & erase[:, None, None, None]
    return (out * ~patch).clamp(0, 1)


class SiameseNet(nn.Module):
    """One encoder used for both inputs (shared weights), then a small projection head: (B, 1, 28, 28) -> (B, dim)."""

    def __init__(self, dim: int = 64, encoder: ConvEncoder | None = None):
        super().__init__()
        self.encoder = encoder or ConvEncoder()
        self.head = nn.Sequential(nn.Linear(self.encoder.features_dim, 256), nn.ReLU(), nn.Linear(256, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))


def _check_pair(a, b, names=("a", "b")) -> None:
    for t, n in zip((a, b), names):
        if not isinstance(t, torch.Tensor) or t.ndim != 2:
            raise ValueError(f"{n} must be a (B, D) tensor of embeddings, got "
                             f"{tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__}")
    if a.shape != b.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")


def contrastive_loss(z1: torch.Tensor, z2: torch.Tensor, same: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """The pairwise contrastive loss (Hadsell, Chopra & LeCun 2006), mean over pairs.

    same=1: pull together, d^2.   same=0: push apart until the margin, max(margin - d, 0)^2.
    z1, z2: (B, D); same: (B,) of 0/1.
    """
    _check_pair(z1, z2, ("z1", "z2"))
    same = torch.as_tensor(same, dtype=z1.dtype)
    if same.shape != z1.shape[:1]:
        raise ValueError(f"same must have shape ({z1.shape[0]},), got {tuple(same.shape)}")
    d = (z1 - z2).norm(dim=1)
    return (same * d ** 2 + (1 - same) * F.relu(margin - d) ** 2).mean()


def info_nce_loss(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.2) -> torch.Tensor:
    """The contrastive loss of SimCLR (NT-Xent): each view must pick its partner among all 2B-1 others.

    z1[i] and z2[i] are two views of image i; every other image in the batch is a negative.
    """
    _check_pair(z1, z2, ("z1", "z2"))
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.T / temperature
    sim.fill_diagonal_(float("-inf"))  # a view is not its own partner
    b = z1.shape[0]
    target = torch.cat([torch.arange(b, 2 * b), torch.arange(0, b)])
    return F.cross_entropy(sim, target)


def triplet_loss(a: torch.Tensor, p: torch.Tensor, n: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """L(A, P, N) = max(||f(A) - f(P)|| - ||f(A) - f(N)|| + alpha, 0), mean over the batch.

    a, p, n: (B, D) embeddings of anchors, positives, negatives. Matches
    nn.TripletMarginLoss(margin=alpha) (which adds 1e-6 inside the norm).
    """
    _check_pair(a, p, ("a", "p"))
    _check_pair(a, n, ("a", "n"))
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha!r}")
    return F.relu((a - p).norm(dim=1) - (a - n).norm(dim=1) + alpha).mean()


# ----------------------------------------------------------------------------- video: next frame
class NextFrameNet(nn.Module):
    """The last `past` frames, stacked as channels (B, past, 32, 32) -> the next frame (B, 1, 32, 32).

    It predicts the change from the last frame (next = last + change): "nothing moves" is then
    the starting point, and the network only has to learn the motion.
    """

    def __init__(self, past: int = 3):
        super().__init__()
        self.past = past
        self.encoder = ConvEncoder(in_channels=past)
        self.decoder = _decoder(self.encoder.features_dim, 1, 32, last=nn.Tanh())

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return frames[:, -1:] + self.decoder(self.encoder.maps(frames))


def frame_windows(clips: torch.Tensor, past: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Every (past frames -> next frame) pair of a batch of clips.

    clips: (N, T, 1, H, W) -> inputs (N * (T - past), past, H, W), targets (N * (T - past), 1, H, W).
    """
    if not isinstance(clips, torch.Tensor) or clips.ndim != 5 or clips.shape[2] != 1:
        raise ValueError(f"clips must have shape (N, T, 1, H, W), got "
                         f"{tuple(clips.shape) if isinstance(clips, torch.Tensor) else type(clips).__name__}")
    n, t = clips.shape[:2]
    if not isinstance(past, int) or not 1 <= past < t:
        raise ValueError(f"past must be an int in 1..{t - 1} for clips of {t} frames, got {past!r}")
    x = torch.stack([clips[:, s:s + past, 0] for s in range(t - past)], 1)  # (N, T-past, past, H, W)
    y = clips[:, past:]
    return x.flatten(0, 1), y.flatten(0, 1)


# ----------------------------------------------------------------------------- text: next word
def tokenize_words(text: str) -> list[str]:
    """Lower-case words, with '.' as a word of its own (the end of a sentence)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return text.lower().replace(".", " .").split()


def word_windows(tokens: list[int], k: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """All (k previous words -> next word) pairs: contexts (N, k) int64, targets (N,) int64."""
    if not isinstance(k, int) or not 1 <= k < len(tokens):
        raise ValueError(f"k must be an int in 1..{len(tokens) - 1}, got {k!r}")
    t = torch.as_tensor(tokens, dtype=torch.long)
    return t.unfold(0, k, 1)[:-1], t[k:]


class NextWordMLP(nn.Module):
    """Bengio et al. (2003): embed the last k words, concatenate, one hidden layer, logits over the vocabulary.

    contexts: (B, k) word ids -> logits (B, vocab). `embed.weight` holds the learned word vectors.
    """

    def __init__(self, vocab: int, k: int = 3, dim: int = 16, hidden: int = 128):
        super().__init__()
        self.vocab, self.k = vocab, k
        self.embed = nn.Embedding(vocab, dim)
        self.net = nn.Sequential(nn.Linear(k * dim, hidden), nn.Tanh(), nn.Linear(hidden, vocab))

    def forward(self, contexts: torch.Tensor) -> torch.Tensor:
        if contexts.ndim != 2 or contexts.shape[1] != self.k:
            raise ValueError(f"contexts must have shape (B, {self.k}), got {tuple(contexts.shape)}")
        return self.net(self.embed(contexts).flatten(1))


# ----------------------------------------------------------------------------- evaluation
@torch.no_grad()
def encode(encoder: nn.Module, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Frozen features of x in eval mode, in batches: (N, features)."""
    was_training = encoder.training
    encoder.eval()
    device = next(encoder.parameters()).device
    out = torch.cat([encoder(x[i:i + batch_size].to(device)).cpu() for i in range(0, len(x), batch_size)])
    encoder.train(was_training)
    return out


def linear_probe(train_features, train_labels, test_features, test_labels, c: float = 1.0) -> float:
    """Accuracy of a logistic regression on frozen (standardised) features: the usual way to score a representation."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    arrays = [np.asarray(t.flatten(1) if isinstance(t, torch.Tensor) and t.ndim > 2 else t)
              for t in (train_features, train_labels, test_features, test_labels)]
    if len(arrays[0]) != len(arrays[1]) or len(arrays[2]) != len(arrays[3]):
        raise ValueError("features and labels must have the same number of rows")
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2_000))
    clf.fit(arrays[0], arrays[1])
    return float(clf.score(arrays[2], arrays[3]))


def label_subset(y: torch.Tensor, fraction: float, seed: int = 0) -> torch.Tensor:
    """Indices of a class-balanced `fraction` of the labels (at least one per class)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    g = torch.Generator().manual_seed(seed)
    picked = []
    for c in torch.unique(y):
        idx = torch.nonzero(y == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        picked.append(idx[:max(1, round(fraction * len(idx)))])
    return torch.cat(picked).sort().values


# ----------------------------------------------------------------------------- transfer learning (notebook 10)
def upscale_digits8(x: torch.Tensor) -> torch.Tensor:
    """Real 8x8 digits (N, 1, 8, 8) -> (N, 1, 28, 28) like the procedural ones: a 20x20 digit in a 4-pixel border."""
    _check_images(x)
    if x.shape[-2:] != (8, 8):
        raise ValueError(f"x must be 8x8 digits (N, 1, 8, 8), got {tuple(x.shape)}")
    big = F.interpolate(x, size=(20, 20), mode="bilinear", align_corners=False)
    big = big / big.amax((2, 3), keepdim=True).clamp(min=1e-6)  # full-strength strokes, as in the source data
    return F.pad(big, (4, 4, 4, 4))


def copy_blocks(source: ConvEncoder, k: int) -> ConvEncoder:
    """A new ConvEncoder whose first k blocks hold copies of `source`'s; the others keep a fresh random init."""
    if not isinstance(source, ConvEncoder):
        raise TypeError(f"source must be a ConvEncoder, got {type(source).__name__}")
    if not isinstance(k, int) or not 0 <= k <= len(source.blocks):
        raise ValueError(f"k must be an int in 0..{len(source.blocks)}, got {k!r}")
    widths = tuple(block[0].out_channels for block in source.blocks)
    new = ConvEncoder(source.in_channels, widths).to(next(source.parameters()).device)
    for i in range(k):
        new.blocks[i].load_state_dict(source.blocks[i].state_dict())  # values, not shared tensors
    return new


def freeze_blocks(model: nn.Module, k: int) -> None:
    """Stop training the first k blocks of model.encoder (requires_grad=False)."""
    for block in model.encoder.blocks[:k]:
        block.requires_grad_(False)


class TransferNet(nn.Module):
    """A (pre-trained or fresh) encoder plus a new linear head: (B, 1, 28, 28) -> logits (B, classes).

    Frozen blocks (all parameters requires_grad=False) also stay in eval mode during training, so
    their batch-norm statistics do not drift either: frozen means the features do not change.
    """

    def __init__(self, encoder: ConvEncoder, classes: int = 10):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.features_dim, classes)

    def train(self, mode: bool = True):
        super().train(mode)
        for block in self.encoder.blocks:
            if not any(p.requires_grad for p in block.parameters()):
                block.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))


def train_steps(model: TransferNet, x: torch.Tensor, y: torch.Tensor, steps: int = 200, lr: float = 1e-3,
                head_lr: float = 1e-2, batch_size: int = 64, seed: int = 0, progress: bool = False, callbacks=()):
    """Train a TransferNet for about `steps` steps, however few the labels (small sets repeat).

    The new head learns at head_lr (it starts from nothing), the encoder at lr; frozen parameters
    (requires_grad=False) are left out of the optimiser. Returns the fit History.
    """
    from ..train import fit

    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    batch_size = min(batch_size, len(x))
    epochs = max(1, round(steps * batch_size / len(x)))
    groups = [{"params": [p for p in model.head.parameters() if p.requires_grad], "lr": head_lr}]
    encoder = [p for p in model.encoder.parameters() if p.requires_grad]
    if encoder:
        groups.append({"params": encoder, "lr": lr})
    return fit(model, (x, y), nn.CrossEntropyLoss(), epochs=epochs, batch_size=batch_size,
               optimizer=torch.optim.Adam(groups), seed=seed, progress=progress, callbacks=callbacks)


PRETEXT_NETS = {"ssl_inpainting": InpaintingNet, "ssl_jigsaw": JigsawNet, "ssl_siamese": SiameseNet,
                "ssl_simclr": SiameseNet, "ssl_triplet": SiameseNet}


def load_encoder(name: str, device=None) -> ConvEncoder:
    """The ConvEncoder of a shipped image pretext checkpoint (sha256-checked), e.g. load_encoder("ssl_simclr")."""
    from ..checkpoints import load_checkpoint

    if name not in PRETEXT_NETS:
        raise ValueError(f"name must be one of {sorted(PRETEXT_NETS)}, got {name!r}")
    return load_checkpoint(name, PRETEXT_NETS[name], device=device).encoder


STRATEGIES = ("scratch", "frozen", "fine-tuned")


def transfer_accuracy(source: ConvEncoder, strategy: str, train: tuple, test: tuple, fraction: float = 0.1,
                      k: int = 3, steps: int = 200, seed: int = 0, callbacks=()) -> float:
    """One transfer run: copy k blocks of `source` (none for "scratch"), freeze them ("frozen") or not
    ("fine-tuned"), add a head, train on `fraction` of the labels of train=(x, y); test accuracy on test=(x, y)."""
    from .. import seed_everything
    from ..train import accuracy, predict

    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    (x, y), (x_test, y_test) = train, test
    labelled = label_subset(y, fraction, seed)
    seed_everything(seed)
    model = TransferNet(copy_blocks(source, 0 if strategy == "scratch" else k))
    if strategy == "frozen":
        freeze_blocks(model, k)
    train_steps(model, x[labelled], y[labelled], steps=steps, seed=seed, callbacks=callbacks)
    return accuracy(predict(model, x_test), y_test)
