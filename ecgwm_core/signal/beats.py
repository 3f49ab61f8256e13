"""Beats: R-peak detection, median (representative) beats and scoring against reference annotations."""
from __future__ import annotations

import numpy as np


def detect_rpeaks(ecg: np.ndarray, fs: float) -> np.ndarray:
    """R-peak sample indices of one lead: NeuroKit2's default cleaning and detector,
    each refined to the largest |amplitude| of the raw lead within ±50 ms.

    NeuroKit2 rather than wfdb's XQRS: XQRS found no beats on the low-amplitude
    PTB leads, NeuroKit2 finds all and scores 99.9 % sensitivity on MIT-BIH 100.

    Parameters
    ----------
    ecg : (samples,) one lead in mV.
    fs : sampling frequency in Hz.
    """
    import neurokit2 as nk  # imported here: it takes ~1 s to import

    cleaned = nk.ecg_clean(ecg, sampling_rate=fs)
    found = np.asarray(nk.ecg_peaks(cleaned, sampling_rate=fs)[1]["ECG_R_Peaks"], dtype=np.int64)
    half = int(0.05 * fs)
    return np.array(
        [max(0, q - half) + int(np.argmax(np.abs(ecg[max(0, q - half) : q + half + 1]))) for q in found],
        dtype=np.int64,
    )


def median_beat(
    signal: np.ndarray, fs: float, rpeaks: np.ndarray, before_s: float | None = None
) -> tuple[np.ndarray, float]:
    """Sample-wise median of all complete beats over one RR interval.

    Parameters
    ----------
    signal : (leads, samples) in mV.
    fs : Hz.
    rpeaks : R-peak sample indices.
    before_s : how much of the window precedes R, in s; default RR/2, i.e. the
        window R − RR/2 to R + RR/2 (the ODE prior's phase −π to π).

    Returns
    -------
    (beat, rr_s)
        ``beat`` (leads, M) in mV, M = round(RR·fs) rounded to even, with R at
        sample ``round(before_s·fs)``; its isoelectric level (median of the first
        and last 5 % of the window) is removed. ``rr_s`` is the median RR in s.
    """
    if len(rpeaks) < 2:
        raise ValueError(f"need at least 3 complete beats for a median beat; got {len(rpeaks)} R peaks")
    rr_s = float(np.median(np.diff(rpeaks))) / fs
    length = 2 * int(round(rr_s * fs / 2))
    before = length // 2 if before_s is None else int(round(before_s * fs))
    inside = rpeaks[(rpeaks - before >= 0) & (rpeaks - before + length <= signal.shape[1])]
    if inside.size < 3:
        raise ValueError(f"need at least 3 complete beats for a median beat; got {inside.size}")
    beats = np.stack([signal[:, r - before : r - before + length] for r in inside])
    beat = np.median(beats, axis=0)
    edge = max(1, int(0.05 * beat.shape[1]))
    level = np.median(np.concatenate([beat[:, :edge], beat[:, -edge:]], axis=1), axis=1, keepdims=True)
    return beat - level, rr_s


def match_beats(detected: np.ndarray, reference: np.ndarray, fs: float, window_s: float = 0.15) -> dict:
    """Sensitivity and positive predictivity of detected beats against reference annotations.

    A reference beat counts as found if an unused detection lies within
    ``window_s`` of it (each detection matches at most one beat, nearest first),
    as in ANSI/AAMI EC57 beat-by-beat comparison.

    Parameters
    ----------
    detected, reference : sample indices.
    fs : Hz.
    window_s : matching window in s (default 150 ms).

    Returns
    -------
    dict
        ``tp``, ``fn``, ``fp``, ``sensitivity`` and ``ppv`` (fractions).
    """
    detected, reference = np.sort(np.asarray(detected)), np.sort(np.asarray(reference))
    window = window_s * fs
    used = np.zeros(detected.size, dtype=bool)
    tp = 0
    for ref in reference:
        i = np.searchsorted(detected, ref)
        candidates = [j for j in (i - 1, i) if 0 <= j < detected.size and not used[j]]
        if candidates:
            j = min(candidates, key=lambda k: abs(detected[k] - ref))
            if abs(detected[j] - ref) <= window:
                used[j] = True
                tp += 1
    fn, fp = reference.size - tp, detected.size - tp
    return {"tp": tp, "fn": fn, "fp": fp, "sensitivity": tp / max(1, tp + fn), "ppv": tp / max(1, tp + fp)}
