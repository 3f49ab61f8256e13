"""FROZEN reference: the per-beat delineator as it was before ``delineate_beats`` (commit 01380d6).

Kept only as the baseline of ``bench_rollout.py`` and the reference of
``tests/test_delineate_batch.py``, which check that the batch delineator
(:func:`ecgwm_core.signal.delineate_beats`) gives the same fiducials as this,
faster. Not project code: do not import it from ``ecgwm_core`` and do not fix
it — a change here would change the reference the tests compare against.
It designs its 15-Hz low-pass filter and fits each wave edge with
``np.polyfit`` once per call, one beat at a time.
"""
from __future__ import annotations

import math

import numpy as np

from ecgwm_core.signal import INTERVALS, Delineation, Fiducials, lowpass


def _tangent(y: np.ndarray, i: int, level: float, half: int = 1) -> float:
    """Sample position where the least-squares line through y[i − half : i + half] reaches ``level``."""
    a, b = max(0, i - half), min(len(y), i + half + 1)
    if b - a < 2:
        raise ValueError("a wave edge lies at the end of the beat")
    slope, intercept = np.polyfit(np.arange(a, b), y[a:b], 1)
    if slope == 0:
        raise ValueError("flat slope at a wave edge")
    return (level - intercept) / slope


def _projection(x: np.ndarray, index: int, fs: float) -> np.ndarray:
    """The leads combined along the beat's direction at ``index``, low-passed at 15 Hz (signed, mV)."""
    direction = x[:, index]
    norm = np.linalg.norm(direction)
    if norm == 0:
        raise ValueError("no wave at the expected place")
    return lowpass(direction / norm @ x, fs, 15.0)


def isoelectric(beat: np.ndarray, fs: float, r_index: int) -> tuple[np.ndarray, slice]:
    """The beat with each lead's isoelectric level removed, and the quiet window it was taken from."""
    window = max(1, int(round(0.03 * fs)))
    last_start = r_index - int(round(0.06 * fs)) - window
    if last_start < 1:
        raise ValueError("the beat holds too little before the QRS for an isoelectric level")
    roughness = np.abs(np.diff(beat, axis=1)).sum(0)
    start = min(range(last_start), key=lambda s: roughness[s : s + window].sum())
    quiet = slice(start, start + window)
    return beat - np.median(beat[:, quiet], axis=1, keepdims=True), quiet


def delineate_beat(beat: np.ndarray, fs: float, r_index: int, rr_s: float) -> Fiducials:
    """Fiducial points of one (leads, M) median beat in mV; R at ``r_index``, RR ``rr_s`` s."""
    ms = lambda value: max(1, int(round(value * fs / 1000)))  # noqa: E731
    r = r_index
    x, quiet = isoelectric(beat, fs, r)
    g = np.sqrt((x**2).sum(0))
    floor = float(np.median(g[quiet]))
    height = float(g[r - ms(20) : r + ms(20)].max())
    if height <= 4 * floor or height == 0:
        raise ValueError("no QRS complex stands out of the noise")
    slope = np.gradient(g)
    steepest = float(np.abs(slope[r - ms(40) : r + ms(40)]).max())
    active = (g > floor + 0.08 * (height - floor)) & (np.abs(slope) > 0.05 * steepest)

    def qrs_edge(step: int) -> int:
        i, edge, gap = r, r, 0
        while 0 < i < len(g) - 1 and gap <= ms(10):
            i += step
            edge, gap = (i, 0) if active[i] else (edge, gap + 1)
        return edge

    first, last = qrs_edge(-1), qrs_edge(+1)
    peak = first
    while peak + 1 < r and g[peak + 1] >= g[peak]:
        peak += 1
    start = max(0, first - ms(10))
    qrs_onset = _tangent(g, start + int(np.argmax(slope[start : peak + 1])), floor)
    peak = last
    while peak - 1 > r and g[peak - 1] >= g[peak]:
        peak -= 1
    stop = min(len(g) - 1, last + ms(10))
    j_point = _tangent(g, peak + int(np.argmin(slope[peak : stop + 1])), floor)

    t_from, t_to = int(math.ceil(j_point)) + ms(40), min(len(g) - 1, r + int(0.6 * rr_s * fs))
    if t_to <= t_from:
        raise ValueError("no room for a T wave after the QRS")
    t_peak = t_from + int(np.argmax(g[t_from:t_to]))
    t_lead = _projection(x, t_peak, fs)
    descent = t_peak + int(np.argmin(np.gradient(t_lead)[t_peak : min(len(g) - 1, t_peak + ms(200))]))
    t_end = _tangent(t_lead, descent, 0.0, ms(8))

    p_from, p_to = max(0, int(qrs_onset) - ms(250)), int(qrs_onset) - ms(10)
    if p_to <= p_from:
        raise ValueError("no room for a P wave before the QRS")
    p_peak = p_from + int(np.argmax(g[p_from:p_to]))
    p_lead = _projection(x, p_peak, fs)
    rise_from = max(0, p_peak - ms(120))
    ascent = rise_from + int(np.argmax(np.gradient(p_lead)[rise_from : p_peak + 1]))
    p_onset = _tangent(p_lead, ascent, 0.0, ms(8))
    to_s = lambda sample: (sample - r) / fs  # noqa: E731
    return Fiducials(to_s(p_onset), to_s(qrs_onset), to_s(j_point), to_s(t_peak), to_s(t_end),
                     float(t_lead[t_peak]))


def measure_beats(beats: np.ndarray, rr_s: np.ndarray, rep) -> list[dict[str, float]]:
    """The world model's ``measure_beats`` as it was: :func:`delineate_beat` beat by beat."""
    before = int(round(rep.before_s * rep.fs_hz))
    out = []
    for beat, rr in zip(np.asarray(beats, dtype=float), rr_s):
        try:
            fid = delineate_beat(beat, rep.fs_hz, before, float(rr))
            out.append({**Delineation(beat, rep.fs_hz, before, float(rr), fid).intervals(), "quality": "ok"})
        except (ValueError, IndexError, np.linalg.LinAlgError) as err:
            out.append({**{k: float("nan") for k in INTERVALS}, "quality": f"failed: {err}"})
    return out
