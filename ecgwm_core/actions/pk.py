"""One-compartment pharmacokinetics with first-order absorption, fitted to the trial's concentrations.

    C(t) = 1000 · D / (V/F) · ka / (ka − ke) · (exp(−ke (t − tlag)) − exp(−ka (t − tlag))),   t > tlag,

with the dose D in mg, V/F in L, ka > ke in 1/h, tlag in h and C in ng/mL.
The population (typical-subject) parameters are fitted to all subjects'
concentrations at once (``scipy.optimize.least_squares``) with a combined
additive + proportional error model, residual (C_obs − C)/(σ_add + σ_prop·C_obs)
with σ_add = 5 % of the observed mean peak and σ_prop = 15 %. Each subject's
parameters are then maximum-a-posteriori estimates that shrink towards the
population with a log-normal prior of 50 % between-subject spread (an
empirical-Bayes step). The mean of the subjects' predicted curves is what is
compared with the observed mean profile; the typical subject's curve lies
lower, as a typical curve does. A full nonlinear mixed-effects fit (e.g.
FOCE) would estimate the spread from the data; no well-kept Python library
for it is in this project's pinned set, so the spread is fixed and stated.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from ..data.ecgrdvq import DOSE_TO_MG  # re-exported here for Action and the proposer
from ..data.vocabulary import active_drugs
from .exposure_response import match_drug

FIT_COLUMNS = ("RANDID", "EXTRT", "TPT", "EXDOSE", "EXDOSU", "conc_ng_ml")
"""Columns :func:`fit_pk` reads from the clinical table."""
BETWEEN_SUBJECT_SD = 0.5
"""Assumed log-scale spread of the individual parameters around the population ones."""
ADDITIVE_ERROR = 0.05
"""Additive residual error as a fraction of the observed mean peak concentration."""
PROPORTIONAL_ERROR = 0.15
"""Proportional residual error."""
_GRID_H = np.arange(0.0, 24.0001, 0.05)
_NAMES = ("ka_per_h", "ke_per_h", "v_over_f_l", "tlag_h")


def one_compartment(hours: np.ndarray, dose_mg: float, ka: float, ke: float, v_over_f: float,
                    tlag: float = 0.0) -> np.ndarray:
    """Plasma concentration (ng/mL) at ``hours`` after an oral dose (see the module docstring)."""
    t = np.clip(np.asarray(hours, dtype=float) - tlag, 0.0, None)
    if abs(ka - ke) < 1e-9:
        return 1000.0 * dose_mg / v_over_f * ka * t * np.exp(-ke * t)
    return 1000.0 * dose_mg / v_over_f * ka / (ka - ke) * (np.exp(-ke * t) - np.exp(-ka * t))


@dataclass(frozen=True)
class PKFit:
    """PK parameters of one drug.

    Attributes
    ----------
    drug : treatment name.
    dose_mg : the trial's dose in mg.
    population : ``ka_per_h``, ``ke_per_h``, ``v_over_f_l``, ``tlag_h`` of the typical subject.
    subjects : one row per subject with the same four columns (MAP estimates).
    observed : mean observed concentration (ng/mL) per nominal time (h), ``hours`` and ``mean_ng_ml``.
    """

    drug: str
    dose_mg: float
    population: dict[str, float]
    subjects: pd.DataFrame
    observed: pd.DataFrame = field(repr=False)

    def predict(self, hours: np.ndarray, dose_mg: float | None = None) -> np.ndarray:
        """Typical-subject concentration (ng/mL) at ``hours`` after ``dose_mg`` (default: the trial dose).

        Raises
        ------
        ValueError
            If a time or the dose is not a finite number >= 0.
        """
        times = np.asarray(hours, dtype=float)
        if not (np.isfinite(times).all() and (times >= 0).all()):
            raise ValueError(f"hours must be finite numbers >= 0; got {times.tolist()}")
        if dose_mg is not None and not (math.isfinite(dose_mg) and dose_mg >= 0):
            raise ValueError(f"dose_mg must be a finite number >= 0; got {dose_mg}")
        p = self.population
        return one_compartment(hours, self.dose_mg if dose_mg is None else dose_mg,
                               p["ka_per_h"], p["ke_per_h"], p["v_over_f_l"], p["tlag_h"])

    def mean_profile(self, hours: np.ndarray) -> np.ndarray:
        """Mean over subjects of their predicted concentrations (ng/mL) at ``hours`` after the trial dose."""
        return np.mean([one_compartment(hours, self.dose_mg, *row) for row in self.subjects[list(_NAMES)].to_numpy()],
                       axis=0)

    @property
    def half_life_h(self) -> float:
        """Elimination half-life ln 2 / ke of the typical subject in h."""
        return math.log(2) / self.population["ke_per_h"]

    def summary(self) -> dict:
        """Population parameters, half-life (h), and Cmax (ng/mL) and tmax (h) of the fitted mean
        profile (0-24 h, 3-min grid) next to the observed mean profile's."""
        obs = self.observed.loc[self.observed["mean_ng_ml"].idxmax()]
        profile = self.mean_profile(_GRID_H)
        return {
            "drug": self.drug,
            **{k: round(v, 4) for k, v in self.population.items()},
            "half_life_h": round(self.half_life_h, 2),
            "cmax_fit_ng_ml": round(float(profile.max()), 3),
            "cmax_observed_ng_ml": round(float(obs["mean_ng_ml"]), 3),
            "tmax_fit_h": round(float(_GRID_H[profile.argmax()]), 2),
            "tmax_observed_h": float(obs["hours"]),
        }


def _unpack(x: np.ndarray) -> tuple[float, float, float, float]:
    """Log-parameters to (ka, ke, V/F, tlag) with ka = ke + exp(x0) > ke."""
    ke = math.exp(x[1])
    return ke + math.exp(x[0]), ke, math.exp(x[2]), math.exp(x[3])


def _residuals(x, hours, conc, dose_mg, peak, prior=None) -> np.ndarray:
    """Combined-error residuals, plus the log-normal prior's terms for a subject's MAP fit."""
    pred = one_compartment(hours, dose_mg, *_unpack(x))
    res = (conc - pred) / (ADDITIVE_ERROR * peak + PROPORTIONAL_ERROR * conc)
    if prior is not None:
        res = np.concatenate([res, (x - prior) / BETWEEN_SUBJECT_SD])
    return res


def fit_pk(kept: pd.DataFrame, drug: str) -> PKFit:
    """Fit the one-compartment model to one drug's measured concentrations.

    Parameters
    ----------
    kept : usable rows of the clinical table (``ClinicalTable.kept``) with ``conc_ng_ml``.
    drug : treatment, e.g. ``"Dofetilide"``.

    Returns
    -------
    PKFit

    Raises
    ------
    TypeError
        If ``kept`` is not a pandas DataFrame.
    ValueError
        If a column of :data:`FIT_COLUMNS` is missing, the drug matches no active
        treatment, or has fewer than 10 positive concentrations.
    """
    if not isinstance(kept, pd.DataFrame):
        raise TypeError(f"kept must be a pandas DataFrame (ClinicalTable.kept); got {type(kept).__name__}")
    missing = [c for c in FIT_COLUMNS if c not in kept.columns]
    if missing:
        raise ValueError(f"kept lacks column(s) {', '.join(missing)}; pass load_clinical_table(...).kept")
    drug = match_drug(drug, active_drugs(kept["EXTRT"]))
    rows = kept[(kept["EXTRT"] == drug) & (kept["TPT"] > 0) & (kept["conc_ng_ml"] > 0)]
    points = rows.groupby(["RANDID", "TPT"], as_index=False).agg(
        conc=("conc_ng_ml", "mean"), dose=("EXDOSE", "first"), unit=("EXDOSU", "first"))
    if len(points) < 10:
        raise ValueError(f"{drug}: only {len(points)} positive concentrations; need at least 10")
    units = set(points["unit"])
    if not units <= set(DOSE_TO_MG):
        raise ValueError(f"{drug}: dose unit(s) {units - set(DOSE_TO_MG)} unknown; known: {', '.join(DOSE_TO_MG)}")
    dose_mg = float(points["dose"].iloc[0] * DOSE_TO_MG[points["unit"].iloc[0]])
    hours, conc = points["TPT"].to_numpy(float), points["conc"].to_numpy(float)
    peak = float(points.groupby("TPT")["conc"].mean().max())
    start = np.log([1.0, 0.1, 1000.0 * dose_mg / conc.max() / 2, 0.2])
    population = least_squares(_residuals, start, args=(hours, conc, dose_mg, peak), method="lm").x
    subjects = []
    for subject, own in points.groupby("RANDID"):
        x = least_squares(_residuals, population, method="lm",
                          args=(own["TPT"].to_numpy(float), own["conc"].to_numpy(float), dose_mg, peak, population)).x
        subjects.append({"RANDID": subject, **dict(zip(_NAMES, _unpack(x)))})
    observed = (kept[(kept["EXTRT"] == drug) & (kept["TPT"] > 0)].groupby(["RANDID", "TPT"])["conc_ng_ml"].mean()
                .fillna(0.0).groupby("TPT").mean().rename("mean_ng_ml").rename_axis("hours").reset_index())
    return PKFit(drug, dose_mg, dict(zip(_NAMES, _unpack(population))), pd.DataFrame(subjects), observed)
