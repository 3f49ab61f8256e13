"""Agreement of a model's risk ranking with expert-informed reference rankings: Kendall τ and NDCG.

Two references:

- **CiPA TdP risk classes** stored in :data:`ecgwm_core.actions.FORMULARY` (Li et al.,
  Clin Pharmacol Ther 2019;105:466-475): dofetilide and quinidine *high*, ranolazine and
  verapamil *low*. As graded relevance (gain): high 3, intermediate 2, low 1, placebo (no
  drug, no class) 0.
- **The trial's observed ΔQTcF per subject** (ECGRDVQ, Johannesen et al. 2014): the
  subject's largest post-dose change from baseline (triplicate means) per drug, or the
  change at one time point. As gains for NDCG: the rank of each drug's change, 0 for the
  smallest (ties share their mean rank).

Metrics:

- **Kendall τ-b** (``scipy.stats.kendalltau``) between model scores and the reference
  values; handles the tie of the two high-risk drugs.
- **NDCG** (Järvelin and Kekäläinen, ACM TOIS 2002;20:422-446) with linear gains and
  log2 discount, ranking by the model's score from riskiest down (ties keep the given
  order); 1 when the model puts the reference's riskiest first throughout.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..actions import FORMULARY
from ..data.trial import BASELINE_HOURS, subject_changes

CIPA_GAIN = {"high": 3.0, "intermediate": 2.0, "low": 1.0, "": 0.0}
"""Graded relevance of the CiPA TdP risk classes (``""``: placebo)."""


def _pair(model_scores: Sequence[float], reference: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    model_scores = np.asarray(model_scores, dtype=float)
    reference = np.asarray(reference, dtype=float)
    if model_scores.ndim != 1 or model_scores.shape != reference.shape or model_scores.size < 2:
        raise ValueError(
            f"need one model score and one reference value per candidate (>= 2 candidates); "
            f"got shapes {model_scores.shape} and {reference.shape}"
        )
    return model_scores, reference


def kendall_tau(model_scores: Sequence[float], reference: Sequence[float]) -> float:
    """Kendall τ-b between the model's risk scores and reference values (higher = riskier in both).

    Returns NaN when either side is constant.
    """
    model_scores, reference = _pair(model_scores, reference)
    return float(stats.kendalltau(model_scores, reference).statistic)


def ndcg(model_scores: Sequence[float], gains: Sequence[float], k: int | None = None) -> float:
    """Normalised discounted cumulative gain of the ranking by ``model_scores`` (riskiest first).

    Parameters
    ----------
    model_scores : (C,) the model's risk score per candidate.
    gains : (C,) reference relevance per candidate (≥ 0, higher = riskier).
    k : only the top ``k`` positions count (default all).

    Raises
    ------
    ValueError
        If shapes differ, fewer than two candidates are given, or a gain is negative.
    """
    model_scores, gains = _pair(model_scores, gains)
    if np.any(gains < 0):
        raise ValueError(f"gains must be >= 0; got {gains}")
    k = gains.size if k is None else k
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    ranked = gains[np.argsort(-model_scores, kind="stable")][:k]
    ideal = np.sort(gains)[::-1][:k]
    best = float(ideal @ discount[: ideal.size])
    return float(ranked @ discount[: ranked.size]) / best if best > 0 else float("nan")


def cipa_gains(drugs: Sequence[str]) -> np.ndarray:
    """(C,) CiPA gains (:data:`CIPA_GAIN`) of formulary drug names.

    Raises
    ------
    ValueError
        If a drug is not in the formulary.
    """
    unknown = [d for d in drugs if d not in FORMULARY]
    if unknown:
        raise ValueError(f"unknown drugs {unknown}; formulary: {', '.join(FORMULARY)}")
    return np.array([CIPA_GAIN[FORMULARY[d].cipa_risk] for d in drugs])


def observed_dqtcf(kept: pd.DataFrame, subject: int, hours: float | None = None) -> pd.Series:
    """The trial's observed ΔQTcF (ms) of one subject, per formulary drug.

    Parameters
    ----------
    kept : usable rows of the clinical table (``ClinicalTable.kept``).
    subject : ``RANDID``.
    hours : time point; default: the largest change over all post-dose time points.

    Returns
    -------
    pandas.Series
        ΔQTcF in ms indexed by formulary name, only for drugs the subject received.

    Raises
    ------
    ValueError
        If the subject (or the time point) is not in the table.
    """
    changes = subject_changes(kept[kept["RANDID"] == subject], "QTcF")
    changes = changes[changes["TPT"] > BASELINE_HOURS]
    if changes.empty:
        raise ValueError(f"subject {subject} has no post-dose QTcF in the table")
    if hours is not None:
        changes = changes[np.isclose(changes["TPT"], hours)]
        if changes.empty:
            raise ValueError(f"subject {subject} has no QTcF at {hours} h; time points: {sorted(set(kept['TPT']))}")
    by_trial_name = {d.trial_name: d.name for d in FORMULARY.values()}
    peak = changes.groupby("EXTRT")["change"].max()
    peak.index = [by_trial_name[name] for name in peak.index]
    return peak.rename("dqtcf_ms")


def rank_gains(values: Sequence[float]) -> np.ndarray:
    """(C,) gains from reference values: the rank, 0 for the smallest (ties share their mean rank)."""
    return stats.rankdata(np.asarray(values, dtype=float)) - 1.0
