"""Does a forecaster know anything about a new subject that the population does not?

A forecast of ΔQTcF for a subject never seen has two parts: what it says about
the population at that drug × time point (the mean of its forecasts over the
held-out subjects) and what it says about this subject (the deviation from that
mean, :func:`subject_component`). The population part can be had without any
model of the ECG (:class:`~ecgwm_core.evaluation.baselines.OffsetPopulation`);
the subject part is what conditioning on the pre-dose ECG should add.
:func:`response_signal` measures what a candidate says about each subject beyond
a reference forecast (the subject part of candidate − reference) against what
the reference misses: their correlation, the least-squares slope, and the MAE
of the reference with that part added. The last is the candidate with its
drug × time bias relative to the reference removed, the bias estimated on the
held-out subjects themselves: an upper bound on what removing it could give.

A slope near 1 with a clear correlation means the candidate's subject part is
information; near 0, noise that can only add error.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

GROUP = ["EXTRT", "TPT"]
"""Columns of a query's drug × time point."""


def subject_component(values: np.ndarray, keys: pd.DataFrame) -> np.ndarray:
    """(n,) ``values`` minus their mean over the rows of the same drug × time point.

    Parameters
    ----------
    values : (n,) forecasts (ms), one per row of ``keys``; NaN rows are left out of the means and stay NaN.
    keys : ``EXTRT`` and ``TPT`` (h) of each forecast (other columns are ignored).
    """
    values = np.asarray(values, dtype=float)
    if values.shape != (len(keys),):
        raise ValueError(f"values must have shape ({len(keys)},), one per row of keys; got {values.shape}")
    missing = sorted(set(GROUP) - set(keys.columns))
    if missing:
        raise ValueError(f"keys lack the column(s) {', '.join(missing)}")
    means = pd.Series(values, index=keys.index).groupby([keys[c] for c in GROUP]).transform("mean")
    return values - means.to_numpy()


@dataclass(frozen=True)
class ResponseSignal:
    """What a candidate forecast's subject part is worth against a reference forecast.

    Attributes
    ----------
    correlation : Pearson correlation of the candidate's subject part beyond the reference
        (the subject part of candidate − reference) with the reference's errors.
    slope : least-squares slope of the reference's errors on that part
        (1: the part is right on average; 0: no information).
    mae_reference, mae_candidate : mean absolute errors (ms) of the two forecasts.
    mae_debiased : MAE (ms) of the reference plus that part.
    n : number of observations scored.
    """

    correlation: float
    slope: float
    mae_reference: float
    mae_candidate: float
    mae_debiased: float
    n: int


def response_signal(observed: np.ndarray, reference: np.ndarray, candidate: np.ndarray,
                    keys: pd.DataFrame) -> ResponseSignal:
    """Compare what a candidate forecast says about each subject beyond a reference with what the reference misses.

    Parameters
    ----------
    observed : (n,) observed ΔQTcF (ms); NaN rows are left out.
    reference : (n,) point forecasts (ms) of the reference (e.g. population + baseline offset).
    candidate : (n,) point forecasts (ms) of the candidate (e.g. the world model's mean rollout).
    keys : ``EXTRT`` and ``TPT`` of each row: the subject part is taken within a drug × time point.

    Returns
    -------
    ResponseSignal
    """
    arrays = [np.asarray(a, dtype=float) for a in (observed, reference, candidate)]
    if any(a.shape != (len(keys),) for a in arrays):
        raise ValueError(f"observed, reference and candidate must each have shape ({len(keys)},); "
                         f"got {', '.join(str(a.shape) for a in arrays)}")
    observed, reference, candidate = arrays
    if not (np.isfinite(reference).all() and np.isfinite(candidate).all()):
        raise ValueError("reference and candidate forecasts must be finite; drop the rows without a forecast")
    ok = np.isfinite(observed)
    if ok.sum() < 3:
        raise ValueError(f"need at least 3 observed values; got {int(ok.sum())}")
    part = subject_component(candidate[ok] - reference[ok], keys[ok])
    miss = observed[ok] - reference[ok]
    spread = float(part @ part)
    return ResponseSignal(
        correlation=float(np.corrcoef(part, miss)[0, 1]) if spread > 0 else 0.0,
        slope=float(part @ miss / spread) if spread > 0 else 0.0,
        mae_reference=float(np.abs(miss).mean()),
        mae_candidate=float(np.abs(observed[ok] - candidate[ok]).mean()),
        mae_debiased=float(np.abs(miss - part).mean()), n=int(ok.sum()))
