"""Figures of the world model's outputs (MODEL outputs; the baselines they start from are SEMI-SYNTHETIC twins)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from ..data.trial import BASELINE_HOURS, subject_changes
from .anchors import trial_action
from .cohort import Cohort
from .config import WEIGHT_SCHEDULES
from .diffusion import Schedule
from .energy import energy_weight
from .model import WorldModel
from .rollout import Baseline, Rollouts, rollout

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
    left.legend(fontsize=9)
    for name in WEIGHT_SCHEDULES:
        right.plot(t, energy_weight(schedule, t, name).numpy(), label=name)
    right.set_xlabel("diffusion step t (noise grows →)", fontsize=9)
    right.set_ylabel("energy weight w(t)", fontsize=9)
    right.legend(fontsize=9)
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
        ax.legend(fontsize=9)
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
    axes[0, 0].set_ylabel("ΔQTcF (ms)", fontsize=9)
    fig.supxlabel("hours since dose (h)", fontsize=9)
    fig.tight_layout()
    return fig


def plot_reconstruction_examples(beats: np.ndarray, recon: np.ndarray, fs_hz: float, r_index: int,
                                 quantiles: tuple[float, ...] = (0.5, 0.95)) -> plt.Figure:
    """Beats (black, as given) and reconstructions (red, MODEL) at the given quantiles of their RMSE.

    Parameters
    ----------
    beats, recon : (n, 12, M) median beats and their autoencoder reconstructions, in mV.
    fs_hz : sampling rate of the beats (Hz).
    r_index : R-peak sample in each beat.
    quantiles : which beats to show, as quantiles (0-1) of the per-beat RMSE; one row each.
    """
    if beats.shape != recon.shape or beats.ndim != 3:
        raise ValueError(f"beats {beats.shape} and recon {recon.shape} must both be (n, 12, M)")
    rmse = np.sqrt(((recon - beats) ** 2).mean(axis=(1, 2)))
    order = np.argsort(rmse)
    show = order[[min(int(q * len(order)), len(order) - 1) for q in quantiles]]
    return plot_reconstructions(beats[show], recon[show], fs_hz, r_index)


def plot_generated_vs_observed(model: WorldModel, baselines: dict[tuple[int, str], Baseline], cohort: Cohort,
                               hours: float, samples: int = 8,
                               seed: int = 0, lead: str = "V5") -> plt.Figure:
    """Generated post-dose median beats (red, MODEL) per drug vs the observed twin (black, SEMI-SYNTHETIC).

    Parameters
    ----------
    model : a trained world model.
    baselines : {(RANDID, EXTRT): Baseline} of one subject, e.g. from ``validate.period_baselines``.
    cohort : the same subject's represented twins (``cohort.twin_cohort``); the observed beat is the mean of
        its ECGs at ``hours`` on each drug.
    hours : hours since the dose (h).
    samples, seed : rollouts per drug and their seed.
    lead : lead to draw.
    """
    i = LEAD_NAMES.index(lead)
    items = sorted(baselines.items(), key=lambda kv: kv[0][1])
    fig, axes = plt.subplots(1, len(items), figsize=(7, 2.4), sharey=True, squeeze=False)
    for ax, ((_, drug), base) in zip(axes[0], items):
        result = rollout(model, base, [trial_action(drug, hours)], samples=samples, seed=seed)
        t_ms = (np.arange(result.beats.shape[-1]) - result.r_index) / result.fs_hz * 1000
        for beat in result.beats:
            ax.plot(t_ms, beat[i], color="tab:red", lw=0.5, alpha=0.6)
        post = cohort.rows.index[(cohort.rows["EXTRT"] == drug) & (cohort.rows["TPT"] == hours)]
        ax.plot(t_ms, cohort.beats[post, i].mean(0), color="black", lw=1.0)
        ax.set_title(drug.split()[0], fontsize=9)
        ax.set_xlabel("ms from R", fontsize=9)
    axes[0, 0].set_ylabel(f"{lead} (mV)", fontsize=9)
    fig.tight_layout()
    return fig


def subject_trajectories(model: WorldModel, rows: pd.DataFrame, baselines: dict[tuple[int, str], Baseline],
                         samples: int = 32, seed: int = 0
                         ) -> tuple[dict[str, Rollouts], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Rollouts at every post-dose time point of one subject's periods, and the observed ΔQTcF.

    Parameters
    ----------
    model : a trained world model.
    rows : the subject's rows of the clinical table (real); their post-dose hours are the time points.
    baselines : {(RANDID, EXTRT): Baseline} of the subject.
    samples, seed : rollouts per time point and their seed.

    Returns
    -------
    results : {drug short name: Rollouts} (MODEL output).
    observed : {drug short name: ((n,) hours, (n,) observed ΔQTcF in ms)} from the table (real data).
    """
    hours = sorted(h for h in rows["TPT"].unique() if h > BASELINE_HOURS)
    changes = subject_changes(rows, "QTcF")
    results, observed = {}, {}
    for (_, drug), base in sorted(baselines.items(), key=lambda kv: kv[0][1]):
        short = drug.split()[0]
        results[short] = rollout(model, base, [trial_action(drug, h) for h in hours], samples=samples, seed=seed)
        own = changes[(changes["EXTRT"] == drug) & (changes["TPT"] > BASELINE_HOURS)]
        observed[short] = (own["TPT"].to_numpy(), own["change"].to_numpy())
    return results, observed
