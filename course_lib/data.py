"""Datasets for the course: bundled, procedural and (optionally) downloaded.

Everything here is offline and deterministic: the same arguments and seed give
the same tensors, bit for bit, on the same machine.

Images are float32 tensors of shape (N, 1, H, W) with values in [0, 1];
labels are int64 tensors of shape (N,).

| function                  | what                                            | images          |
|---------------------------|-------------------------------------------------|-----------------|
| `load_digits8(split)`     | real handwritten 8x8 digits (scikit-learn)      | (N, 1, 8, 8)    |
| `make_digits28(n, seed)`  | procedurally rendered MNIST-like digits          | (n, 1, 28, 28)  |
| `make_shapes(n, seed)`    | squares / ellipses / triangles + their factors   | (n, 1, 32, 32)  |
| `make_moving_shapes(...)` | short clips of a shape bouncing in a box         | (n, T, 1, 32, 32) |
| `make_toy2d(name, n)`     | 2D point clouds: ring, grid, spirals, gaussian   | (n, 2)          |
| `load_mnist(...)`         | real MNIST / Fashion-MNIST, only if asked for    | (N, 1, 28, 28)  |
"""

from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import cache_dir

__all__ = [
    "load_digits8",
    "make_digits28",
    "make_shapes",
    "render_shapes",
    "translate",
    "make_moving_shapes",
    "make_toy2d",
    "make_text_corpus",
    "make_agreement_test",
    "text_alphabet",
    "text_ids",
    "TEXT_CORPORA",
    "load_mnist",
    "random_squares",
    "upscale_digits8",
    "generative_digits",
    "ssl_digits",
    "motion_clips",
    "GENERATIVE_DIGITS",
    "SSL_DIGITS",
    "MOTION_CLIPS",
    "PRETEXT_TASKS",
    "SHAPE_NAMES",
    "SHAPE_FACTORS",
    "TOY2D_NAMES",
]


# ----------------------------------------------------------------------------- checks
def _check_count(name: str, value, minimum: int = 1, maximum: int = 1_000_000) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not minimum <= value <= maximum:
        raise ValueError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return int(value)


def _check_seed(seed) -> int:
    return _check_count("seed", seed, 0, 2**31 - 1)


def _check_number(name: str, value, minimum: float, maximum: float) -> float:
    """A finite real number (Python or numpy scalar) in [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or not minimum <= value <= maximum:
        raise ValueError(
            f"{name} must be a finite number in [{minimum:g}, {maximum:g}], got {value!r}"
        )
    return value


# The largest tensor a dataset function builds; a bigger request is refused before allocating.
MAX_BYTES = 2 * 1024**3


def _check_memory(call: str, shape: tuple[int, ...], formula: str) -> None:
    need = math.prod(shape) * 4  # float32
    if need > MAX_BYTES:
        raise ValueError(
            f"{call} would need about {need / 1e9:.1f} GB ({formula} x 4 bytes, a float32 tensor of "
            f"shape {shape}); the limit is {MAX_BYTES / 1e9:.1f} GB (course_lib.data.MAX_BYTES): ask "
            "for fewer images or a smaller size"
        )


# Rows rendered at once: the renderers' intermediate tensors stay a few hundred MB at most.
_CHUNK = 2048


# ----------------------------------------------------------------------------- 8x8 digits
DIGITS8_TEST_FRACTION = 0.2
_DIGITS8_SPLIT_SEED = 0  # fixed: the split never changes between runs or machines


def load_digits8(split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """The 1,797 real handwritten 8x8 digits bundled with scikit-learn, with a fixed split.

    split: "train" (1,438 images), "test" (359 images) or "all".
    Returns x: (N, 1, 8, 8) float32 in [0, 1] and y: (N,) int64 in 0..9.
    The split is stratified by digit and fixed once and for all.
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    x, y = _digits8_arrays()
    if split == "all":
        idx = np.arange(len(y))
    else:
        train_idx, test_idx = _digits8_split(y)
        idx = train_idx if split == "train" else test_idx
    return torch.from_numpy(x[idx]).clone(), torch.from_numpy(y[idx]).clone()


@lru_cache(maxsize=1)
def _digits8_arrays() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32)[:, None]  # pixel values are 0..16
    return x, bunch.target.astype(np.int64)


def _digits8_split(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(_DIGITS8_SPLIT_SEED)
    train, test = [], []
    for digit in range(10):
        idx = np.flatnonzero(y == digit)
        rng.shuffle(idx)
        n_test = int(round(len(idx) * DIGITS8_TEST_FRACTION))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


# ----------------------------------------------------------------------------- 28x28 digits
# Fonts that ship inside matplotlib, so rendering needs no system fonts and no network.
_DIGIT_FONTS = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-Italic.ttf",
    "STIXGeneral.ttf",
    "STIXGeneralBol.ttf",
    "STIXGeneralItalic.ttf",
    "cmss10.ttf",
    "cmtt10.ttf",
)
_TEMPLATE = 56  # glyphs are drawn at twice the final size, then averaged down: anti-aliasing
_GLYPH_BOX = 40  # like MNIST: the digit fits a 20x20 box inside 28x28


@lru_cache(maxsize=1)
def _digit_templates() -> torch.Tensor:
    """(n_fonts, 10, 56, 56) float32: each digit of each font, scaled to a 40px box, centred by mass."""
    import matplotlib
    from PIL import Image, ImageDraw, ImageFont

    font_dir = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    out = np.zeros((len(_DIGIT_FONTS), 10, _TEMPLATE, _TEMPLATE), np.float32)
    for f, name in enumerate(_DIGIT_FONTS):
        font = ImageFont.truetype(str(font_dir / name), 96)
        for d in range(10):
            canvas = Image.new("L", (160, 160), 0)
            ImageDraw.Draw(canvas).text((30, 10), str(d), fill=255, font=font)
            glyph = canvas.crop(canvas.getbbox())
            w, h = glyph.size
            s = _GLYPH_BOX / max(w, h)
            glyph = glyph.resize((max(1, round(w * s)), max(1, round(h * s))), Image.LANCZOS)
            g = np.asarray(glyph, np.float32) / 255.0
            # centre of mass at the centre of the template, as MNIST does
            ys, xs = np.indices(g.shape)
            cy, cx = (ys * g).sum() / g.sum(), (xs * g).sum() / g.sum()
            top = int(round(_TEMPLATE / 2 - cy))
            left = int(round(_TEMPLATE / 2 - cx))
            top = min(max(top, 0), _TEMPLATE - g.shape[0])
            left = min(max(left, 0), _TEMPLATE - g.shape[1])
            out[f, d, top : top + g.shape[0], left : left + g.shape[1]] = g
    return torch.from_numpy(out)


@lru_cache(maxsize=1)
def _stroke_templates() -> torch.Tensor:
    """(4, n_fonts, 10, 56, 56): every template thinner (eroded, a min-pool), as drawn, bolder
    (dilated, a max-pool) and bolder still, indexed by stroke + 1. Dilating the few templates once
    gives the same pixels as dilating every image, at a fraction of the cost."""
    base = _digit_templates()
    thick = F.max_pool2d(base, 3, 1, 1)
    return torch.stack([-F.max_pool2d(-base, 3, 1, 1), base, thick, F.max_pool2d(thick, 3, 1, 1)])


def make_digits28(
    n: int = 10_000, seed: int = 0, difficulty: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Procedurally rendered MNIST-like digits: font glyphs with random stroke width, affine and elastic warps.

    n: number of images; seed: same seed, same images; difficulty: scales every random
    distortion (0 = clean centred glyphs, 1 = default, up to 2).
    Returns x: (n, 1, 28, 28) float32 in [0, 1] and y: (n,) int64 in 0..9 (balanced in expectation).
    10,000 images take about a second on a laptop CPU.
    """
    n = _check_count("n", n)
    seed = _check_seed(seed)
    difficulty = _check_number("difficulty", difficulty, 0.0, 2.0)
    _check_memory(f"make_digits28(n={n})", (n, 1, 28, 28), "n x 28 x 28")
    templates = _stroke_templates()
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 10, (n,), generator=g)
    fonts = torch.randint(0, templates.shape[1], (n,), generator=g)
    # every random number is drawn up front, so chunking below does not change the result
    u = torch.rand(n, 8, generator=g) * 2 - 1  # uniform in [-1, 1]
    stroke = torch.randint(-1, 3, (n,), generator=g)  # -1 thinner, 0 as drawn, 1-2 bolder
    warp = torch.randn(n, 2, 4, 4, generator=g)
    # stroke width: the glyph eroded (-1), as drawn (0) or dilated (1, 2); difficulty 0 draws it as is
    width = stroke * (difficulty > 0) + 1
    images = torch.empty(n, 1, 28, 28)
    with torch.no_grad():
        for start in range(0, n, 2048):
            sl = slice(start, min(n, start + 2048))
            glyphs = templates[width[sl], fonts[sl], labels[sl]][:, None]
            images[sl] = _render_digits(glyphs, u[sl], warp[sl], difficulty)
    return images, labels


def _render_digits(x, u, warp, difficulty):
    """x: (b, 1, 56, 56) glyphs of the chosen stroke width -> (b, 1, 28, 28) distorted digits."""
    k = float(difficulty)
    # affine: rotation +-15 deg, scale 0.85-1.1, shear +-0.25, shift +-2 px (at 28x28)
    angle = u[:, 0] * math.radians(15) * k
    scale = 1.0 + (0.975 - 1.0 + u[:, 1] * 0.125) * k
    shear = u[:, 2] * 0.25 * k
    tx, ty = u[:, 3] * 0.14 * k, u[:, 4] * 0.14 * k
    cos, sin = torch.cos(angle), torch.sin(angle)
    # theta maps output coordinates to input coordinates (hence the inverse scale)
    theta = torch.stack(
        [
            torch.stack([cos / scale, (-sin + shear) / scale, tx], 1),
            torch.stack([sin / scale, cos / scale, ty], 1),
        ],
        1,
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # elastic: a smooth random displacement field
    field = F.interpolate(warp * 0.035 * k, size=x.shape[-2:], mode="bicubic", align_corners=False)
    grid = grid + field.permute(0, 2, 3, 1)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    x = F.avg_pool2d(x, 2)
    # ink contrast varies a little, as pens do
    gain = 1.0 + 0.25 * u[:, 5].abs().view(-1, 1, 1, 1) * k
    return (x * gain).clamp_(0.0, 1.0)


# ----------------------------------------------------------------------------- shapes with factors
SHAPE_NAMES = ("square", "ellipse", "triangle")
SHAPE_FACTORS = ("shape", "scale", "rotation", "x", "y")
_ROTATION_RANGE = math.radians(30)  # +-30 deg: no shape looks the same at two angles in the range


def make_shapes(n: int = 5_000, seed: int = 0, size: int = 32) -> tuple[torch.Tensor, dict]:
    """A dSprites-like dataset: one white shape per image, with its true generative factors.

    Returns x: (n, 1, size, size) float32 in [0, 1] and factors, a dict of (n,) tensors:
      shape    int64 in {0: square, 1: ellipse, 2: triangle}
      scale    float in [0.5, 1.0]
      rotation float in [-pi/6, pi/6] radians
      x, y     float in [-0.5, 0.5], position of the centre (image spans [-1, 1]; y points down)
    """
    n = _check_count("n", n)
    seed = _check_seed(seed)
    size = _check_count("size", size, 8, 256)
    _check_memory(f"make_shapes(n={n}, size={size})", (n, 1, size, size), "n x size x size")
    g = torch.Generator().manual_seed(seed)
    factors = {
        "shape": torch.randint(0, 3, (n,), generator=g),
        "scale": 0.5 + 0.5 * torch.rand(n, generator=g),
        "rotation": (torch.rand(n, generator=g) * 2 - 1) * _ROTATION_RANGE,
        "x": torch.rand(n, generator=g) - 0.5,
        "y": torch.rand(n, generator=g) - 0.5,
    }
    x = _render_shapes(
        factors["shape"], factors["scale"], factors["rotation"], factors["x"], factors["y"], size
    )
    return x, factors


def render_shapes(shape, scale, rotation, x, y, size: int = 32) -> torch.Tensor:
    """Draw shapes from chosen factors (as make_shapes returns them): each (n,) tensor -> (n, 1, size, size).

    Useful to vary one true factor at a time and compare with what a model learnt.
    """
    tensors = [torch.as_tensor(v) for v in (shape, scale, rotation, x, y)]
    n = tensors[0].numel()
    if any(t.ndim != 1 or t.numel() != n for t in tensors):
        raise ValueError(
            f"shape, scale, rotation, x and y must be 1D tensors of one length, got "
            f"{[tuple(t.shape) for t in tensors]}"
        )
    for name, t in zip(("shape", "scale", "rotation", "x", "y"), tensors):
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise ValueError(f"{name} must hold finite numbers, got {t.tolist()[:8]}")
    size = _check_count("size", size, 8, 256)
    _check_memory(f"render_shapes(n={n}, size={size})", (n, 1, size, size), "n x size x size")
    if not bool(((tensors[0] >= 0) & (tensors[0] <= 2)).all()):
        raise ValueError("shape must hold 0 (square), 1 (ellipse) or 2 (triangle)")
    shape_t = tensors[0].long()
    return _render_shapes(shape_t, *(t.float() for t in tensors[1:]), size)


def _render_shapes(shape, scale, rotation, cx, cy, size):
    """Anti-aliased shapes from signed distances; all inputs (n,), returns (n, 1, size, size).

    Rendered _CHUNK rows at a time, so the intermediate tensors stay small."""
    if len(shape) > _CHUNK:
        out = torch.empty(len(shape), 1, size, size)
        for i in range(0, len(shape), _CHUNK):
            sl = slice(i, i + _CHUNK)
            out[sl] = _render_chunk(shape[sl], scale[sl], rotation[sl], cx[sl], cy[sl], size)
        return out
    return _render_chunk(shape, scale, rotation, cx, cy, size)


def _render_chunk(shape, scale, rotation, cx, cy, size):
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    py, px = torch.meshgrid(coords, coords, indexing="ij")
    # move each pixel into the shape's own frame
    dx = px[None] - cx.view(-1, 1, 1)
    dy = py[None] - cy.view(-1, 1, 1)
    c, s = torch.cos(rotation).view(-1, 1, 1), torch.sin(rotation).view(-1, 1, 1)
    r = 0.45 * scale.view(-1, 1, 1)
    u = (c * dx + s * dy) / r
    v = (-s * dx + c * dy) / r
    square = torch.maximum(u.abs(), v.abs()) - 0.8
    ellipse = (torch.sqrt((u / 1.0) ** 2 + (v / 0.55) ** 2) - 1.0) * 0.55
    # equilateral triangle pointing up: three half-planes
    k = math.sqrt(3) / 2
    tri = torch.maximum(torch.maximum(v - 0.5, -k * u - 0.5 * v - 0.5), k * u - 0.5 * v - 0.5)
    sdf = torch.where(
        shape.view(-1, 1, 1) == 0, square, torch.where(shape.view(-1, 1, 1) == 1, ellipse, tri)
    )
    sdf = sdf * r  # back to image units
    pixel = 2.0 / size
    return torch.sigmoid(-sdf / (0.35 * pixel))[:, None].float()


def make_moving_shapes(
    n: int = 500, frames: int = 8, seed: int = 0, size: int = 32, factors: bool = False
):
    """Short clips of a shape moving at constant speed and bouncing off the walls (next-frame prediction).

    Returns clips: (n, frames, 1, size, size) float32 in [0, 1]; with factors=True also a dict
    {"shape": (n,) index into SHAPE_NAMES, "velocity": (n, 2) per frame at frame 0, in half-widths}.
    """
    n = _check_count("n", n)
    frames = _check_count("frames", frames, 2, 256)
    seed = _check_seed(seed)
    size = _check_count("size", size, 8, 256)
    _check_memory(
        f"make_moving_shapes(n={n}, frames={frames}, size={size})",
        (n, frames, 1, size, size),
        "n x frames x size x size",
    )
    g = torch.Generator().manual_seed(seed)
    shape = torch.randint(0, 3, (n,), generator=g)
    scale = 0.45 + 0.2 * torch.rand(n, generator=g)
    rotation = (torch.rand(n, generator=g) * 2 - 1) * _ROTATION_RANGE
    pos = torch.rand(n, 2, generator=g) - 0.5
    angle = torch.rand(n, generator=g) * 2 * math.pi
    speed = 0.08 + 0.08 * torch.rand(n, generator=g)
    vel = torch.stack([torch.cos(angle), torch.sin(angle)], 1) * speed[:, None]
    velocity0 = vel.clone()
    clips = torch.empty(n, frames, 1, size, size)
    for t in range(frames):
        clips[:, t] = _render_shapes(shape, scale, rotation, pos[:, 0], pos[:, 1], size)
        pos = pos + vel
        # bounce: reflect the position and flip the velocity at the walls of [-0.55, 0.55]
        over = pos.abs() > 0.55
        pos = torch.where(over, pos.sign() * 1.1 - pos, pos)
        vel = torch.where(over, -vel, vel)
    if factors:
        return clips, {"shape": shape, "velocity": velocity0}
    return clips


def translate(images: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """Shift images (N, C, H, W) by whole pixels, dx to the right and dy down; uncovered pixels are 0."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ValueError(
            f"images must be a (N, C, H, W) tensor, got "
            f"{tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__}"
        )
    h, w = images.shape[-2:]
    ints = (int, np.integer)
    if (
        isinstance(dx, bool)
        or isinstance(dy, bool)
        or not (isinstance(dx, ints) and isinstance(dy, ints))
        or abs(dx) >= w
        or abs(dy) >= h
    ):
        raise ValueError(
            f"dx and dy must be ints smaller than the image ({w}x{h}), got {dx!r}, {dy!r}"
        )
    dx, dy = int(dx), int(dy)
    out = torch.zeros_like(images)
    src_y, dst_y = slice(max(0, -dy), h - max(0, dy)), slice(max(0, dy), h - max(0, -dy))
    src_x, dst_x = slice(max(0, -dx), w - max(0, dx)), slice(max(0, dx), w - max(0, -dx))
    out[..., dst_y, dst_x] = images[..., src_y, src_x]
    return out


# ----------------------------------------------------------------------------- 2D toys
TOY2D_NAMES = ("ring", "grid", "spirals", "gaussian")


def make_toy2d(
    name: str = "ring", n: int = 1_000, seed: int = 0, noise: float | None = None
) -> torch.Tensor:
    """2D point clouds for GAN-Lab-style views. Returns (n, 2) float32, roughly within [-2.5, 2.5].

    ring:     8 Gaussians on a circle of radius 2 (std 0.1)
    grid:     5x5 Gaussians at -2..2 (std 0.08)
    spirals:  two interleaved spirals (noise 0.1)
    gaussian: a single standard Gaussian blob (std 0.5) at (1, 1)
    """
    if name not in TOY2D_NAMES:
        raise ValueError(f"name must be one of {TOY2D_NAMES}, got {name!r}")
    n = _check_count("n", n)
    seed = _check_seed(seed)
    if noise is not None:
        noise = _check_number("noise", noise, 0.0, 10.0)
    g = torch.Generator().manual_seed(seed)
    if name == "ring":
        k = torch.randint(0, 8, (n,), generator=g).float()
        centres = 2.0 * torch.stack([torch.cos(k * math.pi / 4), torch.sin(k * math.pi / 4)], 1)
        std = 0.1 if noise is None else noise
    elif name == "grid":
        k = torch.randint(0, 25, (n,), generator=g)
        centres = torch.stack([(k % 5).float() - 2.0, (k // 5).float() - 2.0], 1)
        std = 0.08 if noise is None else noise
    elif name == "spirals":
        t = torch.sqrt(torch.rand(n, generator=g)) * 3 * math.pi
        arm = torch.randint(0, 2, (n,), generator=g).float() * math.pi
        centres = 0.2 * t[:, None] * torch.stack([torch.cos(t + arm), torch.sin(t + arm)], 1)
        std = 0.1 if noise is None else noise
    else:
        centres = torch.ones(n, 2)
        std = 0.5 if noise is None else noise
    return (centres + std * torch.randn(n, 2, generator=g)).float()


# ----------------------------------------------------------------------------- text
_SUBJECTS = (
    ("the cat", "the cats"),
    ("the dog", "the dogs"),
    ("a bird", "some birds"),
    ("the teacher", "the teachers"),
    ("my friend", "my friends"),
    ("the old man", "the old men"),
    ("a child", "the children"),
)
_OBJECTS = (
    "the river",
    "the garden",
    "the house",
    "a tree",
    "the school",
    "the park",
    "the market",
)
_VERBS = (
    ("runs", "run"),
    ("sleeps", "sleep"),
    ("sings", "sing"),
    ("waits", "wait"),
    ("laughs", "laugh"),
    ("is happy", "are happy"),
    ("was late", "were late"),
    ("has a hat", "have a hat"),
)
# The clauses' own verbs are in the past tense, so they say nothing about the subject's number: only
# the subject does (a clause such as "that lives near" would be wrong after a plural subject).
_CLAUSES = (
    "that lived near {o}",
    "who walked to {o}",
    "that we saw in {o}",
    "who liked {o}",
    "that sat under {o} all day",
    "who came back from {o} yesterday",
)
_ENDINGS = ("", " today", " again", " at night", " every morning", " in {o}")


def _sentence_parts(rng, clauses: int | None = None) -> tuple[str, int, tuple[str, str], str]:
    """One sentence of the grammar: (subject and clauses, plural 0/1, (singular, plural) verb, ending)."""

    def pick(options):
        return options[rng.integers(len(options))]

    plural = int(rng.integers(2))
    parts = [pick(_SUBJECTS)[plural]]
    for _ in range(int(rng.choice([0, 1, 1, 2])) if clauses is None else clauses):
        parts.append(pick(_CLAUSES).format(o=pick(_OBJECTS)))
    verb = pick(_VERBS)
    ending = pick(_ENDINGS).format(o=pick(_OBJECTS))
    return " ".join(parts), plural, verb, ending


def make_text_corpus(n_sentences: int = 2_000, seed: int = 0) -> str:
    """A small English-like corpus from a grammar with long-range agreement, for next-character models.

    "the dogs that we saw in the park run again." - the verb agrees with a subject many characters
    back, across 0, 1 or 2 relative clauses (in proportion 1:2:1): a short n-gram cannot know which
    form comes, a recurrent network can. One sentence per line.
    """
    n_sentences = _check_count("n_sentences", n_sentences)
    rng = np.random.default_rng(_check_seed(seed))
    sentences = []
    for _ in range(n_sentences):
        head, plural, verb, ending = _sentence_parts(rng)
        sentences.append(f"{head} {verb[plural]}{ending}.")
    return "\n".join(sentences) + "\n"


def text_alphabet() -> str:
    """Every character the grammar can write, sorted: the vocabulary of the character models."""
    words = _SUBJECTS + _OBJECTS + _VERBS + _CLAUSES + _ENDINGS
    chars = set("\n. ") | set("".join(w if isinstance(w, str) else "".join(w) for w in words))
    return "".join(sorted(chars - set("{}")))


def text_ids(text: str) -> list[int]:
    """Characters -> ids in data.text_alphabet()."""
    stoi = {c: i for i, c in enumerate(text_alphabet())}
    try:
        return [stoi[c] for c in text]
    except KeyError as exc:
        raise ValueError(
            f"character {exc.args[0]!r} is not in the course's text alphabet"
        ) from None


def make_agreement_test(n_per_depth: int = 300, seed: int = 99, depths=(0, 1, 2)) -> list[dict]:
    """Held-out agreement items: a sentence start up to its verb, with the right and the wrong verb form.

    Each item: {"clauses": k, "prefix": "\\nthe dogs that we saw in the park ", "right": "run again.",
    "wrong": "runs again.", "plural": 1}. A model passes an item when it finds the right continuation
    more likely than the wrong one; chance is 0.5. The prefix starts with a newline, as every sentence
    of make_text_corpus does.
    """
    # 20,000 per depth is about 30 MB of strings; more only fills memory (it grew to gigabytes)
    n_per_depth = _check_count("n_per_depth", n_per_depth, maximum=20_000)
    rng = np.random.default_rng(_check_seed(seed))
    items = []
    for k in depths:
        k = _check_count("clauses", k, 0, 10)
        for _ in range(n_per_depth):
            head, plural, verb, ending = _sentence_parts(rng, k)
            items.append(
                {
                    "clauses": k,
                    "prefix": f"\n{head} ",
                    "right": f"{verb[plural]}{ending}.",
                    "wrong": f"{verb[1 - plural]}{ending}.",
                    "plural": plural,
                }
            )
    return items


# ----------------------------------------------------------------------------- real MNIST (optional)
def load_mnist(
    kind: str = "mnist",
    split: str = "train",
    root: str | os.PathLike | None = None,
    download: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Real MNIST or Fashion-MNIST, only when asked for: needs torchvision and, the first time, a network.

    Files are cached in data/mnist/ (or `root`); later calls work offline.
    Returns x: (N, 1, 28, 28) float32 in [0, 1] and y: (N,) int64.
    """
    if kind not in ("mnist", "fashion"):
        raise ValueError(f"kind must be 'mnist' or 'fashion', got {kind!r}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    try:
        from torchvision import datasets
    except Exception as exc:  # ImportError, or torchvision built for another torch
        raise RuntimeError(
            "load_mnist needs torchvision, which is not usable here "
            f"({type(exc).__name__}: {exc}). The course does not need it: use make_digits28() "
            "for MNIST-like digits. To try anyway: pip install '.[mnist]'."
        ) from None
    root = Path(root) if root is not None else cache_dir() / "mnist"
    cls = datasets.MNIST if kind == "mnist" else datasets.FashionMNIST
    try:
        ds = cls(str(root), train=(split == "train"), download=download)
    except RuntimeError as exc:
        if not download:
            raise FileNotFoundError(
                f"{kind} is not cached in {root}. Call load_mnist({kind!r}, download=True) once "
                "with a network connection."
            ) from None
        raise RuntimeError(f"could not download {kind} into {root} (offline?): {exc}") from None
    except OSError as exc:
        raise RuntimeError(f"could not download {kind} into {root} (offline?): {exc}") from None
    x = ds.data.float().div(255.0)[:, None]
    return x, ds.targets.long()


# ----------------------------------------------------------------------------- the course's named datasets
# One place says which digits each lecture and each shipped checkpoint uses (pretrain.py uses them too),
# so a notebook's test set is never a checkpoint's training set.
GENERATIVE_DIGITS = {
    "n": 20_000,
    "seed": 1,
    "difficulty": 0.5,
}  # milder distortions: a 2D code holds all ten
SSL_DIGITS = {
    "unlabelled": {"n": 20_000, "seed": 10},
    "labelled": {"n": 10_000, "seed": 11},
    "test": {"n": 2_000, "seed": 12},
}
MOTION_CLIPS = {"n": 2_000, "frames": 8, "seed": 3}
# The pretext tasks of notebook 09, as the shipped self-supervised nets learned them: the side of the
# hidden square (inpainting), how many tile permutations (jigsaw), how many past frames (next frame),
# and the share of the labelled digits a linear probe may use.
PRETEXT_TASKS = {"mask": 12, "jigsaw_k": 24, "past_frames": 3, "probe_fraction": 0.1}
# The independent judge of the generators (course_lib.metrics): its own seed, never the data of a
# generator or of the course's LeNet; same distortions as the generators' digits.
JUDGE_DIGITS = {"n": 20_000, "seed": 777, "difficulty": GENERATIVE_DIGITS["difficulty"]}
# Text (notebook 08): the lecture's corpus (trained on live, last 10% held out), the shipped character
# LSTM's corpus (another seed, so the lecture's held-out text is new to it) and the agreement test.
TEXT_CORPORA = {
    "lecture": {"n": 3_000, "seed": 0},
    "pretrain": {"n": 20_000, "seed": 5},
    "agreement": {"n_per_depth": 300, "seed": 99},
}


def generative_digits(
    split: str = "train", n: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The digits of the generative lectures (04-07) and their checkpoints: split "train" (what the VAE,
    GANs and diffusion model trained on) or "test" (held out). n: how many (default 20,000 / 2,000)."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    spec = GENERATIVE_DIGITS
    n = n if n is not None else (spec["n"] if split == "train" else 2_000)
    return make_digits28(n, seed=spec["seed"] + (split == "test"), difficulty=spec["difficulty"])


def judge_digits(n: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The judge's training digits (course_lib.metrics): JUDGE_DIGITS, n of them (default 20,000)."""
    spec = JUDGE_DIGITS
    return make_digits28(
        spec["n"] if n is None else n, seed=spec["seed"], difficulty=spec["difficulty"]
    )


def ssl_digits(part: str, n: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The digits of notebooks 09-10: part "unlabelled" (pretext training), "labelled" (probes) or "test"."""
    if part not in SSL_DIGITS:
        raise ValueError(f"part must be one of {sorted(SSL_DIGITS)}, got {part!r}")
    spec = SSL_DIGITS[part]
    return make_digits28(spec["n"] if n is None else n, seed=spec["seed"])


def motion_clips(split: str = "train", n: int | None = None, factors: bool = False):
    """Moving-shapes clips of the next-frame task (notebook 09): "train" (the shipped net's) or "test"."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    spec = MOTION_CLIPS
    n = n if n is not None else (spec["n"] if split == "train" else 300)
    return make_moving_shapes(
        n, spec["frames"], seed=spec["seed"] + (split == "test"), factors=factors
    )


# ----------------------------------------------------------------------------- masks and resizing
def random_squares(b: int, h: int, w: int, size: int, generator, device) -> torch.Tensor:
    """(b, 1, h, w) bool: one size x size square per image at a random place. The random numbers come
    from a CPU generator (seeded, same on every machine); the mask is moved to `device`."""
    top = torch.randint(0, h - size + 1, (b,), generator=generator)[:, None, None]
    left = torch.randint(0, w - size + 1, (b,), generator=generator)[:, None, None]
    rows, cols = torch.arange(h)[None, :, None], torch.arange(w)[None, None, :]
    inside = (rows >= top) & (rows < top + size) & (cols >= left) & (cols < left + size)
    return inside[:, None].to(device)


def upscale_digits8(x: torch.Tensor) -> torch.Tensor:
    """Real 8x8 digits (N, 1, 8, 8) -> (N, 1, 28, 28) like the procedural ones: a 20x20 digit in a 4-pixel border."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or tuple(x.shape[1:]) != (1, 8, 8):
        raise ValueError(f"x must be 8x8 digits (N, 1, 8, 8), got {tuple(x.shape)}")
    big = F.interpolate(x, size=(20, 20), mode="bilinear", align_corners=False)
    big = big / big.amax((2, 3), keepdim=True).clamp(
        min=1e-6
    )  # full-strength strokes, as in the source data
    return F.pad(big, (4, 4, 4, 4))
