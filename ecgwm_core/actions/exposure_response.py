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

import pandas as pd

from ..trial import subject_changes

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
    n_subjects : subjects contributing.
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

    drug = match_drug(drug, sorted(set(kept["EXTRT"]) - {"Placebo"}))
    changes = subject_changes(kept, measure)
    data = changes[(changes["TPT"] > 0) & changes["EXTRT"].isin([drug, "Placebo"])].copy()
    data["active"] = (data["EXTRT"] == drug).astype(float)
    data.loc[data["EXTRT"] == "Placebo", "conc_ng_ml"] = 0.0
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
        n_subjects=int(data["RANDID"].nunique()),
        n_observations=int(len(data)),
        converged=bool(fit.converged),
    )
