"""Time courses of drug effects in the ECGRDVQ trial: change from baseline with 95 % CIs.

For each subject, treatment period and time point the triplicate ECGs are
averaged; the subject's pre-dose value (``TPT = -0.5`` h, same period) is
subtracted; the changes are then averaged over subjects with a Student-t 95 %
confidence interval. This is the descriptive "Δ" analysis of Johannesen et al.
(2014); the placebo-corrected "ΔΔ" exposure-response model is a later chapter.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

BASELINE_HOURS = -0.5
"""Pre-dose time point of every treatment period (h)."""


def subject_changes(kept: pd.DataFrame, measure: str) -> pd.DataFrame:
    """Per subject, treatment and time point: the triplicate mean of ``measure`` and its change from baseline.

    Parameters
    ----------
    kept : usable rows of the clinical table (``ClinicalTable.kept``).
    measure : column to analyse, e.g. ``"QTcF"`` (ms).

    Returns
    -------
    pandas.DataFrame
        Columns ``RANDID``, ``EXTRT``, ``TPT`` (h), ``value`` (triplicate mean),
        ``baseline`` (the same period's pre-dose value), ``change`` (value −
        baseline) and ``conc_ng_ml`` (mean plasma concentration, NaN where not
        measured). Time points without a baseline are dropped.

    Raises
    ------
    KeyError
        If ``measure`` is not a column of ``kept``.
    """
    if measure not in kept.columns:
        raise KeyError(f"no column {measure!r}; columns: {', '.join(kept.columns)}")
    per_point = kept.groupby(["RANDID", "EXTRT", "TPT"], as_index=False).agg(
        value=(measure, "mean"), conc_ng_ml=("conc_ng_ml", "mean")
    )
    baseline = per_point[per_point["TPT"] == BASELINE_HOURS].set_index(["RANDID", "EXTRT"])["value"]
    keys = pd.MultiIndex.from_frame(per_point[["RANDID", "EXTRT"]])
    per_point["baseline"] = baseline.reindex(keys).to_numpy()
    per_point["change"] = per_point["value"] - per_point["baseline"]
    return per_point.dropna(subset=["change"]).reset_index(drop=True)


def change_from_baseline(kept: pd.DataFrame, measure: str, level: float = 0.95) -> pd.DataFrame:
    """Mean change from the pre-dose baseline of ``measure``, per drug and time point.

    Parameters
    ----------
    kept : usable rows of the clinical table (``ClinicalTable.kept``).
    measure : column to analyse, e.g. ``"QTcF"``, ``"PR"``, ``"JTPEAK"`` (ms).
    level : confidence level of the interval.

    Returns
    -------
    pandas.DataFrame
        One row per (``drug``, ``hours``) with ``mean``, ``ci_low``, ``ci_high``
        (same unit as ``measure``), ``sd`` and ``n`` (subjects).

    Raises
    ------
    KeyError
        If ``measure`` is not a column of ``kept``.
    """
    per_point = subject_changes(kept, measure)

    def summarise(changes: pd.Series) -> pd.Series:
        n = changes.size
        mean, sd = changes.mean(), changes.std(ddof=1) if n > 1 else np.nan
        half = stats.t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n) if n > 1 else np.nan
        return pd.Series({"mean": mean, "ci_low": mean - half, "ci_high": mean + half, "sd": sd, "n": n})

    out = (
        per_point.groupby(["EXTRT", "TPT"])["change"].apply(summarise).unstack().reset_index()
        .rename(columns={"EXTRT": "drug", "TPT": "hours"})
    )
    out["n"] = out["n"].astype(int)
    return out


def peak_change(effects: pd.DataFrame) -> pd.DataFrame:
    """Per drug, the post-dose time point with the largest mean change (signed maximum).

    Parameters
    ----------
    effects : output of :func:`change_from_baseline`.

    Returns
    -------
    pandas.DataFrame
        One row per drug: ``drug``, ``hours``, ``mean``, ``ci_low``, ``ci_high``, ``n``.
    """
    post_dose = effects[effects["hours"] > BASELINE_HOURS]
    idx = post_dose.groupby("drug")["mean"].idxmax()
    return effects.loc[idx, ["drug", "hours", "mean", "ci_low", "ci_high", "n"]].reset_index(drop=True)
