"""The RR-interval process of McSharry et al. (2003): a bimodal spectrum with random phases.

The tachogram's power spectrum is a sum of two Gaussians,

    S(f) = σ1² N(f; f1, c1) + σ2² N(f; f2, c2),

the low-frequency Mayer waves (f1 = 0.1 Hz) and the high-frequency
respiratory sinus arrhythmia (f2 = 0.25 Hz), with widths c1 = c2 = 0.01 Hz
and LF/HF = σ1²/σ2². A time series with that spectrum is made by giving each
frequency the amplitude sqrt(S(f)) and a uniformly random phase, inverting the
FFT, and scaling to the requested mean and standard deviation.
"""
from __future__ import annotations

import numpy as np
import torch

from .params import check_heart_rate

F_LF_HZ = 0.1
F_HF_HZ = 0.25
WIDTH_HZ = 0.01
PROCESS_FS_HZ = 4.0
"""Sampling rate of the RR process itself (Hz)."""


def rr_spectrum(freqs_hz: np.ndarray, lf_hf: float = 0.5) -> np.ndarray:
    """Bimodal RR power spectrum S(f) (unnormalised, σ1² + σ2² = 1).

    Parameters
    ----------
    freqs_hz : frequencies in Hz.
    lf_hf : ratio σ1²/σ2² of the low- to high-frequency power.
    """
    hf = 1.0 / (1.0 + lf_hf)
    lf = lf_hf * hf

    def gauss(f0: float) -> np.ndarray:
        return np.exp(-((freqs_hz - f0) ** 2) / (2 * WIDTH_HZ**2)) / np.sqrt(2 * np.pi * WIDTH_HZ**2)

    return lf * gauss(F_LF_HZ) + hf * gauss(F_HF_HZ)


def rr_process(
    duration_s: float,
    heart_rate: float,
    hr_std: float = 1.0,
    lf_hf: float = 0.5,
    seed: int = 0,
    batch: int = 1,
) -> np.ndarray:
    """RR intervals as a continuous process sampled at :data:`PROCESS_FS_HZ`.

    Parameters
    ----------
    duration_s : length of the process in s.
    heart_rate : mean heart rate in bpm (20-250); the process has mean RR = 60/HR s.
    hr_std : heart-rate standard deviation in bpm; the RR standard deviation is
        60·hr_std/HR² s (first-order propagation, as in ECGSYN). 0 gives a constant RR.
    lf_hf : LF/HF power ratio (> 0).
    seed : random seed; member i of a batch uses stream i of ``SeedSequence(seed)``,
        so a member's process does not depend on the batch size.
    batch : number of independent processes.

    Returns
    -------
    numpy.ndarray
        (batch, samples) RR values in s.
    """
    check_heart_rate(heart_rate)
    if not np.isfinite(hr_std) or hr_std < 0:
        raise ValueError(f"hr_std must be a finite number >= 0 bpm; got {hr_std}")
    if not np.isfinite(lf_hf) or lf_hf <= 0:
        raise ValueError(f"lf_hf must be > 0; got {lf_hf}")
    if not np.isfinite(duration_s) or duration_s <= 0:
        raise ValueError(f"duration_s must be > 0 s; got {duration_s}")
    n = int(np.ceil(duration_s * PROCESS_FS_HZ)) + 1
    freqs = np.fft.rfftfreq(n, d=1.0 / PROCESS_FS_HZ)
    amplitude = np.sqrt(rr_spectrum(freqs, lf_hf))
    rr_mean = 60.0 / heart_rate
    rr_std = 60.0 * hr_std / heart_rate**2
    out = np.empty((batch, n))
    for i, stream in enumerate(np.random.SeedSequence(seed).spawn(batch)):
        phases = np.random.default_rng(stream).uniform(0, 2 * np.pi, freqs.size)
        series = np.fft.irfft(amplitude * np.exp(1j * phases), n=n)
        series = (series - series.mean()) / series.std() if rr_std > 0 else np.zeros(n)
        out[i] = rr_mean + rr_std * series
    if (out <= 0).any():
        raise ValueError(
            f"hr_std={hr_std} bpm is too large for heart_rate={heart_rate} bpm: RR would become negative"
        )
    return out


def beat_intervals(process: np.ndarray, duration_s: float) -> torch.Tensor:
    """Per-beat RR intervals: each beat lasts the process value at its onset (as ECGSYN does).

    Parameters
    ----------
    process : (B, samples) RR process from :func:`rr_process`, in s.
    duration_s : the beats must cover at least this long (s).

    Returns
    -------
    torch.Tensor
        (B, K) float64 RR intervals in s. Members with fewer beats are padded
        with their last interval; beat onsets are ``cumsum`` of the rows.
    """
    times = np.arange(process.shape[1]) / PROCESS_FS_HZ
    rows = []
    for series in process:
        onset, beats = 0.0, []
        while onset < duration_s:
            rr = float(np.interp(onset, times, series))
            beats.append(rr)
            onset += rr
        rows.append(beats)
    k = max(len(r) for r in rows)
    return torch.tensor([r + [r[-1]] * (k - len(r)) for r in rows], dtype=torch.float64)
