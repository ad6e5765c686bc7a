"""Interactive views. Each widget keeps its state in a small object and renders through a pure
function (state -> PNG bytes) that tests call without a browser; base.py holds what they share
(the widget shape, the PNG encoder, the KernelPlayer behind every play button)."""

from .base import CourseWidget, KernelPlayer, encode_png, png_bytes, png_grid
from .class_control import ClassControl, ClassState, render_class_control
from .dataset_browser import BrowserState, DatasetBrowser, render_browser
from .denoise_view import DenoiseState, DenoiseView, render_denoise
from .dropout_view import DropoutState, DropoutView, render_dropout
from .gan_lab import GANLab
from .kernel_view import PRESETS, KernelState, KernelView, render_kernel
from .latent_explorer import (
    InterpolationState,
    InterpolationView,
    LatentExplorer,
    LatentState,
    interpolation_row,
    render_interpolation,
    render_latent,
)
from .noise_stepper import NoiseStepper, StepperState, render_forward, render_reverse
from .picture_slider import PictureSlider, PictureState
from .pretext_view import PretextState, PretextView, render_pretext
from .transfer_lab import TransferLab, TransferState, render_runs

__all__ = [
    "PictureSlider",
    "PictureState",
    "CourseWidget",
    "KernelPlayer",
    "encode_png",
    "png_bytes",
    "png_grid",
    "DatasetBrowser",
    "BrowserState",
    "render_browser",
    "DropoutView",
    "DropoutState",
    "render_dropout",
    "DenoiseView",
    "DenoiseState",
    "render_denoise",
    "LatentExplorer",
    "LatentState",
    "render_latent",
    "InterpolationView",
    "InterpolationState",
    "render_interpolation",
    "interpolation_row",
    "NoiseStepper",
    "StepperState",
    "render_forward",
    "render_reverse",
    "GANLab",
    "ClassControl",
    "ClassState",
    "render_class_control",
    "KernelView",
    "KernelState",
    "render_kernel",
    "PRESETS",
    "PretextView",
    "PretextState",
    "render_pretext",
    "TransferLab",
    "TransferState",
    "render_runs",
]
