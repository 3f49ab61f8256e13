"""Prediction protocols on SCR-002 tables: what a predictor may see, what it must predict, and how it is scored.

**Pre-dose protocol** (the default): for every subject × treatment × post-dose
time point, a predictor sees only that subject's rows with ``TPT ≤ 0`` (its
pre-dose ECG measurements), the treatment, the dose and the time.
**Observed-until protocol** (``observed_until = H``): it also sees the rows with
``TPT ≤ H`` (all measurement columns) and predicts ``TPT > H`` only.
Concentrations (``PCSTRESN``, ``conc_ng_ml``) are visible only with
``use_concentration``, in the context and at the predicted time points.
Measurement columns of predicted time points are never passed on, so a
predictor cannot peek at them.

The target is ΔQTcF (ms): the triplicate mean QTcF at a time point minus the
same subject and period's −0.5 h triplicate mean (:func:`ecgwm_core.data.trial.subject_changes`).
Scores: MAE of the predictive mean, 90 % interval coverage, CRPS and accuracy
on the ICH E14 categories of ΔQTcF (< 10, 10-30, 30-60, > 60 ms; ICH E14
Q&A, 2005), per leave-subjects-out fold and as mean ± sd over folds.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from ..data.pairs import subject_folds
from ..data.trial import BASELINE_HOURS, subject_changes
from .calibration import central_interval, coverage, crps

KEY = ["RANDID", "EXTRT", "TPT"]
"""Columns identifying one prediction: subject, treatment, hours after dose."""

CONCENTRATION_COLUMNS = ("PCSTRESN", "conc_ng_ml")
"""Columns hidden from predictors unless concentrations are allowed."""

ICH_EDGES_MS = (10.0, 30.0, 60.0)
"""Upper edges of the ICH E14 categorical ΔQTcF bins (ms); the last bin is open."""
ICH_LABELS = ("<10", "10-30", "30-60", ">60")


class MissingBaselineError(ValueError):
    """A subject × treatment has no usable pre-dose (−0.5 h) row, so ΔQTcF is undefined."""


@dataclass(frozen=True)
class PredictionTask:
    """What a predictor may see and what it must predict.

    Attributes
    ----------
    context : usable rows the predictor may use (``TPT ≤ 0``, or ``≤ observed_until``);
        concentrations are NaN unless ``use_concentration``.
    queries : one row per subject × treatment × time point to predict, sorted: ``RANDID``,
        ``EXTRT``, ``TPT`` (h), ``EXDOSE``, ``EXDOSU`` and ``conc_ng_ml`` (NaN unless ``use_concentration``).
    observed_until : hours up to which post-dose rows are visible (``None``: pre-dose only).
    use_concentration : whether concentrations are visible.
    """

    context: pd.DataFrame
    queries: pd.DataFrame
    observed_until: float | None
    use_concentration: bool


def prediction_task(kept: pd.DataFrame, unusable: pd.DataFrame | None = None, use_concentration: bool = False,
                    observed_until: float | None = None) -> PredictionTask:
    """Split an SCR-002 table into a predictor's context and its queries.

    Parameters
    ----------
    kept : usable rows (``ClinicalTable.kept``).
    unusable : rows that cannot be measured (``ClinicalTable.rejected``), e.g. post-dose rows with
        empty measurement columns; their time points are predicted too.
    use_concentration : let the predictor see concentrations.
    observed_until : hours H ≥ 0: rows with ``TPT ≤ H`` are context and only ``TPT > H`` is predicted.

    Returns
    -------
    PredictionTask

    Raises
    ------
    MissingBaselineError
        If a subject × treatment has no usable −0.5 h row; the message names every such pair.
    ValueError
        If ``observed_until`` is negative or not finite.
    """
    if observed_until is not None and not (np.isfinite(observed_until) and observed_until >= 0):
        raise ValueError(f"observed_until must be a finite number of hours >= 0; got {observed_until}")
    cutoff = 0.0 if observed_until is None else float(observed_until)
    rows = pd.concat([kept, unusable], ignore_index=True) if unusable is not None and len(unusable) else kept
    context = kept[kept["TPT"] <= cutoff].copy()
    if not use_concentration:
        context.loc[:, [c for c in CONCENTRATION_COLUMNS if c in context]] = np.nan
    has_baseline = set(map(tuple, context.loc[context["TPT"] == BASELINE_HOURS, ["RANDID", "EXTRT"]].to_numpy()))
    pairs = rows[["RANDID", "EXTRT"]].drop_duplicates().sort_values(["RANDID", "EXTRT"])
    missing = [f"RANDID {r} × {t}" for r, t in pairs.to_numpy() if (r, t) not in has_baseline]
    if missing:
        raise MissingBaselineError(
            f"no usable baseline row (TPT = {BASELINE_HOURS:g} h with all measurements) for {', '.join(missing)}; "
            "ΔQTcF is measured from that period's pre-dose triplicate")
    later = rows[rows["TPT"] > cutoff]
    queries = later.groupby(KEY, as_index=False).agg(
        EXDOSE=("EXDOSE", "first"), EXDOSU=("EXDOSU", "first"), conc_ng_ml=("conc_ng_ml", "mean"))
    if not use_concentration:
        queries["conc_ng_ml"] = np.nan
    return PredictionTask(context.reset_index(drop=True), queries.sort_values(KEY).reset_index(drop=True),
                          observed_until, use_concentration)


def observed_dqtcf(kept: pd.DataFrame) -> pd.DataFrame:
    """Observed ΔQTcF (ms) per subject × treatment × time point: ``RANDID``, ``EXTRT``, ``TPT``, ``dqtcf``."""
    changes = subject_changes(kept, "QTcF")
    return changes[KEY + ["change"]].rename(columns={"change": "dqtcf"})


class Predictor(Protocol):
    """A ΔQTcF forecaster: fitted on training rows, then sampled for a task's queries."""

    name: str

    def fit(self, kept: pd.DataFrame) -> "Predictor":
        """Fit on usable rows of the training subjects; returns self."""

    def sample(self, task: PredictionTask, n_samples: int, seed: int) -> np.ndarray:
        """(len(task.queries), n_samples) ΔQTcF samples in ms."""


def summarise_samples(task: PredictionTask, samples: np.ndarray) -> pd.DataFrame:
    """The ``predict-qtc`` table: ``RANDID, EXTRT, TPT, dqtcf_mean, dqtcf_q05, dqtcf_q95`` (ms)."""
    low, high = central_interval(samples, 0.9)
    out = task.queries[KEY].copy()
    out["dqtcf_mean"], out["dqtcf_q05"], out["dqtcf_q95"] = samples.mean(1), low, high
    return out


def ich_category(dqtcf_ms: np.ndarray) -> np.ndarray:
    """Index into :data:`ICH_LABELS` of each ΔQTcF (ms): < 10, 10 to 30, > 30 to 60, > 60.

    The upper thresholds are ICH E14's "> 30 ms" and "> 60 ms" (so 30 and 60 fall in the lower bin);
    10 ms, the threshold of regulatory concern, opens the second bin.
    """
    x = np.asarray(dqtcf_ms, dtype=float)
    low, mid, high = ICH_EDGES_MS
    return np.select([x < low, x <= mid, x <= high], [0, 1, 2], default=3)


def score(samples: np.ndarray, observed: np.ndarray) -> dict[str, float]:
    """MAE of the mean (ms), 90 % coverage, mean CRPS (ms) and ICH-category accuracy over finite observations."""
    ok = np.isfinite(observed)
    if not ok.any():
        raise ValueError("no observed ΔQTcF to score against")
    samples, observed = samples[ok], observed[ok]
    mean = samples.mean(1)
    return {"mae_ms": float(np.abs(mean - observed).mean()), "coverage90": coverage(samples, observed, 0.9),
            "crps_ms": float(crps(samples, observed).mean()),
            "ich_accuracy": float((ich_category(mean) == ich_category(observed)).mean()), "n": int(ok.sum())}


def leave_subjects_out(kept: pd.DataFrame, methods: dict[str, Callable[[], Predictor]], k: int = 4,
                       n_folds: int | None = None, n_samples: int = 200, seed: int = 0,
                       use_concentration: bool = False, observed_until: float | None = None) -> pd.DataFrame:
    """Score each method on subjects it was not fitted on.

    Parameters
    ----------
    kept : usable rows of the whole table.
    methods : name -> factory of an unfitted :class:`Predictor`.
    k : number of folds (:func:`ecgwm_core.data.pairs.subject_folds`, seeded by ``seed``).
    n_folds : run only the first ``n_folds`` folds (quick mode); ``None`` runs all ``k``.
    n_samples : predictive samples per query.
    use_concentration, observed_until : the protocol (see :func:`prediction_task`).

    Returns
    -------
    pandas.DataFrame
        One row per method × fold: ``method``, ``fold``, ``test_subjects`` and the keys of :func:`score`.
    """
    folds = subject_folds(kept, k=k, seed=seed)[:n_folds]
    truth = observed_dqtcf(kept)
    rows = []
    for fold, (train, test) in enumerate(folds):
        test_rows = kept[kept["RANDID"].isin(test)]
        task = prediction_task(test_rows, use_concentration=use_concentration, observed_until=observed_until)
        observed = task.queries[KEY].merge(truth, on=KEY, how="left")["dqtcf"].to_numpy(float)
        for name, make in methods.items():
            predictor = make().fit(kept[kept["RANDID"].isin(train)])
            samples = predictor.sample(task, n_samples, seed + fold)
            rows.append({"method": name, "fold": fold, "test_subjects": " ".join(map(str, test)),
                         **score(samples, observed)})
    return pd.DataFrame(rows)


def summarise_folds(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean and sd over folds of each score, per method (columns ``<score>_mean``, ``<score>_sd``)."""
    metrics = ["mae_ms", "coverage90", "crps_ms", "ich_accuracy"]
    grouped = scores.groupby("method", sort=False)[metrics]
    out = grouped.mean().add_suffix("_mean").join(grouped.std(ddof=1).add_suffix("_sd"))
    return out[[f"{m}_{s}" for m in metrics for s in ("mean", "sd")]].reset_index()
