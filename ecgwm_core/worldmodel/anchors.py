"""The subject-specific ODE anchor: the prior's own prediction of a post-dose beat.

For a subject's pre-dose ECG: fit the five-wave dipole ODE to its centred
median beat (:func:`ecgwm_core.ode.fit_dipole`), shift it by the action's
interval changes (:func:`ecgwm_core.actions.shift_dipole`), render both
noise-free at the pre-dose RR and represent them exactly like the training
ECGs (:func:`.representation.render_beats`). The anchor of the latent change
is encode(post) − encode(pre); its log-RR coordinate is the action's expected
change of RR.

**The action's changes** (:class:`DrugEffects`) are time-matched: at hours h,
the training subjects' mean change from baseline on placebo (the diurnal
drift of every interval and of RR) plus the drug's placebo-corrected mean
change at h, scaled by exposure, C(dose, h) / C(trial dose, h) from the
typical-subject PK (so a double dose doubles the drug's effect, and beyond
the last trial time point the effect decays with the concentration). The
trial's own doses reproduce the training subjects' mean change per drug × time
point, interval by interval. An earlier version used the pre-specified linear
concentration slopes per interval and no placebo drift: on fold 0 it put
quinidine's QT change at +44 ms at 2.5 h (observed mean +58 to +84 ms over
1-2.5 h), had no diurnal drift on placebo (observed −5 to −16 ms) and left the
world model's held-out ΔQTcF MAE at 11.2 ms against the population mean's 10.4 ms.

:class:`DrugEffects` holds what the anchor needs of the trial as plain
numbers, so a trained model carries it in its JSON and rollouts need no table.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..actions import CHANGES, FORMULARY, Action, fit_pk, one_compartment, shift_dipole
from ..data.trial import change_from_baseline, subject_changes
from ..data.vocabulary import COLUMN_TO_INTERVAL
from ..ode import FIVE_WAVES, DipoleParams, fit_dipole
from .config import RepresentationConfig
from .deviation import baseline_offsets, residual_covariance
from .representation import render_beats

EFFECTS = (*CHANGES, "rr_ms")
"""What an action changes in the anchor (ms): the intervals :func:`~ecgwm_core.actions.shift_dipole` moves, and RR."""
_COLUMN = {interval: column for column, interval in COLUMN_TO_INTERVAL.items()}


@dataclass(frozen=True)
class DrugEffects:
    """Per drug: the training subjects' mean changes over time and typical-subject PK parameters.

    Attributes
    ----------
    curves : {formulary drug: {"hours": [h, ...], name: [mean change in ms at each h] for name in
        :data:`EFFECTS`}}, placebo included
        (mean over the training subjects of each subject's change from its pre-dose baseline,
        :func:`ecgwm_core.data.trial.change_from_baseline`).
    pk : {active drug: {"ka_per_h", "ke_per_h", "v_over_f_l", "tlag_h"}}.
    residual_cov : {EXTRT: hours, baseline-offset gain and covariance of the subjects' ΔQTcF
        residuals from the population mean} (:func:`.deviation.residual_covariance`): regression to
        the mean, the between-subject spread and how early deviations carry over.
    scale : factor on every drug's placebo-corrected effect (1: as fitted; prior-mismatch experiments
        use 0.5-2).
    """

    curves: dict[str, dict[str, list[float]]]
    pk: dict[str, dict[str, float]]
    residual_cov: dict[str, dict[str, list]]
    scale: float = 1.0

    @classmethod
    def fit(cls, kept: pd.DataFrame) -> "DrugEffects":
        """Mean change curves of every formulary drug and one-compartment PK of the active ones, on ``kept``."""
        curves, pk = {}, {}
        tables = {effect: change_from_baseline(kept, _COLUMN[effect]) for effect in EFFECTS}
        for name, drug in FORMULARY.items():
            parts = {}
            for effect, table in tables.items():
                table = table[(table["drug"] == drug.trial_name) & (table["hours"] > 0)].sort_values("hours")
                if table.empty:
                    raise ValueError(f"no post-dose rows of {drug.trial_name!r} in the training table; "
                                     "every formulary drug needs some to fit the anchor's effects")
                parts["hours"] = table["hours"].astype(float).tolist()
                parts[effect] = table["mean"].astype(float).tolist()
            curves[name] = parts
            if name != "placebo":
                pk[name] = fit_pk(kept, drug.trial_name).population
        changes = subject_changes(kept, "QTcF")
        return cls(curves, pk, residual_covariance(changes[changes["TPT"] > 0], baseline_offsets(kept)))

    def concentration(self, action: Action) -> float:
        """PK-predicted typical-subject concentration (ng/mL) of ``action`` at its hours (0 for placebo)."""
        return self._concentration(action.drug, action.dose_mg, action.hours)

    def _concentration(self, drug: str, dose_mg: float, hours: float) -> float:
        if drug == "placebo":
            return 0.0
        p = self.pk[drug]
        return float(one_compartment(np.array([hours]), dose_mg, p["ka_per_h"], p["ke_per_h"],
                                     p["v_over_f_l"], p["tlag_h"])[0])

    def _curve(self, drug: str, hours: float) -> dict[str, float]:
        """Mean changes at ``hours``: linear between trial time points, from 0 at the dose, held after the last."""
        c = self.curves[drug]
        h = np.concatenate([[0.0], c["hours"]])
        return {e: float(np.interp(hours, h, np.concatenate([[0.0], c[e]]))) for e in EFFECTS}

    def changes(self, action: Action) -> dict[str, float]:
        """Expected changes (ms) of :data:`EFFECTS` at the action's dose and hours (see the module docstring)."""
        placebo = self._curve("placebo", action.hours)
        if action.drug == "placebo":
            return placebo
        last = self.curves[action.drug]["hours"][-1]
        drug = self._curve(action.drug, min(action.hours, last))
        trial_mg = trial_action(action.drug, 0.0).dose_mg
        reference = self._concentration(action.drug, trial_mg, min(action.hours, last))
        exposure = (self.concentration(action) / reference if reference > 0 else action.dose_mg / trial_mg)
        return {e: placebo[e] + self.scale * exposure * (drug[e] - placebo[e]) for e in EFFECTS}

    def to_dict(self) -> dict:
        return {"curves": self.curves, "pk": self.pk, "residual_cov": self.residual_cov, "scale": self.scale}


def trial_action(drug_name: str, hours: float) -> Action:
    """The trial's dose of a formulary drug (``EXTRT`` spelling or formulary name) at ``hours``."""
    key = next((k for k, d in FORMULARY.items() if drug_name in (k, d.trial_name)), None)
    if key is None:
        raise ValueError(f"unknown drug {drug_name!r}; formulary: {', '.join(FORMULARY)}")
    d = FORMULARY[key]
    return Action(key, d.dose, d.unit, float(hours))


def qt_change_ms(changes: dict[str, float]) -> float:
    """The QT change (ms) that interval changes add up to: ΔQRS + ΔJT-peak + ΔTpeak-Tend."""
    return changes["qrs_ms"] + changes["jtpeak_ms"] + changes["tpeaktend_ms"]


def log_rr_change(rr_s: np.ndarray, changes: list[dict[str, float]]) -> np.ndarray:
    """(n,) anchor change of the log-RR coordinate: log((RR + ΔRR) / RR) for RR in s and ΔRR in ms."""
    rr = np.asarray(rr_s, dtype=float)
    return np.log((rr + np.array([c["rr_ms"] for c in changes]) / 1000.0) / rr)


def fit_prior(beats: list[np.ndarray], iterations: int, progress: bool = False) -> list[DipoleParams]:
    """Five-wave dipole fits to centred (12, RR·fs) pre-dose median beats (mV)."""
    return [fit_dipole(b, leads="12", waves=FIVE_WAVES, iterations=iterations).params
            for b in tqdm(beats, desc="ODE fits", disable=not progress)]


def anchor_beats(prior: list[DipoleParams], rr_s: np.ndarray, changes: list[dict[str, float]],
                 rep: RepresentationConfig) -> np.ndarray:
    """(n, 12, M) post-dose anchor beats: each fitted prior shifted by its interval changes (ms, any of
    :data:`EFFECTS`; RR is left to the state's log-RR coordinate), rendered at its (pre-dose) RR."""
    shifted = [shift_dipole(p, float(r), {k: c[k] for k in CHANGES if k in c})
               for p, r, c in zip(prior, rr_s, changes)]
    return render_beats(shifted, np.asarray(rr_s), rep)

