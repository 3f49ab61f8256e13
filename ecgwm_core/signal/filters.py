"""Filters for ECGs in mV (scipy, zero-phase)."""
from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt


def remove_baseline(signal: np.ndarray, fs: float, cutoff_hz: float = 0.5) -> np.ndarray:
    """Zero-phase 2nd-order Butterworth high-pass (scipy ``sosfiltfilt``) along the last axis, mV in and out."""
    sos = butter(2, cutoff_hz, btype="highpass", fs=fs, output="sos")
    return sosfiltfilt(sos, np.asarray(signal, dtype=float), axis=-1)
