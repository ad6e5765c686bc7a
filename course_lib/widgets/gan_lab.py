"""Live GAN training view (notebooks 05 and 06): play / pause / step, learning rate, k, a timeline.

Training runs in a background thread while the view refreshes a few times per second, so the
buttons (and other cells) keep working. A lock guards the trainer: the step button, the sliders
and the thread never touch it at the same time. `run(steps)` trains headless (tests, nbval).

The picture is drawn with numpy + PIL, not matplotlib (a few ms per frame):
  2D toys: the discriminator's decision surface (green = "real", purple = "fake"), real points
           (green), generated points (purple) and the gradient arrows D gives the generator;
  images:  samples from a fixed noise batch;
and under it the D and G loss curves.
"""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont

from .. import eval_mode, model_device
from ..models.gan import generator_loss
from ..plot import make_grid
from ..train import GANTrainer
from .base import CourseWidget

_REAL = np.array([27, 158, 119], np.float32)  # green
_FAKE = np.array([117, 112, 179], np.float32)  # purple


@dataclass
class Snapshot:
    step: int
    d_loss: float
    g_loss: float
    png: bytes


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _font(size: int = 13):
    """A readable font (Pillow's bundled one, scalable since Pillow 10.1); the bitmap default otherwise."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # pragma: no cover - old Pillow
        return ImageFont.load_default()


def loss_chart(history: dict, width: int = 320, height: int = 130, last: int = 600) -> Image.Image:
    """D and G loss curves (the last `last` steps, lightly smoothed) with a y axis, as a PIL image."""
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    font, small = _font(13), _font(11)
    d = np.asarray(history["d_loss"][-last:], float)
    g = np.asarray(history["g_loss"][-last:], float)
    draw.text((40, 2), "D loss", fill=(40, 40, 40), font=font)
    draw.text((100, 2), "G loss", fill=tuple(_FAKE.astype(int)), font=font)
    if len(d) < 2:
        draw.text((40, height // 2), "no training steps yet", fill=(120, 120, 120), font=font)
        return img
    top = float(np.nanmax(np.concatenate([d, g]))) * 1.05 + 1e-6
    steps = history["step"][-last:]
    left, bottom, y_top = 36, height - 18, 20  # the plot area
    # axes with values: 0 and the top of the y axis, the first and last step on the x axis
    draw.line([(left, y_top), (left, bottom), (width - 2, bottom)], fill=(150, 150, 150))
    draw.text((2, bottom - 7), "0", fill=(90, 90, 90), font=small)
    draw.text((2, y_top - 6), f"{top:.2g}", fill=(90, 90, 90), font=small)
    draw.text((left, bottom + 3), f"step {steps[0]}", fill=(90, 90, 90), font=small)
    label = f"step {steps[-1]}"
    draw.text(
        (width - 4 - draw.textlength(label, font=small), bottom + 3),
        label,
        fill=(90, 90, 90),
        font=small,
    )
    for series, colour in ((d, (40, 40, 40)), (g, tuple(_FAKE.astype(int)))):
        k = min(10, len(series))
        sm = np.convolve(series, np.ones(k) / k, mode="valid")
        xs = np.linspace(left + 2, width - 3, len(sm))
        ys = bottom - (sm / top) * (bottom - y_top)
        draw.line(list(zip(xs.tolist(), ys.tolist())), fill=colour, width=2)
    return img


def _legend(draw: ImageDraw.ImageDraw, size: int) -> None:
    """What the colours of the 2D game mean, in its bottom-left corner."""
    font = _font(12)
    items = [
        ("real data", tuple(_REAL.astype(int) - 20), "dot"),
        ("generated", tuple(_FAKE.astype(int) - 40), "dot"),
        ("where G pushes its points", (60, 60, 60), "line"),
    ]
    x0, y0 = 6, size - 6 - 16 * len(items) - 16
    draw.rectangle(
        [x0 - 3, y0 - 3, x0 + 178, size - 4], fill=(255, 255, 255), outline=(190, 190, 190)
    )
    for i, (text, colour, mark) in enumerate(items):
        y = y0 + 16 * i + 7
        if mark == "dot":
            draw.ellipse([x0 + 3, y - 3, x0 + 9, y + 3], fill=colour)
        else:
            draw.line([(x0 + 1, y), (x0 + 11, y)], fill=colour, width=2)
        draw.text((x0 + 16, y - 7), text, fill=(40, 40, 40), font=font)
    y = y0 + 16 * len(items) + 7
    draw.text((x0, y - 7), "background: D(x), green = says real", fill=(40, 40, 40), font=font)


def _surface(D, extent, res, device):
    lo, hi = extent
    xs = torch.linspace(lo, hi, res)
    gy, gx = torch.meshgrid(torch.linspace(hi, lo, res), xs, indexing="ij")
    grid = torch.stack([gx.flatten(), gy.flatten()], 1).to(device)
    with eval_mode(D):
        return torch.sigmoid(D(grid)).reshape(res, res).cpu().numpy()


def render_game(
    G,
    D,
    real: torch.Tensor,
    noise: torch.Tensor,
    extent=(-3.0, 3.0),
    size: int = 320,
    arrows: int = 40,
    res: int = 48,
) -> Image.Image:
    """The 2D game: decision surface, real and generated points, and the generator's gradient arrows."""
    device = model_device(G)
    p = _surface(D, extent, res, device)
    colours = (1 - p)[..., None] * _FAKE + p[..., None] * _REAL
    colours = 255 - 0.45 * (255 - colours)  # light background, so the points stand out
    img = Image.fromarray(colours.astype(np.uint8)).resize((size, size), Image.BILINEAR)
    draw = ImageDraw.Draw(img)
    lo, hi = extent

    def to_px(pts):
        pts = pts.detach().cpu().numpy()
        return np.stack(
            [(pts[:, 0] - lo) / (hi - lo) * size, (hi - pts[:, 1]) / (hi - lo) * size], 1
        )

    for x, y in to_px(real):
        draw.ellipse([x - 1.5, y - 1.5, x + 1.5, y + 1.5], fill=tuple(_REAL.astype(int) - 20))
    with eval_mode(G):
        fake = G(noise.to(device))
    for x, y in to_px(fake):
        draw.ellipse([x - 1.5, y - 1.5, x + 1.5, y + 1.5], fill=tuple(_FAKE.astype(int) - 40))
    # where would the generator like to move its points? minus the gradient of its loss
    pts = fake[:arrows].clone().requires_grad_(True)
    with eval_mode(D, grad=True), torch.enable_grad():
        (grad,) = torch.autograd.grad(generator_loss(D(pts)), pts)
    direction = -F.normalize(grad, dim=1) * 0.25
    starts, ends = to_px(pts.detach()), to_px(pts.detach() + direction)
    for (x0, y0), (x1, y1) in zip(starts, ends):
        draw.line([(x0, y0), (x1, y1)], fill=(60, 60, 60), width=1)
        draw.ellipse([x1 - 1, y1 - 1, x1 + 1, y1 + 1], fill=(60, 60, 60))
    _legend(draw, size)
    return img


def render_samples(
    G, noise: torch.Tensor, labels=None, size: int = 320, nrow: int = 8
) -> Image.Image:
    """A grid of generated images from a fixed noise batch (and labels, for a conditional G)."""
    with eval_mode(G):
        images = G(noise) if labels is None else G(noise, labels)
    grid = make_grid(images.cpu(), nrow=nrow, pad=1, pad_value=0.3)
    return Image.fromarray((grid * 255).clip(0, 255).astype(np.uint8)).resize(
        (size, size), Image.NEAREST
    )


def render_gan_view(
    kind: str, G, D, history: dict, real, noise, extent=(-3.0, 3.0), labels=None
) -> bytes:
    """The live picture as PNG bytes, a pure function of the models and the loss history:
    the 2D game (kind="2d") or fixed-noise samples (kind="images"), with the loss chart under it."""
    top = (
        render_game(G, D, real, noise, extent) if kind == "2d" else render_samples(G, noise, labels)
    )
    chart = loss_chart(history, width=top.width)
    img = Image.new("RGB", (top.width, top.height + chart.height), "white")
    img.paste(top, (0, 0))
    img.paste(chart, (0, top.height))
    return _png(img)


@dataclass(frozen=True)
class GANLabState:
    lr: float
    k: int
    timeline: int = 0  # which snapshot is shown; the last one follows the live training


class GANLab(CourseWidget):
    """Watch a GANTrainer learn. kind="2d" (needs real points) or "images" (fixed-noise samples).

    snapshot_every: a timeline snapshot every so many steps; refresh_s: seconds between view refreshes
    while playing. The state (GANLabState) holds the settings and the timeline position; the picture
    is render_gan_view of the models (live) or a stored snapshot (scrubbed back).
    """

    css_class = "course-gan-lab"

    def __init__(
        self,
        trainer: GANTrainer,
        kind: str = "2d",
        real_points: torch.Tensor | None = None,
        extent=(-3.0, 3.0),
        snapshot_every: int = 50,
        refresh_s: float = 0.15,
        n_fixed: int = 64,
        labels: torch.Tensor | None = None,
    ):
        import ipywidgets as w

        if kind not in ("2d", "images"):
            raise ValueError(f"kind must be '2d' or 'images', got {kind!r}")
        if kind == "2d" and real_points is None:
            raise ValueError("kind='2d' needs real_points (N, 2) to draw")
        self.trainer, self.kind, self.extent = trainer, kind, extent
        self.real = real_points[:400] if real_points is not None else None
        self.fixed_noise = trainer.noise(400 if kind == "2d" else n_fixed)
        self.labels = labels
        self.snapshot_every, self.refresh_s = snapshot_every, refresh_s
        self.snapshots: list[Snapshot] = []
        self.lock = threading.RLock()  # guards the trainer: thread, buttons and sliders take turns
        self._control = threading.Lock()  # start / pause / stop: one at a time, never two threads
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._quiet = False  # True while the code (not a person) moves a control
        self.renders = 0
        self.error: str | None = None
        self.state = GANLabState(trainer.lr, trainer.k, 0)

        self.play = w.ToggleButton(
            value=False, description="play", icon="play", tooltip="train continuously"
        )
        self.step_button = w.Button(
            description="step", icon="step-forward", tooltip="one training round"
        )
        wide = {"description_width": "initial"}
        self.lr = w.FloatLogSlider(
            value=trainer.lr,
            base=10,
            min=-4.5,
            max=-1.5,
            step=0.25,
            description="learning rate",
            readout_format=".1e",
            style=wide,
        )
        self.k = w.IntSlider(value=trainer.k, min=1, max=5, description="k (D steps)", style=wide)
        self.timeline = w.IntSlider(
            value=0,
            min=0,
            max=0,
            description="timeline",
            continuous_update=True,
            layout=w.Layout(width="420px"),
        )
        self.status = w.HTML()
        self.image = w.Image(format="png", layout=w.Layout(width="360px"))
        self.play.observe(self._on_play, names="value")
        self.step_button.on_click(lambda _: self.step())
        self.lr.observe(lambda ch: self.set(lr=float(ch["new"])), names="value")
        self.k.observe(lambda ch: self.set(k=int(ch["new"])), names="value")
        self.timeline.observe(
            lambda ch: None if self._quiet else self.set(timeline=int(ch["new"])), names="value"
        )
        self.play.add_class("course-play")
        self.step_button.add_class("course-step")
        self.timeline.add_class("course-timeline")
        self._snapshot()
        self.finish(
            w.VBox(
                [
                    w.HBox([self.play, self.step_button, self.lr, self.k]),
                    self.timeline,
                    self.image,
                    self.status,
                ]
            )
        )

    # ------------------------------------------------------------------ drawing
    @property
    def live(self) -> bool:
        """Whether the view follows training (the timeline at its right end)."""
        return self.state.timeline >= len(self.snapshots) - 1

    def render_live(self) -> bytes:
        """The picture of the models as they are now."""
        with self.lock:
            return render_gan_view(
                self.kind,
                self.trainer.G,
                self.trainer.D,
                self.trainer.history,
                self.real,
                self.fixed_noise,
                self.extent,
                self.labels,
            )

    def draw(self, state: GANLabState) -> bytes:
        if state.timeline < len(self.snapshots) - 1:
            return self.snapshots[state.timeline].png
        return self.render_live()

    def snapshot_png(self) -> bytes:
        return self.render()

    def _status_text(self) -> str:
        if not self.live:
            snap = self.snapshots[self.state.timeline]
            return (
                f"timeline: step {snap.step} (D loss {snap.d_loss:.3f}, G loss {snap.g_loss:.3f}); "
                "move the slider to the right end to follow live training"
            )
        h = self.trainer.history
        text = f"step {self.trainer.steps}"
        if h["d_loss"]:
            text += f" &mdash; D loss {h['d_loss'][-1]:.3f}, G loss {h['g_loss'][-1]:.3f}"
        text += f" &mdash; lr {self.trainer.lr:.1e}, k = {self.trainer.k}"
        if self.error:
            text += f" &mdash; <b style='color:#b00'>stopped: {self.error}</b>"
        return text

    def describe(self, state: GANLabState) -> str:
        return self._status_text()

    def after_redraw(self) -> None:
        self.renders += 1
        self.status.value = self._status_text()

    def refresh(self) -> None:
        """Redraw if the view follows training (a scrubbed-back view keeps its snapshot)."""
        if self.live:
            self.redraw()
        else:
            self.status.value = self._status_text()

    def set(self, **changes) -> None:
        with self.lock:
            if "lr" in changes:
                self.trainer.set_lr(float(changes["lr"]))
            if "k" in changes:
                self.trainer.set_k(int(changes["k"]))
            self.state = replace(
                self.state,
                lr=self.trainer.lr,
                k=self.trainer.k,
                **{k: v for k, v in changes.items() if k == "timeline"},
            )
        self.redraw()

    def _follow(self) -> None:
        """Put the timeline at its right end (live), without the slider's own event redrawing."""
        self._quiet = True
        try:
            self.timeline.max = len(self.snapshots) - 1
            self.timeline.value = self.timeline.max
        finally:
            self._quiet = False
        self.state = replace(self.state, timeline=len(self.snapshots) - 1)

    def _snapshot(self) -> None:
        h = self.trainer.history
        following = self.live
        self.snapshots.append(
            Snapshot(
                self.trainer.steps,
                h["d_loss"][-1] if h["d_loss"] else float("nan"),
                h["g_loss"][-1] if h["g_loss"] else float("nan"),
                self.render_live(),
            )
        )
        self._quiet = True
        try:
            self.timeline.max = len(self.snapshots) - 1
        finally:
            self._quiet = False
        if following:
            self._follow()

    # ------------------------------------------------------------------ training
    def _train_one(self) -> None:
        with self.lock:
            self.trainer.train_step()
            if self.trainer.steps % self.snapshot_every == 0:
                self._snapshot()

    def step(self) -> None:
        """One training round now (the step button); the view jumps to live, so you see that step."""
        self._train_one()
        self._follow()
        self.redraw()

    def run(self, steps: int) -> dict:
        """Headless training (tests, nbval): `steps` rounds, snapshots included, then one refresh."""
        for _ in range(steps):
            self._train_one()
        self.refresh()
        return self.trainer.history

    def _loop(self) -> None:
        last = 0.0
        try:
            while not self._stop.is_set():
                self._train_one()
                now = time.monotonic()
                if now - last >= self.refresh_s:
                    last = now
                    self.refresh()
        except (
            Exception
        ) as exc:  # keep the models consistent (the trainer rolls the round back) and say why
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.refresh()
            if threading.current_thread() is self._thread:
                self._show_playing(False)

    def _show_playing(self, playing: bool) -> None:
        """Make the play button show the real state, without its own event starting or pausing anything."""
        self._quiet = True
        try:
            self.play.value = playing
            self.play.description, self.play.icon = (
                ("pause", "pause") if playing else ("play", "play")
            )
        finally:
            self._quiet = False

    def _on_play(self, change) -> None:
        if self._quiet:
            return
        if change["new"]:
            self.start()
        else:
            self.pause()

    def start(self) -> None:
        """Start training in a background thread (what pressing play does); never a second thread."""
        with self._control:
            if self._thread is not None and self._thread.is_alive():
                self._show_playing(True)
                return
            self.error = None
            self._stop.clear()
            self._follow()
            self._thread = threading.Thread(target=self._loop, daemon=True, name="gan-lab")
            self._show_playing(True)
            self._thread.start()

    def pause(self, timeout: float = 10.0) -> bool:
        """Stop the thread after the round in progress (the models stay consistent) and wait for it.

        Returns True once training has stopped; False (with a warning) if the round in progress did not
        finish within `timeout` seconds - the thread still stops after it, and start() will not run a second.
        """
        with self._control:
            self._stop.set()
            thread = self._thread
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout)
            stopped = (
                thread is None or not thread.is_alive() or thread is threading.current_thread()
            )
            if stopped:
                self._thread = None
            self._show_playing(False)
        if not stopped:
            import warnings

            warnings.warn(
                f"GANLab.pause: the training round in progress did not finish within {timeout} s; "
                "training stops after it",
                RuntimeWarning,
                stacklevel=2,
            )
        return stopped

    @property
    def playing(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
