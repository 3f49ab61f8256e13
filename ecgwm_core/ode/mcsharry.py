"""The single-lead McSharry dynamical model and its two integrators.

The model (McSharry et al., IEEE TBME 2003) moves a point around the unit
circle in (x, y) once per beat while z, the ECG, is pushed by Gaussian waves
placed at fixed angles:

    x' = αx − ωy,   y' = αy + ωx,   α = 1 − sqrt(x² + y²),   ω = 2π / RR,
    z' = −Σ_i a_i Δθ_i exp(−Δθ_i² / (2 b_i²)) − (z − z0(t)),
    Δθ_i = (θ − θ_i) wrapped to (−π, π],   z0(t) = A sin(2π f t).

The record starts at θ = −π (mid-diastole) and the first R wave (θ = 0) comes
RR_0 / 2 later; from then on R wave k + 1 follows R wave k after exactly RR_k
seconds, with ω = 2π / RR_k constant in between (as in ECGSYN, where each beat
keeps the RR value drawn at its start). R-R intervals therefore equal the RR
process sampled beat by beat.

Two integrators:

:func:`integrate_exponential` (the default, fast)
    Started on the unit circle the (x, y) orbit *is* the phase θ(t), known in
    closed form, and z obeys a linear first-order ODE z' = f(θ(t)) − z + z0(t).
    Each wave term is a time derivative: with ω constant between R waves,
    −a Δθ exp(−Δθ²/2b²) = d/dt [(a b²/ω) exp(−Δθ²/2b²)]. So
    z = F + y with F(t) = Σ_i (a_i b_i²/ω) exp(−Δθ_i²/2b_i²) exact, and the
    remainder y obeys y' = −y + z0 − F, whose drive is smooth on the time
    scale of the sampling; when ω changes at an R wave, F jumps and y takes
    the opposite jump, so that z stays continuous. y is integrated exactly for a
    drive linear between samples, y_{n+1} = e^{−h} y_n + c0 g_n + c1 (g_{n+1} − g_n),
    for all steps at once (:func:`solve_relaxation`). Against SciPy's
    ``solve_ivp`` (RK45, rtol 1e-10) this is within 1 µV at 128-1000 Hz and
    40-240 bpm, so the output rate is also the integration rate.
:func:`integrate_rk4` (the reference)
    Classical fixed-step RK4 on the full (x, y, z) system, step by step.
"""
from __future__ import annotations

import math

import torch

from .params import WaveParams

MV_PER_UNIT = 27.48
"""Gain from McSharry's model units to mV: with the paper preset at 60 bpm and no
wander, one beat then spans −0.4 to 1.2 mV peak to peak (1.6 mV), the range the
ECGSYN reference code rescales its output to. Computed once with this module
(see tests/test_ode.py::test_gain_gives_ecgsyn_range)."""


def wrap_angle(angle: torch.Tensor) -> torch.Tensor:
    """Angle wrapped to [−π, π) (differentiable, gradient 1)."""
    return torch.remainder(angle + math.pi, 2 * math.pi) - math.pi


def phase_segments(rr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Start times and lengths (s) of the constant-ω segments of the phase.

    Segment 0 runs from −RR_0/2 (so θ(0) = −π) to the first R wave at RR_0/2;
    segment k ≥ 1 runs from R wave k − 1 to R wave k and lasts RR_{k−1}.

    Parameters
    ----------
    rr : (B, K) R-R intervals in s.

    Returns
    -------
    (starts, lengths)
        Both (B, K + 1); ``starts[:, 1:]`` are the R-wave times.
    """
    lengths = torch.cat([rr[:, :1], rr], dim=1)
    starts = torch.cumsum(lengths, dim=1) - lengths - rr[:, :1] / 2
    return starts, lengths


def r_wave_times(rr: torch.Tensor) -> torch.Tensor:
    """(B, K) times in s of the R waves (θ = 0) for R-R intervals ``rr`` (B, K)."""
    return phase_segments(rr)[0][:, 1:]


def _segment_index(starts: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return (torch.searchsorted(starts.contiguous(), t.contiguous(), right=True) - 1).clamp(min=0)


def _cycle(t: torch.Tensor, starts: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Unwrapped phase within its segment, in [0, 2π) from each R wave, and the segment length (s).

    ``starts`` and ``lengths`` come from :func:`phase_segments`. Both outputs
    are (B, N); the phase is θ up to a multiple of 2π.
    """
    end = starts[:, -1] + lengths[:, -1]
    if (end < t[-1]).any():
        raise ValueError(
            f"the beats cover {end.min().item():.3f} s but the grid reaches {t[-1].item():.3f} s; "
            "pass more RR intervals"
        )
    tt = t.to(starts.dtype).unsqueeze(0).expand(starts.shape[0], -1).contiguous()
    k = _segment_index(starts, tt)
    length = torch.gather(lengths, 1, k)
    return 2 * math.pi * (tt - torch.gather(starts, 1, k)) / length, length


def phase(t: torch.Tensor, rr: torch.Tensor) -> torch.Tensor:
    """Phase θ(t) in rad of the limit cycle: −π at t = 0, 0 at every R wave.

    Parameters
    ----------
    t : (N,) times in s, ≥ 0 and within the beats.
    rr : (B, K) R-R intervals in s.

    Returns
    -------
    torch.Tensor
        (B, N) phase in [−π, π).
    """
    return wrap_angle(_cycle(t, *phase_segments(rr))[0])


def wave_profile(theta: torch.Tensor, params: WaveParams) -> torch.Tensor:
    """Σ_i a_i b_i² exp(−Δθ_i²/(2 b_i²)) in mV·rad: the waves whose time derivative,
    divided by ω, is the forcing (see the module docstring).

    Parameters
    ----------
    theta : (B, N) phase in rad (wrapped or not).
    params : (B, W) or (W,) wave parameters.

    Returns
    -------
    torch.Tensor
        (B, N), multiplied by :data:`MV_PER_UNIT`.
    """
    p = params.expand(theta.shape[0])
    d = wrap_angle(theta.unsqueeze(-1) - p.theta.unsqueeze(1))
    b2 = (p.b**2).unsqueeze(1)
    return MV_PER_UNIT * (p.a.unsqueeze(1) * b2 * torch.exp(-(d**2) / (2 * b2))).sum(-1)


def forcing(theta: torch.Tensor, params: WaveParams) -> torch.Tensor:
    """Wave term −Σ_i a_i Δθ_i exp(−Δθ_i²/(2 b_i²)) in mV/s.

    Parameters
    ----------
    theta : (B, N) phase in rad.
    params : (B, W) or (W,) wave parameters (amplitudes in model units).

    Returns
    -------
    torch.Tensor
        (B, N), already multiplied by :data:`MV_PER_UNIT`.
    """
    p = params.expand(theta.shape[0])
    d = wrap_angle(theta.unsqueeze(-1) - p.theta.unsqueeze(1))
    b = p.b.unsqueeze(1)
    return -MV_PER_UNIT * (p.a.unsqueeze(1) * d * torch.exp(-(d**2) / (2 * b**2))).sum(-1)


def baseline_wander(t: torch.Tensor, amplitude_mv: float, freq_hz: float) -> torch.Tensor:
    """z0(t) = A sin(2π f t) in mV, (N,)."""
    return amplitude_mv * torch.sin(2 * math.pi * freq_hz * t)


def solve_relaxation(
    g: torch.Tensor, dt: float, y_start: torch.Tensor, impulses: torch.Tensor | None = None
) -> torch.Tensor:
    """Solve y' = g(t) − y exactly for g linear between samples, all steps at once.

    The recursion y_{n+1} = λ y_n + u_n (λ = e^{−dt}) is evaluated in chunks
    of 2 s: inside a chunk y = λ^j · cumsum(λ^{−(k+1)} u_k) (weights at most
    e² = 7.4, safe in float32), and only the chunk boundaries are carried in a
    Python loop (5 iterations for 10 s). Differentiable.

    Parameters
    ----------
    g : (B, N) drive in mV/s on a uniform grid.
    dt : grid step in s.
    y_start : (B,) value at the first sample in mV.
    impulses : optional (B, N − 1) extra increments added to step n → n + 1 (mV).

    Returns
    -------
    torch.Tensor
        (B, N) y in mV at the grid points.
    """
    batch, n = g.shape
    decay = math.exp(-dt)
    c0 = 1.0 - decay
    c1 = 1.0 - c0 / dt
    u = (c0 - c1) * g[:, :-1] + c1 * g[:, 1:]
    if impulses is not None:
        u = u + impulses
    chunk = max(1, min(n - 1, int(2.0 / dt)))
    pad = (-(n - 1)) % chunk
    steps = torch.arange(1, chunk + 1, dtype=g.dtype, device=g.device)
    grow, shrink = torch.exp(steps * dt), torch.exp(-steps * dt)  # λ^{-(j+1)}, λ^{j+1}
    local = torch.cumsum(torch.nn.functional.pad(u, (0, pad)).reshape(batch, -1, chunk) * grow, -1) * shrink
    blocks, carry = [], y_start
    for block in local.unbind(1):
        block = block + carry.unsqueeze(1) * shrink
        blocks.append(block)
        carry = block[:, -1]
    return torch.cat([y_start.unsqueeze(1), *blocks], dim=1)[:, :n]


def integrate_exponential(
    params: WaveParams, rr: torch.Tensor, t: torch.Tensor, wander_mv: float = 0.0, wander_hz: float = 0.25
) -> torch.Tensor:
    """Fast solution of the single-lead model on a uniform grid (see the module docstring).

    Parameters
    ----------
    params : (B, W) or (W,) wave parameters.
    rr : (B, K) R-R intervals in s.
    t : (N,) uniform time grid in s starting at 0.
    wander_mv, wander_hz : baseline wander amplitude (mV) and frequency (Hz).

    Returns
    -------
    torch.Tensor
        (B, N) z in mV with z(0) = 0 at θ = −π, like :func:`integrate_rk4`.
    """
    batch, n = rr.shape[0], t.shape[0]
    dt = float(t[1] - t[0])
    p = params.expand(batch)
    t = t.to(rr.dtype)
    starts, lengths = phase_segments(rr)
    cycle, length = _cycle(t, starts, lengths)
    waves = wave_profile(cycle, p) * length / (2 * math.pi)
    drive = baseline_wander(t, wander_mv, wander_hz) - waves
    # At R wave k, 1/ω changes: the waves jump by profile(θ = 0)·ΔRR/2π and y jumps back.
    # The jump lands on the first sample m with t_m >= R time (the same test that puts
    # that sample in the new segment), decayed by exp(−(t_m − R time)).
    r_times = starts[:, 1:]
    jump = -wave_profile(torch.zeros_like(rr[:, :1]), p) * (lengths[:, 1:] - lengths[:, :-1]) / (2 * math.pi)
    first = torch.searchsorted(t, r_times.detach().contiguous(), right=False)
    on_grid = (first < n).to(rr.dtype)
    first = first.clamp(max=n - 1)
    weight = torch.exp(-(t[first] - r_times)) * on_grid
    impulses = torch.zeros(batch, n - 1, dtype=rr.dtype, device=rr.device).scatter_add(1, first - 1, jump * weight)
    return waves + solve_relaxation(drive, dt, -waves[:, 0], impulses)


def integrate_rk4(
    params: WaveParams, rr: torch.Tensor, t: torch.Tensor, wander_mv: float = 0.0, wander_hz: float = 0.25
) -> torch.Tensor:
    """Reference solution: fixed-step RK4 on the full (x, y, z) system, one Python step per sample.

    Parameters
    ----------
    params : (B, W) or (W,) wave parameters.
    rr : (B, K) R-R intervals in s; ω = 2π/RR_k between R waves k and k + 1.
    t : (N,) uniform time grid in s starting at 0.
    wander_mv, wander_hz : baseline wander amplitude (mV) and frequency (Hz).

    Returns
    -------
    torch.Tensor
        (B, N) z in mV, started at (x, y, z) = (−1, 0, 0), i.e. θ = −π.
    """
    batch = rr.shape[0]
    p = params.expand(batch)
    starts, lengths = phase_segments(rr)
    dt = float(t[1] - t[0])

    def omega(time: float) -> torch.Tensor:
        k = _segment_index(starts, torch.full((batch, 1), time, dtype=rr.dtype, device=rr.device))
        return 2 * math.pi / torch.gather(lengths, 1, k).squeeze(1)

    def deriv(time: float, state: torch.Tensor) -> torch.Tensor:
        x, y, z = state.unbind(-1)
        alpha = 1.0 - torch.sqrt(x**2 + y**2)
        w = omega(time)
        theta = torch.atan2(y, x).unsqueeze(1)
        drive = forcing(theta, p).squeeze(1)
        z0 = wander_mv * math.sin(2 * math.pi * wander_hz * time)
        return torch.stack([alpha * x - w * y, alpha * y + w * x, drive - (z - z0)], dim=-1)

    state = torch.zeros(batch, 3, dtype=rr.dtype, device=rr.device)
    state[:, 0] = -1.0
    out = [state[:, 2]]
    for n in range(t.shape[0] - 1):
        time = float(t[n])
        k1 = deriv(time, state)
        k2 = deriv(time + dt / 2, state + dt / 2 * k1)
        k3 = deriv(time + dt / 2, state + dt / 2 * k2)
        k4 = deriv(time + dt, state + dt * k3)
        state = state + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        out.append(state[:, 2])
    return torch.stack(out, dim=1)
