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
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.covariance import ledoit_wolf


def residual_covariance(changes: pd.DataFrame) -> dict[str, dict[str, list]]:
    """Per treatment: the hours and the shrunk covariance (ms²) of the subjects' ΔQTcF residuals.

    Parameters
    ----------
    changes : post-dose ``RANDID``, ``EXTRT``, ``TPT`` (h) and ``change`` (ΔQTcF, ms) of the training
        subjects (one row per subject, treatment and hour).

    Returns
    -------
    dict
        ``{EXTRT: {"hours": [h, ...], "cov": [[ms², ...], ...]}}``; a subject missing an hour counts
        with a zero residual there.
    """
    out = {}
    for drug, rows in changes.groupby("EXTRT"):
        wide = rows.pivot_table(index="RANDID", columns="TPT", values="change")
        residuals = (wide - wide.mean()).fillna(0.0).to_numpy()
        if len(residuals) < 2:
            raise ValueError(f"{drug}: need at least 2 subjects to estimate the between-subject covariance")
        cov = ledoit_wolf(residuals, assume_centered=True)[0]
        out[drug] = {"hours": wide.columns.astype(float).tolist(), "cov": cov.tolist()}
    return out


def _nearest(grid: np.ndarray, hours: np.ndarray) -> np.ndarray:
    return np.abs(grid[None, :] - np.asarray(hours, dtype=float)[:, None]).argmin(1)


def conditional_residuals(covariance: dict[str, list], observed_hours: np.ndarray, residual_ms: np.ndarray,
                          later_hours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd (ms) of a subject's residuals at ``later_hours`` given its residuals at ``observed_hours``.

    Parameters
    ----------
    covariance : one treatment's entry of :func:`residual_covariance` (hours not on its grid use the
        nearest grid hour).
    observed_hours, residual_ms : (n,) hours and observed − forecast ΔQTcF there (n may be 0).
    later_hours : (m,) hours to forecast.

    Returns
    -------
    (mean, sd)
        Two (m,) arrays; with no observations the mean is 0 and the sd the between-subject sd.
    """
    grid, cov = np.asarray(covariance["hours"], dtype=float), np.asarray(covariance["cov"], dtype=float)
    later = _nearest(grid, later_hours)
    r = np.asarray(residual_ms, dtype=float)
    if r.shape != np.shape(observed_hours) or not np.isfinite(r).all():
        raise ValueError(f"residuals must be finite and match the observed hours; got {r.shape}")
    if r.size == 0:
        return np.zeros(len(later)), np.sqrt(np.diag(cov)[later])
    early = _nearest(grid, observed_hours)
    gain = np.linalg.solve(cov[np.ix_(early, early)], cov[np.ix_(early, later)]).T  # Σ_LE Σ_EE⁻¹
    var = np.diag(cov)[later] - np.einsum("ij,ji->i", gain, cov[np.ix_(early, later)])
    return gain @ r, np.sqrt(np.maximum(var, 0.0))
