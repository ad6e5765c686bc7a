"""Kernel explorer (notebook 02): pick or edit a 3x3 kernel, see the filtered image.

state  -> KernelState(kernel: 9 floats, row-major)
render -> render_kernel(image, state) -> PNG bytes: input | output (valid convolution, 2 px smaller)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .base import CourseWidget, png_grid, refuse_non_finite

PRESETS = {
    "identity": (0, 0, 0, 0, 1, 0, 0, 0, 0),
    "blur (box)": tuple([1 / 9] * 9),
    "blur (Gaussian)": (1 / 16, 2 / 16, 1 / 16, 2 / 16, 4 / 16, 2 / 16, 1 / 16, 2 / 16, 1 / 16),
    "sharpen": (0, -1, 0, -1, 5, -1, 0, -1, 0),
    "vertical edges (Sobel x)": (-1, 0, 1, -2, 0, 2, -1, 0, 1),
    "horizontal edges (Sobel y)": (-1, -2, -1, 0, 0, 0, 1, 2, 1),
    "outline (Laplacian)": (0, 1, 0, 1, -4, 1, 0, 1, 0),
    "emboss": (-2, -1, 0, -1, 1, 1, 0, 1, 2),
}


@dataclass(frozen=True)
class KernelState:
    kernel: tuple = PRESETS["vertical edges (Sobel x)"]


def apply_kernel(image: torch.Tensor, kernel) -> torch.Tensor:
    """Valid cross-correlation of a (H, W) image with a 3x3 kernel (9 numbers) -> (H-2, W-2)."""
    k = torch.as_tensor(kernel, dtype=torch.float32)
    if k.numel() != 9:
        raise ValueError(f"kernel must have 9 numbers (3x3), got {k.numel()}")
    if image.ndim != 2:
        raise ValueError(f"image must be 2D (H, W), got shape {tuple(image.shape)}")
    return F.conv2d(image[None, None].float(), k.view(1, 1, 3, 3))[0, 0]


def render_kernel(image: torch.Tensor, state: KernelState, scale: int = 8) -> bytes:
    """Input and output side by side. Outputs with negative values are shown with grey = 0."""
    out = apply_kernel(image, state.kernel)
    if out.min() < 0:
        shown = 0.5 + out / (2 * out.abs().max().clamp(min=1e-6))
    else:
        shown = out.clamp(0, 1)
    padded = F.pad(shown, (1, 1, 1, 1), value=0.35)  # back to the input's size, for the grid
    return png_grid(torch.stack([image.float(), padded]), nrow=2, scale=scale)


class KernelView(CourseWidget):
    """image: (H, W) in [0, 1]. A preset menu and nine number boxes edit the kernel."""

    def __init__(self, image: torch.Tensor, preset: str = "vertical edges (Sobel x)"):
        import ipywidgets as w

        if preset not in PRESETS:
            raise ValueError(f"preset must be one of {list(PRESETS)}, got {preset!r}")
        if not isinstance(image, torch.Tensor) or image.ndim != 2:
            raise ValueError("image must be a 2D tensor (H, W)")
        self.input = image.detach().float().cpu()
        self.state = KernelState(PRESETS[preset])
        self.menu = w.Dropdown(options=list(PRESETS), value=preset, description="kernel")
        self.cells = [
            w.FloatText(value=round(v, 4), step=0.5, layout=w.Layout(width="70px"))
            for v in self.state.kernel
        ]
        self.state = KernelState(
            tuple(float(c.value) for c in self.cells)
        )  # exactly what the cells show
        self.image = w.Image(format="png")
        self.caption = w.HTML()
        self.menu.observe(lambda change: self.set_kernel(PRESETS[change["new"]]), names="value")
        for cell in self.cells:
            cell.observe(self._on_cell, names="value")
        grid = w.GridBox(self.cells, layout=w.Layout(grid_template_columns="repeat(3, 76px)"))
        self.finish(w.VBox([self.menu, w.HBox([grid, self.image]), self.caption]))

    def draw(self, state: KernelState) -> bytes:
        return render_kernel(self.input, state)

    def panel_labels(self, state: KernelState) -> dict:
        signed = bool(apply_kernel(self.input, state.kernel).min() < 0)
        return {"columns": ["input", "output (grey = 0)" if signed else "output"]}

    def describe(self, state: KernelState) -> str:
        h, w = self.input.shape
        return (
            f"input {h}x{w} &rarr; output {h - 2}x{w - 2} = (d-k+1) x (d'-k'+1); "
            f"kernel sum {sum(state.kernel):.2f} (1 keeps brightness, 0 keeps only changes)"
        )

    def set_kernel(self, kernel) -> None:
        """Set all nine numbers at once (what choosing a preset does); renders once."""
        kernel = tuple(float(v) for v in kernel)
        if len(kernel) != 9:
            raise ValueError(f"kernel must have 9 numbers (3x3), got {len(kernel)}")
        with self.quietly():
            for cell, v in zip(self.cells, kernel):
                cell.value = round(v, 4)
        self.set(kernel=tuple(float(c.value) for c in self.cells))  # exactly what the cells show

    def _on_cell(self, change) -> None:
        if not self._quiet:
            refuse_non_finite(self, change["owner"], float(change["new"]), change["old"])
            self.set(kernel=tuple(float(c.value) for c in self.cells))
