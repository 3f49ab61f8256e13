"""Figure of a delineated median beat with its fiducial points."""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

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
    fig, axes = plt.subplots(len(show) + 1, 1, figsize=(7.5, 1.6 * (len(show) + 1)), sharex=True)
    for ax, name in zip(axes, show):
        ax.plot(t, centred[list(lead_names).index(name)], color="k", lw=1)
        ax.set_ylabel(f"{name} (mV)")
    axes[-1].plot(t, magnitude, color="0.3", lw=1)
    axes[-1].set_ylabel("magnitude (mV)")
    axes[-1].set_xlabel("time from R peak (ms)")
    for ax in axes:
        for attribute, label, colour in _MARKS:
            ax.axvline(1000 * getattr(d.fiducials, attribute), color=colour, lw=0.9, ls="--")
        ax.grid(alpha=0.3)
    for attribute, label, colour in _MARKS:
        axes[0].text(1000 * getattr(d.fiducials, attribute), 1.02, label, color=colour, fontsize=7,
                     ha="center", transform=axes[0].get_xaxis_transform())
    if title:
        fig.suptitle(title, fontsize=9, y=1.0)
    fig.tight_layout()
    return fig
