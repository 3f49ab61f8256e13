"""DDPM in the notation of the book: cosine schedule, forward noising, x̂0, ancestral and DDIM samplers.

Notation (Ho et al. 2020; Nichol & Dhariwal 2021; Song et al. 2021):

- forward process  z_t = √ᾱ_t · x0 + √(1 − ᾱ_t) · ε,  ε ~ N(0, I),  t = 0 … T − 1;
- cosine schedule  ᾱ(τ) = cos²((τ + s)/(1 + s) · π/2), s = 0.008,
  β_t = min(1 − ᾱ((t+1)/T) / ᾱ(t/T), 0.999),  ᾱ_t = Π_{k ≤ t} (1 − β_k);
- the denoised estimate  x̂0 = (z_t − √(1 − ᾱ_t) · ε̂) / √ᾱ_t;
- DDPM ancestral step  z_{t−1} = μ̃(z_t, x̂0) + σ_t · ξ  with the posterior mean
  μ̃ = √ᾱ_{t−1} β_t/(1 − ᾱ_t) · x̂0 + √α_t (1 − ᾱ_{t−1})/(1 − ᾱ_t) · z_t and σ_t² = β̃_t =
  (1 − ᾱ_{t−1})/(1 − ᾱ_t) · β_t;
- DDIM step from t to t' < t  z_{t'} = √ᾱ_{t'} x̂0 + √(1 − ᾱ_{t'} − σ²) · ε̂ + σ · ξ,
  σ = η · √((1 − ᾱ_{t'})/(1 − ᾱ_t) · (1 − ᾱ_t/ᾱ_{t'})), with ᾱ_{t'} = 1 past the last step.

The schedule and both samplers are checked against ``diffusers``' DDPMScheduler
(``squaredcos_cap_v2``) and DDIMScheduler in the tests.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""ε̂ = f(z_t, t): predicted noise for a batch of noisy latents and their (B,) integer steps."""


@dataclass(frozen=True)
class Schedule:
    """A cosine noise schedule.

    Attributes
    ----------
    betas : (T,) β_t.
    alpha_bar : (T,) ᾱ_t, decreasing from ≈1 to ≈0.
    """

    betas: torch.Tensor
    alpha_bar: torch.Tensor

    @property
    def timesteps(self) -> int:
        """T."""
        return int(self.betas.numel())

    def to(self, device: torch.device | str) -> "Schedule":
        """The schedule on ``device``."""
        return Schedule(self.betas.to(device), self.alpha_bar.to(device))


def cosine_schedule(timesteps: int, s: float = 0.008, max_beta: float = 0.999) -> Schedule:
    """The cosine schedule of Nichol & Dhariwal (2021), computed in float64 and stored in float32.

    Raises
    ------
    ValueError
        If ``timesteps`` < 2.
    """
    if timesteps < 2:
        raise ValueError(f"timesteps must be >= 2; got {timesteps}")

    def f(tau: float) -> float:
        return math.cos((tau + s) / (1 + s) * math.pi / 2) ** 2

    betas = torch.tensor([min(1 - f((t + 1) / timesteps) / f(t / timesteps), max_beta) for t in range(timesteps)],
                         dtype=torch.float64)
    return Schedule(betas.float(), torch.cumprod(1 - betas, 0).float())


def _gather(values: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """values[t] shaped (B, 1, …) to broadcast against ``like``."""
    return values.to(like.device)[t].reshape(-1, *([1] * (like.dim() - 1))).to(like.dtype)


def add_noise(schedule: Schedule, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """z_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε for (B, D) ``x0``, ``noise`` and (B,) integer ``t``."""
    a = _gather(schedule.alpha_bar, t, x0)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


def predict_x0(schedule: Schedule, z_t: torch.Tensor, eps_hat: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """x̂0 = (z_t − √(1 − ᾱ_t) ε̂) / √ᾱ_t."""
    a = _gather(schedule.alpha_bar, t, z_t)
    return (z_t - (1 - a).sqrt() * eps_hat) / a.sqrt()


def ddpm_step(schedule: Schedule, z_t: torch.Tensor, eps_hat: torch.Tensor, t: int,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """One ancestral step z_t → z_{t−1} (σ_t² = β̃_t, no clipping); at t = 0 it returns x̂0."""
    step = torch.full((z_t.shape[0],), t, dtype=torch.long, device=z_t.device)
    x0 = predict_x0(schedule, z_t, eps_hat, step)
    if t == 0:
        return x0
    a_bar, a_prev = schedule.alpha_bar[t].item(), schedule.alpha_bar[t - 1].item()
    beta = schedule.betas[t].item()
    mean = (math.sqrt(a_prev) * beta / (1 - a_bar)) * x0 + (math.sqrt(1 - beta) * (1 - a_prev) / (1 - a_bar)) * z_t
    variance = (1 - a_prev) / (1 - a_bar) * beta
    noise = torch.randn(z_t.shape, generator=generator, device=z_t.device, dtype=z_t.dtype)
    return mean + math.sqrt(variance) * noise


def ddim_timesteps(timesteps: int, steps: int) -> list[int]:
    """The DDIM sub-sequence, descending: t_k = k·(T // steps) ("leading" spacing), k = steps − 1 … 0."""
    if not 1 <= steps <= timesteps:
        raise ValueError(f"steps must be between 1 and T = {timesteps}; got {steps}")
    return [k * (timesteps // steps) for k in reversed(range(steps))]


def ddim_step(schedule: Schedule, z_t: torch.Tensor, eps_hat: torch.Tensor, t: int, t_prev: int, eta: float,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """One DDIM step z_t → z_{t_prev} (t_prev < 0 means the end: ᾱ = 1)."""
    step = torch.full((z_t.shape[0],), t, dtype=torch.long, device=z_t.device)
    x0 = predict_x0(schedule, z_t, eps_hat, step)
    a_bar = schedule.alpha_bar[t].item()
    a_prev = schedule.alpha_bar[t_prev].item() if t_prev >= 0 else 1.0
    sigma = eta * math.sqrt((1 - a_prev) / (1 - a_bar) * (1 - a_bar / a_prev))
    out = math.sqrt(a_prev) * x0 + math.sqrt(max(1 - a_prev - sigma**2, 0.0)) * eps_hat
    if sigma > 0:
        out = out + sigma * torch.randn(z_t.shape, generator=generator, device=z_t.device, dtype=z_t.dtype)
    return out


def sample(denoiser: Denoiser, schedule: Schedule, shape: tuple[int, ...], generator: torch.Generator,
           method: str = "ddim", steps: int = 50, eta: float = 1.0, device: torch.device | str = "cpu"
           ) -> torch.Tensor:
    """Draw x0 samples by running a sampler from pure noise.

    Parameters
    ----------
    denoiser : ε̂ = denoiser(z_t, t) for (B, D) ``z_t`` and (B,) long ``t``.
    schedule : the noise schedule.
    shape : (B, D) of the samples.
    generator : seeds the initial noise and every stochastic step (on ``device``).
    method : ``"ddim"`` (``steps`` steps, stochasticity ``eta``) or ``"ddpm"`` (all T ancestral steps).

    Returns
    -------
    torch.Tensor
        (B, D) samples of x0.
    """
    if method not in ("ddim", "ddpm"):
        raise ValueError(f"method must be 'ddim' or 'ddpm'; got {method!r}")
    z = torch.randn(shape, generator=generator, device=device)
    order = ddim_timesteps(schedule.timesteps, steps) if method == "ddim" else list(reversed(range(schedule.timesteps)))
    for i, t in enumerate(order):
        step = torch.full((shape[0],), t, dtype=torch.long, device=device)
        eps = denoiser(z, step)
        if method == "ddpm":
            z = ddpm_step(schedule, z, eps, t, generator)
        else:
            t_prev = order[i + 1] if i + 1 < len(order) else -1
            z = ddim_step(schedule, z, eps, t, t_prev, eta, generator)
    return z
