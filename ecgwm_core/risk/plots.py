"""Figures of the risk chapters: mean-variance map, κ sensitivity, reliability diagrams, CVaR vs mean-variance.

Every function takes the tables of :mod:`~ecgwm_core.risk.study` and returns a
figure at most 7 in wide; the caller titles it with the data's provenance.
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..actions import FORMULARY
from ..plotting.colors import DRUG_COLOURS
from ..plotting.grid import panel_grid
from .calibration import reliability
from .study import kappa_ranks, scores_at


def drug_colour(drug: str) -> str:
    """The book's colour of a formulary drug (the colour of its trial arm)."""
    return DRUG_COLOURS[FORMULARY[drug].trial_name]


def plot_mean_variance_map(scores: pd.DataFrame, subjects: Sequence[int], kappa: float = 1.0) -> plt.Figure:
    """Expected risk (x) against spread (y) of each candidate, one panel per subject, with iso-score lines.

    Parameters
    ----------
    scores : from :func:`~ecgwm_core.risk.study.candidate_scores`.
    subjects : the subjects to show (one panel each).
    kappa : κ of the dashed lines E[r] + κ·Std[r] = const.
    """
    fig, axes = panel_grid(len(subjects), panel_height_in=2.5, sharex=True, sharey=True)
    top = 1.1 * max(scores["expected"].max(), scores["spread"].max())
    for ax, subject in zip(axes, subjects):
        part = scores[scores["subject"] == subject]
        for level in np.arange(1.0, 3 * top, 1.0):  # iso-score lines R = level
            e = np.linspace(0, top, 2)
            ax.plot(e, (level - e) / kappa if kappa > 0 else np.full(2, np.nan), color="0.85", lw=0.8, ls="--")
        for row in part.itertuples():
            ax.scatter(row.expected, row.spread, s=36, color=drug_colour(row.drug), label=row.drug, zorder=3)
        ax.set(xlim=(0, top), ylim=(0, top), title=f"subject {subject}")
        ax.title.set_fontsize(9)
        ax.set_xlabel("E[risk] (dimensionless)", fontsize=9)
        ax.set_ylabel("Std[risk]", fontsize=9)
        ax.tick_params(labelsize=9)
    axes[0].legend(fontsize=9, frameon=False, loc="upper left")
    fig.tight_layout()
    return fig


def plot_kappa_sensitivity(scores: pd.DataFrame, subjects: Sequence[int],
                           kappas: Sequence[float] = tuple(np.linspace(0.0, 4.0, 41))) -> plt.Figure:
    """Each candidate's rank (1 = riskiest) as the risk aversion κ grows, one panel per subject."""
    ranks = kappa_ranks(scores[scores["subject"].isin(subjects)], kappas)
    n_drugs = scores.groupby("subject")["drug"].size().max()
    fig, axes = panel_grid(len(subjects), panel_height_in=2.3, sharex=True, sharey=True)
    for ax, subject in zip(axes, subjects):
        for drug, part in ranks[ranks["subject"] == subject].groupby("drug", sort=False):
            ax.step(part["kappa"], part["rank"], where="post", color=drug_colour(drug), label=drug, lw=1.6)
        ax.set(ylim=(n_drugs + 0.5, 0.5), yticks=range(1, n_drugs + 1), title=f"subject {subject}")
        ax.title.set_fontsize(9)
        ax.set_xlabel("κ (risk aversion)", fontsize=9)
        ax.set_ylabel("rank (1 = riskiest)", fontsize=9)
        ax.tick_params(labelsize=9)
    axes[-1].legend(fontsize=9, frameon=False, loc="lower right")
    fig.tight_layout()
    return fig


def plot_reliability(predictions: dict[str, pd.DataFrame], n_bins: int = 10) -> plt.Figure:
    """Reliability diagrams: observed event frequency against predicted probability, one panel per predictor.

    Parameters
    ----------
    predictions : ``{name: frame with p and observed}`` (e.g. from ``heldout_events``).
    n_bins : equal-width bins of [0, 1]; marker area grows with the bin's count.
    """
    fig, axes = panel_grid(len(predictions), panel_height_in=3.0, max_columns=2, sharey=True)
    for ax, (name, frame) in zip(axes, predictions.items()):
        rel = reliability(frame["p"], frame["observed"], n_bins)
        used = rel.counts > 0
        ax.plot([0, 1], [0, 1], color="0.6", lw=0.8, ls="--")
        ax.plot(rel.predicted[used], rel.observed[used], color="k", lw=1)
        ax.scatter(rel.predicted[used], rel.observed[used], s=10 + 200 * rel.counts[used] / rel.counts.sum(),
                   color="k", zorder=3)
        ax.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), title=f"{name}: ECE {rel.ece:.3f}")
        ax.title.set_fontsize(9)
        ax.set_xlabel("predicted P(event)", fontsize=9)
        ax.set_ylabel("observed frequency", fontsize=9)
        ax.tick_params(labelsize=9)
    fig.tight_layout()
    return fig


def plot_cvar_vs_mean_variance(scores: pd.DataFrame, kappa: float = 1.0) -> plt.Figure:
    """CVaR_α against the mean-variance score of every candidate and subject (one point each)."""
    fig, ax = plt.subplots(figsize=(4.5, 3.6))
    mv = scores_at(scores, kappa)
    for drug, idx in scores.groupby("drug", sort=False).groups.items():
        ax.scatter(mv[idx], scores.loc[idx, "cvar"], s=18, color=drug_colour(drug), label=drug)
    top = 1.05 * max(mv.max(), scores["cvar"].max())
    ax.plot([0, top], [0, top], color="0.6", lw=0.8, ls="--")
    ax.set_xlabel(f"E[risk] + {kappa:g}·Std[risk]", fontsize=9)
    ax.set_ylabel("CVaR (mean of worst 10 %)", fontsize=9)
    ax.tick_params(labelsize=9)
    ax.legend(fontsize=9, frameon=False)
    fig.tight_layout()
    return fig
