"""Diffusion models (notebook 07): a noise schedule kept apart from the denoiser network.

As in Hugging Face diffusers, the **schedule** knows the noise levels and how to add noise
(`add_noise`) or take one reverse step (`step`); the **denoiser** is any network
eps_theta(x_t, t) that predicts the noise. Any denoiser can be stepped by any schedule.

Naming (standard, as in Ho et al. 2020): the *forward* process q adds noise, x_0 -> x_T;
the *reverse* process p_theta removes it, x_T -> x_0. Timesteps run 0..T-1 here, t = 0 being
the first noising step.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .. import eval_mode, model_device


class NoiseSchedule:
    """DDPM noise schedule with T steps: betas, alphas = 1 - betas, alpha_bars = cumprod(alphas).

    kind="linear": betas from beta_start to beta_end (Ho et al.); kind="cosine": alpha_bar follows
    a squared cosine (Nichol & Dhariwal), which destroys the image more gradually.
    """

    def __init__(
        self, T: int = 200, kind: str = "cosine", beta_start: float = 1e-4, beta_end: float = 0.02
    ):
        if not isinstance(T, int) or T < 2:
            raise ValueError(f"T must be an int >= 2, got {T!r}")
        if kind not in ("linear", "cosine"):
            raise ValueError(f"kind must be 'linear' or 'cosine', got {kind!r}")
        self.T, self.kind = T, kind
        if kind == "linear":
            # scaled so that T steps destroy the image as much as 1000 steps of Ho et al. do
            scale = 1000 / T
            betas = torch.linspace(beta_start * scale, beta_end * scale, T, dtype=torch.float64)
        else:
            s = 0.008
            steps = torch.arange(T + 1, dtype=torch.float64) / T
            f = torch.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
            betas = (1 - f[1:] / f[:-1]).clamp(max=0.999)
        self.betas = betas.float()
        self.alphas = (1 - betas).float()
        self.alpha_bars = torch.cumprod(1 - betas, 0).float()
        prev = torch.cat([torch.ones(1, dtype=torch.float64), torch.cumprod(1 - betas, 0)[:-1]])
        # variance of the reverse step q(x_{t-1} | x_t, x_0)
        self.posterior_variance = (betas * (1 - prev) / (1 - torch.cumprod(1 - betas, 0))).float()
        self.alpha_bars_prev = prev.float()

    def __repr__(self) -> str:
        return f"NoiseSchedule(T={self.T}, kind={self.kind!r})"

    # ------------------------------------------------------------------ checks
    def _t(self, t, batch: int) -> torch.Tensor:
        t = torch.as_tensor(t)
        if t.dtype.is_floating_point:
            raise TypeError(f"t must hold integers (timesteps), got {t.dtype}")
        if t.ndim == 0:
            t = t.repeat(batch)
        if t.shape != (batch,):
            raise ValueError(f"t must be an int or have shape ({batch},), got {tuple(t.shape)}")
        if (t < 0).any() or (t >= self.T).any():
            raise ValueError(
                f"t must be in [0, {self.T - 1}], got values from {int(t.min())} to {int(t.max())}"
            )
        return t.long()

    @staticmethod
    def _per_sample(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """(B,) -> (B, 1, 1, 1), on like's device, to broadcast over images."""
        return values.to(like.device).view(-1, *([1] * (like.ndim - 1)))

    # ------------------------------------------------------------------ forward process
    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t) -> torch.Tensor:
        """Closed form of the forward process: x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) noise.

        Arguments in the common order (diffusers' ``add_noise(original_samples, noise, timesteps)``).
        """
        if not isinstance(noise, torch.Tensor):
            raise TypeError(
                "add_noise(x0, noise, t): noise must be a tensor shaped like x0 and t the "
                f"timestep(s), got noise of type {type(noise).__name__}"
            )
        if noise.shape != x0.shape:
            raise ValueError(
                f"noise must have x0's shape {tuple(x0.shape)}, got {tuple(noise.shape)}"
            )
        t = self._t(t, x0.shape[0])
        ab = self._per_sample(self.alpha_bars[t], x0)
        return ab.sqrt() * x0 + (1 - ab).sqrt() * noise

    def q_step(self, x_prev: torch.Tensor, noise: torch.Tensor, t) -> torch.Tensor:
        """One forward step q(x_t | x_{t-1}): x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) noise."""
        t = self._t(t, x_prev.shape[0])
        beta = self._per_sample(self.betas[t], x_prev)
        return (1 - beta).sqrt() * x_prev + beta.sqrt() * noise

    def snr(self, t=None) -> torch.Tensor:
        """Signal-to-noise ratio alpha_bar / (1 - alpha_bar), per timestep (all of them if t is None)."""
        ab = self.alpha_bars if t is None else self.alpha_bars[torch.as_tensor(t)]
        return ab / (1 - ab)

    # ------------------------------------------------------------------ reverse process
    def predict_x0(self, model_output: torch.Tensor, t, x_t: torch.Tensor) -> torch.Tensor:
        """x0 implied by a noise prediction: (x_t - sqrt(1 - alpha_bar) eps) / sqrt(alpha_bar)."""
        t = self._t(t, x_t.shape[0])
        ab = self._per_sample(self.alpha_bars[t], x_t)
        return (x_t - (1 - ab).sqrt() * model_output) / ab.sqrt()

    def step(
        self,
        model_output: torch.Tensor,
        t,
        x_t: torch.Tensor,
        generator: torch.Generator | None = None,
        clip: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One DDPM reverse step. model_output: the predicted noise eps_theta(x_t, t).

        Returns (x_{t-1}, predicted x0). The mean is that of q(x_{t-1} | x_t, x0_hat), with x0_hat
        clipped to the data range [-1, 1] (clip=True); noise is added except at t = 0.
        """
        if model_output.shape != x_t.shape:
            raise ValueError(
                f"model_output must have x_t's shape {tuple(x_t.shape)}, got {tuple(model_output.shape)}"
            )
        t = self._t(t, x_t.shape[0])
        x0 = self.predict_x0(model_output, t, x_t)
        if clip:
            x0 = x0.clamp(-1, 1)
        ab, ab_prev = (
            self._per_sample(self.alpha_bars[t], x_t),
            self._per_sample(self.alpha_bars_prev[t], x_t),
        )
        beta, alpha = self._per_sample(self.betas[t], x_t), self._per_sample(self.alphas[t], x_t)
        mean = (ab_prev.sqrt() * beta / (1 - ab)) * x0 + (
            alpha.sqrt() * (1 - ab_prev) / (1 - ab)
        ) * x_t
        noise = torch.randn(x_t.shape, generator=generator).to(x_t.device)
        var = self._per_sample(self.posterior_variance[t], x_t)
        nonzero = self._per_sample((t > 0).float(), x_t)
        return mean + nonzero * var.sqrt() * noise, x0

    def ddim_step(
        self, model_output: torch.Tensor, t, t_prev, x_t: torch.Tensor, clip: bool = True
    ):
        """Deterministic DDIM step (eta = 0) from t to an earlier t_prev (t_prev = -1 means x0).

        Returns (x_{t_prev}, predicted x0). Skipping steps this way samples with far fewer calls.
        """
        t = self._t(t, x_t.shape[0])
        x0 = self.predict_x0(model_output, t, x_t)
        if clip:
            x0 = x0.clamp(-1, 1)
        if int(t_prev) < 0:
            return x0, x0
        tp = self._t(t_prev, x_t.shape[0])
        ab_prev = self._per_sample(self.alpha_bars[tp], x_t)
        ab = self._per_sample(self.alpha_bars[t], x_t)
        eps = (x_t - ab.sqrt() * x0) / (1 - ab).sqrt()  # the noise consistent with the clipped x0
        return ab_prev.sqrt() * x0 + (1 - ab_prev).sqrt() * eps, x0


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of integer timesteps (B,) -> (B, dim), as in the Transformer."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000) * torch.arange(half, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(args), torch.cos(args)], 1)


class _Block(nn.Module):
    """Two 3x3 convolutions with GroupNorm and SiLU; the time embedding is added in between."""

    def __init__(self, c_in: int, c_out: int, t_dim: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm1 = nn.GroupNorm(8, c_out)
        self.time = nn.Linear(t_dim, c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.norm2 = nn.GroupNorm(8, c_out)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x, t_emb):
        h = F.silu(self.norm1(self.conv1(x)))
        h = h + self.time(t_emb)[:, :, None, None]
        h = F.silu(self.norm2(self.conv2(h)))
        return h + self.skip(x)


class SmallUNet(nn.Module):
    """A small U-Net denoiser for 28x28 (or any size divisible by 4) greyscale images.

    forward(x_t: (B, 1, H, W), t: (B,) ints) -> predicted noise (B, 1, H, W).
    28x28 -> 14x14 -> 7x7 and back, with skip connections; `channels` sets the width.
    """

    def __init__(self, channels: int = 32, t_dim: int = 64):
        super().__init__()
        c = channels
        self.t_dim = t_dim
        self.time_mlp = nn.Sequential(
            nn.Linear(t_dim, t_dim * 2), nn.SiLU(), nn.Linear(t_dim * 2, t_dim)
        )
        self.inp = nn.Conv2d(1, c, 3, padding=1)
        self.down1 = _Block(c, c, t_dim)  # 28x28
        self.down2 = _Block(c, 2 * c, t_dim)  # 14x14
        self.mid = _Block(2 * c, 2 * c, t_dim)  # 7x7
        self.up2 = _Block(4 * c, 2 * c, t_dim)  # 14x14, with the skip from down2
        self.up1 = _Block(3 * c, c, t_dim)  # 28x28, with the skip from down1
        self.out = nn.Conv2d(c, 1, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 1 or x.shape[-1] % 4 or x.shape[-2] % 4:
            raise ValueError(
                f"SmallUNet expects (B, 1, H, W) with H, W divisible by 4, got {tuple(x.shape)}"
            )
        t = torch.as_tensor(t, device=x.device)
        if t.ndim == 0:
            t = t.repeat(x.shape[0])
        emb = self.time_mlp(timestep_embedding(t, self.t_dim))
        h1 = self.down1(self.inp(x), emb)
        h2 = self.down2(F.avg_pool2d(h1, 2), emb)
        m = self.mid(F.avg_pool2d(h2, 2), emb)
        u2 = self.up2(torch.cat([F.interpolate(m, scale_factor=2, mode="nearest"), h2], 1), emb)
        u1 = self.up1(torch.cat([F.interpolate(u2, scale_factor=2, mode="nearest"), h1], 1), emb)
        return self.out(u1)


def diffusion_loss(
    model: nn.Module,
    schedule: NoiseSchedule,
    x0: torch.Tensor,
    generator: torch.Generator | None = None,
    min_snr: float | None = None,
) -> torch.Tensor:
    """The DDPM objective: pick t uniformly, noise x0 to x_t, regress the noise. x0 in [-1, 1].

    min_snr=gamma weights each example by min(SNR_t, gamma) / SNR_t (Hang et al., 2023): the
    nearly clean steps, whose noise is easy to guess and gives a large share of the gradient, count
    less, and training converges faster. None: the plain mean squared error of Ho et al.
    """
    b = x0.shape[0]
    t = torch.randint(0, schedule.T, (b,), generator=generator).to(x0.device)
    noise = torch.randn(x0.shape, generator=generator).to(x0.device)
    if min_snr is None:
        return F.mse_loss(model(schedule.add_noise(x0, noise, t), t), noise)
    snr = schedule.snr(t.cpu()).to(x0.device)
    per_example = (model(schedule.add_noise(x0, noise, t), t) - noise).pow(2).flatten(1).mean(1)
    return (snr.clamp(max=min_snr) / snr * per_example).mean()


def diffusion_step(schedule: NoiseSchedule):
    """A `fit` step_fn: images in [0, 1] are scaled to [-1, 1], then diffusion_loss."""

    def step(model, batch, loss_fn=None):
        return diffusion_loss(model, schedule, batch[0] * 2 - 1), None

    return step


@torch.no_grad()
def sample(
    model: nn.Module,
    schedule: NoiseSchedule,
    n: int = 16,
    steps: int | None = None,
    generator: torch.Generator | None = None,
    shape=(1, 28, 28),
    return_chain: bool = False,
):
    """Generate n images in [0, 1]. steps=None: full DDPM chain (T steps); steps=k: DDIM with k steps.

    return_chain=True also returns the chain: (timesteps, x_t list, predicted-x0 list), each x on the CPU
    in [-1, 1] (the widget caches it once and then scrubs through it).
    """
    device = model_device(model)
    if steps is not None and not 1 <= steps <= schedule.T:
        raise ValueError(f"steps must be in [1, {schedule.T}], got {steps}")
    x = torch.randn(n, *shape, generator=generator).to(device)
    ts, xs, x0s = [], [x.cpu()], []
    with eval_mode(model):
        if steps is None:
            for t in range(schedule.T - 1, -1, -1):
                x, x0 = schedule.step(
                    model(x, torch.full((n,), t, device=device)), t, x, generator=generator
                )
                if return_chain:
                    ts.append(t)
                    xs.append(x.cpu())
                    x0s.append(x0.cpu())
        else:
            grid = torch.linspace(schedule.T - 1, 0, steps).round().long().tolist()
            for i, t in enumerate(grid):
                t_prev = grid[i + 1] if i + 1 < len(grid) else -1
                x, x0 = schedule.ddim_step(
                    model(x, torch.full((n,), t, device=device)), t, t_prev, x
                )
                if return_chain:
                    ts.append(t)
                    xs.append(x.cpu())
                    x0s.append(x0.cpu())
    images = ((x.cpu() + 1) / 2).clamp(0, 1)
    return (images, (ts, xs, x0s)) if return_chain else images
