"""The ODE prior as a pure tensor function: wave parameters and R-R intervals in, leads in mV out.

:func:`render` is what a training loss calls: it is differentiable in every
parameter and in the R-R intervals, creates every tensor on the device and in
the dtype of ``rr`` (the convention of torchdiffeq and diffusers), and does no
input checking beyond shapes, no numpy and no R-peak bookkeeping. The
user-facing :func:`~ecgwm_core.ode.simulate` adds those around it.
"""
from __future__ import annotations

import torch

from .dipole import DipoleParams, dipole, project
from .mcsharry import baseline_wander, integrate_exponential, integrate_rk4, phase
from .params import WaveParams


def render(
    params: WaveParams | DipoleParams,
    rr: torch.Tensor,
    t: torch.Tensor,
    leads: str | None = None,
    wander_mv: float = 0.0,
    wander_hz: float = 0.25,
    method: str = "exponential",
) -> torch.Tensor:
    """Render ECGs of the ODE prior on the time grid ``t``.

    Parameters
    ----------
    params : :class:`WaveParams` (single-lead McSharry model) or :class:`DipoleParams`
        (dipole model), unbatched or with batch B. Moved to ``rr``'s device and dtype
        (differentiably).
    rr : (B, K) R-R intervals in s; beat k runs from R wave k to R wave k + 1 and the
        first R wave comes at ``rr[:, 0] / 2``. Must cover ``t``.
    t : (N,) uniform time grid in s starting at 0 (moved to ``rr``'s device and dtype).
    leads : ``"1"`` for WaveParams; ``"12"`` (default for DipoleParams) or ``"xyz"``.
    wander_mv, wander_hz : baseline wander A sin(2π f t) in mV and Hz (0 mV: none).
    method : ``"exponential"`` (fast, exact up to 1 µV) or ``"rk4"`` (reference,
        single lead only; the dipole model has a closed form).

    Returns
    -------
    torch.Tensor
        (B, L, N) in mV, L = 1, 12 or 3.
    """
    if rr.dim() != 2:
        raise ValueError(f"rr must be (batch, beats) R-R intervals in s; got shape {tuple(rr.shape)}")
    t = t.to(device=rr.device, dtype=rr.dtype)
    params = params.to(rr.dtype, rr.device)
    if isinstance(params, WaveParams):
        if leads not in (None, "1"):
            raise ValueError(f"WaveParams drive the single-lead model: leads must be '1'; got {leads!r}")
        if method not in ("exponential", "rk4"):
            raise ValueError(f"method must be 'exponential' or 'rk4'; got {method!r}")
        integrate = integrate_rk4 if method == "rk4" else integrate_exponential
        return integrate(params, rr, t, wander_mv, wander_hz).unsqueeze(1)
    if method != "exponential":
        raise ValueError("the dipole model has a closed form; method must be 'exponential'")
    vcg = dipole(phase(t, rr), params) + baseline_wander(t, wander_mv, wander_hz)
    return project(vcg, leads or "12")[0]


def constant_rr(rr_s: float, duration_s: float, batch: int = 1, dtype: torch.dtype = torch.float64,
                device: torch.device | str | None = None) -> torch.Tensor:
    """(batch, K) constant R-R intervals of ``rr_s`` s, enough beats to cover ``duration_s`` s."""
    beats = int(torch.ceil(torch.tensor(duration_s / rr_s)).item()) + 1
    return torch.full((batch, beats), float(rr_s), dtype=dtype, device=device)
