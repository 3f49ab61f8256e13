"""Calibration of predictive distributions given as samples (rollouts): coverage, CRPS, PIT.

A forecast of one quantity (e.g. ΔQTcF of one subject at one time point) is a
set of K samples; a calibrated forecaster's central 90 % interval holds the
observation 90 % of the time, and its probability integral transform (PIT,
the forecast CDF at the observation) is uniform on [0, 1] (Gneiting, Balabdaoui
& Raftery, J R Stat Soc B 2007;69:243-268). The CRPS scores sharpness and
calibration together, in the unit of the quantity; it comes from the
maintained ``scoringrules`` package.
"""
from __future__ import annotations

import numpy as np


def _check(samples: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    samples, observed = np.asarray(samples, dtype=float), np.asarray(observed, dtype=float)
    if samples.ndim < 1 or samples.shape[:-1] != observed.shape:
        raise ValueError(f"samples must have shape observed.shape + (K,); got {samples.shape} for {observed.shape}")
    if samples.shape[-1] < 2:
        raise ValueError(f"need at least 2 samples per forecast; got {samples.shape[-1]}")
    return samples, observed


def central_interval(samples: np.ndarray, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper empirical quantiles (linear interpolation) of the central ``level`` interval.

    Parameters
    ----------
    samples : (..., K) samples.
    level : in (0, 1), e.g. 0.9 for the 5 % and 95 % quantiles.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level}")
    low, high = np.quantile(np.asarray(samples, dtype=float), [(1 - level) / 2, (1 + level) / 2], axis=-1)
    return low, high


def coverage(samples: np.ndarray, observed: np.ndarray, level: float = 0.9) -> float:
    """Share of finite observations inside their forecast's central ``level`` interval (ends included).

    Parameters
    ----------
    samples : (..., K) forecast samples; observed : (...) observations.
    """
    samples, observed = _check(samples, observed)
    low, high = central_interval(samples, level)
    ok = np.isfinite(observed)
    if not ok.any():
        raise ValueError("no finite observation to score")
    return float(((observed >= low) & (observed <= high))[ok].mean())


def crps(samples: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """CRPS of each ensemble forecast (``scoringrules.crps_ensemble``, energy form E|X − y| − ½E|X − X'|).

    Parameters
    ----------
    samples : (..., K) forecast samples; observed : (...) observations.

    Returns
    -------
    numpy.ndarray
        Shape of ``observed``, in the unit of the quantity (lower is better).
    """
    import scoringrules as sr

    samples, observed = _check(samples, observed)
    return np.asarray(sr.crps_ensemble(observed, samples, estimator="nrg", backend="numpy"), dtype=float)


def pit_values(samples: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Probability integral transform: the share of samples below the observation, ties counted half.

    Parameters
    ----------
    samples : (..., K) forecast samples; observed : (...) observations.

    Returns
    -------
    numpy.ndarray
        Values in [0, 1], shape of ``observed``.
    """
    samples, observed = _check(samples, observed)
    below = (samples < observed[..., None]).mean(-1)
    ties = (samples == observed[..., None]).mean(-1)
    return below + 0.5 * ties


def pit_histogram(pit: np.ndarray, bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Density of PIT values over ``bins`` equal bins of [0, 1] (1 everywhere when calibrated).

    Returns
    -------
    (density, edges)
        ``density`` (bins,), ``edges`` (bins + 1,).
    """
    pit = np.asarray(pit, dtype=float).ravel()
    pit = pit[np.isfinite(pit)]
    if pit.size == 0:
        raise ValueError("no finite PIT value")
    density, edges = np.histogram(pit, bins=bins, range=(0.0, 1.0), density=True)
    return density, edges
