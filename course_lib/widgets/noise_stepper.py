"""Diffusion noise stepper (notebook 07): forward noising and the reverse sampling chain.

    Forward: pick an image; a t slider shows x_t, the noise level and the SNR.
    Reverse: start from noise; a slider (with play / step) walks the sampling chain, showing x_t
             and the model's predicted x0 side by side. The chain is computed once per sample
             and cached, so moving back and forth only re-encodes cached tensors.

Works with any denoiser eps_theta(x_t, t) and any `NoiseSchedule` from course_lib.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, replace

import torch

from ..models.diffusion import NoiseSchedule, sample
from .base import (
    CourseWidget,
    FrameControl,
    Frames,
    KernelPlayer,
    annotate,
    png_grid,
    stack_png,
    sweep,
    working,
)


@dataclass(frozen=True)
class StepperState:
    image: int = 0  # forward: which image
    t: int = 0  # forward: 0 = clean, T = fully noised
    noise_seed: int = 0  # forward: which noise
    position: int = 0  # reverse: 0 = pure noise ... T = finished sample
    sample_seed: int = 0  # reverse: which chain


def forward_image(
    schedule: NoiseSchedule, images: torch.Tensor, state: StepperState
) -> torch.Tensor:
    """x_t of images[state.image] in [0, 1]: t = 0 is the clean image, t = k applies k noising steps."""
    if not 0 <= state.image < len(images):
        raise ValueError(f"image index must be in [0, {len(images) - 1}], got {state.image}")
    if not 0 <= state.t <= schedule.T:
        raise ValueError(f"t must be in [0, {schedule.T}], got {state.t}")
    x0 = images[state.image : state.image + 1] * 2 - 1
    if state.t == 0:
        xt = x0
    else:
        noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(state.noise_seed))
        xt = schedule.add_noise(x0, noise, state.t - 1)
    return ((xt + 1) / 2).clamp(0, 1)


def forward_caption(schedule: NoiseSchedule, t: int) -> str:
    if t == 0:
        return "t = 0: the clean image (signal only)"
    ab = schedule.alpha_bars[t - 1].item()
    snr_db = 10 * math.log10(ab / (1 - ab))
    return (
        f"t = {t} of {schedule.T}: x_t = {math.sqrt(ab):.3f} x_0 + {math.sqrt(1 - ab):.3f} noise; "
        f"SNR = {ab / (1 - ab):.3g} ({snr_db:+.1f} dB)"
    )


def render_forward(
    schedule: NoiseSchedule, images: torch.Tensor, state: StepperState, scale: int = 7
) -> bytes:
    clean = images[state.image : state.image + 1]
    return png_grid(torch.cat([clean, forward_image(schedule, images, state)]), nrow=2, scale=scale)


def reverse_frames(chain, position: int) -> torch.Tensor:
    """(2 * n, 1, H, W): the chain's x_t and its predicted x0 at `position`, mapped to [0, 1]."""
    ts, xs, x0s = chain
    if not 0 <= position < len(xs):
        raise ValueError(f"position must be in [0, {len(xs) - 1}], got {position}")
    x = xs[position]
    x0 = x0s[min(position, len(x0s) - 1)] if position < len(x0s) else xs[-1]
    return ((torch.cat([x, x0]) + 1) / 2).clamp(0, 1)


def render_reverse(chain, position: int, scale: int = 5) -> bytes:
    frames = reverse_frames(chain, position)
    return png_grid(frames, nrow=len(frames) // 2, scale=scale)


class NoiseStepper(CourseWidget):
    """model: a denoiser eps(x_t, t); schedule: its NoiseSchedule; images: (N, 1, H, W) in [0, 1] to noise.

    Two pictures follow one state: the forward tab (image, t, noise_seed) and the reverse tab
    (position, sample_seed); `draw` is the reverse picture, `draw_forward` the forward one.
    """

    css_class = "course-noise-stepper"
    MAX_CHAINS = (
        8  # cached sampling chains (each T steps of n_samples images); older ones are dropped
    )

    def __init__(self, model, schedule: NoiseSchedule, images: torch.Tensor, n_samples: int = 4):
        import ipywidgets as w

        if not isinstance(schedule, NoiseSchedule):
            raise TypeError(
                f"schedule must be a course_lib NoiseSchedule, got {type(schedule).__name__}"
            )
        if images.ndim != 4 or images.shape[1] != 1:
            raise ValueError(f"images must have shape (N, 1, H, W), got {tuple(images.shape)}")
        self.model, self.schedule, self.images, self.n_samples = model, schedule, images, n_samples
        self.state = StepperState()
        self._chains: OrderedDict[int, tuple] = OrderedDict()
        T = schedule.T
        # forward
        self.f_image = w.IntSlider(
            value=0, min=0, max=len(images) - 1, description="image", continuous_update=True
        )
        self.f_t = w.IntSlider(value=0, min=0, max=T, description="t", continuous_update=True)
        self.f_noise = w.Button(description="new noise", icon="refresh")
        self.f_view = w.Image(format="png", value=self.draw_forward(self.state))
        self.f_caption = w.HTML(forward_caption(schedule, 0))
        self.bind(self.f_image, "image", int)
        self.bind(self.f_t, "t", int)
        self.f_noise.on_click(lambda _: self.set(noise_seed=self.state.noise_seed + 1))
        forward = w.VBox(
            [
                w.HBox([self.f_image, self.f_noise]),
                self.f_t,
                w.HTML("clean x_0 &nbsp;|&nbsp; noised x_t"),
                self.f_view,
                self.f_caption,
            ]
        )
        # reverse
        self.r_pos = w.IntSlider(
            value=0,
            min=0,
            max=T,
            description="step",
            continuous_update=True,
            layout=w.Layout(width="420px"),
        )
        # Play runs in the kernel (a small thread moves the step slider), so what the button shows is
        # what happens: it plays to the end of the chain, then pops back up; pressing it pauses.
        self.r_play = w.ToggleButton(
            value=False,
            description="play",
            icon="play",
            tooltip="play the reverse chain to the end",
        )
        self.r_play.add_class("course-stepper-play")
        self.player = KernelPlayer(
            self._play_step,
            button=self.r_play,
            interval_s=self.PLAY_INTERVAL_S,
            on_start=self._rewind_at_end,
            name="stepper-play",
        )
        self.r_step = w.Button(description="step", icon="step-forward")
        self.r_new = w.Button(description="new sample", icon="random")
        self.image = self.r_view = w.Image(format="png")  # the image benchmarks watch by default
        self.caption = self.r_caption = w.HTML()
        self.bind(self.r_pos, "position", int)
        self.r_step.on_click(lambda _: self.step())
        self.r_new.on_click(lambda _: self.new_sample())
        reverse = w.VBox(
            [
                w.HBox([self.r_play, self.r_step, self.r_new]),
                self.r_pos,
                w.HTML(
                    f"top: x_t for {n_samples} samples &nbsp;|&nbsp; bottom: the model's predicted x_0"
                ),
                self.r_view,
                self.r_caption,
            ]
        )
        self.f_view.add_class("course-image")
        self.f_t.add_class("course-slider")
        self.r_pos.add_class("course-reverse-slider")
        view = w.Tab(children=[forward, reverse])
        view.set_title(0, "forward: add noise")
        view.set_title(1, "reverse: sample")
        self.finish(view)
        self.r_view.remove_class(
            "course-image"
        )  # the forward picture is the one the slider tests watch
        self.r_view.add_class("course-reverse-image")

    # ------------------------------------------------------------------ chain cache
    def chain(self, seed: int | None = None):
        """The sampling chain for a seed, computed once (T denoiser calls) and then cached (at most MAX_CHAINS)."""
        seed = self.state.sample_seed if seed is None else seed
        if seed in self._chains:
            self._chains.move_to_end(seed)
        else:
            _, chain = sample(
                self.model,
                self.schedule,
                self.n_samples,
                generator=torch.Generator().manual_seed(seed),
                shape=tuple(self.images.shape[1:]),
                return_chain=True,
            )
            self._chains[seed] = chain
            while len(self._chains) > self.MAX_CHAINS:
                self._chains.popitem(last=False)
        return self._chains[seed]

    # ------------------------------------------------------------------ drawing (pure in the state, given the cache)
    def draw(self, state: StepperState) -> bytes:
        return render_reverse(self.chain(state.sample_seed), state.position)

    def draw_forward(self, state: StepperState) -> bytes:
        return render_forward(self.schedule, self.images, state)

    def describe(self, state: StepperState) -> str:
        k, T = state.position, self.schedule.T
        if k == T:
            return f"step {T} of {T}: the finished samples (t = 0)"
        return f"step {k} of {T}: x_t at t = {T - k}; the model predicts the clean x_0 below"

    def render_forward(self) -> bytes:
        return self.draw_forward(self.state)

    def frames(self) -> Frames:
        """The tab shown now at every step, for a page without a kernel: the forward tab at every t
        (the image and noise shown now), or the reverse tab at every step of the chain shown now
        (already computed: no new denoiser calls)."""
        T = self.schedule.T
        if self.view is not None and self.view.selected_index == 1:
            chain = self.chain(self.state.sample_seed)
            return sweep(  # scale 4: the 201 pictures stay under 3 MB
                lambda s: render_reverse(chain, s.position, scale=4),
                self.state,
                [("position", FrameControl("step", list(range(T + 1))))],
                caption=self.describe,
                title=f"reverse: sample (top: x_t for {self.n_samples} samples, bottom: the model's x_0)",
            )
        return sweep(
            lambda s: render_forward(self.schedule, self.images, s, scale=5),
            self.state,
            [("t", FrameControl("t", list(range(T + 1))))],
            caption=lambda s: forward_caption(self.schedule, s.t),
            title="forward: add noise (left: the clean x_0, right: the noised x_t)",
        )

    def render_reverse(self) -> bytes:
        return self.render()

    def snapshot_png(self) -> bytes:
        # for exports: both tabs as they are now - the forward picture above the reverse chain
        t, k, T = self.state.t, self.state.position, self.schedule.T
        forward = annotate(self.render_forward(), columns=["clean x_0", f"forward: x_t at t = {t}"])
        reverse = annotate(
            self.render_reverse(),
            columns=[f"reverse chain, step {k} of {T} (t = {T - k})"],
            rows=["x_t", "model's x_0"],
        )
        return stack_png(forward, reverse)

    # ------------------------------------------------------------------ actions
    def step(self) -> None:
        """One reverse step (what the step button does)."""
        self.r_pos.value = min(self.r_pos.value + 1, self.schedule.T)

    def new_sample(self) -> None:
        """A new chain (the "new sample" button): T denoiser calls, one to three seconds; the button and
        the caption say so while it runs."""
        self.r_caption.value = f"sampling a new chain ({self.schedule.T} denoiser calls)..."
        with working(self.r_new, "sampling..."):
            self.set(sample_seed=self.state.sample_seed + 1)

    # ------------------------------------------------------------------ play (kernel-side)
    PLAY_STEP, PLAY_INTERVAL_S = 2, 0.05  # 2 chain steps every 50 ms: T=200 plays in 5 s

    @property
    def playing(self) -> bool:
        return self.player.playing

    def play(self) -> None:
        """Walk the reverse chain from the current step to the end (from the start if at the end)."""
        self.player.start()

    def pause(self, timeout: float = 5.0) -> None:
        self.player.pause(timeout)

    def _rewind_at_end(self) -> None:
        if self.r_pos.value >= self.schedule.T:
            self.r_pos.value = 0

    def _play_step(self) -> bool:
        position = min(self.r_pos.value + self.PLAY_STEP, self.schedule.T)
        self.r_pos.value = position  # -> set(position=...) -> the picture and caption
        return position < self.schedule.T

    def set(self, **changes) -> None:
        """Redraw only the tab whose fields changed (each picture is about a millisecond)."""
        self.state = replace(self.state, **changes)
        if {"image", "t", "noise_seed"} & set(changes):
            self.f_view.value = self.render_forward()
            self.f_caption.value = forward_caption(self.schedule, self.state.t)
        if {"position", "sample_seed"} & set(changes):
            self.r_view.value = self.render_reverse()
            self.r_caption.value = self.describe(self.state)
