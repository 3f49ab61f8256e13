"""How a subject's ΔQTcF trajectory deviates from the population's, and what early observations say.

For each drug, the training subjects' residuals r_t = ΔQTcF_t − (population
mean at t) over the trial's time points are treated as a Gaussian vector with
covariance Σ (Ledoit-Wolf shrinkage of the sample covariance toward a scaled
identity, :func:`sklearn.covariance.ledoit_wolf`, since 12-16 subjects cannot
fill a 15 × 15 matrix on their own). Its diagonal is the between-subject
variance of ΔQTcF at each hour; its off-diagonal says how a deviation early in
the day carries over to later hours. Given a new subject's residuals r_E at
the hours it has been observed, the later residuals have the Gaussian
conditional

    E[r_L | r_E] = Σ_LE Σ_EE⁻¹ r_E,    Var[r_L | r_E] = Σ_LL − Σ_LE Σ_EE⁻¹ Σ_EL,

which is how the observed-until forecasts condition on a subject's early
trajectory (:func:`conditional_residuals`). It learns, per drug, what a fixed
shrinkage cannot: on the 16 shipped subjects an early offset carries over to
the rest of the day on placebo, ranolazine and verapamil (the subject's own
level), much less on dofetilide and quinidine, where early residuals mostly
reflect how fast the drug was absorbed.

**Regression to the mean.** ΔQTcF is measured from one period's pre-dose
triplicate, which is the subject's usual QTcF plus that day's deviation. A
period that starts high tends to come down: on the 16 shipped subjects the
ΔQTcF residual falls by about half of the period's baseline offset (the
period's pre-dose QTcF minus the mean of the subject's pre-dose QTcF over its
periods; pooled slope −0.44 to −0.62 on the four leave-subjects-out training
sets). Every period's pre-dose rows are pre-dose information, so a forecast may
use the offset: the residual model is r_t = β·offset + u_t with one pooled β
(:func:`offset_gain`) and u ~ N(0, Σ), Σ estimated on r − β·offset. A subject
seen in a single period has offset 0 and no shift.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.covariance import ledoit_wolf

from ..data.trial import BASELINE_HOURS, subject_changes


def baseline_offsets(kept: pd.DataFrame) -> pd.DataFrame:
    """Each period's pre-dose QTcF minus the subject's mean pre-dose QTcF over its periods.

    Parameters
    ----------
    kept : usable rows of an SCR-002 table; only the pre-dose (−0.5 h) ``QTcF`` rows are read.

    Returns
    -------
    pandas.DataFrame
        ``RANDID``, ``EXTRT`` and ``offset_ms`` (ms; 0 for a subject with a single period).
    """
    base = subject_changes(kept[kept["TPT"] == BASELINE_HOURS], "QTcF")
    offset = base["value"] - base.groupby("RANDID")["value"].transform("mean")
    return base[["RANDID", "EXTRT"]].assign(offset_ms=offset.to_numpy())


def offsets_of(keys: pd.DataFrame, offsets: pd.DataFrame) -> np.ndarray:
    """(n,) baseline offset (ms) of each row of ``keys`` (``RANDID``, ``EXTRT``, ...) from
    :func:`baseline_offsets` output; 0 where the period has none."""
    merged = keys[["RANDID", "EXTRT"]].merge(offsets, on=["RANDID", "EXTRT"], how="left")
    return pd.to_numeric(merged["offset_ms"]).fillna(0.0).to_numpy()


def offset_residuals(changes: pd.DataFrame, offsets: pd.DataFrame) -> pd.DataFrame:
    """``changes`` (``RANDID``, ``EXTRT``, ``TPT``, ``change`` in ms) with ``residual`` (the change minus
    its drug × hour mean) and ``offset_ms`` (:func:`offsets_of`) added."""
    return changes.assign(
        residual=changes["change"] - changes.groupby(["EXTRT", "TPT"])["change"].transform("mean"),
        offset_ms=offsets_of(changes, offsets))


def offset_gain(residuals: pd.DataFrame) -> float:
    """Least-squares slope β (no intercept) of ΔQTcF residuals on the period's baseline offset.

    Parameters
    ----------
    residuals : one row per subject, treatment and hour with ``residual`` (ms) and ``offset_ms``
        (:func:`offset_residuals`).

    Returns
    -------
    float
        β (dimensionless); 0 when no offset differs from 0 (every subject seen in one period).
    """
    o, r = residuals["offset_ms"].to_numpy(float), residuals["residual"].to_numpy(float)
    return float(o @ r / (o @ o)) if (o @ o) > 0 else 0.0


def residual_covariance(changes: pd.DataFrame, offsets: pd.DataFrame) -> dict[str, dict]:
    """Per treatment: the hours, the offset gain β and the shrunk covariance (ms²) of the residuals u.

    Parameters
    ----------
    changes : post-dose ``RANDID``, ``EXTRT``, ``TPT`` (h) and ``change`` (ΔQTcF, ms) of the training
        subjects (one row per subject, treatment and hour).
    offsets : :func:`baseline_offsets` of the same subjects (a period missing there has offset 0).

    Returns
    -------
    dict
        ``{EXTRT: {"hours": [h, ...], "offset_gain": β, "cov": [[ms², ...], ...]}}``: β pooled over
        treatments and hours (:func:`offset_gain`), Σ the Ledoit-Wolf covariance of
        u = residual − β·offset; a subject missing an hour counts with a zero residual there.
    """
    rows = offset_residuals(changes, offsets)
    beta = offset_gain(rows)
    rows["u"] = rows["residual"] - beta * rows["offset_ms"]
    out = {}
    for drug, part in rows.groupby("EXTRT"):
        wide = part.pivot_table(index="RANDID", columns="TPT", values="u")
        if len(wide) < 2:
            raise ValueError(f"{drug}: need at least 2 subjects to estimate the between-subject covariance")
        cov = ledoit_wolf((wide - wide.mean()).fillna(0.0).to_numpy(), assume_centered=True)[0]
        out[drug] = {"hours": wide.columns.astype(float).tolist(), "offset_gain": beta, "cov": cov.tolist()}
    return out


def _nearest(grid: np.ndarray, hours: np.ndarray) -> np.ndarray:
    return np.abs(grid[None, :] - np.asarray(hours, dtype=float)[:, None]).argmin(1)


def conditional_residuals(covariance: dict, observed_hours: np.ndarray, residual_ms: np.ndarray,
                          later_hours: np.ndarray, offset_ms: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd (ms) of a subject's residuals at ``later_hours`` given its baseline offset and its
    residuals at ``observed_hours``.

    Parameters
    ----------
    covariance : one treatment's entry of :func:`residual_covariance` (hours not on its grid use the
        nearest grid hour).
    observed_hours, residual_ms : (n,) hours and observed − forecast ΔQTcF there (n may be 0).
    later_hours : (m,) hours to forecast.
    offset_ms : the period's baseline offset (:func:`baseline_offsets`; 0: unknown or one period).

    Returns
    -------
    (mean, sd)
        Two (m,) arrays: mean β·offset + Σ_LE Σ_EE⁻¹ (r_E − β·offset); with no observations the
        mean is β·offset and the sd the between-subject sd of u.
    """
    grid, cov = np.asarray(covariance["hours"], dtype=float), np.asarray(covariance["cov"], dtype=float)
    later = _nearest(grid, later_hours)
    r = np.asarray(residual_ms, dtype=float)
    if r.shape != np.shape(observed_hours) or not np.isfinite(r).all():
        raise ValueError(f"residuals must be finite and match the observed hours; got {r.shape}")
    if not np.isfinite(offset_ms):
        raise ValueError(f"the baseline offset must be finite; got {offset_ms}")
    shift = covariance["offset_gain"] * float(offset_ms)
    if r.size == 0:
        return np.full(len(later), shift), np.sqrt(np.diag(cov)[later])
    early = _nearest(grid, observed_hours)
    gain = np.linalg.solve(cov[np.ix_(early, early)], cov[np.ix_(early, later)]).T  # Σ_LE Σ_EE⁻¹
    var = np.diag(cov)[later] - np.einsum("ij,ji->i", gain, cov[np.ix_(early, later)])
    return shift + gain @ (r - shift), np.sqrt(np.maximum(var, 0.0))
