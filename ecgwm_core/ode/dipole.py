"""Multi-lead ECG from a rotating cardiac dipole (Sameni, Clifford, Jutten, Shamsollahi 2007).

Sameni et al. ("Multichannel ECG and noise modeling: application to maternal
and fetal ECG signals", EURASIP J Adv Signal Process 2007:043407) extend the
McSharry model to the heart's 3-D electrical dipole d(t) = (X, Y, Z). Each
component is driven by the same phase θ(t) with its own Gaussian waves; their
ODE, d_c' = −Σ_i ω α_i^c Δθ_i / (b_i^c)² exp(−Δθ_i² / (2 (b_i^c)²)), has the
closed-form solution used here,

    d_c(θ) = Σ_i α_i^c exp(−Δθ_i² / (2 (b_i^c)²)),   c ∈ {X, Y, Z},

so no integration is needed. Leads are fixed linear projections of d: the
Frank X, Y, Z leads are d itself and the 12 standard leads come from the
Dower transform (Dower, Machado, Osborne, Clin Cardiol 1980;3:87-95), which
gives I, II and V1-V6; III, aVR, aVL and aVF follow from Einthoven's and
Goldberger's definitions, so II = I + III and aVR + aVL + aVF = 0 hold exactly.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..data.vocabulary import STANDARD_12
from .mcsharry import wrap_angle
from .params import check_finite

XYZ = ("X", "Y", "Z")

DOWER_8 = {
    "I": (0.632, -0.235, 0.059),
    "II": (0.235, 1.066, -0.132),
    "V1": (-0.515, 0.157, -0.917),
    "V2": (0.044, 0.164, -1.387),
    "V3": (0.882, 0.098, -1.277),
    "V4": (1.213, 0.127, -0.601),
    "V5": (1.125, 0.127, -0.086),
    "V6": (0.831, 0.076, 0.230),
}
"""Dower (1980) coefficients (X, Y, Z) of the 8 independent leads."""


def lead_matrix(leads: str = "12", dtype: torch.dtype = torch.float64,
                device: torch.device | str | None = None) -> tuple[torch.Tensor, tuple[str, ...]]:
    """Lead-field matrix mapping the dipole (X, Y, Z) to the requested leads.

    Parameters
    ----------
    leads : ``"12"`` for the standard 12 leads, ``"xyz"`` for Frank X, Y, Z.
    dtype, device : of the returned matrix (default float64 on the CPU).

    Returns
    -------
    (matrix, names)
        ``matrix`` is (L, 3); ``names`` the L lead names.
    """
    if leads == "xyz":
        return torch.eye(3, dtype=dtype, device=device), XYZ
    if leads != "12":
        raise ValueError(f"leads must be '12' or 'xyz' for the dipole model; got {leads!r}")
    def row(lead: str) -> torch.Tensor:
        return torch.tensor(DOWER_8[lead], dtype=dtype, device=device)

    i, ii = row("I"), row("II")
    rows = [i, ii, ii - i, -(i + ii) / 2, i - ii / 2, ii - i / 2]
    rows += [row(v) for v in ("V1", "V2", "V3", "V4", "V5", "V6")]
    return torch.stack(rows), STANDARD_12


@dataclass(frozen=True)
class DipoleParams:
    """Gaussian waves of the three dipole components.

    Attributes
    ----------
    theta : (W,) or (B, W) wave-centre angles in rad (shared by X, Y, Z).
    alpha : (3, W) or (B, 3, W) amplitudes in mV.
    b : (3, W) or (B, 3, W) widths in rad, > 0.
    names : W wave names.
    """

    theta: torch.Tensor
    alpha: torch.Tensor
    b: torch.Tensor
    names: tuple[str, ...]

    def __post_init__(self) -> None:
        for name, value in (("theta", self.theta), ("alpha", self.alpha), ("b", self.b)):
            check_finite(name, value)
        w = len(self.names)
        if self.theta.shape[-1] != w or self.alpha.shape[-2:] != (3, w) or self.b.shape != self.alpha.shape:
            raise ValueError(
                f"dipole parameters need theta (..., {w}), alpha and b (..., 3, {w}); got "
                f"{tuple(self.theta.shape)}, {tuple(self.alpha.shape)}, {tuple(self.b.shape)}"
            )
        if (self.b.detach() <= 0).any():
            raise ValueError(f"b (wave widths) must be > 0 rad; got {self.b.detach().min().item():.4g}")

    def to(self, dtype: torch.dtype | None = None, device: torch.device | str | None = None) -> "DipoleParams":
        """The same parameters in ``dtype`` and on ``device`` (``None`` keeps each)."""
        return DipoleParams(*(x.to(device=device or x.device, dtype=dtype or x.dtype)
                              for x in (self.theta, self.alpha, self.b)), self.names)


def dipole(theta: torch.Tensor, params: DipoleParams) -> torch.Tensor:
    """The dipole d(θ) in mV.

    Parameters
    ----------
    theta : (B, N) phase in rad.
    params : dipole parameters, unbatched or with batch B.

    Returns
    -------
    torch.Tensor
        (B, 3, N): X, Y, Z in mV.
    """
    batch = theta.shape[0]
    centres = params.theta.expand(batch, -1) if params.theta.dim() == 1 else params.theta
    alpha = params.alpha.expand(batch, -1, -1) if params.alpha.dim() == 2 else params.alpha
    b = params.b.expand(batch, -1, -1) if params.b.dim() == 2 else params.b
    d = wrap_angle(theta.unsqueeze(-1) - centres.unsqueeze(1))  # (B, N, W)
    gauss = torch.exp(-(d.unsqueeze(1) ** 2) / (2 * b.unsqueeze(2) ** 2))  # (B, 3, N, W)
    return (alpha.unsqueeze(2) * gauss).sum(-1)


def project(vcg: torch.Tensor, leads: str = "12") -> tuple[torch.Tensor, tuple[str, ...]]:
    """Leads from a dipole signal.

    Parameters
    ----------
    vcg : (B, 3, N) dipole in mV.
    leads : ``"12"`` or ``"xyz"``.

    Returns
    -------
    (signal, names)
        ``signal`` is (B, L, N) in mV.
    """
    matrix, names = lead_matrix(leads, vcg.dtype, vcg.device)
    return torch.einsum("lc,bcn->bln", matrix, vcg), names

