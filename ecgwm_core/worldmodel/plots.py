"""Figures of the world model's outputs (MODEL outputs; the baselines they start from are SEMI-SYNTHETIC twins)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from .config import WEIGHT_SCHEDULES
from .diffusion import Schedule
from .energy import energy_weight
from .model import WorldModel
from .rollout import Baseline, Rollouts

LEAD_NAMES = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


def plot_rollout_beats(result: Rollouts, baseline: Baseline, leads: tuple[str, ...] = ("II", "V2", "V5"),
                       action: int = 0, shown: int = 16) -> plt.Figure:
    """Generated median beats of one action (thin lines) over the mean pre-dose beat (black), per lead."""
    rows = result.table.index[(result.table["action"] == action) & result.table["plausible"]][:shown]
    t_ms = (np.arange(result.beats.shape[-1]) - result.r_index) / result.fs_hz * 1000
    fig, axes = plt.subplots(1, len(leads), figsize=(7, 2.6), sharey=True)
    for ax, lead in zip(np.atleast_1d(axes), leads):
        i = LEAD_NAMES.index(lead)
        for r in rows:
            ax.plot(t_ms, result.beats[r, i], color="tab:red", lw=0.6, alpha=0.5)
        ax.plot(t_ms, baseline.beats[:, i].mean(0), color="black", lw=1.2)
        ax.set_title(lead, fontsize=10)
        ax.set_xlabel("time from R (ms)", fontsize=9)
    np.atleast_1d(axes)[0].set_ylabel("mV", fontsize=9)
    first = result.table[result.table["action"] == action].iloc[0]
    fig.suptitle(f"MODEL: {len(rows)} generated beats, {first['drug']} at {first['hours']:g} h (red) vs the "
                 "pre-dose twin (black, semi-synthetic)", fontsize=9)
    fig.tight_layout()
    return fig


def plot_schedule_and_weights(schedule: Schedule) -> plt.Figure:
    """Left: ᾱ_t and SNR_t of the cosine schedule. Right: the energy weights w(t) of every schedule."""
    t = torch.arange(schedule.timesteps)
    a = schedule.alpha_bar.numpy()
    fig, (left, right) = plt.subplots(1, 2, figsize=(7, 2.8))
    left.plot(t, a, color="black", label="ᾱ_t")
    left.plot(t, np.sqrt(1 - a), color="tab:gray", ls="--", label="√(1 − ᾱ_t) (noise scale)")
    left.set_xlabel("diffusion step t", fontsize=9)
    left.set_ylabel("coefficient (unitless)", fontsize=9)
    left.legend(fontsize=8)
    for name in WEIGHT_SCHEDULES:
        right.plot(t, energy_weight(schedule, t, name).numpy(), label=name)
    right.set_xlabel("diffusion step t (noise grows →)", fontsize=9)
    right.set_ylabel("energy weight w(t)", fontsize=9)
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_training_curves(models: dict[str, WorldModel], smooth: int = 20) -> plt.Figure:
    """Noise-prediction loss and (unweighted) energy ‖x̂0 − anchor‖²/D during training, per labelled model."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(7, 2.8))
    kernel = np.ones(smooth) / smooth
    for label, model in models.items():
        curves = model.meta["curves"]["diffusion"]
        steps = np.arange(len(curves["eps"])) * 10
        for ax, key in ((left, "eps"), (right, "energy")):
            values = np.convolve(np.log10(np.asarray(curves[key])), kernel, mode="valid")
            ax.plot(steps[: len(values)], 10 ** values, label=label)
    left.set_ylabel("ε-prediction MSE (unitless)", fontsize=9)
    right.set_ylabel("energy ‖x̂0 − anchor‖²/D", fontsize=9)
    for ax in (left, right):
        ax.set_xlabel("training step", fontsize=9)
        ax.set_yscale("log")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_reconstructions(beats: np.ndarray, recon: np.ndarray, fs_hz: float, r_index: int,
                         leads: tuple[str, ...] = ("II", "V1", "V5")) -> plt.Figure:
    """Median beats (black) and their autoencoder reconstructions (red, MODEL), one row per beat."""
    t_ms = (np.arange(beats.shape[-1]) - r_index) / fs_hz * 1000
    fig, axes = plt.subplots(len(beats), len(leads), figsize=(7, 1.6 * len(beats)), sharex=True, squeeze=False)
    for row, (b, r) in enumerate(zip(beats, recon)):
        for col, lead in enumerate(leads):
            i = LEAD_NAMES.index(lead)
            ax = axes[row, col]
            ax.plot(t_ms, b[i], color="black", lw=1.0)
            ax.plot(t_ms, r[i], color="tab:red", lw=0.8, ls="--")
            if row == 0:
                ax.set_title(lead, fontsize=10)
            if col == 0:
                ax.set_ylabel("mV", fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("time from R (ms)", fontsize=9)
    fig.tight_layout()
    return fig


def plot_dqtcf_trajectories(results: dict[str, Rollouts], observed: dict[str, tuple[np.ndarray, np.ndarray]]
                            ) -> plt.Figure:
    """ΔQTcF over hours per drug: rollout median and 5-95 % band (MODEL) vs observed points (trial table)."""
    fig, axes = plt.subplots(1, len(results), figsize=(7, 2.6), sharey=True, squeeze=False)
    for ax, (drug, result) in zip(axes[0], results.items()):
        s = result.summary()
        ax.fill_between(s["hours"], s["q05"], s["q95"], color="tab:red", alpha=0.25, lw=0)
        ax.plot(s["hours"], s["median"], color="tab:red", lw=1.2)
        hours, values = observed[drug]
        ax.plot(hours, values, "o", color="black", ms=3)
        ax.axhline(0, color="gray", lw=0.5)
        ax.set_title(drug, fontsize=9)
        ax.set_xlabel("hours since dose (h)", fontsize=9)
    axes[0, 0].set_ylabel("ΔQTcF (ms)", fontsize=9)
    fig.tight_layout()
    return fig
