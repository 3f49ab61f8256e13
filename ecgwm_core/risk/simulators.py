"""What the decision loop rolls out: the :class:`Simulator` interface and a population exposure-response simulator.

A simulator turns a patient and candidate actions into K sampled outcomes per
action, already measured: ``{measure: (K,) array}`` with the keys of
:data:`~ecgwm_core.risk.scores.MEASURES` (at least ``qtcf_ms`` and
``dqtcf_ms``), as :func:`~ecgwm_core.risk.scores.rollout_measures` returns.
The world model (``ecgwm_core.worldmodel``) plugs in through an adapter with
this one method: decode and measure its K stochastic rollouts per action.

:class:`ExposureResponseSimulator` is the population model the world model is
compared with: no ECG is generated. Per rollout k and ECG measure m (QTcF, PR,
QRS, HR),

    Δm_k = placebo_m(h) + slope_{drug,m} · C_k(h) + ε_k,    ε_k ~ N(0, σ_m²),

with slope the trial's concentration-effect slope (linear mixed model,
:func:`~ecgwm_core.actions.concentration_slope`), C_k the one-compartment
concentration of a trial subject's PK parameters drawn at random
(between-subject PK variability, :func:`~ecgwm_core.actions.fit_pk`) scaled to
the dose, placebo_m(h) the mean placebo change at h (interpolated between the
trial's time points) and σ_m the SD of the placebo changes over subjects and
post-dose time points (day-to-day and measurement variability). Between-subject
variability of the slopes is not modelled, so the spread is a lower bound.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from ..actions import FORMULARY, Action, concentration_slope, fit_pk, one_compartment
from ..data.trial import BASELINE_HOURS, subject_changes
from .scores import rollout_measures

BASELINE_COLUMNS = {"qtcf_ms": "QTcF", "pr_ms": "PR", "qrs_ms": "QRS", "hr_bpm": "HR"}
"""Measures the patient's baseline holds, and their column in the trial table."""


@dataclass(frozen=True)
class Baseline:
    """A patient's pre-dose measures: QTcF, PR, QRS (ms) and heart rate (bpm)."""

    qtcf_ms: float
    pr_ms: float
    qrs_ms: float
    hr_bpm: float


@runtime_checkable
class Simulator(Protocol):
    """Rolls out candidate actions for one patient and measures the outcomes."""

    def simulate(self, subject: int, baseline: Baseline, actions: Sequence[Action], samples: int,
                 seed: int) -> list[dict[str, np.ndarray]]:
        """Per action, ``{measure: (samples,) array}`` (keys of ``MEASURES``; ``qtcf_ms`` and ``dqtcf_ms`` at least).

        Parameters
        ----------
        subject : the patient's ``RANDID`` (simulators that condition on the pre-dose ECG load it by this id).
        baseline : pre-dose measures.
        actions : candidate actions (drug, dose, hours since dose).
        samples : K rollouts per action (≥ 1).
        seed : seed of every random step.
        """
        ...


class ExposureResponseSimulator:
    """Population exposure-response simulator fitted on a trial table (see the module docstring).

    Parameters
    ----------
    kept : usable rows of the clinical table (``ClinicalTable.kept``).
    """

    def __init__(self, kept: pd.DataFrame) -> None:
        self._pk = {}
        self._slopes: dict[str, dict[str, float]] = {}
        for name, drug in FORMULARY.items():
            if name == "placebo":
                continue
            self._pk[name] = fit_pk(kept, drug.trial_name).subjects
            self._slopes[name] = {m: concentration_slope(kept, drug.trial_name, col).slope
                                  for m, col in BASELINE_COLUMNS.items()}
        self._placebo: dict[str, tuple[np.ndarray, np.ndarray, float]] = {}
        placebo_rows = kept[kept["EXTRT"] == FORMULARY["placebo"].trial_name]
        for m, col in BASELINE_COLUMNS.items():
            changes = subject_changes(placebo_rows, col)
            changes = changes[changes["TPT"] > BASELINE_HOURS]
            mean = changes.groupby("TPT")["change"].mean()
            self._placebo[m] = (mean.index.to_numpy(float), mean.to_numpy(float), float(changes["change"].std()))

    def _concentration(self, action: Action, rng: np.random.Generator, samples: int) -> np.ndarray:
        if action.drug == "placebo":
            return np.zeros(samples)
        rows = self._pk[action.drug].iloc[rng.integers(len(self._pk[action.drug]), size=samples)]
        return np.array([
            one_compartment(np.array([action.hours]), action.dose_mg, r.ka_per_h, r.ke_per_h, r.v_over_f_l,
                            r.tlag_h)[0]
            for r in rows.itertuples()
        ])

    def simulate(self, subject: int, baseline: Baseline, actions: Sequence[Action], samples: int,
                 seed: int) -> list[dict[str, np.ndarray]]:
        """K draws per action from the population model (``subject`` is not used: the model has no subject term)."""
        if samples < 1:
            raise ValueError(f"samples must be >= 1; got {samples}")
        out = []
        for index, action in enumerate(actions):
            rng = np.random.default_rng([seed, index])
            conc = self._concentration(action, rng, samples)
            change = {}
            for m in BASELINE_COLUMNS:
                hours, mean, sd = self._placebo[m]
                slope = 0.0 if action.drug == "placebo" else self._slopes[action.drug][m]
                change[m] = np.interp(action.hours, hours, mean) + slope * conc + rng.normal(0.0, sd, samples)
            out.append(rollout_measures(
                qtcf_ms=baseline.qtcf_ms + change["qtcf_ms"], dqtcf_ms=change["qtcf_ms"],
                pr_ms=baseline.pr_ms + change["pr_ms"], qrs_ms=baseline.qrs_ms + change["qrs_ms"],
                baseline_qrs_ms=baseline.qrs_ms, hr_bpm=baseline.hr_bpm + change["hr_bpm"],
            ))
        return out


class WorldModelSimulator:
    """Adapter of the ECG world model (``ecgwm_core.worldmodel``) to :class:`Simulator`.

    The patient's pre-dose state comes from the SEMI-SYNTHETIC twins of the
    subject's pre-dose rows in ``kept`` (all replicates of the first treatment
    period, as ``worldmodel.validate.period_baselines`` builds it); each action's
    K generated median beats are measured by the delineator inside
    ``worldmodel.rollout``. Samples the world model flags implausible are dropped,
    so an action may return fewer than K. ΔQTcF is relative to the reconstructed
    baseline (the autoencoder's bias cancels), and so is QRS widening.

    Parameters
    ----------
    model : a trained ``WorldModel`` (e.g. ``worldmodel.pretrained("quick")``).
    kept : usable rows of the clinical table holding the subjects to assess.
    guidance : energy-guidance scale at sampling (default: the model config's; 0: none).
    """

    def __init__(self, model, kept: pd.DataFrame, guidance: float | None = None) -> None:
        self.model, self.kept, self.guidance = model, kept, guidance
        self._baselines: dict[int, object] = {}

    def _baseline(self, subject: int):
        if subject not in self._baselines:
            from ..worldmodel.validate import period_baselines

            periods = period_baselines(self.model, self.kept[self.kept["RANDID"] == subject])
            if not periods:
                raise ValueError(f"subject {subject} has no pre-dose ECG rows in the table")
            self._baselines[subject] = periods[min(periods)]
        return self._baselines[subject]

    def simulate(self, subject: int, baseline: Baseline, actions: Sequence[Action], samples: int,
                 seed: int) -> list[dict[str, np.ndarray]]:
        """K generated, measured ECGs per action (``baseline`` is not used: the model reads the pre-dose ECGs)."""
        from ..worldmodel import rollout
        from ..worldmodel.representation import measure_beats

        base = self._baseline(subject)
        recon = measure_beats(*self.model.decode_state(base.state[None]), self.model.config.representation)[0]
        table = rollout(self.model, base, list(actions), samples, seed, guidance=self.guidance).table
        out = []
        for index, action in enumerate(actions):
            rows = table[(table["action"] == index) & table["plausible"]]
            if rows.empty:
                raise ValueError(f"no plausible rollout for {action.drug} at {action.hours:g} h of subject {subject}")
            out.append(rollout_measures(
                qtcf_ms=rows["qtcf_ms"].to_numpy(), dqtcf_ms=rows["dqtcf_ms"].to_numpy(),
                pr_ms=rows["pr_ms"].to_numpy(), qrs_ms=rows["qrs_ms"].to_numpy(), baseline_qrs_ms=recon["qrs_ms"],
                hr_bpm=rows["hr_bpm"].to_numpy(),
            ))
        return out
