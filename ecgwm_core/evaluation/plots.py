"""Figures of the evaluation chapter: hallucination examples and the ablation panels (≤ 7 in wide)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..plotting.grid import panel_grid


def plot_hallucinations(examples: dict[str, tuple[np.ndarray, str]], fs_hz: float, r_index: int,
                        lead: int = 1, lead_name: str = "II") -> Figure:
    """One generated median beat per panel (one lead), titled with the checker's verdict.

    Parameters
    ----------
    examples : panel title -> ((12, M) beat in mV, ``"; "``-joined reasons, ``""`` when plausible).
    fs_hz : sampling rate of the beats (Hz); r_index : sample of R.
    lead : row of the beat to draw; lead_name : its name for the axis label.
    """
    fig, axes = panel_grid(len(examples), 2.2)
    for ax, (title, (beat, reasons)) in zip(axes, examples.items()):
        t_ms = 1000 * (np.arange(beat.shape[-1]) - r_index) / fs_hz
        ax.plot(t_ms, beat[lead], color="tab:red" if reasons else "tab:blue", lw=1)
        verdict = "checker: " + (reasons.split(";")[0][:30] if reasons else "passes")
        ax.set_title(f"{title}\n{verdict}", fontsize=9)
        ax.set_xlabel("time from R (ms)")
        ax.set_ylabel(f"lead {lead_name} (mV)")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_ablations(lambda0: pd.DataFrame, schedule: pd.DataFrame, mismatch: pd.DataFrame,
                   k: pd.DataFrame, reference_mae: float) -> Figure:
    """2 × 2 panels: MAE (and spread) vs λ0, weight schedule, prior mismatch factor and K.

    Parameters
    ----------
    lambda0 : rows with ``value`` (λ0), ``mae_ms``, ``spread_ms``; schedule : ``value`` (name), ``mae_ms``,
        ``spread_ms``; mismatch : ``value`` (factor), ``mae_ms``, ``spread_ms``; k : ``K``, ``mae_ms``,
        ``coverage90``.
    reference_mae : the population mean's MAE on the same subjects (dashed line), ms.
    """
    fig, axes = panel_grid(4, 2.4, max_columns=2)
    panels = [(axes[0], lambda0, "λ0 (prior strength)"), (axes[2], mismatch, "prior effect scale (× fitted)")]
    for ax, table, label in panels:
        ax.plot(table["value"], table["mae_ms"], "o-", label="MAE")
        ax.plot(table["value"], table["spread_ms"], "s--", label="rollout sd")
        ax.set_xlabel(label)
    x = np.arange(len(schedule))
    axes[1].bar(x - 0.2, schedule["mae_ms"], 0.4, label="MAE")
    axes[1].bar(x + 0.2, schedule["spread_ms"], 0.4, label="rollout sd")
    axes[1].set_xticks(x, [str(v).replace("_", " ") for v in schedule["value"]])
    axes[1].set_xlabel("energy weight w(t)")
    axes[3].plot(k["K"], k["mae_ms"], "o-", label="MAE")
    axes[3].set_xscale("log", base=2)
    axes[3].set_xlabel("rollouts K per time point")
    twin = axes[3].twinx()
    twin.plot(k["K"], k["coverage90"], "^:", color="tab:green", label="90 % coverage")
    twin.set_ylabel("coverage", color="tab:green")
    twin.set_ylim(0, 1)
    for ax in axes:
        ax.axhline(reference_mae, color="k", lw=0.8, ls=":", label="population mean MAE")
        ax.set_ylabel("ΔQTcF (ms)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=9, loc="best")
    fig.tight_layout()
    return fig
