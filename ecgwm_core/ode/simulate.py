"""Simulate batches of ECGs from the ODE prior: one call from heart rate to mV signal and beats.

A checked, user-facing wrapper around the pure-tensor :func:`~ecgwm_core.ode.render.render`:
it draws R-R intervals, prepares the parameters (presets, heart-rate scaling) and adds
R-peak indices and ground-truth wave times.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .dipole import DipoleParams, lead_matrix
from .mcsharry import r_wave_times
from .params import (
    FIVE_WAVES,
    WaveParams,
    check_heart_rate,
    preset,
    scale_for_heart_rate,
)
from .render import render
from .rr import beat_intervals, rr_process

DIPOLE_PTB = DipoleParams(
    theta=torch.tensor([-1.5416, -0.1914, -0.0290, 0.3012, 2.0977], dtype=torch.float64),
    alpha=torch.tensor(
        [[0.0362, 0.5057, -0.2177, -0.2366, 0.0351],
         [0.1501, -0.3148, -0.1811, 0.1238, -0.2366],
         [-0.0545, -0.1718, 0.6836, -0.2155, 0.1076]], dtype=torch.float64),
    b=torch.tensor(
        [[0.5584, 0.0834, 0.2741, 0.1146, 0.5706],
         [0.3565, 0.2297, 0.0442, 1.2000, 0.3951],
         [0.3319, 0.1794, 0.0941, 0.0716, 0.4513]], dtype=torch.float64),
    names=FIVE_WAVES,
)
"""Default dipole: five waves fitted (:func:`ecgwm_core.ode.fit.fit_dipole`) to the
real Frank X, Y, Z median beat of PTB s0010_re (HR 82 bpm); regenerate with
``fit_dipole(beat_xyz)``. The patient had an infero-lateral infarction, so this is a
real but not a textbook-normal morphology."""


PAPER_DIPOLE_ALPHA = torch.tensor(
    [[0.10, -0.10, 1.0, -0.25, 0.30],
     [0.08, 0.05, 0.6, -0.15, 0.20],
     [-0.05, 0.10, -0.3, 0.10, -0.10]], dtype=torch.float64)
"""Dipole amplitudes (mV) of P, Q, R, S, T in X, Y, Z chosen by hand (not fitted) so that the
Dower leads look like a normal ECG: upright P, R and T in I, II and V4-V6, an rS complex in V1."""


def paper_dipole(heart_rate: float = 60.0) -> DipoleParams:
    """A normal-looking dipole: the paper preset's angles and widths, shared by X, Y and Z and
    scaled for ``heart_rate`` (√(HR/60) rule), with :data:`PAPER_DIPOLE_ALPHA` amplitudes.

    Because the three components share each wave's width, every lead is a sum of Gaussians
    in time, so the tangent-method fiducials of isolated waves are exactly μ ± 2σ.
    """
    check_heart_rate(heart_rate)
    waves = scale_for_heart_rate(preset("paper"), torch.tensor([float(heart_rate)], dtype=torch.float64))
    return DipoleParams(waves.theta[0], PAPER_DIPOLE_ALPHA.clone(), waves.b[0].expand(3, -1).clone(), waves.names)


@dataclass(frozen=True)
class Simulation:
    """Simulated ECGs and their beats.

    Attributes
    ----------
    signal : (B, L, N) tensor in mV.
    fs : sampling frequency in Hz.
    leads : the L lead names.
    rr : (B, K) R-R intervals in s (padded past the end of each record).
    rpeaks : B arrays of R-peak sample indices (θ = 0 of every beat inside the record).
    wave_times : (B, K, W) time in s of each wave centre θ_i of beat k (whose
        R wave is ``rpeaks[k]``): the model's ground-truth fiducial points.
    wave_names : the W wave names.
    """

    signal: torch.Tensor
    fs: float
    leads: tuple[str, ...]
    rr: torch.Tensor
    rpeaks: list[np.ndarray]
    wave_times: torch.Tensor
    wave_names: tuple[str, ...]


MIN_FS_HZ = 128.0
"""Accuracy floor of the fast integrator: within 1 µV of ``solve_ivp`` from 128 Hz up (see ``simulate``)."""
MAX_MEMORY_GB = 4.0
"""Default ceiling (GB) on :func:`simulation_bytes`; pass ``max_memory_gb`` to raise it."""
WORKING_ARRAYS = 20
"""Float arrays of one ECG's length that rendering holds at its peak besides two copies of the
output (measured: ~175 bytes per sample for one lead, ~300 for 12 leads, at float64)."""


def _real(name: str, value: object) -> float:
    """``value`` as a Python float; ``TypeError`` naming ``name`` unless it is a real number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    return float(value)


def _integer(name: str, value: object, low: int) -> int:
    """``value`` as a Python int >= ``low``; Python and NumPy integers are accepted."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer; got {type(value).__name__} {value!r}")
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {value}")
    return int(value)


def _check(name: str, value: object, low: float = 0.0, strict: bool = True) -> float:
    """``value`` as a float after checking that it is finite and above ``low`` (or at least ``low``)."""
    number = _real(name, value)
    ok = math.isfinite(number) and (number > low if strict else number >= low)
    if not ok:
        raise ValueError(f"{name} must be a finite number {'>' if strict else '>='} {low:g}; got {value}")
    return number


def simulation_bytes(n: int, duration_s: float, fs: float, leads: str, dtype: torch.dtype = torch.float64) -> int:
    """Estimated peak memory (bytes) of :func:`simulate`: two copies of the (n, L, N) output plus
    :data:`WORKING_ARRAYS` arrays of (n, N), at the element size of ``dtype``."""
    n_leads = {"1": 1, "12": 12, "xyz": 3}[leads]
    samples = int(round(duration_s * fs))
    return int(n) * samples * (2 * n_leads + WORKING_ARRAYS) * torch.finfo(dtype).bits // 8


def simulate(
    n: int = 1,
    duration_s: float = 10.0,
    fs: float = 500.0,
    heart_rate: float = 60.0,
    hr_std: float = 1.0,
    lf_hf: float = 0.5,
    leads: str = "1",
    params: str | WaveParams | DipoleParams | None = None,
    hr_scaling: bool = True,
    wander_mv: float = 0.15,
    wander_hz: float = 0.25,
    seed: int = 0,
    method: str = "exponential",
    rr: torch.Tensor | None = None,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
    max_memory_gb: float = MAX_MEMORY_GB,
) -> Simulation:
    """Simulate ``n`` independent ECGs from the ODE prior.

    Parameters
    ----------
    n : number of ECGs (batch size); Python or NumPy integer.
    duration_s : length in s; at least one beat (60 / ``heart_rate``) unless ``rr`` is given.
    fs : sampling frequency in Hz, at least :data:`MIN_FS_HZ` (128). The fast
        integrator is exact up to a smooth remainder and runs at this rate
        (within 1 µV of ``solve_ivp`` from 128 Hz up), so nothing is decimated.
    heart_rate : mean heart rate in bpm (20-250).
    hr_std : heart-rate standard deviation in bpm (0 for a constant RR).
    lf_hf : LF/HF ratio of the RR spectrum.
    leads : ``"1"`` for the single-lead McSharry model, ``"12"`` or ``"xyz"``
        for the dipole model projected to 12 standard or Frank leads.
    params : for one lead a preset name (``"paper"``, the default, or
        ``"reference"``) or :class:`WaveParams`; for 12/xyz a
        :class:`DipoleParams` (default :data:`DIPOLE_PTB`).
    hr_scaling : apply the √(HR/60) morphology scaling (five-wave single lead only).
    wander_mv, wander_hz : baseline wander z0(t) = A sin(2π f t); A = 0 turns it off.
    seed : seed of the RR process.
    method : ``"exponential"`` (fast, default) or ``"rk4"`` (reference, single lead only).
    rr : optional (n, K) R-R intervals in s, e.g. with ``requires_grad``; replaces
        the random RR process, and its dtype and device win over ``dtype`` and ``device``.
    dtype : ``torch.float64`` (default) or ``torch.float32``.
    device : torch device of every output tensor (default: the CPU).
    max_memory_gb : refuse when :func:`simulation_bytes` exceeds this many GB
        (default :data:`MAX_MEMORY_GB`); raise it to simulate more at once.

    Numbers may be Python or NumPy scalars.

    Returns
    -------
    Simulation

    Raises
    ------
    TypeError
        If an argument has the wrong type (the message names it).
    ValueError
        If an argument is out of range, or the estimated memory exceeds ``max_memory_gb``.
    """
    n = _integer("n", n, 1)
    seed = _integer("seed", seed, 0)
    duration_s = _check("duration_s", duration_s)
    fs = _check("fs", fs)
    wander_mv = _check("wander_mv", wander_mv, strict=False)
    wander_hz = _check("wander_hz", wander_hz, strict=False)
    heart_rate = _real("heart_rate", heart_rate)
    hr_std, lf_hf = _real("hr_std", hr_std), _real("lf_hf", lf_hf)  # their ranges: rr_process
    check_heart_rate(heart_rate)
    if leads not in ("1", "12", "xyz"):
        raise ValueError(f"leads must be '1', '12' or 'xyz'; got {leads!r}")
    if method not in ("exponential", "rk4"):
        raise ValueError(f"method must be 'exponential' or 'rk4'; got {method!r}")
    if fs < MIN_FS_HZ:
        raise ValueError(f"fs {fs:g} Hz is below the model's accuracy floor of {MIN_FS_HZ:g} Hz; "
                         f"simulate at >= {MIN_FS_HZ:g} Hz and resample afterwards if you need less")
    if rr is None and duration_s < 60.0 / heart_rate:
        raise ValueError(f"duration_s {duration_s:g} s is shorter than one beat at {heart_rate:g} bpm "
                         f"({60.0 / heart_rate:.3g} s); ask for at least one beat")
    needed = simulation_bytes(n, duration_s, fs, leads, rr.dtype if rr is not None else dtype)
    limit = _check("max_memory_gb", max_memory_gb)
    if needed > limit * 1e9:
        raise ValueError(f"n={n} ECG(s) of duration_s={duration_s:g} s at fs={fs:g} Hz (leads {leads!r}) "
                         f"need about {needed / 1e9:.3g} GB, over the {limit:g} GB limit; simulate fewer or shorter ECGs "
                         "in batches, or raise max_memory_gb (CLI: --max-memory)")
    if rr is None:
        rr = beat_intervals(rr_process(duration_s + 3.0, heart_rate, hr_std, lf_hf, seed, n), duration_s)
        rr = rr.to(device=device, dtype=dtype)
    elif rr.dim() != 2 or rr.shape[0] != n:
        raise ValueError(f"rr must be (n={n}, beats); got {tuple(rr.shape)}")
    elif (rr.detach() <= 0).any() or not torch.isfinite(rr.detach()).all():
        raise ValueError("rr must hold finite intervals > 0 s")
    n_out = int(round(duration_s * fs))
    t = torch.arange(n_out, dtype=rr.dtype, device=rr.device) / fs
    if leads == "1":
        if isinstance(params, DipoleParams):
            raise ValueError("the single-lead model needs WaveParams or a preset name, not DipoleParams")
        if params is None or isinstance(params, str):
            model = preset(params or "paper", rr.dtype, rr.device)
        else:
            model = params.to(rr.dtype, rr.device)
        if hr_scaling:
            model = scale_for_heart_rate(model, 60.0 / rr.mean(dim=1))
        centres = model.expand(n).theta
    else:
        if params is not None and not isinstance(params, DipoleParams):
            raise ValueError(
                f"leads {leads!r} use the dipole model: params must be DipoleParams or None (DIPOLE_PTB); "
                f"got {params!r}. Presets 'paper'/'reference' are single-lead (leads='1')"
            )
        model = (params or DIPOLE_PTB).to(rr.dtype, rr.device)
        centres = model.theta.expand(n, -1) if model.theta.dim() == 1 else model.theta
    signal = render(model, rr, t, leads, wander_mv, wander_hz, method)
    names = ("ECG",) if leads == "1" else lead_matrix(leads)[1]
    r_times = r_wave_times(rr)
    before = torch.cat([rr[:, :1], rr[:, :-1]], dim=1)  # waves before R (θ < 0) use the preceding RR
    span = torch.where(centres.unsqueeze(1) < 0, before.unsqueeze(-1), rr.unsqueeze(-1))
    wave_times = r_times.unsqueeze(-1) + centres.unsqueeze(1) / (2 * math.pi) * span
    r_times = r_times.detach().cpu().numpy()
    rpeaks = [np.round(row[row * fs < n_out - 0.5] * fs).astype(np.int64) for row in r_times]
    return Simulation(signal, float(fs), names, rr, rpeaks, wave_times, model.names)
