"""Concentration-QTc (exposure-response) slopes with the pre-specified linear mixed-effects model.

The model of the FDA/IQ-CSRC concentration-QTc white paper (Garnett et al.,
J Pharmacokinet Pharmacodyn 2018;45:383-397), fitted per drug on its own
periods and the placebo periods:

    ΔQTcF_ijk = (θ0 + η0,i) + θ1·active + (θ2 + η2,i)·C_ijk + θ3,k(time) + θ4·(QTcF_base,ij − mean) + ε,

with Δ the change from the period's pre-dose baseline, C the plasma
concentration (0 on placebo), time a categorical fixed effect, and random
intercept and concentration slope per subject. The slope θ2 (ms per ng/mL)
and its Wald 95 % CI are reported. Fitted with statsmodels' ``MixedLM`` (REML).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.trial import subject_changes
from ..data.vocabulary import PLACEBO, active_drugs

PUBLISHED_SLOPES = {
    "Dofetilide": (26.7, 23.5, 29.9),
}
"""Published concentration-ΔQTcF slopes (ms per ng/mL, 95 % CI) from this study's data,
pre-specified linear mixed-effects model: Garnett C, et al. Scientific white paper on
concentration-QTc modeling. J Pharmacokinet Pharmacodyn 2018;45:383-397."""


def match_drug(name: str, drugs: list[str]) -> str:
    """The trial treatment ``name`` refers to, case-insensitively by prefix ("verapamil" -> "Verapamil HCL").

    Raises ``ValueError`` listing ``drugs`` when none or several match.
    """
    hits = [d for d in drugs if d.lower().startswith(name.strip().lower())] if name.strip() else []
    if len(hits) != 1:
        raise ValueError(f"unknown drug {name!r}; known: {', '.join(drugs)}")
    return hits[0]


@dataclass(frozen=True)
class SlopeResult:
    """A fitted concentration-effect slope.

    Attributes
    ----------
    drug : treatment name as in ``EXTRT``.
    measure : the ECG measure (e.g. ``"QTcF"``).
    slope : change of Δmeasure per ng/mL (ms per ng/mL for intervals).
    ci_low, ci_high : Wald 95 % confidence interval of the slope.
    n_subjects : subjects with concentrations on the drug (all subjects' placebo periods are used too).
    n_observations : subject-time points used.
    converged : whether the REML optimiser reported convergence.
    """

    drug: str
    measure: str
    slope: float
    ci_low: float
    ci_high: float
    n_subjects: int
    n_observations: int
    converged: bool


def concentration_slope(kept: pd.DataFrame, drug: str, measure: str = "QTcF") -> SlopeResult:
    """Fit the pre-specified C-QTc mixed model for one drug against placebo.

    Parameters
    ----------
    kept : usable rows of the clinical table (``ClinicalTable.kept``), with ``conc_ng_ml``.
    drug : treatment, e.g. ``"Dofetilide"``.
    measure : column whose change from baseline is modelled (default ``"QTcF"``).

    Returns
    -------
    SlopeResult

    Raises
    ------
    ValueError
        If ``drug`` matches no active treatment of the table (see :func:`match_drug`).
    """
    import statsmodels.formula.api as smf  # imported here: slow to import

    drug = match_drug(drug, active_drugs(kept["EXTRT"]))
    changes = subject_changes(kept, measure)
    data = changes[(changes["TPT"] > 0) & changes["EXTRT"].isin([drug, PLACEBO])].copy()
    data["active"] = (data["EXTRT"] == drug).astype(float)
    data.loc[data["EXTRT"] == PLACEBO, "conc_ng_ml"] = 0.0
    data = data.dropna(subset=["conc_ng_ml"])
    data["baseline_c"] = data["baseline"] - data["baseline"].mean()
    data["time"] = data["TPT"].map(lambda h: f"{h:g}h")
    # concentrations span pg/mL to µg/mL across drugs; fitting on a unit near 1 helps REML converge
    scale = 10.0 ** round(math.log10(data["conc_ng_ml"].max()))
    data["conc"] = data["conc_ng_ml"] / scale
    model = smf.mixedlm("change ~ C(time) + active + baseline_c + conc", data, groups=data["RANDID"],
                        re_formula="~conc")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels warns on boundary variance estimates
        fit = model.fit(reml=True)
    low, high = fit.conf_int().loc["conc"]
    return SlopeResult(
        drug=drug,
        measure=measure,
        slope=float(fit.params["conc"]) / scale,
        ci_low=float(low) / scale,
        ci_high=float(high) / scale,
        n_subjects=int(data.loc[data["active"] == 1, "RANDID"].nunique()),
        n_observations=int(len(data)),
        converged=bool(fit.converged),
    )


def paired_ddelta(kept: pd.DataFrame, drug: str, measure: str = "QTcF") -> pd.DataFrame:
    """Per subject and time point: concentration and ΔΔ = Δ on drug − Δ on placebo (same subject, same time).

    Returns columns ``RANDID``, ``TPT``, ``conc_ng_ml`` and ``ddelta`` (in the unit of ``measure``).
    """
    changes = subject_changes(kept, measure)
    changes = changes[changes["TPT"] > 0]
    active = changes[changes["EXTRT"] == drug].set_index(["RANDID", "TPT"])
    placebo = changes[changes["EXTRT"] == PLACEBO].set_index(["RANDID", "TPT"])["change"]
    out = active.join(placebo.rename("placebo_change"), how="inner")
    out["ddelta"] = out["change"] - out["placebo_change"]
    return out.reset_index()[["RANDID", "TPT", "conc_ng_ml", "ddelta"]].dropna()


def _aic(residuals: np.ndarray, n_params: int) -> float:
    n = residuals.size
    return float(n * np.log((residuals**2).sum() / n) + 2 * n_params)


def compare_linear_emax(kept: pd.DataFrame, drug: str, measure: str) -> dict:
    """Linear against Emax exposure-response on the paired ΔΔ points, chosen by AIC.

    Both are fixed-effect least-squares fits of ΔΔ(C): linear E0 + s·C and
    Emax E0 + Emax·C/(EC50 + C) (``scipy.optimize.curve_fit``). The criterion,
    stated once: Emax is chosen when its AIC is lower than the linear one's by
    more than 2; otherwise the simpler linear model stays.

    Returns
    -------
    dict
        ``aic_linear``, ``aic_emax`` (NaN if the Emax fit fails), ``chosen``
        (``"linear"`` or ``"Emax"``), ``emax`` and ``ec50_ng_ml`` (NaN unless fitted).
    """
    from scipy.optimize import curve_fit

    points = paired_ddelta(kept, match_drug(drug, active_drugs(kept["EXTRT"])), measure)
    c, y = points["conc_ng_ml"].to_numpy(float), points["ddelta"].to_numpy(float)
    design = np.column_stack([np.ones_like(c), c])
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    aic_linear = _aic(y - design @ coef, 2)

    def emax_model(conc, e0, emax, ec50):
        return e0 + emax * conc / (ec50 + conc)

    try:
        (e0, emax, ec50), _ = curve_fit(
            emax_model, c, y, p0=[coef[0], 2 * coef[1] * c.max(), c.max()], maxfev=5000,
            bounds=([-np.inf, -np.inf, 1e-3 * c.max()], [np.inf, np.inf, 100 * c.max()]))
        aic_emax = _aic(y - emax_model(c, e0, emax, ec50), 3)
    except RuntimeError:
        aic_emax, emax, ec50 = float("nan"), float("nan"), float("nan")
    chosen = "Emax" if aic_emax < aic_linear - 2 else "linear"
    return {"aic_linear": aic_linear, "aic_emax": aic_emax, "chosen": chosen,
            "emax": float(emax) if chosen == "Emax" else float("nan"),
            "ec50_ng_ml": float(ec50) if chosen == "Emax" else float("nan")}


ER_MEASURES = ("QTcF", "JTPEAK", "TPEAKTEND", "PR", "QRS", "HR", "Twave_amplitude")
"""Measures of the exposure-response table: intervals in ms, HR in bpm, T amplitude in µV."""


def exposure_response_table(kept: pd.DataFrame, drugs: list[str], measures: tuple[str, ...] = ER_MEASURES
                            ) -> pd.DataFrame:
    """For every drug and measure: the mixed-model slope with its 95 % CI and the linear-vs-Emax choice.

    Returns
    -------
    pandas.DataFrame
        Columns ``drug``, ``measure``, ``slope_per_ng_ml``, ``ci_low``, ``ci_high``,
        ``converged``, ``aic_linear``, ``aic_emax``, ``chosen``, ``emax``, ``ec50_ng_ml``.
    """
    rows = []
    for drug in drugs:
        for measure in measures:
            slope = concentration_slope(kept, drug, measure)
            rows.append({"drug": slope.drug, "measure": measure, "slope_per_ng_ml": slope.slope,
                         "ci_low": slope.ci_low, "ci_high": slope.ci_high, "converged": slope.converged,
                         **compare_linear_emax(kept, drug, measure)})
    return pd.DataFrame(rows)
