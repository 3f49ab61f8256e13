"""Clinical risk of a simulated ECG: categorical events, a continuous score, and their aggregation over rollouts.

A world-model rollout is one sampled post-dose ECG, measured (intervals, QTcF,
heart rate). Each rollout gets

- **categorical events** (:data:`CRITERIA`), each a published or conventional
  threshold applied strictly (``>`` or ``<``, as the sources state them):

  ========================  ===========================================================================
  ``qtcf_gt_500``           QTcF > 500 ms: ICH E14 (2005), section 3.2.3, categorical analysis.
  ``dqtcf_gt_60``           ΔQTcF > 60 ms from baseline: ICH E14 (2005), section 3.2.3.
  ``dqtcf_gt_30``           ΔQTcF > 30 ms from baseline: ICH E14 (2005), section 3.2.3.
  ``pr_gt_200``             PR > 200 ms, first-degree AV block: Surawicz et al., J Am Coll Cardiol
                            2009;53:976-981 (AHA/ACCF/HRS ECG standardisation, part III).
  ``qrs_widening_gt_25``    QRS widened by > 25 % of its pre-dose duration: a conventional sign of
                            excessive sodium-channel block in antiarrhythmic-drug monitoring (the project's
                            choice following that convention, not a regulatory limit).
  ``hr_lt_50``              Heart rate < 50 bpm, bradycardia: Kusumoto et al., Circulation
                            2019;140:e382-e482 (ACC/AHA/HRS bradycardia guideline).
  ========================  ===========================================================================

- a **continuous risk** :func:`rollout_risk`: the sum over criteria of a
  softplus excess over the threshold, ``softplus((x - t) / s)`` for "above is
  risky" (``(t - x) / s`` for bradycardia), with a per-criterion scale ``s``.
  It is ≈ ``(x - t) / s`` well beyond the threshold and decays smoothly to 0
  below it, so candidates that stay below every threshold are still ordered.

Over K rollouts of one candidate: the expected risk E[r], its spread Std[r],
the mean-variance score R = E[r] + κ·Std[r] and the conditional value at risk
CVaR_α (Rockafellar and Uryasev, J Risk 2000;2:21-41), and event probabilities
with percentile-bootstrap confidence intervals (Efron and Tibshirani 1993, ch. 13).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

MEASURES = ("qtcf_ms", "dqtcf_ms", "pr_ms", "qrs_widening", "hr_bpm")
"""Per-rollout measures the criteria read: QTcF (ms), ΔQTcF from baseline (ms), PR (ms), QRS widening (fraction
of the pre-dose QRS: 0.25 = 25 % wider) and heart rate (bpm)."""


@dataclass(frozen=True)
class Criterion:
    """A threshold on one measure of a rollout.

    Attributes
    ----------
    name : key in :data:`CRITERIA`.
    measure : one of :data:`MEASURES`.
    threshold : the limit, in the measure's unit.
    above : True when values above the threshold are risky, False when values below are.
    scale : unit of the continuous excess (same unit as the measure): one scale beyond the threshold adds ≈ 1.
    label : short human-readable form, e.g. ``"QTcF > 500 ms"``.
    source : the reference the threshold comes from.
    """

    name: str
    measure: str
    threshold: float
    above: bool
    scale: float
    label: str
    source: str

    def _beyond(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        return values - self.threshold if self.above else self.threshold - values

    def event(self, values: np.ndarray) -> np.ndarray:
        """Boolean array, same shape as ``values``: strictly beyond the threshold (NaN counts as no event)."""
        return self._beyond(values) > 0

    def excess(self, values: np.ndarray) -> np.ndarray:
        """Continuous excess ``softplus(beyond / scale)`` (dimensionless, ≥ 0), same shape as ``values``."""
        return np.logaddexp(0.0, self._beyond(values) / self.scale)


_E14 = "ICH E14 (2005), section 3.2.3, categorical analysis"
CRITERIA: dict[str, Criterion] = {
    c.name: c
    for c in (
        Criterion("qtcf_gt_500", "qtcf_ms", 500.0, True, 10.0, "QTcF > 500 ms", _E14),
        Criterion("dqtcf_gt_60", "dqtcf_ms", 60.0, True, 10.0, "ΔQTcF > 60 ms", _E14),
        Criterion("dqtcf_gt_30", "dqtcf_ms", 30.0, True, 10.0, "ΔQTcF > 30 ms", _E14),
        Criterion("pr_gt_200", "pr_ms", 200.0, True, 10.0, "PR > 200 ms",
                  "Surawicz et al., J Am Coll Cardiol 2009;53:976-981"),
        Criterion("qrs_widening_gt_25", "qrs_widening", 0.25, True, 0.05, "QRS widening > 25 %",
                  "antiarrhythmic-drug monitoring convention (project choice)"),
        Criterion("hr_lt_50", "hr_bpm", 50.0, False, 5.0, "HR < 50 bpm",
                  "Kusumoto et al., Circulation 2019;140:e382-e482"),
    )
}
"""Every categorical criterion, by name (see the module docstring for the sources)."""

RISK_CRITERIA = ("qtcf_gt_500", "dqtcf_gt_30", "pr_gt_200", "qrs_widening_gt_25", "hr_lt_50")
"""Criteria summed into the continuous risk: one per measure (ΔQTcF > 60 ms is implied by > 30 ms)."""


def rollout_measures(
    qtcf_ms: np.ndarray,
    dqtcf_ms: np.ndarray,
    pr_ms: np.ndarray | None = None,
    qrs_ms: np.ndarray | None = None,
    baseline_qrs_ms: float | None = None,
    hr_bpm: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Collect the measures of K rollouts under the names the criteria read.

    Parameters
    ----------
    qtcf_ms, dqtcf_ms : (K,) QTcF and its change from the subject's baseline, ms.
    pr_ms : (K,) PR interval, ms, if measured.
    qrs_ms : (K,) QRS duration, ms, if measured; needs ``baseline_qrs_ms``.
    baseline_qrs_ms : the subject's pre-dose QRS duration, ms (> 0).
    hr_bpm : (K,) heart rate, bpm, if measured.

    Returns
    -------
    dict
        ``{measure: (K,) float array}`` for the measures given (keys from :data:`MEASURES`).

    Raises
    ------
    ValueError
        If the arrays differ in length or ``qrs_ms`` comes without a positive ``baseline_qrs_ms``.
    """
    out = {"qtcf_ms": qtcf_ms, "dqtcf_ms": dqtcf_ms, "pr_ms": pr_ms, "hr_bpm": hr_bpm}
    if qrs_ms is not None:
        if baseline_qrs_ms is None or not baseline_qrs_ms > 0:
            raise ValueError(f"qrs_ms needs the pre-dose baseline_qrs_ms (> 0 ms); got {baseline_qrs_ms}")
        out["qrs_widening"] = np.asarray(qrs_ms, dtype=float) / baseline_qrs_ms - 1.0
    out = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in out.items() if v is not None}
    lengths = {k: v.shape for k, v in out.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"every measure needs the same shape (one value per rollout); got {lengths}")
    return out


def _values(measures: Mapping[str, np.ndarray], criterion: Criterion) -> np.ndarray:
    if criterion.measure not in measures:
        raise KeyError(
            f"criterion {criterion.name!r} needs measure {criterion.measure!r}; "
            f"measures given: {', '.join(measures) or 'none'}"
        )
    return np.asarray(measures[criterion.measure], dtype=float)


def events(measures: Mapping[str, np.ndarray], names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Categorical events per rollout.

    Parameters
    ----------
    measures : ``{measure: (K,) array}`` as from :func:`rollout_measures`.
    names : criteria to evaluate (keys of :data:`CRITERIA`); default: every criterion whose measure is present.

    Returns
    -------
    dict
        ``{criterion name: (K,) bool array}``.

    Raises
    ------
    KeyError
        If a named criterion is unknown or its measure is missing.
    """
    if names is None:
        names = [n for n, c in CRITERIA.items() if c.measure in measures]
    unknown = [n for n in names if n not in CRITERIA]
    if unknown:
        raise KeyError(f"unknown criteria {unknown}; known: {', '.join(CRITERIA)}")
    return {n: CRITERIA[n].event(_values(measures, CRITERIA[n])) for n in names}


def rollout_risk(measures: Mapping[str, np.ndarray], names: Sequence[str] = RISK_CRITERIA,
                 weights: Mapping[str, float] | None = None) -> np.ndarray:
    """Continuous clinical risk of each rollout: Σ_c w_c · softplus(excess of criterion c).

    Criteria of ``names`` whose measure is absent from ``measures`` are skipped
    (a median-beat rollout may carry no PR, say); at least one must be present.

    Parameters
    ----------
    measures : ``{measure: (..., K) array}``.
    names : criteria to sum (default :data:`RISK_CRITERIA`).
    weights : per-criterion weight (default 1 each).

    Returns
    -------
    numpy.ndarray
        (..., K) risk, dimensionless, > 0.

    Raises
    ------
    ValueError
        If none of the criteria's measures is present.
    """
    present = [n for n in names if CRITERIA[n].measure in measures]
    if not present:
        raise ValueError(
            f"none of the criteria {list(names)} can be scored: they need {[CRITERIA[n].measure for n in names]}, "
            f"measures given: {', '.join(measures) or 'none'}"
        )
    weights = weights or {}
    return sum(weights.get(n, 1.0) * CRITERIA[n].excess(_values(measures, CRITERIA[n])) for n in present)


def _samples(risk: np.ndarray) -> np.ndarray:
    risk = np.asarray(risk, dtype=float)
    if risk.ndim == 0 or risk.shape[-1] == 0:
        raise ValueError(f"risk must hold rollouts along its last axis (..., K) with K >= 1; got shape {risk.shape}")
    if not np.all(np.isfinite(risk)):
        raise ValueError("risk holds NaN or infinite values: drop or repair unmeasurable rollouts first")
    return risk


def expected_risk(risk: np.ndarray) -> np.ndarray:
    """E[r] over the rollouts (last axis of a (..., K) array)."""
    return _samples(risk).mean(axis=-1)


def risk_spread(risk: np.ndarray) -> np.ndarray:
    """Std[r] over the rollouts (last axis), the spread of the sampled distribution (ddof = 0: 0 for K = 1)."""
    return _samples(risk).std(axis=-1)


def mean_variance(risk: np.ndarray, kappa: float) -> np.ndarray:
    """Mean-variance score R = E[r] + κ·Std[r] over the rollouts (last axis).

    Parameters
    ----------
    risk : (..., K) per-rollout risk.
    kappa : risk aversion κ ≥ 0 (0 ranks by the expected risk alone).

    Raises
    ------
    ValueError
        If κ is negative or not finite.
    """
    if not (np.isfinite(kappa) and kappa >= 0):
        raise ValueError(f"kappa must be a finite number >= 0; got {kappa}")
    return expected_risk(risk) + kappa * risk_spread(risk)


def cvar(risk: np.ndarray, alpha: float = 0.9) -> np.ndarray:
    """Conditional value at risk CVaR_α: the mean of the worst (1 − α) fraction of the rollouts.

    The empirical-distribution form of Rockafellar and Uryasev (2000),
    min_c {c + E[(r − c)+] / (1 − α)}: the largest ⌊m⌋ samples with weight 1 and
    the next one with weight m − ⌊m⌋, divided by m = (1 − α)·K.

    Parameters
    ----------
    risk : (..., K) per-rollout risk.
    alpha : level in [0, 1): 0 gives E[r]; 0.9 the mean of the worst 10 %.

    Returns
    -------
    numpy.ndarray
        (...,) CVaR, in the risk's unit.

    Raises
    ------
    ValueError
        If ``alpha`` is outside [0, 1).
    """
    if not 0 <= alpha < 1:
        raise ValueError(f"alpha must be in [0, 1); got {alpha}")
    worst_first = -np.sort(-_samples(risk), axis=-1)
    k = worst_first.shape[-1]
    mass = (1 - alpha) * k
    weights = np.clip(mass - np.arange(k), 0.0, 1.0)
    return (worst_first * weights).sum(axis=-1) / mass


def rank_candidates(scores: Sequence[float]) -> np.ndarray:
    """Indices of the candidates from riskiest to safest (ties keep the given order).

    Parameters
    ----------
    scores : (C,) one risk score per candidate (e.g. :func:`mean_variance`).
    """
    return np.argsort(-np.asarray(scores, dtype=float), kind="stable")


@dataclass(frozen=True)
class Probability:
    """An event probability over rollouts with its percentile-bootstrap confidence interval."""

    p: float
    ci_low: float
    ci_high: float
    level: float
    n: int


def event_probability(flags: np.ndarray, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> Probability:
    """Fraction of rollouts with the event and its percentile-bootstrap CI.

    Parameters
    ----------
    flags : (K,) bool, one per rollout.
    n_boot : bootstrap resamples.
    level : confidence level of the interval.
    seed : seed of the resampling.

    Raises
    ------
    ValueError
        If ``flags`` is empty or not one-dimensional, or ``level`` is outside (0, 1).
    """
    flags = np.asarray(flags, dtype=bool)
    if flags.ndim != 1 or flags.size == 0:
        raise ValueError(f"flags must be a non-empty (K,) array; got shape {flags.shape}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level}")
    rng = np.random.default_rng(seed)
    counts = rng.binomial(flags.size, flags.mean(), size=n_boot)  # resampling K flags = Binomial(K, p̂)
    low, high = np.quantile(counts / flags.size, [(1 - level) / 2, (1 + level) / 2])
    return Probability(float(flags.mean()), float(low), float(high), level, int(flags.size))


@dataclass(frozen=True)
class RiskSummary:
    """One candidate's risk over its K rollouts.

    Attributes
    ----------
    expected, spread : E[r] and Std[r] of the continuous risk.
    score : R = E[r] + κ·Std[r].
    cvar : CVaR_α of the risk.
    kappa, alpha : the κ and α used.
    probabilities : ``{criterion name: Probability}`` for every criterion whose measure was present.
    n_rollouts : K.
    """

    expected: float
    spread: float
    score: float
    cvar: float
    kappa: float
    alpha: float
    probabilities: dict[str, Probability]
    n_rollouts: int


def summarise(measures: Mapping[str, np.ndarray], kappa: float = 1.0, alpha: float = 0.9, n_boot: int = 2000,
              seed: int = 0) -> RiskSummary:
    """Score one candidate from the measures of its K rollouts.

    Parameters
    ----------
    measures : ``{measure: (K,) array}`` as from :func:`rollout_measures`.
    kappa : risk aversion of the mean-variance score.
    alpha : CVaR level.
    n_boot, seed : bootstrap of the event probabilities.
    """
    risk = rollout_risk(measures)
    probabilities = {n: event_probability(f, n_boot=n_boot, seed=seed) for n, f in events(measures).items()}
    return RiskSummary(
        expected=float(expected_risk(risk)), spread=float(risk_spread(risk)),
        score=float(mean_variance(risk, kappa)), cvar=float(cvar(risk, alpha)), kappa=kappa, alpha=alpha,
        probabilities=probabilities, n_rollouts=int(risk.shape[-1]),
    )
