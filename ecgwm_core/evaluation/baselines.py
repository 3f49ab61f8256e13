"""Baseline ΔQTcF forecasters that need no world model, all behind one interface.

Each is fitted on the training subjects' usable rows and returns, for every
query of a :class:`~ecgwm_core.evaluation.protocols.PredictionTask`, seeded
samples of ΔQTcF (ms) from a Student-t predictive distribution
m + s·√(1 + 1/n)·t_{n−1}: the location m is the method's point prediction, s
and n the sd and count of the training values it was estimated from, so the
interval accounts for between-subject spread and for estimating m. The draws
come in antithetic pairs (:func:`antithetic_t`), so the mean of an even number
of samples is m itself: the MAE of the sample mean scores the forecast, not
the noise of K draws.

- :class:`CopyForward`: post = pre, i.e. ΔQTcF = 0, with the spread of all
  training ΔQTcF.
- :class:`PopulationMean`: the training subjects' mean ΔQTcF at the same
  drug × time point (nearest time point when the time is new).
- :class:`LinearCQTc`: the placebo population curve plus slope × concentration
  (slope from :func:`ecgwm_core.actions.concentration_slope`, the pre-specified
  mixed model); the concentration is the measured one with
  ``use_concentration``, else the training mean at that drug × time point.
- :class:`OffsetPopulation`: the population mean plus β × the period's
  baseline offset (its pre-dose QTcF minus the subject's mean pre-dose QTcF over
  its periods; regression to the mean, :mod:`ecgwm_core.worldmodel.deviation`),
  β fitted on the training subjects: what the world model's offset term is
  worth without any ECG model.
- :class:`PreDoseFeatures`: population + baseline offset, plus a ridge
  regression, per drug, of the training subjects' mean residual on their
  standardised pre-dose ECG measurements (:data:`PRE_DOSE_FEATURES`): whether
  anything measured on the pre-dose ECG predicts how strongly a subject
  responds (:mod:`ecgwm_core.evaluation.predictability`).
- :class:`ShiftedPopulation`: for the observed-until protocol, the population
  curve shifted by ``shrinkage`` (½) × the subject's mean offset from it over
  the time points it has observed after the dose.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..actions import concentration_slope
from ..data.trial import BASELINE_HOURS
from ..worldmodel.deviation import baseline_offsets, offset_gain, offset_residuals, offsets_of
from .protocols import KEY, PredictionTask, observed_dqtcf


PRE_DOSE_FEATURES = ("RR", "PR", "QRS", "QTcF", "JTPEAK", "TPEAKTEND", "Twave_amplitude")
"""Pre-dose measurements :class:`PreDoseFeatures` regresses on (intervals in ms, T amplitude in µV)."""


def antithetic_t(rng: np.random.Generator, df: float | np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(Q, K) Student-t draws in antithetic pairs: column ⌈K/2⌉ + j is minus column j.

    Every draw is t with ``df`` degrees of freedom (a scalar, or (Q, 1) per row), and each row of an
    even K sums to exactly 0, so a predictive sample's mean is its location. Independent draws
    would leave noise of sd ≈ scale/√K in that mean, which adds to the MAE of the sample mean:
    measured on the 4 leave-subjects-out folds at K = 32, 0.2 ms for population + baseline offset
    and 0.1 ms for the world model.
    """
    q, k = shape
    half = rng.standard_t(df, size=(q, (k + 1) // 2))
    return np.concatenate([half, -half], axis=1)[:, :k]


def _student_t(location: np.ndarray, sd: np.ndarray, n: np.ndarray, n_samples: int, seed: int) -> np.ndarray:
    """(Q, K) samples of location + sd·√(1 + 1/n)·t_{n−1} (antithetic: :func:`antithetic_t`)."""
    if n_samples < 2:
        raise ValueError(f"n_samples must be at least 2; got {n_samples}")
    n = np.maximum(np.asarray(n, dtype=float), 2.0)
    t = antithetic_t(np.random.default_rng(seed), n[:, None] - 1, (len(n), n_samples))
    return location[:, None] + (sd * np.sqrt(1 + 1 / n))[:, None] * t


def _post_dose_changes(kept: pd.DataFrame) -> pd.DataFrame:
    changes = observed_dqtcf(kept)
    return changes[changes["TPT"] > 0]


def _nearest(table: pd.DataFrame, queries: pd.DataFrame) -> pd.DataFrame:
    """For each query, the row of ``table`` (indexed by EXTRT, TPT) of the same drug at the nearest time."""
    out = []
    for drug, tpt in queries[["EXTRT", "TPT"]].to_numpy():
        if drug not in table.index.get_level_values(0):
            known = ", ".join(sorted(set(table.index.get_level_values(0))))
            raise ValueError(f"treatment {drug!r} was not in the training data; known: {known}")
        times = table.loc[drug].index.to_numpy(float)
        out.append(table.loc[(drug, times[np.argmin(np.abs(times - tpt))])])
    return pd.DataFrame(out).reset_index(drop=True)


class PopulationMean:
    """Mean ΔQTcF of the training subjects at the same drug × time point."""

    name = "population mean"

    def fit(self, kept: pd.DataFrame) -> "PopulationMean":
        """Per (EXTRT, TPT): mean, sd and number of training subjects' ΔQTcF."""
        self.table_ = _post_dose_changes(kept).groupby(["EXTRT", "TPT"])["dqtcf"].agg(["mean", "std", "count"])
        return self

    def location(self, task: PredictionTask) -> pd.DataFrame:
        """Columns ``mean``, ``std``, ``count`` for each query (point prediction and its spread)."""
        return _nearest(self.table_, task.queries)

    def sample(self, task: PredictionTask, n_samples: int, seed: int) -> np.ndarray:
        """(queries, n_samples) ΔQTcF samples in ms."""
        loc = self.location(task)
        return _student_t(loc["mean"].to_numpy(), loc["std"].to_numpy(), loc["count"].to_numpy(), n_samples, seed)


class OffsetPopulation:
    """Population mean + β × the period's baseline offset (regression to the mean)."""

    name = "population + baseline offset"

    def __init__(self) -> None:
        self.population = PopulationMean()

    def fit(self, kept: pd.DataFrame) -> "OffsetPopulation":
        """Fit the population curve and the pooled slope β of its residuals on the baseline offset."""
        self.population.fit(kept)
        changes = _post_dose_changes(kept).rename(columns={"dqtcf": "change"})
        self.gain_ = offset_gain(offset_residuals(changes, baseline_offsets(kept)))
        return self

    def point(self, task: PredictionTask) -> np.ndarray:
        """(queries,) point forecasts (ms): the population mean plus β × the period's baseline offset."""
        offset = offsets_of(task.queries, baseline_offsets(task.context))
        return self.population.location(task)["mean"].to_numpy() + self.gain_ * offset

    def sample(self, task: PredictionTask, n_samples: int, seed: int) -> np.ndarray:
        """(queries, n_samples) ΔQTcF samples in ms."""
        loc = self.population.location(task)
        return _student_t(self.point(task), loc["std"].to_numpy(), loc["count"].to_numpy(), n_samples, seed)


def subject_features(kept: pd.DataFrame, features: tuple[str, ...]) -> pd.DataFrame:
    """Per ``RANDID``: the mean of each of ``features`` over the subject's pre-dose rows of all periods."""
    missing = sorted(set(features) - set(kept.columns))
    if missing:
        raise ValueError(f"the table has no column(s) {', '.join(missing)}; choose features among its columns")
    return kept[kept["TPT"] == BASELINE_HOURS].groupby("RANDID")[list(features)].mean()


class PreDoseFeatures(OffsetPopulation):
    """Population + baseline offset + a per-drug ridge regression on the subject's pre-dose measurements.

    Parameters
    ----------
    features : columns of the table averaged over the subject's pre-dose rows (all periods, as the
        baseline offset uses them), then standardised by the training subjects' mean and sd.
    ridge : ridge penalty λ > 0 on the standardised slopes (in units of subjects: with m training
        subjects, λ = m − 1 halves a slope whose feature is uncorrelated with the others).

    The model is one shift per subject and drug, the same at every hour: a response that scales
    with the drug's time course is fitted by its average over the day.
    """

    name = "population + offset + pre-dose ECG"

    def __init__(self, features: tuple[str, ...] = PRE_DOSE_FEATURES, ridge: float = 10.0) -> None:
        if isinstance(features, str) or not features:
            raise ValueError(f"features must be a non-empty tuple of column names, e.g. ('RR',); got {features!r}")
        if not (np.isfinite(ridge) and ridge > 0):
            raise ValueError(f"ridge must be a finite number > 0 (it keeps constant or collinear features "
                             f"solvable); got {ridge}")
        super().__init__()
        self.features, self.ridge = tuple(features), float(ridge)

    def fit(self, kept: pd.DataFrame) -> "PreDoseFeatures":
        """Fit population + offset, then per drug the slopes of each subject's mean residual on its features."""
        super().fit(kept)
        rows = offset_residuals(_post_dose_changes(kept).rename(columns={"dqtcf": "change"}), baseline_offsets(kept))
        rows["u"] = rows["residual"] - self.gain_ * rows["offset_ms"]  # what population + offset misses
        per_subject = rows.groupby(["EXTRT", "RANDID"])["u"].mean()
        feats = subject_features(kept, self.features)
        self.mean_, self.sd_ = feats.mean(), feats.std(ddof=1).replace(0.0, 1.0).fillna(1.0)
        self.slopes_ = {}
        for drug, y in per_subject.groupby(level="EXTRT"):
            x = self._standardised(feats.reindex(y.index.get_level_values("RANDID")))
            y = y.to_numpy() - y.mean()
            self.slopes_[drug] = np.linalg.solve(x.T @ x + self.ridge * np.eye(len(self.features)), x.T @ y)
        return self

    def _standardised(self, feats: pd.DataFrame) -> np.ndarray:
        """(n, features) standardised values, 0 (the training mean) where a value is missing."""
        return ((feats - self.mean_) / self.sd_).fillna(0.0).to_numpy(float)

    def point(self, task: PredictionTask) -> np.ndarray:
        """(queries,) point forecasts (ms): population + offset + the drug's slopes · standardised features."""
        q = task.queries
        x = self._standardised(subject_features(task.context, self.features).reindex(q["RANDID"]))
        slopes = np.stack([self.slopes_.get(d, np.zeros(len(self.features))) for d in q["EXTRT"]])
        return super().point(task) + (x * slopes).sum(1)


class CopyForward:
    """Post-dose ECG = pre-dose ECG: ΔQTcF = 0, spread of all training ΔQTcF."""

    name = "copy-forward"

    def fit(self, kept: pd.DataFrame) -> "CopyForward":
        """Spread (about zero) of all post-dose training ΔQTcF."""
        d = _post_dose_changes(kept)["dqtcf"].to_numpy()
        self.sd_, self.n_ = float(np.sqrt(np.mean(d**2))), d.size
        return self

    def sample(self, task: PredictionTask, n_samples: int, seed: int) -> np.ndarray:
        """(queries, n_samples) ΔQTcF samples in ms."""
        q = len(task.queries)
        return _student_t(np.zeros(q), np.full(q, self.sd_), np.full(q, self.n_), n_samples, seed)


class LinearCQTc:
    """Placebo ΔQTcF curve + concentration-QTc slope × concentration (per drug)."""

    name = "linear C-QTc"

    def fit(self, kept: pd.DataFrame) -> "LinearCQTc":
        """Slopes per active drug, the placebo curve, mean concentrations and residual spreads."""
        changes = _post_dose_changes(kept).merge(
            kept.groupby(KEY, as_index=False)["conc_ng_ml"].mean(), on=KEY, how="left")
        drugs = sorted(set(changes["EXTRT"]) - {"Placebo"})
        self.slopes_ = {"Placebo": 0.0, **{d: concentration_slope(kept, d).slope for d in drugs}}
        self.placebo_ = changes[changes["EXTRT"] == "Placebo"].groupby("TPT")["dqtcf"].mean()
        self.conc_ = changes.groupby(["EXTRT", "TPT"])["conc_ng_ml"].mean().fillna(0.0).to_frame("conc")
        self.conc_.loc[self.conc_.index.get_level_values(0) == "Placebo", "conc"] = 0.0
        conc = changes["conc_ng_ml"].where(changes["EXTRT"] != "Placebo", 0.0)
        changes["residual"] = changes["dqtcf"] - self._predict(changes["EXTRT"], changes["TPT"], conc)
        self.spread_ = changes.groupby("EXTRT")["residual"].agg(["std", "count"])
        return self

    def _predict(self, drug: pd.Series, tpt: pd.Series, conc: pd.Series) -> np.ndarray:
        times = self.placebo_.index.to_numpy(float)
        nearest = times[np.abs(tpt.to_numpy(float)[:, None] - times).argmin(1)]
        slope = drug.map(self.slopes_).to_numpy(float)
        return self.placebo_.loc[nearest].to_numpy() + slope * conc.to_numpy(float)

    def sample(self, task: PredictionTask, n_samples: int, seed: int) -> np.ndarray:
        """(queries, n_samples) ΔQTcF samples in ms."""
        q = task.queries
        unknown = sorted(set(q["EXTRT"]) - set(self.slopes_))
        if unknown:
            raise ValueError(f"treatment(s) {', '.join(unknown)} not in the training data; "
                             f"known: {', '.join(self.slopes_)}")
        conc = q["conc_ng_ml"].fillna(_nearest(self.conc_, q)["conc"].set_axis(q.index))
        conc = conc.where(q["EXTRT"] != "Placebo", 0.0)
        spread = self.spread_.loc[q["EXTRT"]]
        return _student_t(self._predict(q["EXTRT"], q["TPT"], conc), spread["std"].to_numpy(),
                          spread["count"].to_numpy(), n_samples, seed)


class ShiftedPopulation:
    """Population curve + ``shrinkage`` × the subject's mean offset from it at its observed post-dose time points."""

    name = "shifted population"

    def __init__(self, shrinkage: float = 0.5) -> None:
        if not 0 <= shrinkage <= 1:
            raise ValueError(f"shrinkage must be in [0, 1]; got {shrinkage}")
        self.shrinkage = shrinkage
        self.population = PopulationMean()

    def fit(self, kept: pd.DataFrame) -> "ShiftedPopulation":
        """Fit the population curve."""
        self.population.fit(kept)
        return self

    def offsets(self, task: PredictionTask) -> pd.Series:
        """Per (RANDID, EXTRT): mean observed − population ΔQTcF over the context's post-dose points (0 if none)."""
        seen = _post_dose_changes(task.context)
        if seen.empty:
            return pd.Series(dtype=float)
        seen = seen.assign(pop=_nearest(self.population.table_, seen)["mean"].to_numpy())
        return (seen["dqtcf"] - seen["pop"]).groupby([seen["RANDID"], seen["EXTRT"]]).mean()

    def sample(self, task: PredictionTask, n_samples: int, seed: int) -> np.ndarray:
        """(queries, n_samples) ΔQTcF samples in ms."""
        loc = self.population.location(task)
        keys = pd.MultiIndex.from_frame(task.queries[["RANDID", "EXTRT"]])
        offset = self.offsets(task).reindex(keys).fillna(0.0).to_numpy()
        return _student_t(loc["mean"].to_numpy() + self.shrinkage * offset, loc["std"].to_numpy(),
                          loc["count"].to_numpy(), n_samples, seed)
