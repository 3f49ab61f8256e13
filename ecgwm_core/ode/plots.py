"""Figures of the ODE-prior chapter (every one labelled as model output or real data)."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from scipy.signal import periodogram

from ..plotting.grid import COLUMN_IN, panel_grid

from .fit import FitResult, single_lead_beat
from .params import WaveParams, preset, scale_for_heart_rate
from .rr import PROCESS_FS_HZ, rr_process
from .simulate import Simulation, simulate


def plot_limit_cycle(sim: Simulation, seconds: float = 3.0) -> Figure:
    """The (x, y, z) trajectory of a single-lead simulation in 3-D: x = cos θ, y = sin θ, z = ECG (mV)."""
    from .mcsharry import phase

    n = int(seconds * sim.fs)
    t = torch.arange(n, dtype=sim.rr.dtype) / sim.fs
    theta = phase(t, sim.rr[:1])[0].numpy()
    z = sim.signal[0, 0, :n].detach().numpy()
    fig = plt.figure(figsize=(6, 5))
    ax = fig.add_subplot(projection="3d")
    ax.plot(np.cos(theta), np.sin(theta), z, lw=0.8, color="k")
    ax.plot(np.cos(theta), np.sin(theta), np.zeros_like(z) + z.min(), lw=0.5, color="0.7")
    ax.set_xticks([-1, 0, 1])  # few ticks: the 3-D axes' labels overlap otherwise
    ax.set_yticks([-1, 0, 1])
    ax.set_xlabel("x = cos θ")
    ax.set_ylabel("y = sin θ")
    ax.set_zlabel("z (mV)")
    ax.set_title("limit cycle of the McSharry model (model output)", fontsize=9)
    return fig


def plot_wave_buildup(params: WaveParams | None = None, rr_s: float = 1.0, samples: int = 1000) -> Figure:
    """One steady-state beat built up wave by wave: P, then +Q, +R, +S, +T (model output, mV)."""
    params = params or preset("paper")
    fig, axes = panel_grid(len(params.names), 2.2, sharey=True)
    t = (np.arange(samples) / samples - 0.5) * rr_s
    for k, ax in enumerate(axes):
        keep = torch.zeros_like(params.a)
        keep[: k + 1] = 1
        partial = WaveParams(params.theta, params.a * keep, params.b, params.names)
        ax.plot(t, single_lead_beat(partial, rr_s, samples).numpy(), color="k", lw=1)
        ax.set_title(" + ".join(params.names[: k + 1]), fontsize=9)
        ax.set_xlabel("time from R (s)")
        ax.set_ylabel("z (mV)")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_rr(duration_s: float = 300.0, heart_rate: float = 60.0, hr_std: float = 3.0,
            lf_hf: float = 0.5, seed: int = 0) -> Figure:
    """RR tachogram and its periodogram with the Mayer (0.1 Hz) and RSA (0.25 Hz) peaks (model output)."""
    series = rr_process(duration_s, heart_rate, hr_std, lf_hf, seed)[0]
    t = np.arange(series.size) / PROCESS_FS_HZ
    f, p = periodogram(series - series.mean(), fs=PROCESS_FS_HZ)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(COLUMN_IN, 3.0))
    a1.plot(t, 1000 * series, lw=0.8, color="k")
    a1.set_xlim(0, min(120.0, duration_s))
    a1.set_xlabel("time (s)")
    a1.set_ylabel("RR (ms)")
    a1.set_title(f"RR process, {heart_rate:g} ± {hr_std:g} bpm, LF/HF {lf_hf:g}", fontsize=9)
    a2.plot(f, p * 1e6, color="k", lw=0.8)
    for f0, label in ((0.1, "Mayer 0.1 Hz"), (0.25, "RSA 0.25 Hz")):
        a2.axvline(f0, color="tab:red", ls="--", lw=0.8)
        a2.text(f0 + 0.005, a2.get_ylim()[1] * 0.9 if a2.get_ylim()[1] > 0 else 1, label, fontsize=9, color="tab:red")
    a2.set_xlim(0, 0.5)
    a2.set_xlabel("frequency (Hz)")
    a2.set_ylabel("power (ms²/Hz)")
    for ax in (a1, a2):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_hr_sweep(heart_rates: tuple[float, ...] = (50, 75, 100, 150), preset_name: str = "paper") -> Figure:
    """Steady-state beats at several heart rates, aligned at R, with √(HR/60) scaling (model output)."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for hr in heart_rates:
        rr_s = 60.0 / hr
        params = scale_for_heart_rate(preset(preset_name), torch.tensor([hr], dtype=torch.float64))
        params = WaveParams(params.theta[0], params.a[0], params.b[0])
        ax.plot(*_beat_ms(params, rr_s), lw=1, label=f"{hr:g} bpm")
    return _finish_beat_axes(fig, ax)


def _beat_ms(params: WaveParams, rr_s: float) -> tuple[np.ndarray, np.ndarray]:
    """(time from R in ms, one steady-state beat in mV) at 1 kHz."""
    samples = int(rr_s * 1000)
    t_ms = 1000 * (np.arange(samples) / samples - 0.5) * rr_s
    return t_ms, single_lead_beat(params, rr_s, samples).numpy()


def _finish_beat_axes(fig: Figure, ax) -> Figure:
    ax.set_xlabel("time from R peak (ms)")
    ax.set_ylabel("z (mV)")
    ax.legend(fontsize=9, frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_fit(fit: FitResult, rr_s: float, title: str) -> Figure:
    """Real median beat, fitted model and residual per lead (mV against time from R in ms)."""
    n_leads, m = fit.target.shape
    t = 1000 * (np.arange(m) / m - 0.5) * rr_s
    fig, axes = plt.subplots(2, n_leads, figsize=(min(COLUMN_IN, 3.6 * n_leads), 4.4), sharex=True,
                             gridspec_kw={"height_ratios": [3, 1]}, squeeze=False)
    for i in range(n_leads):
        top, bottom = axes[0, i], axes[1, i]
        top.plot(t, fit.target[i], color="k", lw=1.2, label="real median beat")
        top.plot(t, fit.fitted[i], color="tab:red", lw=1, ls="--", label="model fit")
        top.set_title(f"{fit.leads[i]}: PRD {fit.prd[i]:.1f} %\nRMSE {1000 * fit.rmse[i]:.0f} µV", fontsize=9)
        bottom.plot(t, fit.target[i] - fit.fitted[i], color="0.3", lw=0.8)
        bottom.set_xlabel("time from R (ms)")
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("mV")
    axes[1, 0].set_ylabel("residual (mV)")
    axes[0, 0].legend(fontsize=9, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_t_wave_explorer(theta_t_deg: float = 90.0, a_t: float = 0.75, b_t: float = 0.4,
                         heart_rate: float = 60.0) -> Figure:
    """One beat with the T wave's angle (degrees), amplitude and width set by hand (model output)."""
    p = preset("paper")
    theta = p.theta.clone()
    a, b = p.a.clone(), p.b.clone()
    theta[4], a[4], b[4] = math.radians(theta_t_deg), a_t, b_t
    rr_s = 60.0 / heart_rate
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.plot(*_beat_ms(p, rr_s), color="0.6", lw=1, label="paper preset")
    ax.plot(*_beat_ms(WaveParams(theta, a, b), rr_s), color="k", lw=1.2,
            label=f"θ_T = {theta_t_deg:g}°, a_T = {a_t:g}, b_T = {b_t:g} rad")
    return _finish_beat_axes(fig, ax)


def simulated_12lead(heart_rate: float = 72.0, seed: int = 0) -> tuple[np.ndarray, float, tuple[str, ...]]:
    """A 10-s 12-lead ECG from the dipole model: (signal (12, N) mV, fs, leads)."""
    sim = simulate(n=1, duration_s=10.0, fs=500.0, heart_rate=heart_rate, leads="12", seed=seed)
    return sim.signal[0].numpy(), sim.fs, sim.leads
