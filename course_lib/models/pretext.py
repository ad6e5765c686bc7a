"""Pretext tasks (notebook 09): labels made from the data itself.

- inpainting: hide a square, predict its pixels          -> `mask_square`, `InpaintingNet`, `inpainting_loss`
- jigsaw:     shuffle tiles, predict which permutation    -> `permutation_set`, `shuffle_tiles`, `JigsawNet`
- video:      predict the next frame from the last ones   -> `NextFrameNet`, `frame_windows`
- text:       predict the next word from the last k       -> `NextWordMLP` (its windows:
              `sequence_tasks.word_windows`)

(Two views of one image that should agree - siamese, SimCLR, triplets - are in `contrastive.py`.)
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..data import random_squares
from .encoder import ConvEncoder, check_images, make_decoder

__all__ = [
    "mask_square",
    "InpaintingNet",
    "inpainting_loss",
    "permutation_set",
    "shuffle_tiles",
    "unshuffle_tiles",
    "jigsaw_batch",
    "pad_for_grid",
    "JigsawNet",
    "NextFrameNet",
    "frame_windows",
    "NextWordMLP",
]


# ----------------------------------------------------------------------------- inpainting


def mask_square(x: torch.Tensor, size: int = 12, generator: torch.Generator | None = None):
    """Hide one random size x size square per image (set to 0).

    x: (B, 1, H, W) -> (masked x, mask) with mask (B, 1, H, W) = 1 where hidden.
    """
    check_images(x)
    h, w = x.shape[-2:]
    if not isinstance(size, int) or not 1 <= size <= min(h, w):
        raise ValueError(f"size must be an int in 1..{min(h, w)}, got {size!r}")
    mask = random_squares(x.shape[0], h, w, size, generator, x.device).to(x.dtype)
    return x * (1 - mask), mask


class InpaintingNet(nn.Module):
    """Context encoder: the masked image -> encoder -> decoder -> the whole image (B, 1, 28, 28)."""

    def __init__(self, encoder: ConvEncoder | None = None):
        super().__init__()
        self.encoder = encoder or ConvEncoder()
        self.decoder = make_decoder(self.encoder.features_dim, 1, 28)

    def forward(self, x_masked: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder.maps(x_masked))


def inpainting_loss(
    x_hat: torch.Tensor, x: torch.Tensor, mask: torch.Tensor, outside: float = 0.1
) -> torch.Tensor:
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
    check_images(x, "x", None)
    b, c, h, w = x.shape
    if h % grid or w % grid:
        raise ValueError(f"image size {h}x{w} must be divisible by grid={grid} (pad it first)")
    th, tw = h // grid, w // grid
    # (B, C, grid, th, grid, tw) -> (B, grid*grid, C, th, tw), tiles in reading order
    return (
        x.view(b, c, grid, th, grid, tw)
        .permute(0, 2, 4, 1, 3, 5)
        .reshape(b, grid * grid, c, th, tw)
    )


def _untile(tiles: torch.Tensor, grid: int) -> torch.Tensor:
    b, n, c, th, tw = tiles.shape
    return (
        tiles.view(b, grid, grid, c, th, tw)
        .permute(0, 3, 1, 4, 2, 5)
        .reshape(b, c, grid * th, grid * tw)
    )


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
        raise ValueError(
            f"perms must have shape ({batch}, {grid * grid}), got {tuple(perms.shape)}"
        )
    if not torch.equal(
        perms.sort(1).values, torch.arange(grid * grid, device=perms.device).expand(batch, -1)
    ):
        raise ValueError("every row of perms must be a permutation of 0..grid*grid-1")
    return perms


def jigsaw_batch(
    x: torch.Tensor, perm_set: torch.Tensor, grid: int = 3, generator: torch.Generator | None = None
):
    """Shuffle each image with a random member of the permutation set: (shuffled x, class index).

    28x28 digits are padded to 30x30 first when grid=3 (tiles of 10x10).
    """
    check_images(x)
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
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(self.encoder.features_dim * 16, 128),
            nn.ReLU(),
            nn.Linear(128, k),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder.maps(x))


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
        self.decoder = make_decoder(self.encoder.features_dim, 1, 32, last=nn.Tanh())

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return frames[:, -1:] + self.decoder(self.encoder.maps(frames))


def frame_windows(clips: torch.Tensor, past: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Every (past frames -> next frame) pair of a batch of clips.

    clips: (N, T, 1, H, W) -> inputs (N * (T - past), past, H, W), targets (N * (T - past), 1, H, W).
    """
    if not isinstance(clips, torch.Tensor) or clips.ndim != 5 or clips.shape[2] != 1:
        raise ValueError(
            f"clips must have shape (N, T, 1, H, W), got "
            f"{tuple(clips.shape) if isinstance(clips, torch.Tensor) else type(clips).__name__}"
        )
    n, t = clips.shape[:2]
    if not isinstance(past, int) or not 1 <= past < t:
        raise ValueError(f"past must be an int in 1..{t - 1} for clips of {t} frames, got {past!r}")
    x = torch.stack(
        [clips[:, s : s + past, 0] for s in range(t - past)], 1
    )  # (N, T-past, past, H, W)
    y = clips[:, past:]
    return x.flatten(0, 1), y.flatten(0, 1)


# ----------------------------------------------------------------------------- next word
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
