"""Learning pairs from the trial: (pre-dose ECG, action, post-dose ECG), split by subject.

Every post-dose ECG is paired with the first pre-dose ECG (``TPT = -0.5`` h) of
the same subject and treatment period; the action is that period's drug, dose,
hours since dose and measured concentration. Splits and folds assign whole
subjects, so no subject's ECGs appear on both sides.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .trial import BASELINE_HOURS
from .vocabulary import MEASUREMENTS

MEASURES = (*MEASUREMENTS, "QTcF")
"""Columns paired as ``pre_<m>`` and ``post_<m>``: the table's measurements and QTcF."""


def paired_samples(kept: pd.DataFrame) -> pd.DataFrame:
    """One row per post-dose ECG with its pre-dose partner.

    Parameters
    ----------
    kept : usable rows of the clinical table (``ClinicalTable.kept``).

    Returns
    -------
    pandas.DataFrame
        ``RANDID``, ``drug`` (``EXTRT``), ``dose``, ``dose_unit``, ``hours``,
        ``conc_ng_ml``, ``pre_EGREFID``, ``post_EGREFID``, and for each of
        :data:`MEASURES` the columns ``pre_<m>`` and ``post_<m>``. Periods
        without a usable pre-dose ECG are left out.
    """
    key = ["RANDID", "VISIT"]
    pre = kept[kept["TPT"] == BASELINE_HOURS].groupby(key, as_index=False).first()
    post = kept[kept["TPT"] > BASELINE_HOURS]
    pre = pre[key + ["EGREFID", *MEASURES]].rename(columns={"EGREFID": "pre_EGREFID", **{m: f"pre_{m}" for m in MEASURES}})
    post = post[key + ["EXTRT", "EXDOSE", "EXDOSU", "TPT", "conc_ng_ml", "EGREFID", *MEASURES]].rename(
        columns={"EXTRT": "drug", "EXDOSE": "dose", "EXDOSU": "dose_unit", "TPT": "hours",
                 "EGREFID": "post_EGREFID", **{m: f"post_{m}" for m in MEASURES}})
    return post.merge(pre, on=key, how="inner").drop(columns="VISIT").reset_index(drop=True)


def split_by_subject(pairs: pd.DataFrame, fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
                     seed: int = 0) -> dict[str, pd.DataFrame]:
    """Train, validation and test sets with disjoint subjects.

    Parameters
    ----------
    pairs : output of :func:`paired_samples` (any table with ``RANDID``).
    fractions : shares of subjects; must be positive and sum to 1.
    seed : seed of the subject shuffle.

    Returns
    -------
    dict
        ``"train"``, ``"validation"``, ``"test"`` tables.
    """
    if len(fractions) != 3 or min(fractions) <= 0 or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be three positive shares summing to 1; got {fractions}")
    subjects = np.random.default_rng(seed).permutation(np.sort(pairs["RANDID"].unique()))
    if subjects.size < 3:
        raise ValueError(f"need at least 3 subjects to split; got {subjects.size}")
    n = subjects.size
    first = int(np.clip(round(fractions[0] * n), 1, n - 2))
    second = int(np.clip(round((fractions[0] + fractions[1]) * n), first + 1, n - 1))  # every set non-empty
    groups = np.split(subjects, [first, second])
    return {name: pairs[pairs["RANDID"].isin(g)].reset_index(drop=True)
            for name, g in zip(("train", "validation", "test"), groups)}


def subject_folds(pairs: pd.DataFrame, k: int = 4, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Leave-subjects-out folds: ``k`` (train subjects, test subjects) pairs; each subject is tested once."""
    subjects = np.random.default_rng(seed).permutation(np.sort(pairs["RANDID"].unique()))
    if not 2 <= k <= subjects.size:
        raise ValueError(f"k must be between 2 and the number of subjects ({subjects.size}); got {k}")
    tests = np.array_split(subjects, k)
    return [(np.setdiff1d(subjects, t), np.sort(t)) for t in tests]
