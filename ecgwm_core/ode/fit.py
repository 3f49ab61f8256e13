"""Fit the Gaussian waves of the ODE prior to a real median beat (L-BFGS through the model).

A beat is taken from R − RR/2 to R + RR/2, which is the model's phase range
θ ∈ [−π, π). Parameters are bounded by smooth maps: each angle may move
within ±0.35 rad (±0.6 for P and T waves) of its start and widths stay in
0.01-1.2 rad; amplitudes are free. Fit quality is the percentage
root-mean-square difference PRD = 100·sqrt(Σ(x − x̂)² / Σx²) and the RMSE in mV.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..signal.metrics import prd_percent, rmse_mv
from .dipole import DipoleParams, dipole, lead_matrix, project
from .mcsharry import integrate_exponential
from .params import FIVE_WAVES, WaveParams, preset

EXTENDED_WAVES = ("P", "Q", "R", "S", "T1", "T2")
"""The extended set splits T into two Gaussians, which lets the T wave be asymmetric."""
_B_RANGE = (0.01, 1.2)


@dataclass(frozen=True)
class FitResult:
    """A fitted model and how well it matches the beat.

    Attributes
    ----------
    params : fitted :class:`WaveParams` (single lead) or :class:`DipoleParams`.
    fitted : (leads, M) model beat in mV.
    target : (leads, M) real median beat in mV.
    leads : lead names of the rows.
    prd : (leads,) PRD in %.
    rmse : (leads,) RMSE in mV.
    """

    params: WaveParams | DipoleParams
    fitted: np.ndarray
    target: np.ndarray
    leads: tuple[str, ...]
    prd: np.ndarray
    rmse: np.ndarray


def _bounded(start: torch.Tensor, raw: torch.Tensor, span: torch.Tensor) -> torch.Tensor:
    return start + span * torch.tanh(raw)


def _width(raw: torch.Tensor) -> torch.Tensor:
    low, high = _B_RANGE
    return low + (high - low) * torch.sigmoid(raw)


def _width_inverse(b: torch.Tensor) -> torch.Tensor:
    low, high = _B_RANGE
    p = ((b - low) / (high - low)).clamp(1e-4, 1 - 1e-4)
    return torch.log(p / (1 - p))


def _lbfgs(parameters: list[torch.Tensor], loss_fn, iterations: int, restarts: int = 6) -> None:
    """Minimise ``loss_fn`` with L-BFGS, restarting its memory until a round gains < 0.1 %."""

    def closure():
        optimiser.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    previous = float("inf")
    for _ in range(restarts):
        optimiser = torch.optim.LBFGS(parameters, lr=1, max_iter=iterations, line_search_fn="strong_wolfe",
                                      tolerance_grad=1e-12, tolerance_change=1e-15, history_size=50)
        optimiser.step(closure)
        current = float(loss_fn().detach())
        if current > previous * 0.999:
            break
        previous = current


def _split_t(values: torch.Tensor, kind: str) -> torch.Tensor:
    """Five-wave values (..., 5) to extended ones (..., 6) that give the *same* beat.

    T1 takes T's values; T2 starts 0.15 rad later (``kind="angle"``) with zero
    amplitude (``kind="amplitude"``) and T's width (``kind="width"``), so the
    extended fit starts at the five-wave optimum and can only improve on it.
    """
    t = values[..., 4:5]
    second = {"angle": t + 0.15, "amplitude": torch.zeros_like(t), "width": t}[kind]
    return torch.cat([values[..., :4], t, second], dim=-1)


def _angle_span(waves: tuple[str, ...]) -> torch.Tensor:
    """How far (rad) each wave's angle may move from its start: 0.6 for P and T waves, 0.35 else.

    Raises ``ValueError`` unless ``waves`` is :data:`FIVE_WAVES` or :data:`EXTENDED_WAVES`.
    """
    if waves not in (FIVE_WAVES, EXTENDED_WAVES):
        raise ValueError(f"waves must be {FIVE_WAVES} or {EXTENDED_WAVES}; got {waves}")
    return torch.tensor([0.6 if w[0] in "PT" else 0.35 for w in waves], dtype=torch.float64)


def fit_dipole(
    beat: np.ndarray, leads: str = "xyz", waves: tuple[str, ...] = FIVE_WAVES, iterations: int = 300
) -> FitResult:
    """Fit the dipole model to a real median beat, through the fixed lead-field matrix.

    Parameters
    ----------
    beat : (3, M) Frank X, Y, Z (``leads="xyz"``) or (12, M) standard leads
        (``leads="12"``, order I, II, III, aVR, aVL, aVF, V1-V6) in mV, spanning θ ∈ [−π, π).
    leads : which leads ``beat`` holds; the model is projected to them (Dower
        matrix for ``"12"``) and the squared error summed over them.
    waves : wave names, :data:`FIVE_WAVES` or :data:`EXTENDED_WAVES`.
    iterations : L-BFGS iterations per round.

    Returns
    -------
    FitResult
    """
    matrix, names = lead_matrix(leads)
    target = torch.as_tensor(np.asarray(beat, dtype=float))
    if target.dim() != 2 or target.shape[0] != len(names):
        raise ValueError(f"beat must be ({len(names)}, samples) for leads={leads!r}; got {tuple(target.shape)}")
    m = target.shape[1]
    theta_grid = (-math.pi + 2 * math.pi * torch.arange(m, dtype=torch.float64) / m).unsqueeze(0)
    span = _angle_span(waves)
    if waves == EXTENDED_WAVES:  # warm start from the five-wave fit, T split in two
        five = fit_dipole(beat, leads, FIVE_WAVES, iterations).params
        theta0 = _split_t(five.theta, "angle")
        alpha0, b_start = _split_t(five.alpha, "amplitude"), _split_t(five.b, "width")
    else:  # the paper's angles and widths; amplitudes read off the beat at those angles
        start = preset("paper")
        theta0 = start.theta
        idx = ((theta0 + math.pi) / (2 * math.pi) * m).long().clamp(0, m - 1)
        alpha0, b_start = torch.linalg.pinv(matrix) @ target[:, idx], start.b.expand(3, -1)
    alpha = alpha0.clone().requires_grad_(True)
    raw_theta = torch.zeros_like(theta0, requires_grad=True)
    raw_b = _width_inverse(b_start).clone().requires_grad_(True)

    def params() -> DipoleParams:
        return DipoleParams(_bounded(theta0, raw_theta, span), alpha, _width(raw_b), waves)

    def model() -> torch.Tensor:
        return project(dipole(theta_grid, params()), leads)[0][0]

    def loss() -> torch.Tensor:
        return ((model() - target) ** 2).mean()

    _lbfgs([alpha, raw_theta, raw_b], loss, iterations)
    with torch.no_grad():
        fitted = model().numpy()
        final = DipoleParams(*(t.detach() for t in (params().theta, params().alpha, params().b)), waves)
    real = target.numpy()
    return FitResult(final, fitted, real, names, prd_percent(real, fitted), rmse_mv(real, fitted))


def single_lead_beat(params: WaveParams, rr_s: float, samples: int, beats: int = 4) -> torch.Tensor:
    """One steady-state beat of the single-lead ODE (no wander), θ ∈ [−π, π), (samples,) mV.

    ``beats`` identical beats of length ``rr_s`` are integrated with the
    exponential integrator at ``samples`` points per beat and the last is returned.
    """
    rr = torch.full((1, beats + 1), rr_s, dtype=params.theta.dtype)
    dt = rr_s / samples
    t = torch.arange(beats * samples, dtype=params.theta.dtype) * dt
    z = integrate_exponential(params, rr, t)
    return z[0, -samples:]


def fit_single_lead(beat: np.ndarray, rr_s: float, waves: tuple[str, ...] = FIVE_WAVES,
                    iterations: int = 200, lead: str = "ECG") -> FitResult:
    """Fit the McSharry ODE (through its integrator) to a real single-lead median beat.

    Parameters
    ----------
    beat : (M,) median beat in mV spanning R − RR/2 to R + RR/2.
    rr_s : the beat's RR interval in s.
    waves : wave names, :data:`FIVE_WAVES` or :data:`EXTENDED_WAVES`.
    iterations : L-BFGS iterations.
    lead : lead name for the report.
    """
    target = torch.as_tensor(np.asarray(beat, dtype=float).ravel())
    m = target.shape[0]
    span = _angle_span(waves)
    if waves == EXTENDED_WAVES:  # warm start from the five-wave fit, T split in two
        five = fit_single_lead(beat, rr_s, FIVE_WAVES, iterations, lead).params
        theta0, a_start, b0 = _split_t(five.theta, "angle"), _split_t(five.a, "amplitude"), _split_t(five.b, "width")
    else:  # the paper preset, scaled: a wave's height is a·b²/ω = a·b²·RR/2π, and R is ~1.15 mV at RR = 1 s
        start = preset("paper")
        theta0, b0 = start.theta, start.b
        a_start = start.a * float(target.abs().max()) / 1.15 / rr_s
    a = a_start.clone().requires_grad_(True)
    raw_theta = torch.zeros_like(theta0, requires_grad=True)
    raw_b = _width_inverse(b0).clone().requires_grad_(True)
    offset = torch.zeros((), dtype=torch.float64, requires_grad=True)

    def params() -> WaveParams:
        return WaveParams(_bounded(theta0, raw_theta, span), a, _width(raw_b), waves)

    def model() -> torch.Tensor:
        return single_lead_beat(params(), rr_s, m) + offset

    def loss() -> torch.Tensor:
        return ((model() - target) ** 2).mean()

    _lbfgs([a, raw_theta, raw_b, offset], loss, iterations)
    with torch.no_grad():
        fitted = model().numpy()[None]
        final = WaveParams(*(t.detach() for t in (params().theta, params().a, params().b)), waves)
    real = target.numpy()[None]
    return FitResult(final, fitted, real, (lead,), prd_percent(real, fitted), rmse_mv(real, fitted))


