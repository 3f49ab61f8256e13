"""Figures of the world model's outputs (MODEL outputs; the baselines they start from are SEMI-SYNTHETIC twins)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

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
