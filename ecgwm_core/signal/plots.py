"""Figure of a delineated median beat with its fiducial points."""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..plotting.grid import COLUMN_IN, panel_grid
from .delineate import Delineation, isoelectric

_MARKS = (("p_onset", "P on", "tab:green"), ("qrs_onset", "QRS on", "tab:blue"), ("j_point", "J", "tab:purple"),
          ("t_peak", "T peak", "tab:orange"), ("t_end", "T end", "tab:red"))


def plot_delineation(d: Delineation, lead_names: Sequence[str], show: Sequence[str] | None = None,
                     title: str | None = None) -> Figure:
    """The median beat of some leads and the spatial magnitude, with the fiducial points as vertical lines.

    Parameters
    ----------
    d : a :class:`Delineation`.
    lead_names : names of the rows of ``d.beat``.
    show : leads to draw (default: up to three, the first ones).
    title : figure title.
    """
    show = list(show) if show is not None else list(lead_names[:3])
    t = 1000 * (np.arange(d.beat.shape[1]) - d.r_index) / d.fs
    centred, _ = isoelectric(d.beat, d.fs, d.r_index)
    magnitude = np.sqrt((centred**2).sum(0))
    fig, axes = plt.subplots(len(show) + 1, 1, figsize=(COLUMN_IN, 1.6 * (len(show) + 1)), sharex=True)
    for ax, name in zip(axes, show):
        ax.plot(t, centred[list(lead_names).index(name)], color="k", lw=1)
        ax.set_ylabel(f"{name} (mV)")
    axes[-1].plot(t, magnitude, color="0.3", lw=1)
    axes[-1].set_ylabel("magnitude (mV)")
    axes[-1].set_xlabel("time from R peak (ms)")
    for ax in axes:
        for attribute, _label, colour in _MARKS:
            ax.axvline(1000 * getattr(d.fiducials, attribute), color=colour, lw=0.9, ls="--")
        ax.grid(alpha=0.3)
    for attribute, label, colour in _MARKS:
        axes[0].text(1000 * getattr(d.fiducials, attribute), 1.02, label, color=colour, fontsize=9,
                     ha="center", transform=axes[0].get_xaxis_transform())
    if title:
        fig.suptitle(title, fontsize=9, y=1.0)
    fig.tight_layout()
    return fig


def plot_bland_altman(reference: dict[str, np.ndarray], measured: dict[str, np.ndarray], unit: str = "ms",
                      title: str | None = None) -> Figure:
    """Bland-Altman panels: difference (measured − reference) against their mean, with bias and 95 % limits.

    Parameters
    ----------
    reference, measured : interval name -> values (same order, same unit).
    unit : unit for the axis labels.
    title : figure title.
    """
    names = list(reference)
    fig, axes = panel_grid(len(names), 2.6)
    for ax, name in zip(axes, names):
        ref, meas = np.asarray(reference[name], float), np.asarray(measured[name], float)
        ok = np.isfinite(ref) & np.isfinite(meas)
        mean, diff = (ref[ok] + meas[ok]) / 2, meas[ok] - ref[ok]
        bias, spread = diff.mean(), 1.96 * diff.std(ddof=1)
        ax.plot(mean, diff, ".", ms=2, alpha=0.4, color="tab:blue")
        for level, style in ((bias, "-"), (bias - spread, "--"), (bias + spread, "--")):
            ax.axhline(level, color="k", lw=0.8, ls=style)
        ax.set_title(f"{name}: bias {bias:+.1f}, ±{spread:.1f} {unit}", fontsize=9)
        ax.set_xlabel(f"mean of the two ({unit})")
        ax.set_ylabel(f"measured − reference ({unit})")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
