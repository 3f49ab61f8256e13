"""Energy regularisation toward the ODE prior: E(x̂0) = ‖x̂0 − anchor‖² weighted by w(t).

The training loss of one batch is

    L = mean_b ‖ε̂_b − ε_b‖² / D  +  λ0 · mean_b w(t_b) · ‖x̂0_b − a_b‖² / D,

with D the latent size, x̂0 the denoised estimate from z_t and a the
subject's ODE anchor (its latent change under the action). λ0 = 0 gives the
plain DDPM loss exactly (values and gradients). Weight schedules w(t):

- ``alpha_bar``: w = ᾱ_t, which is the same as SNR/(1 + SNR) with SNR = ᾱ/(1 − ᾱ);
- ``snr_clipped``: w = min(SNR, 5)/5 (saturates once the signal dominates);
- ``constant``: w = 1;
- ``high_noise``: w = 1 − ᾱ_t, the opposite emphasis, for the ablation.

The first two grow as noise falls: at high noise x̂0 is a poor, blurred
estimate, and pulling it to the anchor would over-constrain the noisy states.
"""
from __future__ import annotations

from collections.abc import Callable

import torch

from .config import WEIGHT_SCHEDULES
from .diffusion import Schedule, add_noise, predict_x0

SNR_CLIP = 5.0


def energy_weight(schedule: Schedule, t: torch.Tensor, name: str) -> torch.Tensor:
    """w(t) of schedule ``name`` (one of :data:`~ecgwm_core.worldmodel.config.WEIGHT_SCHEDULES`) for (B,) steps."""
    a = schedule.alpha_bar.to(t.device)[t]
    if name == "alpha_bar":
        return a
    if name == "snr_clipped":
        return torch.clamp(a / (1 - a), max=SNR_CLIP) / SNR_CLIP
    if name == "constant":
        return torch.ones_like(a)
    if name == "high_noise":
        return 1 - a
    raise ValueError(f"unknown weight schedule {name!r}; choose one of {', '.join(WEIGHT_SCHEDULES)}")


def energy(x0_hat: torch.Tensor, anchor: torch.Tensor) -> torch.Tensor:
    """(B,) E = ‖x̂0 − anchor‖² / D (mean over the latent dimensions)."""
    return ((x0_hat - anchor) ** 2).mean(dim=-1)


def diffusion_loss(eps_model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], schedule: Schedule,
                   x0: torch.Tensor, anchor: torch.Tensor, t: torch.Tensor, noise: torch.Tensor,
                   lambda0: float, weight_schedule: str) -> tuple[torch.Tensor, dict[str, float]]:
    """Noise-prediction loss plus the weighted energy of x̂0.

    Parameters
    ----------
    eps_model : ε̂ = eps_model(z_t, t) (conditioning already bound).
    schedule : noise schedule.
    x0, anchor, noise : (B, D).
    t : (B,) integer steps.
    lambda0 : prior strength λ0 ≥ 0.
    weight_schedule : name of w(t).

    Returns
    -------
    (loss, parts)
        The scalar loss and its parts ``{"eps": …, "energy": …}`` as floats (energy unweighted).
    """
    z_t = add_noise(schedule, x0, noise, t)
    eps_hat = eps_model(z_t, t)
    plain = ((eps_hat - noise) ** 2).mean()
    e = energy(predict_x0(schedule, z_t, eps_hat, t), anchor)
    loss = plain + lambda0 * (energy_weight(schedule, t, weight_schedule) * e).mean()
    return loss, {"eps": float(plain.detach()), "energy": float(e.detach().mean())}


def energy_guidance(anchor: torch.Tensor, scale: float, schedule: Schedule,
                    weight_schedule: str) -> Callable[[torch.Tensor, int], torch.Tensor]:
    """Sampling-time guidance g(x̂0, t) = −scale · w(t) · ∇E = 2·scale·w(t)·(anchor − x̂0)/D,
    for :func:`ecgwm_core.worldmodel.diffusion.sample`."""
    d = anchor.shape[-1]

    def guide(x0_hat: torch.Tensor, t: int) -> torch.Tensor:
        w = energy_weight(schedule, torch.tensor([t], device=anchor.device), weight_schedule)
        return 2 * scale * w * (anchor - x0_hat) / d

    return guide
