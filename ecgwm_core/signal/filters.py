"""Filters for ECGs in mV (scipy, zero-phase)."""
from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt


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
