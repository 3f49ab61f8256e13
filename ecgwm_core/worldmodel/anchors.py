"""The subject-specific ODE anchor: the prior's own prediction of a post-dose beat.

For a subject's pre-dose ECG: fit the five-wave dipole ODE to its centred
median beat (:func:`ecgwm_core.ode.fit_dipole`), shift it by the action's
intended interval changes (:func:`ecgwm_core.actions.shift_dipole`; changes =
the trial's concentration slope × the PK-predicted typical concentration at
that hour, never the measured one), render both noise-free at the pre-dose RR
and represent them exactly like the training ECGs
(:func:`.representation.render_beats`). The anchor of the latent change is
encode(post) − encode(pre); heart rate is not changed by the prior.

:class:`DrugEffects` holds what the anchor needs of the trial (slopes per
ng/mL and PK parameters per drug) as plain numbers, so a trained model carries
it in its JSON and rollouts need no table.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..actions import CHANGES, FORMULARY, Action, action_changes, fit_pk, one_compartment, shift_dipole
from ..ode import FIVE_WAVES, DipoleParams, fit_dipole
from .config import RepresentationConfig
from .representation import render_beats


@dataclass(frozen=True)
class DrugEffects:
    """Per drug: interval change per ng/mL (ms) and typical-subject PK parameters.

    Attributes
    ----------
    slopes : {drug: {change name: ms per ng/mL}} for :data:`~ecgwm_core.actions.CHANGES`.
    pk : {drug: {"ka_per_h", "ke_per_h", "v_over_f_l", "tlag_h"}}.
    """

    slopes: dict[str, dict[str, float]]
    pk: dict[str, dict[str, float]]

    @classmethod
    def fit(cls, kept: pd.DataFrame) -> "DrugEffects":
        """Fit slopes (linear mixed model) and PK (one compartment) of every active drug on ``kept``."""
        slopes, pk = {}, {}
        for name, drug in FORMULARY.items():
            if name == "placebo":
                continue
            unit = Action(name, drug.dose, drug.unit, 0.0, concentration_ng_ml=1.0)
            slopes[name] = action_changes(kept, unit)
            pk[name] = fit_pk(kept, drug.trial_name).population
        return cls(slopes, pk)

    def concentration(self, action: Action) -> float:
        """PK-predicted typical-subject concentration (ng/mL) of ``action`` at its hours (0 for placebo)."""
        if action.drug == "placebo":
            return 0.0
        p = self.pk[action.drug]
        return float(one_compartment(np.array([action.hours]), action.dose_mg, p["ka_per_h"], p["ke_per_h"],
                                     p["v_over_f_l"], p["tlag_h"])[0])

    def changes(self, action: Action) -> dict[str, float]:
        """Intended interval changes (ms) of ``action`` at its PK-predicted concentration."""
        if action.drug == "placebo":
            return {name: 0.0 for name in CHANGES}
        conc = self.concentration(action)
        return {name: slope * conc for name, slope in self.slopes[action.drug].items()}

    def to_dict(self) -> dict:
        return {"slopes": self.slopes, "pk": self.pk}


def trial_action(drug_name: str, hours: float) -> Action:
    """The trial's dose of a formulary drug (``EXTRT`` spelling or formulary name) at ``hours``."""
    key = next((k for k, d in FORMULARY.items() if drug_name in (k, d.trial_name)), None)
    if key is None:
        raise ValueError(f"unknown drug {drug_name!r}; formulary: {', '.join(FORMULARY)}")
    d = FORMULARY[key]
    return Action(key, d.dose, d.unit, float(hours))


def fit_prior(beats: list[np.ndarray], iterations: int, progress: bool = False) -> list[DipoleParams]:
    """Five-wave dipole fits to centred (12, RR·fs) pre-dose median beats (mV)."""
    return [fit_dipole(b, leads="12", waves=FIVE_WAVES, iterations=iterations).params
            for b in tqdm(beats, desc="ODE fits", disable=not progress)]


def anchor_beats(prior: list[DipoleParams], rr_s: np.ndarray, changes: list[dict[str, float]],
                 rep: RepresentationConfig) -> np.ndarray:
    """(n, 12, M) post-dose anchor beats: each fitted prior shifted by its changes, rendered at its RR."""
    shifted = [shift_dipole(p, float(r), c) for p, r, c in zip(prior, rr_s, changes)]
    return render_beats(shifted, np.asarray(rr_s), rep)

