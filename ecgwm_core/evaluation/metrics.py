"""Agreement between generated and observed ECGs: waveforms, intervals and distributions.

Three levels, each usable on any generator (world model, baselines, ODE prior):

- **Waveform**: MAE, RMSE and PRD per lead (RMSE and PRD from
  :mod:`ecgwm_core.signal.metrics`), and the dynamic-time-warping distance
  (``dtaidistance``'s C implementation), which forgives small timing shifts.
- **Intervals**: per-ECG differences of measured intervals (ΔQTcF, ΔPR, ΔQRS,
  ΔJ-Tpeak, ΔTpeak-Tend, ΔHR) and Bland-Altman statistics of two measurement
  series (Bland & Altman, Lancet 1986;1:307-310).
- **Distribution**: the maximum mean discrepancy with a Gaussian kernel
  (Gretton et al., JMLR 2012;13:723-773, unbiased estimator) and the Fréchet
  distance between Gaussians fitted to two samples (the formula behind FID,
  Heusel et al., NeurIPS 2017), both in a feature space of *measured*
  intervals and amplitudes, never in a model's own latent space.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg

from ..signal.metrics import prd_percent, rmse_mv

DELTA_COLUMNS = {"qtcf_ms": "dQTcF", "pr_ms": "dPR", "qrs_ms": "dQRS", "jtpeak_ms": "dJTpeak",
                 "tpeaktend_ms": "dTpeakTend", "hr_bpm": "dHR"}
"""Measurement column (:data:`ecgwm_core.signal.INTERVALS`) -> name of its generated-minus-observed difference."""

FEATURES = ("rr_ms", "pr_ms", "qrs_ms", "qt_ms", "jtpeak_ms", "tpeaktend_ms", "t_amplitude_uv")
"""Default feature space of the distribution metrics: measured intervals (ms) and T amplitude (µV)."""


def _same_shape(x: np.ndarray, x_hat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, x_hat = np.asarray(x, dtype=float), np.asarray(x_hat, dtype=float)
    if x.shape != x_hat.shape:
        raise ValueError(f"observed and generated signals must have the same shape; got {x.shape} and {x_hat.shape}")
    return x, x_hat


def waveform_errors(x: np.ndarray, x_hat: np.ndarray) -> dict[str, np.ndarray]:
    """MAE, RMSE and PRD of a generated signal against the observed one, per lead.

    Parameters
    ----------
    x : (..., leads, M) observed signal in mV.
    x_hat : generated signal, same shape and unit.

    Returns
    -------
    dict
        ``mae_mv``, ``rmse_mv`` (mV) and ``prd_percent`` (%), each of shape (..., leads).
    """
    x, x_hat = _same_shape(x, x_hat)
    return {"mae_mv": np.abs(x - x_hat).mean(-1), "rmse_mv": rmse_mv(x, x_hat),
            "prd_percent": prd_percent(x, x_hat)}


def dtw_distance(x: np.ndarray, x_hat: np.ndarray, window: int | None = None) -> np.ndarray:
    """Dynamic-time-warping distance per lead (``dtaidistance``'s C implementation).

    Pruning is off: with pruning (the default of ``dtw.distance_fast``, dtaidistance
    2.5.1) the result is ``inf`` whenever the diagonal path is optimal, e.g. for a
    constant offset, because the DTW then equals its Euclidean upper bound.
    The distance is the square root of the summed squared differences along
    the optimal warping path, in the signal's unit (mV).

    Parameters
    ----------
    x : (..., leads, M) observed signal in mV.
    x_hat : (..., leads, M') generated signal (its length may differ).
    window : Sakoe-Chiba band half-width in samples (``None``: unconstrained).

    Returns
    -------
    numpy.ndarray
        Shape (..., leads).
    """
    from dtaidistance import dtw

    x, x_hat = np.asarray(x, dtype=np.double), np.asarray(x_hat, dtype=np.double)
    if x.shape[:-1] != x_hat.shape[:-1]:
        raise ValueError(f"signals must agree in all but the last axis; got {x.shape} and {x_hat.shape}")
    a, b = x.reshape(-1, x.shape[-1]), x_hat.reshape(-1, x_hat.shape[-1])
    out = [dtw.distance(np.ascontiguousarray(u), np.ascontiguousarray(v), window=window,
                        use_c=True, use_pruning=False) for u, v in zip(a, b)]
    return np.asarray(out).reshape(x.shape[:-1])


def interval_deltas(generated: pd.DataFrame, observed: pd.DataFrame) -> pd.DataFrame:
    """Generated minus observed interval, row by row (ΔQTcF, ΔPR, ΔQRS, ΔJ-Tpeak, ΔTpeak-Tend in ms, ΔHR in bpm).

    Parameters
    ----------
    generated, observed : measurement tables with the columns of :data:`DELTA_COLUMNS`
        (e.g. from :func:`ecgwm_core.signal.measure_batch`), same length, row i of one
        matching row i of the other.

    Returns
    -------
    pandas.DataFrame
        Columns ``dQTcF``, ``dPR``, ``dQRS``, ``dJTpeak``, ``dTpeakTend``, ``dHR`` (NaN where either is unmeasured).
    """
    if len(generated) != len(observed):
        raise ValueError(f"tables must have the same number of rows; got {len(generated)} and {len(observed)}")
    missing = [c for c in DELTA_COLUMNS if c not in generated.columns or c not in observed.columns]
    if missing:
        raise KeyError(f"measurement column(s) {', '.join(missing)} missing; measure both with signal.measure_batch")
    diff = generated[list(DELTA_COLUMNS)].to_numpy(float) - observed[list(DELTA_COLUMNS)].to_numpy(float)
    return pd.DataFrame(diff, columns=list(DELTA_COLUMNS.values()))


@dataclass(frozen=True)
class BlandAltman:
    """Bland-Altman agreement of two measurement series (unit of the inputs).

    Attributes
    ----------
    bias : mean difference (method − reference).
    sd : standard deviation of the differences (ddof = 1).
    loa_low, loa_high : 95 % limits of agreement, bias ∓ 1.96 sd.
    n : number of finite pairs used.
    """

    bias: float
    sd: float
    loa_low: float
    loa_high: float
    n: int


def bland_altman(method: np.ndarray, reference: np.ndarray) -> BlandAltman:
    """Bias and 95 % limits of agreement of ``method`` against ``reference`` (pairs with a NaN are left out).

    Raises
    ------
    ValueError
        If the shapes differ or fewer than two finite pairs remain.
    """
    method, reference = _same_shape(method, reference)
    diff = (method - reference).ravel()
    diff = diff[np.isfinite(diff)]
    if diff.size < 2:
        raise ValueError(f"Bland-Altman needs at least 2 finite pairs; got {diff.size}")
    bias, sd = float(diff.mean()), float(diff.std(ddof=1))
    return BlandAltman(bias, sd, bias - 1.96 * sd, bias + 1.96 * sd, int(diff.size))


def feature_matrix(measurements: pd.DataFrame, features: tuple[str, ...] = FEATURES) -> np.ndarray:
    """(n, F) matrix of measured features; rows with any NaN (unmeasurable ECGs) are dropped."""
    missing = [c for c in features if c not in measurements.columns]
    if missing:
        raise KeyError(f"feature column(s) {', '.join(missing)} missing; have {', '.join(measurements.columns)}")
    values = measurements[list(features)].to_numpy(float)
    return values[np.isfinite(values).all(1)]


def _standardise(a: np.ndarray, b: np.ndarray, scale: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.atleast_2d(np.asarray(a, dtype=float)), np.atleast_2d(np.asarray(b, dtype=float))
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"samples must have the same number of features; got {a.shape[1]} and {b.shape[1]}")
    if min(len(a), len(b)) < 2:
        raise ValueError(f"each sample needs at least 2 rows; got {len(a)} and {len(b)}")
    if scale is None:
        scale = b.std(0, ddof=1)
    scale = np.where(np.asarray(scale, dtype=float) > 0, scale, 1.0)
    return a / scale, b / scale


def mmd_rbf(a: np.ndarray, b: np.ndarray, bandwidth: float | None = None, scale: np.ndarray | None = None) -> float:
    """Unbiased squared maximum mean discrepancy with a Gaussian kernel.

    Parameters
    ----------
    a : (n, F) generated features; b : (m, F) observed features.
    bandwidth : kernel width σ in standardised units, k(u, v) = exp(−‖u − v‖² / 2σ²);
        ``None`` uses the median pairwise distance of the pooled sample.
    scale : per-feature divisor applied first (default: the sd of ``b``), so that ms and µV weigh alike.

    Returns
    -------
    float
        MMD²ᵤ (can be slightly negative when the samples agree).
    """
    a, b = _standardise(a, b, scale)
    pooled = np.vstack([a, b])
    sq = ((pooled[:, None] - pooled[None]) ** 2).sum(-1)
    if bandwidth is None:
        bandwidth = float(np.sqrt(np.median(sq[np.triu_indices(len(pooled), 1)])))
    k = np.exp(-sq / (2 * bandwidth**2))
    n, m = len(a), len(b)
    kaa, kbb, kab = k[:n, :n], k[n:, n:], k[:n, n:]
    return float((kaa.sum() - np.trace(kaa)) / (n * (n - 1)) + (kbb.sum() - np.trace(kbb)) / (m * (m - 1))
                 - 2 * kab.mean())


def frechet_distance(a: np.ndarray, b: np.ndarray, scale: np.ndarray | None = None) -> float:
    """Squared Fréchet distance between Gaussians fitted to two samples.

    d² = ‖μa − μb‖² + tr(Σa + Σb − 2 (Σa Σb)^½), on features divided by ``scale``
    (default: the sd of ``b``).

    Parameters
    ----------
    a : (n, F) generated features; b : (m, F) observed features.
    """
    a, b = _standardise(a, b, scale)
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    root = linalg.sqrtm(cov_a @ cov_b)
    root = np.real(root)  # tiny imaginary parts come from round-off on near-singular products
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))
