"""Risk across subjects: candidate scores, κ sensitivity, CVaR vs mean-variance, expert alignment, calibration.

The chapters' analyses as library calls. :func:`candidate_scores` runs the
decision loop once per subject and keeps, per candidate, E[r], Std[r],
CVaR_α and the event probabilities; because R = E[r] + κ·Std[r] is linear in
κ, rankings at any κ follow from that one table without new rollouts
(:func:`scores_at`, :func:`kappa_ranks`). :func:`alignment_table` compares the
rankings with the CiPA classes and the trial's observed ΔQTcF per subject;
:func:`calibration_by_time` scores predicted event probabilities from
:func:`~ecgwm_core.risk.validation.heldout_events` per post-dose time point.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .alignment import cipa_gains, kendall_tau, ndcg, observed_dqtcf, rank_gains
from .calibration import brier_score, expected_calibration_error
from .loop import DEFAULT_HOURS, assess, parse_candidates, patient_from_table
from .proposer import Candidate
from .simulators import Simulator
from .validation import heldout_events

TRIAL_CANDIDATES = "placebo,dofetilide,quinidine,ranolazine,verapamil"
"""The trial's five arms at their trial doses, as ``parse_candidates`` reads them."""


def candidate_scores(simulator: Simulator, kept: pd.DataFrame, subjects: Iterable[int],
                     candidates: Sequence[Candidate] | None = None, hours: float = DEFAULT_HOURS,
                     samples: int = 64, alpha: float = 0.9, seed: int = 0) -> pd.DataFrame:
    """Risk of every candidate for every subject, from one run of the loop per subject.

    Parameters
    ----------
    simulator : rolls out the candidates.
    kept : usable rows of the clinical table.
    subjects : RANDIDs.
    candidates : default: the trial's five arms (:data:`TRIAL_CANDIDATES`).
    hours : time after the dose, h.
    samples : K rollouts per candidate.
    alpha : CVaR level.
    seed : seed of the rollouts and of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        One row per (``subject``, ``drug``): ``dose``, ``expected``, ``spread``, ``cvar``, ``p_dqtcf_gt_30``,
        ``p_qtcf_gt_500`` and ``n`` (rollouts scored), in the candidates' order.
    """
    candidates = list(candidates) if candidates is not None else parse_candidates(TRIAL_CANDIDATES)
    rows = []
    for subject in subjects:
        result = assess(patient_from_table(kept, int(subject)), simulator, candidates=candidates, hours=hours,
                        samples=samples, kappa=0.0, alpha=alpha, seed=seed)
        by_drug = {r.candidate.label: r for r in result.ranked}
        for c in candidates:
            risk = by_drug[c.label].risk
            rows.append({"subject": int(subject), "drug": c.drug, "dose": f"{c.dose:g} {c.unit}",
                         "expected": risk.expected, "spread": risk.spread, "cvar": risk.cvar,
                         "p_dqtcf_gt_30": risk.probabilities["dqtcf_gt_30"].p,
                         "p_qtcf_gt_500": risk.probabilities["qtcf_gt_500"].p, "n": risk.n_rollouts})
    return pd.DataFrame(rows)


def scores_at(scores: pd.DataFrame, kappa: float) -> pd.Series:
    """Mean-variance score R = E[r] + κ·Std[r] of every row of :func:`candidate_scores` (κ ≥ 0)."""
    if not (np.isfinite(kappa) and kappa >= 0):
        raise ValueError(f"kappa must be a finite number >= 0; got {kappa}")
    return scores["expected"] + kappa * scores["spread"]


def kappa_ranks(scores: pd.DataFrame, kappas: Sequence[float]) -> pd.DataFrame:
    """Rank of each candidate per subject at each κ (1 = riskiest; ties share the lower rank).

    Returns
    -------
    pandas.DataFrame
        Columns ``subject``, ``drug``, ``kappa``, ``score``, ``rank``.
    """
    parts = []
    for kappa in kappas:
        part = scores[["subject", "drug"]].assign(kappa=float(kappa), score=scores_at(scores, kappa))
        part["rank"] = part.groupby("subject")["score"].rank(ascending=False, method="min").astype(int)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def alignment_table(scores: pd.DataFrame, kept: pd.DataFrame, kappas: Sequence[float] = (0.0, 1.0),
                    hours: float | None = DEFAULT_HOURS) -> pd.DataFrame:
    """Agreement of each subject's risk ranking with the CiPA classes and with the trial's observed ΔQTcF.

    Parameters
    ----------
    scores : from :func:`candidate_scores` (formulary drugs the subject received in the trial).
    kept : the clinical table rows holding the subjects.
    kappas : risk aversions to compare (0: expected risk only, no uncertainty term).
    hours : time point of the observed ΔQTcF (None: each drug's largest post-dose change).

    Returns
    -------
    pandas.DataFrame
        One row per (``subject``, ``kappa``): ``tau_cipa``, ``ndcg_cipa``, ``tau_observed``,
        ``ndcg_observed`` (Kendall τ-b and NDCG, see :mod:`~ecgwm_core.risk.alignment`) and ``n_observed``
        (drugs with an observed ΔQTcF at ``hours``; the observed reference ranks only those).
    """
    rows = []
    for subject, part in scores.groupby("subject", sort=True):
        drugs = part["drug"].tolist()
        observed = observed_dqtcf(kept, int(subject), hours).reindex(drugs).to_numpy()
        seen = ~np.isnan(observed)  # a drug without a measurement at that time point is left out of this reference
        if seen.sum() < 2:
            raise ValueError(f"subject {subject} has fewer than two drugs with an observed ΔQTcF at {hours} h")
        cipa = cipa_gains(drugs)
        for kappa in kappas:
            s = scores_at(part, kappa).to_numpy()
            rows.append({"subject": int(subject), "kappa": float(kappa),
                         "tau_cipa": kendall_tau(s, cipa), "ndcg_cipa": ndcg(s, cipa),
                         "tau_observed": kendall_tau(s[seen], observed[seen]),
                         "ndcg_observed": ndcg(s[seen], rank_gains(observed[seen])), "n_observed": int(seen.sum())})
    return pd.DataFrame(rows)


def cvar_agreement(scores: pd.DataFrame, kappa: float = 1.0) -> pd.DataFrame:
    """Per subject, Kendall τ between the ranking by CVaR_α and by R = E[r] + κ·Std[r], and their riskiest drug.

    Returns
    -------
    pandas.DataFrame
        One row per ``subject``: ``tau``, ``riskiest_mv``, ``riskiest_cvar``.
    """
    rows = []
    for subject, part in scores.groupby("subject", sort=True):
        mv = scores_at(part, kappa).to_numpy()
        rows.append({"subject": int(subject), "tau": kendall_tau(mv, part["cvar"].to_numpy()),
                     "riskiest_mv": part["drug"].iloc[int(np.argmax(mv))],
                     "riskiest_cvar": part["drug"].iloc[int(np.argmax(part["cvar"].to_numpy()))]})
    return pd.DataFrame(rows)


def calibration_by_time(predictions: dict[str, pd.DataFrame], n_bins: int = 10) -> pd.DataFrame:
    """ECE and Brier score of predicted event probabilities per post-dose time point, for each predictor.

    Parameters
    ----------
    predictions : ``{name: frame}`` with ``hours``, ``p`` and ``observed`` columns, as
        :func:`~ecgwm_core.risk.validation.heldout_events` returns (e.g. sampled K = 64 and deterministic K = 1).
    n_bins : bins of the ECE.

    Returns
    -------
    pandas.DataFrame
        One row per (``predictor``, ``hours``) plus ``hours = NaN`` rows for all time points pooled:
        ``n``, ``event_rate``, ``ece``, ``brier``.
    """
    rows = []
    for name, frame in predictions.items():
        groups = [(h, g) for h, g in frame.groupby("hours", sort=True)] + [(np.nan, frame)]
        for hours, g in groups:
            rows.append({"predictor": name, "hours": hours, "n": len(g), "event_rate": g["observed"].mean(),
                         "ece": expected_calibration_error(g["p"], g["observed"], n_bins),
                         "brier": brier_score(g["p"], g["observed"])})
    return pd.DataFrame(rows)


def calibration_predictions(world_model: Simulator, population: Simulator, kept: pd.DataFrame,
                            subjects: Iterable[int], samples: int = 16, hours: Sequence[float] | None = None,
                            seed: int = 0) -> dict[str, pd.DataFrame]:
    """P(ΔQTcF > 30 ms) on held-out subjects from three predictors, for :func:`calibration_by_time`.

    Parameters
    ----------
    world_model : the world model's simulator (trained without ``subjects``).
    population : the exposure-response simulator fitted without ``subjects``.
    kept : the clinical table rows holding ``subjects``.
    subjects : held-out RANDIDs.
    samples : K rollouts of the sampled world-model predictor.
    hours : post-dose time points (default all of the trial's).
    seed : seed of the rollouts.

    Returns
    -------
    dict
        ``{"world model, K = <samples>", "world model, one rollout" (deterministic baseline),
        "exposure-response, K = 64"}`` → :func:`~ecgwm_core.risk.validation.heldout_events` frames.
    """
    subjects = list(subjects)
    return {
        f"world model, K = {samples}": heldout_events(world_model, kept, subjects, samples=samples, seed=seed,
                                                      hours=hours),
        "world model, one rollout": heldout_events(world_model, kept, subjects, samples=1, seed=seed, hours=hours),
        "exposure-response, K = 64": heldout_events(population, kept, subjects, samples=64, seed=seed, hours=hours),
    }
