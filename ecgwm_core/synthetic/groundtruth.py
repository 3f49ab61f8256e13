"""Validate the delineator on ECGs rendered by the ODE prior, whose fiducials are known.

The renderings are SYNTHETIC (model output) by design: they come with ground
truth. :func:`~ecgwm_core.ode.paper_dipole` shares each wave's width across X,
Y and Z, so every lead is a sum of Gaussians in time; for an isolated Gaussian
of centre μ and width σ the tangent method marks μ − 2σ and μ + 2σ, which
defines the true P onset, QRS onset (Q wave), J point (S wave) and T end.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..ode import Simulation, paper_dipole, simulate
from ..signal import measure_ecg

TRUE_INTERVALS = ("pr_ms", "qrs_ms", "qt_ms")


def true_intervals(sim: Simulation, widths_rad: np.ndarray) -> dict[str, float]:
    """Median over beats of the true PR, QRS and QT (ms) of a single-ECG dipole simulation.

    Parameters
    ----------
    sim : simulation of one ECG from a shared-width dipole (waves P, Q, R, S, T).
    widths_rad : (5,) the waves' widths b in rad.
    """
    k = len(sim.rpeaks[0])
    centre = sim.wave_times[0, :k].detach().numpy()
    rr = sim.rr[0].detach().numpy()
    span = np.where(centre < centre[:, 2:3], np.concatenate([rr[:1], rr[:-1]])[:k, None], rr[:k, None])
    sigma = np.asarray(widths_rad) * span / (2 * math.pi)
    p_on, q_on = centre[:, 0] - 2 * sigma[:, 0], centre[:, 1] - 2 * sigma[:, 1]
    j, t_end = centre[:, 3] + 2 * sigma[:, 3], centre[:, 4] + 2 * sigma[:, 4]
    return {"pr_ms": 1000 * float(np.median(q_on - p_on)), "qrs_ms": 1000 * float(np.median(j - q_on)),
            "qt_ms": 1000 * float(np.median(t_end - q_on))}


def validation_table(heart_rates=(50, 60, 75, 90, 100, 120), noise_mv=(0.0, 0.02, 0.05), seed: int = 0,
                     fs: float = 500.0) -> pd.DataFrame:
    """Measured minus true PR, QRS and QT (ms) on 10-s 12-lead renderings with white noise added.

    Returns
    -------
    pandas.DataFrame
        One row per (``heart_rate``, ``noise_mv``) with ``quality`` and ``<interval>_error_ms``.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for noise in noise_mv:
        for bpm in heart_rates:
            params = paper_dipole(bpm)
            sim = simulate(n=1, duration_s=10.0, fs=fs, heart_rate=bpm, hr_std=1.0, seed=int(bpm), leads="12",
                           params=params, wander_mv=0.1)
            truth = true_intervals(sim, params.b[0].numpy())
            signal = sim.signal[0].numpy()
            measured = measure_ecg(signal + noise * rng.standard_normal(signal.shape), fs)
            rows.append({"heart_rate": bpm, "noise_mv": noise, "quality": measured["quality"],
                         **{f"{name}_error_ms": measured[name] - truth[name] for name in TRUE_INTERVALS}})
    return pd.DataFrame(rows)
