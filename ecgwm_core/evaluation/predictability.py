"""Does a forecaster know anything about a new subject that the population does not?

A forecast of ΔQTcF for a subject never seen has two parts: what it says about
the population at that drug × time point (the mean of its forecasts over the
held-out subjects) and what it says about this subject (the deviation from that
mean, :func:`subject_component`). The population part can be had without any
model of the ECG (:class:`~ecgwm_core.evaluation.baselines.OffsetPopulation`);
the subject part is what conditioning on the pre-dose ECG should add.

:func:`response_signal` compares what a candidate says about each subject beyond
a reference forecast (the subject part of candidate − reference) with what the
reference misses (the subject part of observed − reference): their correlation
r and the least-squares slope b, both within drug × time points. Adding the
part to the reference lowers its squared error if and only if b > ½; even the
best multiple of the part removes only the fraction r² of the reference's
within-drug × time squared error. It also reports the mean level of candidate − reference, the
reference's own mean miss, and the MAE of the reference with the candidate's
subject part added: the candidate with its drug × time level replaced by the
reference's. That last forecast is built from forecasts only, no observation.

What the comparison cannot see: with a few held-out subjects, part of any real
knowledge of them lies in their mean (with 4 subjects, a quarter of the
variance between them). A forecaster that knew these subjects would show that
part as a level difference from the reference, not as r. And the reference's
miss is partly hour-to-hour noise that no pre-dose information can predict;
:func:`subject_share` measures how much of it is a consistent deviation of a
subject under a treatment.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

GROUP = ["EXTRT", "TPT"]
"""Columns of a query's drug × time point."""


def _check_keys(keys: pd.DataFrame, columns: list[str]) -> None:
    missing = sorted(set(columns) - set(keys.columns))
    if missing:
        raise ValueError(f"keys lack the column(s) {', '.join(missing)}")
    if keys[columns].isna().any().any() or not np.isfinite(keys["TPT"].to_numpy(float)).all():
        raise ValueError(f"keys have missing values in {', '.join(columns)}; drop or fill those rows first")


def subject_component(values: np.ndarray, keys: pd.DataFrame) -> np.ndarray:
    """(n,) ``values`` minus their mean over the rows of the same drug × time point.

    Parameters
    ----------
    values : (n,) forecasts or errors (ms), one per row of ``keys``.
    keys : ``EXTRT`` and ``TPT`` (h) of each value (other columns are ignored).
    """
    values = np.asarray(values, dtype=float)
    if values.shape != (len(keys),):
        raise ValueError(f"values must have shape ({len(keys)},), one per row of keys; got {values.shape}")
    _check_keys(keys, GROUP)
    means = pd.Series(values, index=keys.index).groupby([keys[c] for c in GROUP]).transform("mean")
    return values - means.to_numpy()


def subject_share(miss: np.ndarray, keys: pd.DataFrame) -> float:
    """Share of the within-drug × time sum of squares of ``miss`` that is a subject × treatment mean.

    Parameters
    ----------
    miss : (n,) observed − forecast (ms), finite.
    keys : ``RANDID``, ``EXTRT`` and ``TPT`` of each row.

    Returns
    -------
    float
        In [0, 1]: how much of what a forecast misses is a consistent deviation of one subject under
        one treatment over the day (what pre-dose information could at best explain), as opposed to
        hour-to-hour noise. Independent noise alone gives about (subjects × treatments) / n.
    """
    _check_keys(keys, ["RANDID", *GROUP])
    within = subject_component(miss, keys)
    total = float(within @ within)
    if total == 0:
        raise ValueError("miss does not vary within any drug × time point; nothing to share out")
    cluster = pd.Series(within, index=keys.index).groupby([keys["RANDID"], keys["EXTRT"]]).transform("mean")
    return float(cluster.to_numpy() @ cluster.to_numpy() / total)


@dataclass(frozen=True)
class ResponseSignal:
    """What a candidate forecast's subject part is worth against a reference forecast.

    Attributes
    ----------
    correlation : within-drug × time correlation of the candidate's subject part beyond the reference
        (the subject part of candidate − reference) with the reference's miss (NaN where the part is
        zero: no subject part, or one subject per drug × time point).
    slope : least-squares slope of the reference's miss on that part (1: right on average; adding
        the part helps iff the slope exceeds ½; NaN as for ``correlation``).
    part_sd_ms : root mean square of that part (ms): how much the candidate tells subjects apart.
    level_ms : mean of candidate − reference (ms).
    reference_miss_ms : mean of observed − reference (ms): how far the held-out subjects sit from
        the reference on average.
    mae_reference, mae_candidate : mean absolute errors (ms) of the two forecasts.
    mae_subject_part : MAE (ms) of the reference plus the candidate's subject part (the candidate
        with its drug × time level replaced by the reference's).
    n : number of observations scored.
    """

    correlation: float
    slope: float
    part_sd_ms: float
    level_ms: float
    reference_miss_ms: float
    mae_reference: float
    mae_candidate: float
    mae_subject_part: float
    n: int


def response_signal(observed: np.ndarray, reference: np.ndarray, candidate: np.ndarray,
                    keys: pd.DataFrame) -> ResponseSignal:
    """Compare what a candidate forecast says about each subject beyond a reference with what the reference misses.

    Parameters
    ----------
    observed : (n,) observed ΔQTcF (ms); NaN rows are left out.
    reference : (n,) point forecasts (ms) of the reference (e.g. population + baseline offset).
    candidate : (n,) point forecasts (ms) of the candidate (e.g. the world model's mean rollout).
    keys : ``EXTRT`` and ``TPT`` of each row: subject parts are taken within a drug × time point.

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
    keys = keys[ok].reset_index(drop=True)
    difference, miss = candidate[ok] - reference[ok], observed[ok] - reference[ok]
    part, miss_within = subject_component(difference, keys), subject_component(miss, keys)
    spread = float(part @ part)
    defined = spread > 1e-20 * max(1.0, float(difference @ difference))  # not rounding error of a level
    denominator = np.sqrt(spread * float(miss_within @ miss_within))
    return ResponseSignal(
        correlation=float(part @ miss_within / denominator) if defined and denominator > 0 else np.nan,
        slope=float(part @ miss_within / spread) if defined else np.nan,
        part_sd_ms=float(np.sqrt(spread / len(part))) if defined else 0.0,
        level_ms=float(difference.mean()), reference_miss_ms=float(miss.mean()),
        mae_reference=float(np.abs(miss).mean()), mae_candidate=float(np.abs(miss - difference).mean()),
        mae_subject_part=float(np.abs(miss - part).mean()), n=int(ok.sum()))
