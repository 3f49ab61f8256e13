"""Draw ECGs the way clinicians read them: on standard ECG paper at 25 mm/s and 10 mm/mV.

The grid has 1-mm minor squares (0.04 s × 0.1 mV) and 5-mm major squares
(0.2 s × 0.5 mV); the figure is sized so that these are true millimetres when
printed at 100 %. The usual 3 × 4 layout shows 2.5 s of each lead
(I, II, III | aVR, aVL, aVF | V1-V3 | V4-V6) above a 10-s rhythm strip.
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

MM_PER_S = 25.0
MM_PER_MV = 10.0
LAYOUT_3X4 = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
_PAPER = "#fff6f4"
_MINOR = "#f6b8ad"
_MAJOR = "#e2725b"


def draw_grid(ax: Axes, t_max_s: float, mv_min: float, mv_max: float) -> None:
    """ECG-paper grid on ``ax`` for 0-``t_max_s`` seconds and ``mv_min``-``mv_max`` mV."""
    ax.set_facecolor(_PAPER)
    for step, colour, width in ((0.04, _MINOR, 0.3), (0.2, _MAJOR, 0.7)):
        for t in np.arange(0.0, t_max_s + 1e-9, step):
            ax.axvline(t, color=colour, lw=width, zorder=0)
    for step, colour, width in ((0.1, _MINOR, 0.3), (0.5, _MAJOR, 0.7)):
        for v in np.arange(np.floor(mv_min / step) * step, mv_max + 1e-9, step):
            ax.axhline(v, color=colour, lw=width, zorder=0)
    ax.set_xlim(0, t_max_s)
    ax.set_ylim(mv_min, mv_max)
    ax.set_aspect(MM_PER_MV / MM_PER_S)
    ax.tick_params(labelleft=False, labelbottom=False, length=0)


def paper_axes(duration_s: float, mv_min: float, mv_max: float) -> tuple[Figure, Axes]:
    """Figure and axes sized so that the grid is in true millimetres at 100 % print.

    Margins: 5 mm left and right, 9 mm below (for the scale label), 7 mm above.
    """
    width_mm, height_mm = duration_s * MM_PER_S, (mv_max - mv_min) * MM_PER_MV
    fig_w, fig_h = width_mm + 10.0, height_mm + 16.0
    fig = plt.figure(figsize=(fig_w / 25.4, fig_h / 25.4))
    ax = fig.add_axes((5.0 / fig_w, 9.0 / fig_h, width_mm / fig_w, height_mm / fig_h))
    draw_grid(ax, duration_s, mv_min, mv_max)
    ax.set_xlabel(SCALE_LABEL, fontsize=7, labelpad=2)
    return fig, ax


SCALE_LABEL = "25 mm/s, 10 mm/mV; small squares 0.04 s × 0.1 mV, large 0.2 s × 0.5 mV"


def _calibration_pulse(ax: Axes, t0: float, v0: float) -> None:
    """1 mV × 0.2 s calibration pulse starting at (``t0`` s, ``v0`` mV)."""
    ax.plot([t0, t0, t0 + 0.2, t0 + 0.2], [v0, v0 + 1.0, v0 + 1.0, v0], color="k", lw=1.0)


def plot_12lead(
    signal: np.ndarray,
    fs: float,
    leads: Sequence[str],
    title: str | None = None,
    rhythm_lead: str = "II",
    start_s: float = 0.0,
) -> Figure:
    """12-lead ECG on standard paper: 3 × 4 layout (2.5 s per lead) plus a 10-s rhythm strip.

    Parameters
    ----------
    signal : (leads, samples) array in mV; must hold at least 10 s after ``start_s``.
    fs : sampling frequency in Hz.
    leads : names of the rows of ``signal``; must include the 12 standard leads.
    title : figure title.
    rhythm_lead : lead shown as the 10-s strip at the bottom.
    start_s : time (s) in the record where the 10-s page starts.

    Returns
    -------
    matplotlib.figure.Figure
        Sized in true millimetres (25 mm/s, 10 mm/mV).
    """
    signal = np.asarray(signal, dtype=float)
    if signal.ndim != 2 or signal.shape[0] != len(leads):
        raise ValueError(
            f"signal must be (leads, samples) with {len(leads)} rows to match leads; got {signal.shape}"
        )
    missing = [name for row in LAYOUT_3X4 for name in row if name not in leads]
    if missing:
        raise ValueError(f"leads {', '.join(missing)} missing; got {', '.join(leads)}")
    a = int(round(start_s * fs))
    n10 = int(round(10.0 * fs))
    if a < 0 or a + n10 > signal.shape[1]:
        raise ValueError(
            f"need 10 s of signal from {start_s} s; record has {signal.shape[1] / fs:.2f} s"
        )
    page = signal[:, a : a + n10]
    t = np.arange(n10) / fs
    row_height_mv = 3.0
    rows = [*LAYOUT_3X4, (rhythm_lead,)]
    fig, ax = paper_axes(10.0, -row_height_mv * len(rows), 0.0)
    for r, row in enumerate(rows):
        centre = -(r + 0.5) * row_height_mv
        _calibration_pulse(ax, 0.0, centre - 0.5)
        span = 10.0 / len(row)
        for c, name in enumerate(row):
            i0, i1 = int(round(c * span * fs)), int(round((c + 1) * span * fs))
            sig = page[leads.index(name), i0:i1]
            ax.plot(t[i0:i1], sig - np.median(sig) + centre, color="k", lw=0.6)
            ax.text(c * span + 0.25, centre + 1.0, name, fontsize=8, va="bottom")
            if c:
                ax.plot([c * span] * 2, [centre - 0.3, centre + 0.3], color="k", lw=0.8)
    if title:
        ax.set_title(title, fontsize=8, pad=3)
    return fig


def plot_strip(
    signal: np.ndarray,
    fs: float,
    lead: str,
    beat_samples: np.ndarray | None = None,
    beat_symbols: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """One lead on ECG paper, optionally with beat annotations above each beat.

    Parameters
    ----------
    signal : (samples,) array in mV.
    fs : sampling frequency in Hz.
    lead : lead name for the label.
    beat_samples, beat_symbols : annotation positions (sample indices into
        ``signal``) and their symbols.
    title : figure title.
    """
    signal = np.asarray(signal, dtype=float)
    if signal.ndim != 1:
        raise ValueError(f"signal must be one lead (samples,); got shape {signal.shape}")
    duration = signal.size / fs
    lo, hi = np.floor(signal.min() * 2) / 2 - 0.5, np.ceil(signal.max() * 2) / 2 + 0.5
    fig, ax = paper_axes(duration, lo, hi)
    t = np.arange(signal.size) / fs
    ax.plot(t, signal, color="k", lw=0.7)
    ax.text(0.05, hi - 0.15, lead, fontsize=8, va="top")
    if beat_samples is not None and len(beat_samples):
        labels = beat_symbols if beat_symbols is not None else ["•"] * len(beat_samples)
        for s, sym in zip(beat_samples, labels):
            ax.text(s / fs, hi - 0.05, sym, ha="center", va="top", fontsize=7, color="navy")
    if title:
        ax.set_title(title, fontsize=8, pad=3)
    return fig
