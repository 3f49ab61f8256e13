"""Figures of the interventions chapter: concentration-time curves and concentration-QTc."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..ode import Simulation
from ..plotting.colors import DRUG_COLOURS
from ..plotting.grid import panel_grid
from .exposure_response import SlopeResult, paired_ddelta
from .pk import PKFit

_HOURS = np.linspace(0.0, 24.0, 481)


def plot_pk(fits: list[PKFit], kept: pd.DataFrame) -> Figure:
    """Observed concentrations (real data) and the fitted one-compartment model, one panel per drug.

    Grey dots: each subject's triplicate-mean concentration; black: observed mean;
    colour: mean of the subjects' fitted curves; dashed: the typical subject.
    """
    fig, axes = panel_grid(len(fits), 2.8)
    for ax, fit in zip(axes, fits):
        rows = kept[(kept["EXTRT"] == fit.drug) & (kept["TPT"] > 0)]
        points = rows.groupby(["RANDID", "TPT"])["conc_ng_ml"].mean().reset_index()
        ax.plot(points["TPT"], points["conc_ng_ml"], ".", color="0.7", ms=3, label="subjects (real)")
        ax.plot(fit.observed["hours"], fit.observed["mean_ng_ml"], "o-", color="k", ms=3, lw=1, label="observed mean")
        ax.plot(_HOURS, fit.mean_profile(_HOURS), color=DRUG_COLOURS.get(fit.drug), lw=1.5, label="fitted mean")
        ax.plot(_HOURS, fit.predict(_HOURS), "--", color=DRUG_COLOURS.get(fit.drug), lw=1, label="typical subject")
        ax.set_title(f"{fit.drug}, {fit.dose_mg:g} mg", fontsize=9)
        ax.set_xlabel("time after dose (h)")
        ax.set_ylabel("concentration (ng/mL)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=9, frameon=False)
    fig.tight_layout()
    return fig


def plot_cqtc(kept: pd.DataFrame, slopes: list[SlopeResult]) -> Figure:
    """Placebo-corrected ΔΔQTcF (ms) against concentration (ng/mL), real data, with the fitted slope and its CI."""
    fig, axes = panel_grid(len(slopes), 2.8)
    for ax, slope in zip(axes, slopes):
        points = paired_ddelta(kept, slope.drug, slope.measure)
        colour = DRUG_COLOURS.get(slope.drug)
        ax.plot(points["conc_ng_ml"], points["ddelta"], ".", color=colour, alpha=0.35, ms=3)
        c = np.linspace(0, points["conc_ng_ml"].max(), 50)
        ax.plot(c, slope.slope * c, color="k", lw=1.2)
        ax.fill_between(c, slope.ci_low * c, slope.ci_high * c, color="k", alpha=0.15, lw=0)
        ax.axhline(10, color="tab:red", lw=0.8, ls=":")
        ax.set_title(f"{slope.drug}: {slope.slope:.3g} ms per ng/mL", fontsize=9)
        ax.set_xlabel("concentration (ng/mL)")
        ax.set_ylabel(f"ΔΔ{slope.measure} (ms)")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_action_effect(renderings: dict[str, tuple[Simulation, dict]], lead: str = "II") -> Figure:
    """One beat of ``lead`` per rendering, the first drawn solid as the reference (model output).

    Parameters
    ----------
    renderings : label -> (rendering, its measured intervals), e.g. from
        :func:`~ecgwm_core.ode.measured.render_measured` of the pre-intervention dipole
        ("before") and of each shifted one; the labels of drugs pick their colours.
    lead : lead to draw.
    """
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    for i, (label, (sim, m)) in enumerate(renderings.items()):
        signal = sim.signal[0].detach().cpu().numpy()
        r = int(sim.rpeaks[0][3])
        window = np.arange(r - int(0.3 * sim.fs), r + int(0.65 * sim.fs))
        ax.plot(1000 * (window - r) / sim.fs, signal[sim.leads.index(lead), window], lw=1.4 if i == 0 else 1.0,
                color="k" if i == 0 else DRUG_COLOURS.get(label), ls="-" if i == 0 else "--",
                label=f"{label}: PR {m['pr_ms']:.0f}, QRS {m['qrs_ms']:.0f}, QT {m['qt_ms']:.0f} ms")
    ax.set_xlabel("time from R peak (ms)")
    ax.set_ylabel(f"lead {lead} (mV)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, frameon=False, loc="upper right")
    fig.tight_layout()
    return fig
