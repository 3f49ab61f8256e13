"""Filters for ECGs in mV (scipy, zero-phase)."""
from __future__ import annotations

import numpy as np
from scipy.signal import butter, filtfilt, iirnotch, resample_poly, sosfiltfilt


def remove_baseline(signal: np.ndarray, fs: float, cutoff_hz: float = 0.5) -> np.ndarray:
    """Zero-phase 2nd-order Butterworth high-pass (scipy ``sosfiltfilt``) along the last axis, mV in and out."""
    sos = butter(2, cutoff_hz, btype="highpass", fs=fs, output="sos")
    return sosfiltfilt(sos, np.asarray(signal, dtype=float), axis=-1)


def lowpass(signal: np.ndarray, fs: float, cutoff_hz: float = 40.0) -> np.ndarray:
    """Zero-phase 4th-order Butterworth low-pass (scipy ``sosfiltfilt``) along the last axis."""
    if not 0 < cutoff_hz < fs / 2:
        raise ValueError(f"cutoff_hz must be between 0 and fs/2 = {fs / 2:g} Hz; got {cutoff_hz}")
    sos = butter(4, cutoff_hz, btype="lowpass", fs=fs, output="sos")
    return sosfiltfilt(sos, np.asarray(signal, dtype=float), axis=-1)


def notch(signal: np.ndarray, fs: float, mains_hz: float = 50.0, quality: float = 30.0) -> np.ndarray:
    """Zero-phase IIR notch at the mains frequency (50 or 60 Hz) along the last axis."""
    if not 0 < mains_hz < fs / 2:
        raise ValueError(f"mains_hz must be between 0 and fs/2 = {fs / 2:g} Hz; got {mains_hz}")
    b, a = iirnotch(mains_hz, quality, fs=fs)
    x = np.asarray(signal, dtype=float)
    # pad by up to 1 s: the narrow notch rings for about quality / (π · mains_hz) s at the edges
    return filtfilt(b, a, x, axis=-1, padlen=min(x.shape[-1] - 1, int(fs)))


def resample(signal: np.ndarray, fs: float, new_fs: float) -> np.ndarray:
    """Polyphase resampling (anti-aliased) from ``fs`` to ``new_fs`` along the last axis; rates in Hz."""
    from fractions import Fraction

    if fs <= 0 or new_fs <= 0:
        raise ValueError(f"sampling rates must be > 0 Hz; got {fs} and {new_fs}")
    ratio = Fraction(new_fs / fs).limit_denominator(1000)
    return resample_poly(np.asarray(signal, dtype=float), ratio.numerator, ratio.denominator, axis=-1)
