"""Figures of the ECGRDVQ trial's drug effects (change from baseline, 95 % CIs)."""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from ..plotting.colors import DRUG_COLOURS
from ..plotting.grid import COLUMN_IN


def plot_change_timecourse(
    effects: pd.DataFrame, ylabel: str, drugs: Sequence[str] | None = None, title: str | None = None
) -> Figure:
    """Mean change from baseline vs hours after dose, one line per drug with its 95 % CI band.

    Parameters
    ----------
    effects : output of :func:`ecgwm_core.data.trial.change_from_baseline`.
    ylabel : y-axis label with unit, e.g. ``"ΔQTcF (ms)"``.
    drugs : drugs to draw (default: all in ``effects``).
    title : axes title.
    """
    drugs = list(drugs) if drugs is not None else sorted(effects["drug"].unique())
    fig, ax = plt.subplots(figsize=(COLUMN_IN, 4.0))
    for drug in drugs:
        d = effects[effects["drug"] == drug].sort_values("hours")
        if d.empty:
            raise ValueError(f"no rows for drug {drug!r}; drugs: {', '.join(effects['drug'].unique())}")
        colour = DRUG_COLOURS.get(drug)
        ax.plot(d["hours"], d["mean"], "o-", ms=3, color=colour, label=drug)
        ax.fill_between(d["hours"], d["ci_low"], d["ci_high"], color=colour, alpha=0.15, lw=0)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xlabel("time after dose (h)")
    ax.set_ylabel(ylabel)
    ax.set_xscale("symlog", linthresh=4)
    ax.set_xticks([0, 1, 2, 3, 4, 6, 8, 12, 24])
    ax.set_xticklabels(["0", "1", "2", "3", "4", "6", "8", "12", "24"])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, ncol=1, frameon=False, loc="upper right")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_jtpeak_vs_tpeaktend(jtpeak: pd.DataFrame, tpeaktend: pd.DataFrame) -> Figure:
    """Mean ΔJ-Tpeak against mean ΔTpeak-Tend per drug, one point per time point.

    Parameters
    ----------
    jtpeak, tpeaktend : :func:`~ecgwm_core.data.trial.change_from_baseline` outputs
        for ``"JTPEAK"`` and ``"TPEAKTEND"``.
    """
    merged = jtpeak.merge(tpeaktend, on=["drug", "hours"], suffixes=("_jt", "_tpte"))
    merged = merged[merged["hours"] > 0]
    fig, ax = plt.subplots(figsize=(5.5, 5.0))
    for drug, d in merged.groupby("drug"):
        d = d.sort_values("hours")
        ax.plot(d["mean_tpte"], d["mean_jt"], "o-", ms=3, lw=0.8, color=DRUG_COLOURS.get(drug), label=drug)
    ax.axhline(0, color="k", lw=0.6)
    ax.axvline(0, color="k", lw=0.6)
    ax.set_xlabel("ΔTpeak-Tend (ms)")
    ax.set_ylabel("ΔJ-Tpeak (ms)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, frameon=False)
    fig.tight_layout()
    return fig
