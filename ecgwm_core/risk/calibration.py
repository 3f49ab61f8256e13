"""Calibration of predicted event probabilities: reliability-diagram data, ECE and the Brier score.

A predicted probability (e.g. the fraction of a candidate's rollouts with
ΔQTcF > 30 ms) is calibrated when, among all predictions near p, the event
happens in a fraction p of cases. Definitions:

- **reliability diagram** (DeGroot and Fienberg, The Statistician 1983;32:12-22):
  predictions binned on [0, 1]; per bin, the mean prediction against the observed
  event frequency. Bins as in ``sklearn.calibration.calibration_curve`` (a
  prediction on an inner edge goes to the lower bin).
- **expected calibration error** (Naeini et al., AAAI 2015):
  ECE = Σ_b (n_b / N) · |observed_b − predicted_b|.
- **Brier score** (Brier, Mon Weather Rev 1950;78:1-3): mean of (p − y)², 0 best;
  0.25 for always predicting 0.5.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _check(prob: np.ndarray, outcome: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    prob = np.asarray(prob, dtype=float).ravel()
    outcome = np.asarray(outcome).ravel()
    if prob.shape != outcome.shape or prob.size == 0:
        raise ValueError(f"prob and outcome need the same non-zero length; got {prob.shape} and {outcome.shape}")
    if not np.all((prob >= 0) & (prob <= 1)):
        raise ValueError("prob must hold probabilities in [0, 1] (NaN is not allowed)")
    if not np.all(np.isin(outcome, (0, 1))):
        raise ValueError("outcome must be binary: 0/1 or False/True")
    return prob, outcome.astype(float)


@dataclass(frozen=True)
class Reliability:
    """Reliability-diagram data over ``n_bins`` equal-width bins of [0, 1].

    Attributes
    ----------
    edges : (n_bins + 1,) bin edges.
    predicted : (n_bins,) mean predicted probability per bin (NaN where empty).
    observed : (n_bins,) observed event frequency per bin (NaN where empty).
    counts : (n_bins,) predictions per bin.
    """

    edges: np.ndarray
    predicted: np.ndarray
    observed: np.ndarray
    counts: np.ndarray

    @property
    def ece(self) -> float:
        """Expected calibration error: count-weighted mean of |observed − predicted| over non-empty bins."""
        used = self.counts > 0
        gaps = np.abs(self.observed[used] - self.predicted[used])
        return float((self.counts[used] * gaps).sum() / self.counts.sum())


def reliability(prob: np.ndarray, outcome: np.ndarray, n_bins: int = 10) -> Reliability:
    """Bin predictions and compare with what happened.

    Parameters
    ----------
    prob : (N,) predicted event probabilities in [0, 1].
    outcome : (N,) observed events, 0/1.
    n_bins : number of equal-width bins (≥ 1).

    Raises
    ------
    ValueError
        If the inputs differ in length, probabilities leave [0, 1], outcomes are not binary or ``n_bins`` < 1.
    """
    prob, outcome = _check(prob, outcome)
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1; got {n_bins}")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    ids = np.searchsorted(edges[1:-1], prob)
    counts = np.bincount(ids, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        predicted = np.bincount(ids, weights=prob, minlength=n_bins) / counts
        observed = np.bincount(ids, weights=outcome, minlength=n_bins) / counts
    return Reliability(edges, predicted, observed, counts)


def expected_calibration_error(prob: np.ndarray, outcome: np.ndarray, n_bins: int = 10) -> float:
    """ECE of ``prob`` against ``outcome`` over ``n_bins`` equal-width bins (see :func:`reliability`)."""
    return reliability(prob, outcome, n_bins).ece


def brier_score(prob: np.ndarray, outcome: np.ndarray) -> float:
    """Brier score: mean squared difference between predicted probability and the 0/1 outcome."""
    prob, outcome = _check(prob, outcome)
    return float(np.mean((prob - outcome) ** 2))
