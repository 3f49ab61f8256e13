"""The hallucination checker: is a (generated) ECG physiologically possible?

A generated ECG *hallucinates* when it shows something no recorded sinus-rhythm
ECG can show. :func:`check_ecg` returns every reason it finds (an empty list
means plausible); the hallucination rate of a generator is the share of its
ECGs with at least one reason (:func:`hallucination_rate`). The checks, in order:

1. **Non-finite samples** (NaN, ±inf): nothing else is checked.
2. **Limb-lead identities** (when the leads are named): Einthoven's law
   I + III = II and Goldberger's aVR + aVL + aVF = 0 hold for every recorded
   12-lead ECG because III, aVR, aVL and aVF are computed from I and II
   (Kligfield et al., Circulation 2007;115:1306-1324). The residual's RMS must
   stay within :data:`LIMB_TOLERANCE` of lead II's RMS (plus 10 µV for
   quantisation).
3. **Delineation and rhythm**: the project's delineator (:func:`ecgwm_core.signal.delineate`)
   must find R peaks and a median beat; if it cannot, the QRS is missing. Every
   RR interval must lie within :data:`RR_RATIO` of the median RR: the checker
   assumes sinus rhythm (the trial's healthy volunteers), so an extra QRS (or
   a real premature beat) fails.
4. **Intervals** within :data:`RANGES`: the limits of what a human ECG can show,
   the loader's :data:`ecgwm_core.data.ecgrdvq.PLAUSIBLE_MS` (RR 300-2000 ms,
   i.e. 30-200 bpm; PR 50-400; QRS 40-250; QT 200-700; J-Tpeak 50-500;
   Tpeak-Tend 20-300 ms). They are deliberately wider than the *normal* limits
   of the AHA/ACCF/HRS recommendations (PR 120-200 ms, QRS < 120 ms, QTc about
   350-460 ms: Surawicz et al., Circulation 2009;119:e235-e240; Rautaharju et
   al., Circulation 2009;119:e241-e250), because abnormal ECGs (first-degree
   AV block, bundle-branch block, drug-induced QT prolongation) are real and
   must pass; only the impossible fails.
5. **Wave order**: P onset < QRS onset < J < T peak < T end.
6. **Missing or duplicated waves** on the median beat's spatial magnitude
   g(t) = ‖beat(t) − isoelectric level‖ over the leads (the delineator's own
   curve): a P (T) wave is missing when its height above the noise floor is
   below :data:`MIN_HEIGHT_MV`; a wave is duplicated when a second hump of at
   least half the wave's height sits in its window (P onset to QRS onset; J
   to T end) or anywhere in the T-P segment, where the heart is electrically
   quiet. A hump in the T-P segment is called a duplicated QRS when it is as
   steep as a QRS (≥ 30 % of the QRS's steepest slope), otherwise a duplicated
   P or T after the wave whose height it is closer to (on a log scale).

Thresholds were set so that the shipped real records (PTB s0010_re, MIT-BIH
100) and semi-synthetic twins pass (tests check this), not tuned on generated ECGs.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.signal import find_peaks
from tqdm.auto import tqdm

from ..data.ecgrdvq import PLAUSIBLE_MS
from ..signal import delineate, delineate_beat, detect_rpeaks, lowpass, remove_baseline
from ..signal.delineate import Delineation, isoelectric

RANGES: dict[str, tuple[float, float]] = {f"{name.lower()}_ms": limits for name, limits in PLAUSIBLE_MS.items()}
"""Delineator column -> (low, high) in ms, inclusive: :data:`ecgwm_core.data.ecgrdvq.PLAUSIBLE_MS`."""

RR_RATIO = (0.7, 1.5)
"""Allowed range of each RR interval over the median RR (sinus rhythm with sinus arrhythmia)."""

LIMB_TOLERANCE = 0.05
"""Allowed RMS of the limb-lead identity residuals, as a share of lead II's RMS (plus 10 µV)."""

MIN_HEIGHT_MV = {"P": 0.03, "T": 0.05}
"""Smallest height (mV, on the spatial magnitude above its noise floor) for a P or T wave to count as present."""

DUPLICATE_FRACTION = 0.5
"""A second hump of at least this share of a wave's height counts as a duplicate."""

QRS_SLOPE_FRACTION = 0.3
"""A T-P-segment hump at least this steep (share of the QRS's steepest slope) counts as a QRS."""


@dataclass(frozen=True)
class PlausibilityReport:
    """Outcome of :func:`check_ecg` for one ECG.

    Attributes
    ----------
    reasons : why the ECG is implausible (empty when it is plausible).
    intervals : the measured intervals (:meth:`Delineation.intervals`); empty if it could not be delineated.
    """

    reasons: tuple[str, ...]
    intervals: dict[str, float] = field(default_factory=dict)

    @property
    def plausible(self) -> bool:
        """True when no check failed."""
        return not self.reasons


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2)))


def limb_lead_reasons(signal: np.ndarray, leads: Sequence[str], tolerance: float = LIMB_TOLERANCE) -> list[str]:
    """Einthoven (I + III = II) and Goldberger (aVR + aVL + aVF = 0) residual checks; [] when leads are missing.

    Parameters
    ----------
    signal : (leads, samples) in mV.
    leads : names of the rows of ``signal``.
    tolerance : allowed residual RMS as a share of lead II's RMS (plus 10 µV).
    """
    names = list(leads)
    if not {"I", "II", "III", "aVR", "aVL", "aVF"} <= set(names):
        return []
    lead = {name: signal[names.index(name)] for name in ("I", "II", "III", "aVR", "aVL", "aVF")}
    allowed = tolerance * _rms(lead["II"]) + 0.01
    reasons = []
    einthoven = _rms(lead["I"] + lead["III"] - lead["II"])
    if einthoven > allowed:
        reasons.append(f"limb leads: I + III - II has RMS {einthoven:.3f} mV (> {allowed:.3f})")
    goldberger = _rms(lead["aVR"] + lead["aVL"] + lead["aVF"])
    if goldberger > allowed:
        reasons.append(f"limb leads: aVR + aVL + aVF has RMS {goldberger:.3f} mV (> {allowed:.3f})")
    return reasons


def rhythm_reasons(rpeaks: np.ndarray, fs: float, limits: tuple[float, float] = RR_RATIO) -> list[str]:
    """A reason when an RR interval is outside ``limits`` times the median RR (an extra or a dropped QRS)."""
    rr = np.diff(np.asarray(rpeaks)) / fs
    if rr.size == 0:
        return []
    ratio = rr / np.median(rr)
    if ratio.min() < limits[0] or ratio.max() > limits[1]:
        return [f"irregular rhythm: RR {1000 * rr.min():.0f}-{1000 * rr.max():.0f} ms around a median of "
                f"{1000 * np.median(rr):.0f} ms (extra or dropped QRS)"]
    return []


def interval_reasons(intervals: dict[str, float], ranges: dict[str, tuple[float, float]] = RANGES) -> list[str]:
    """One reason per interval that is NaN or outside its range."""
    reasons = []
    for name, (low, high) in ranges.items():
        value = intervals.get(name, float("nan"))
        if not np.isfinite(value):
            reasons.append(f"{name} not measurable")
        elif not low <= value <= high:
            reasons.append(f"{name} {value:.0f} outside {low:g}-{high:g} ms")
    return reasons


def order_reasons(d: Delineation) -> list[str]:
    """A reason when the fiducial points are not in the order P onset < QRS onset < J < T peak < T end."""
    f = d.fiducials
    points = [("P onset", f.p_onset), ("QRS onset", f.qrs_onset), ("J", f.j_point), ("T peak", f.t_peak),
              ("T end", f.t_end)]
    wrong = [f"{a} after {b}" for (a, x), (b, y) in zip(points, points[1:]) if not x < y]
    return [f"wave order: {', '.join(wrong)}"] if wrong else []


def _humps(g: np.ndarray, start: int, stop: int, prominence: float) -> np.ndarray:
    """Peaks of the whole curve g with at least ``prominence`` (mV) that lie in [start, stop), highest first."""
    peaks, _ = find_peaks(g, prominence=prominence)
    inside = (peaks >= start) & (peaks < stop)
    return peaks[inside][np.argsort(-g[peaks[inside]])]


def wave_reasons(d: Delineation) -> list[str]:
    """Missing P or T, and duplicated P, QRS or T, on the median beat (step 6 of the module docstring)."""
    fs, r, f = d.fs, d.r_index, d.fiducials
    x, quiet = isoelectric(d.beat, fs, r)
    g = np.sqrt((x**2).sum(0))
    floor = float(np.median(g[quiet]))
    at = lambda seconds: int(round(r + seconds * fs))  # noqa: E731
    ms = lambda value: int(round(value * fs / 1000))  # noqa: E731
    # the windows where the delineator looks for each wave, and the T-P segment between them
    windows = {"P": (max(0, at(f.qrs_onset) - ms(250)), at(f.qrs_onset) - ms(10)),
               "T": (at(f.j_point) + ms(40), at(f.t_end))}
    height = {w: float(g[a:b].max(initial=0.0)) - floor for w, (a, b) in windows.items()}
    reasons = [f"{w} wave missing (height {height[w]:.3f} mV < {MIN_HEIGHT_MV[w]:g})"
               for w in ("P", "T") if height[w] < MIN_HEIGHT_MV[w]]
    present = [h for w, h in height.items() if h >= MIN_HEIGHT_MV[w]]
    tp_threshold = max(DUPLICATE_FRACTION * min(present, default=0.0), MIN_HEIGHT_MV["P"])
    extra = [peak for w in ("P", "T") if height[w] >= MIN_HEIGHT_MV[w]
             for peak in _humps(g, *windows[w], DUPLICATE_FRACTION * height[w])[1:]]
    extra += [*_humps(g, at(f.t_end) + ms(40), len(g), tp_threshold),
              *_humps(g, 0, windows["P"][0], tp_threshold)]
    slope = np.abs(np.gradient(g))
    qrs_slope = float(slope[at(f.qrs_onset): at(f.j_point) + 1].max())
    for peak in sorted(extra):
        if slope[max(0, peak - ms(30)): peak + ms(30)].max() >= QRS_SLOPE_FRACTION * qrs_slope:
            kind = "QRS"
        else:
            h = max(g[peak] - floor, 1e-6)
            kind = min(("P", "T"), key=lambda w: abs(np.log(h / max(height[w], 1e-6))))
        reasons.append(f"duplicated {kind} (extra wave {1000 * (peak - r) / fs:+.0f} ms from R)")
    return reasons


def check_ecg(signal: np.ndarray, fs: float, leads: Sequence[str] | None = None) -> PlausibilityReport:
    """Run every plausibility check on one ECG (see the module docstring).

    Parameters
    ----------
    signal : (leads, samples) or (samples,) in mV, at least 3 beats (10 s is typical).
    fs : sampling frequency in Hz.
    leads : lead names of the rows (enables the limb-lead identities when I, II, III, aVR, aVL, aVF are there).

    Returns
    -------
    PlausibilityReport
    """
    x = np.atleast_2d(np.asarray(signal, dtype=float))
    if x.ndim != 2:
        raise ValueError(f"signal must be (leads, samples) or (samples,); got shape {np.shape(signal)}")
    if leads is not None and len(leads) != x.shape[0]:
        raise ValueError(f"{len(leads)} lead names for {x.shape[0]} leads")
    if not np.isfinite(x).all():
        return PlausibilityReport(("non-finite samples",))
    filtered = lowpass(remove_baseline(x, fs), fs, 40.0)  # R peaks on the lead the delineator would use
    rpeaks = detect_rpeaks(filtered[int(np.argmax(np.ptp(filtered, axis=1)))], fs)
    try:
        d = delineate(x, fs, rpeaks)
        intervals = d.intervals()
    except (ValueError, IndexError, np.linalg.LinAlgError) as err:
        return PlausibilityReport((f"QRS missing or beats not delineable ({err})",))
    reasons = limb_lead_reasons(d.beat, leads) if leads is not None else []
    reasons += rhythm_reasons(rpeaks, fs) + interval_reasons(intervals) + order_reasons(d)
    try:
        reasons += wave_reasons(d)
    except (ValueError, IndexError) as err:
        reasons.append(f"waves not measurable ({err})")
    return PlausibilityReport(tuple(reasons), intervals)


def check_beat(beat: np.ndarray, fs: float, r_index: int, rr_s: float,
               leads: Sequence[str] | None = None) -> PlausibilityReport:
    """Checks 1, 2 and 4-6 on one filtered median beat (what a beat-level generator produces).

    There is no rhythm to check (step 3): the beat is delineated at its RR with
    :func:`ecgwm_core.signal.delineate_beat`; a beat it cannot delineate has a missing or
    unreadable QRS.

    Parameters
    ----------
    beat : (leads, M) median beat in mV, isoelectric level removed.
    fs : Hz.
    r_index : sample of the R peak in ``beat``.
    rr_s : the beat's RR interval in s.
    leads : lead names of the rows (enables the limb-lead identities).
    """
    x = np.atleast_2d(np.asarray(beat, dtype=float))
    if leads is not None and len(leads) != x.shape[0]:
        raise ValueError(f"{len(leads)} lead names for {x.shape[0]} leads")
    if not (np.isfinite(x).all() and np.isfinite(rr_s)):
        return PlausibilityReport(("non-finite samples",))
    try:
        d = Delineation(x, fs, r_index, float(rr_s), delineate_beat(x, fs, r_index, float(rr_s)))
        intervals = d.intervals()
    except (ValueError, IndexError, np.linalg.LinAlgError) as err:
        return PlausibilityReport((f"QRS missing or beat not delineable ({err})",))
    reasons = limb_lead_reasons(x, leads) if leads is not None else []
    reasons += interval_reasons(intervals) + order_reasons(d)
    try:
        reasons += wave_reasons(d)
    except (ValueError, IndexError) as err:
        reasons.append(f"waves not measurable ({err})")
    return PlausibilityReport(tuple(reasons), intervals)


def check_batch(signals: np.ndarray, fs: float, leads: Sequence[str] | None = None,
                progress: bool = False) -> pd.DataFrame:
    """:func:`check_ecg` over a batch.

    Parameters
    ----------
    signals : (B, leads, samples) in mV.

    Returns
    -------
    pandas.DataFrame
        One row per ECG: ``plausible`` (bool) and ``reasons`` (``"; "``-joined, ``""`` when plausible).
    """
    reports = [check_ecg(s, fs, leads) for s in tqdm(np.asarray(signals), desc="plausibility", disable=not progress)]
    return pd.DataFrame({"plausible": [r.plausible for r in reports],
                         "reasons": ["; ".join(r.reasons) for r in reports]})


def hallucination_rate(checked: pd.DataFrame) -> float:
    """Share of ECGs that fail at least one check (``checked`` from :func:`check_batch`)."""
    if len(checked) == 0:
        raise ValueError("no ECG checked")
    return float(1.0 - checked["plausible"].mean())
