"""Live GAN training (notebooks 05 and 06): play / pause / step, learning rate, k, a timeline.

Training runs on a KernelPlayer (a background thread) while the view refreshes, so the buttons (and
other cells) keep working. A lock guards the trainer: the step button, the sliders and the thread
never touch it at the same time. `run(steps)` trains headless (tests, nbval).

The state (GANLabState) says which frame is shown: a timeline snapshot, or the live frame at the
right end of the timeline, which follows training. The timeline counts back from that end (0 is
live, -3 is three snapshots back), so its right end means "live" even while new snapshots arrive
(a person dragging to the end never lands on a snapshot taken meanwhile). `draw(state)` only looks frames up; they are
drawn (gan_view.render_gan_view) when a snapshot is taken or the live view refreshes.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace

import torch

from ..feedback import Budget
from ..train import GANTrainer
from .base import CourseWidget, FrameControl, Frames, KernelPlayer
from .gan_view import render_gan_view


@dataclass(frozen=True)
class TimelineFrame:
    step: int
    d_loss: float
    g_loss: float
    png: bytes


@dataclass(frozen=True)
class GANLabState:
    lr: float
    k: int
    timeline: int = 0  # 0: follow the live training; -k: the k-th snapshot back from the newest
    step: int = 0  # the training step of the live frame


class GANLab(CourseWidget):
    """Watch a GANTrainer learn. kind="2d" (needs real points) or "images" (fixed-noise samples).

    snapshot_every: a timeline snapshot every so many steps. While playing, the view refreshes when
    the training since the last refresh pays for it (feedback.Budget): drawing takes at most
    `draw_share` of the CPU time (10%), after at least `refresh_s` CPU seconds of training (on an
    idle machine, about that many seconds). A crowded machine trains at its fair share and
    refreshes less often.
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
        draw_share: float = 0.1,
        n_fixed: int = 64,
        labels: torch.Tensor | None = None,
    ):
        import threading

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
        self.snapshots: list[TimelineFrame] = []
        self.live_frame: TimelineFrame | None = None
        self.lock = threading.RLock()  # guards the trainer: thread, buttons and sliders take turns
        self.renders = 0
        self.budget = Budget(draw_share, min_work=refresh_s)
        self.state = GANLabState(trainer.lr, trainer.k, 0, trainer.steps)

        self.play = w.ToggleButton(
            value=False, description="play", icon="play", tooltip="train continuously"
        )
        self.player = KernelPlayer(
            self._play_step,
            button=self.play,
            on_start=self._follow,
            on_end=self._play_ended,
            name="gan-lab",
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
            readout=False,  # the status line says which step is shown
            continuous_update=True,
            layout=w.Layout(width="420px"),
        )
        self.status = w.HTML()
        self.image = w.Image(format="png", layout=w.Layout(width="360px"))
        self.step_button.on_click(lambda _: self.step())
        self.bind(self.lr, "lr", float)
        self.bind(self.k, "k", int)
        self.bind(self.timeline, "timeline", int)
        self.play.add_class("course-play")
        self.step_button.add_class("course-step")
        self.timeline.add_class("course-timeline")
        self._snapshot()
        self._record_live()
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
        return self.state.timeline >= 0

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

    def _frame_now(self) -> TimelineFrame:
        h = self.trainer.history
        return TimelineFrame(
            self.trainer.steps,
            h["d_loss"][-1] if h["d_loss"] else float("nan"),
            h["g_loss"][-1] if h["g_loss"] else float("nan"),
            self.render_live(),
        )

    def frame(self, state: GANLabState) -> TimelineFrame:
        """The frame a state shows: a snapshot, or the live frame at the right end."""
        if state.timeline < 0:
            return self.snapshots[max(len(self.snapshots) - 1 + state.timeline, 0)]
        return self.live_frame

    def draw(self, state: GANLabState) -> bytes:
        return self.frame(state).png

    def frames(self, budget_bytes: int = 2_000_000) -> Frames | None:
        """The timeline's snapshots and the frame at its end (a page without a kernel): evenly spaced
        ones, first and last kept, as many as fit in `budget_bytes` of PNG."""
        shots = list(self.snapshots)
        if self.live_frame is not None and (not shots or shots[-1].step != self.live_frame.step):
            shots.append(self.live_frame)
        if not shots:
            return None
        size = sum(len(s.png) for s in shots)
        keep = len(shots) if size <= budget_bytes else max(2, int(len(shots) * budget_bytes / size))
        index = sorted({round(i * (len(shots) - 1) / max(keep - 1, 1)) for i in range(keep)})
        shots = [shots[i] for i in index]
        return Frames(
            [FrameControl("training step", [s.step for s in shots], index=len(shots) - 1)],
            [s.png for s in shots],
            [
                f"step {s.step}: D loss {s.d_loss:.3f}, G loss {s.g_loss:.3f}"
                if s.step
                else "step 0: before training"
                for s in shots
            ],
            title="GAN training timeline: the snapshots of the run above",
        )

    def describe(self, state: GANLabState) -> str:
        frame = self.frame(state)
        if state.timeline < 0:
            return (
                f"timeline: step {frame.step} (D loss {frame.d_loss:.3f}, G loss {frame.g_loss:.3f}); "
                "move the slider to the right end to follow live training"
            )
        text = f"step {frame.step}"
        if frame.step:
            text += f" &mdash; D loss {frame.d_loss:.3f}, G loss {frame.g_loss:.3f}"
        text += f" &mdash; lr {state.lr:.1e}, k = {state.k}"
        if self.player.error:
            text += f" &mdash; <b style='color:#b00'>stopped: {html.escape(self.player.error)}</b>"
        return text

    def after_redraw(self) -> None:
        self.renders += 1
        self.status.value = self.describe(self.state)

    def _record_live(self) -> None:
        """Draw the live frame from the models as they are now."""
        self.live_frame = self._frame_now()
        self.state = replace(self.state, step=self.live_frame.step)

    def refresh(self) -> None:
        """Follow training: a new live frame, if the timeline is at its right end (a view scrubbed
        back keeps its snapshot, and the frame is drawn when the timeline comes back)."""
        with self.lock:
            following = self.live
            if following:
                self._record_live()
        if following:
            self.redraw()
        else:
            self.status.value = self.describe(self.state)

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
            if "timeline" in changes and self.live:  # back at the right end: the models as they are
                self._record_live()
        self.redraw()

    def _follow(self) -> None:
        """Put the timeline at its right end (live), without the slider's own event redrawing."""
        with self.quietly():
            self.timeline.value = 0
        self.state = replace(self.state, timeline=0)

    def _snapshot(self) -> None:
        self.snapshots.append(self._frame_now())
        with self.quietly():
            self.timeline.min = -(len(self.snapshots) - 1)
            if not self.live:  # a view scrubbed back keeps showing the same snapshot
                self.timeline.value = self.state.timeline - 1
                self.state = replace(self.state, timeline=self.state.timeline - 1)

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
        with self.lock:
            self._record_live()
        self.redraw()

    def run(self, steps: int) -> dict:
        """Headless training (tests, nbval): `steps` rounds, snapshots included, then one refresh."""
        for _ in range(steps):
            self._train_one()
        self.refresh()
        return self.trainer.history

    def _play_step(self) -> bool:
        self._train_one()
        if self.budget.due():
            with self.budget.drawing():
                self.refresh()
        return True

    def _play_ended(self, error: str | None) -> None:
        self.refresh()

    def start(self) -> None:
        """Start training in a background thread (what pressing play does); never a second thread."""
        self.player.start()

    def pause(self, timeout: float = 10.0) -> bool:
        """Stop the thread after the round in progress (the models stay consistent) and wait for it.
        Returns True once training has stopped (see KernelPlayer.pause)."""
        return self.player.pause(timeout)

    @property
    def playing(self) -> bool:
        return self.player.playing

    @property
    def error(self) -> str | None:
        return self.player.error
