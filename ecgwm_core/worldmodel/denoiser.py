"""The conditional noise predictor ε̂(z_t, t, c): an MLP with residual blocks, modulated by t and c (FiLM).

The conditioning c is a flat vector assembled by
:func:`ecgwm_core.worldmodel.features.condition`: the subject's pre-dose
state, the action's continuous vector (predicted concentration, hours, channel
blocks), its drug one-hot and the subject's ODE anchor change.
"""
from __future__ import annotations

import math

import torch
from torch import nn


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """(B, dim) sinusoidal embedding of (B,) integer steps (Vaswani et al. 2017)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = t.float()[:, None] * freqs[None]
    return torch.cat([angles.cos(), angles.sin()], dim=-1)


class _Block(nn.Module):
    def __init__(self, hidden: int, context: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(hidden, elementwise_affine=False)
        self.film = nn.Linear(context, 2 * hidden)
        self.mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden))

    def forward(self, h: torch.Tensor, ctx: torch.Tensor) -> torch.Tensor:
        scale, shift = self.film(ctx).chunk(2, dim=-1)
        return h + self.mlp(self.norm(h) * (1 + scale) + shift)


class Denoiser(nn.Module):
    """ε̂(z_t, t, c).

    Parameters
    ----------
    dim : size D of the diffused vector.
    cond_dim : size of the conditioning vector.
    hidden, blocks : width and depth.
    """

    def __init__(self, dim: int, cond_dim: int, hidden: int, blocks: int) -> None:
        super().__init__()
        self.dim, self.cond_dim, self.hidden = dim, cond_dim, hidden
        self.context = nn.Sequential(nn.Linear(hidden + cond_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.inp = nn.Linear(dim + cond_dim, hidden)
        self.blocks = nn.ModuleList(_Block(hidden, hidden) for _ in range(blocks))
        self.out = nn.Sequential(nn.LayerNorm(hidden), nn.Linear(hidden, dim))

    def forward(self, z_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """(B, D) noise estimate for (B, D) ``z_t``, (B,) steps ``t`` and (B, C) ``cond``."""
        if z_t.shape[-1] != self.dim or cond.shape[-1] != self.cond_dim:
            raise ValueError(f"expected z_t (B, {self.dim}) and cond (B, {self.cond_dim}); "
                             f"got {tuple(z_t.shape)} and {tuple(cond.shape)}")
        ctx = self.context(torch.cat([timestep_embedding(t, self.hidden), cond], dim=-1))
        h = self.inp(torch.cat([z_t, cond], dim=-1))
        for block in self.blocks:
            h = block(h, ctx)
        return self.out(h)
