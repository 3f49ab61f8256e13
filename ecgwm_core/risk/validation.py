"""Calibration of predicted event probabilities against held-out trial subjects (leave-subjects-out).

For every held-out subject, treatment period and post-dose time point of the
trial, the simulator (fitted or trained on other subjects only) gives
P(event) as the fraction of its K rollouts with the event; the observation is
whether the subject's triplicate-mean ΔQTcF had it. K = 1 is the
deterministic baseline (one sample, no spread: probabilities 0 or 1).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..actions import FORMULARY, Action
from ..data.trial import BASELINE_HOURS, subject_changes
from .loop import patient_from_table
from .scores import CRITERIA, events
from .simulators import Simulator

_BY_TRIAL_NAME = {d.trial_name: d for d in FORMULARY.values()}


def heldout_events(simulator: Simulator, kept: pd.DataFrame, subjects, criterion: str = "dqtcf_gt_30",
                   samples: int = 64, seed: int = 0, hours: Sequence[float] | None = None) -> pd.DataFrame:
    """Predicted probability and observed outcome of ``criterion`` per held-out subject, drug and time point.

    Parameters
    ----------
    simulator : fitted/trained without ``subjects``.
    kept : the clinical table rows (must include ``subjects``).
    subjects : RANDIDs to evaluate.
    criterion : a ΔQTcF or QTcF criterion of :data:`~ecgwm_core.risk.scores.CRITERIA`.
    samples : K rollouts per point (1: the deterministic baseline).
    seed : seed of the rollouts.
    hours : post-dose time points to evaluate (default: all of the trial's).

    Returns
    -------
    pandas.DataFrame
        ``RANDID``, ``drug``, ``hours``, ``p`` (predicted) and ``observed`` (0/1).
    """
    if CRITERIA[criterion].measure not in ("dqtcf_ms", "qtcf_ms"):
        raise ValueError(f"criterion {criterion!r} is not on QTcF; use one of dqtcf_gt_30, dqtcf_gt_60, qtcf_gt_500")
    rows = []
    for subject in subjects:
        patient = patient_from_table(kept, int(subject))
        changes = subject_changes(kept[kept["RANDID"] == subject], "QTcF")
        changes = changes[changes["TPT"] > BASELINE_HOURS]
        if hours is not None:
            changes = changes[np.isin(changes["TPT"], np.asarray(hours, dtype=float))]
        changes = changes.reset_index(drop=True)
        if changes.empty:
            raise ValueError(f"subject {subject} has no post-dose QTcF at hours {hours}")
        drugs = [_BY_TRIAL_NAME[name] for name in changes["EXTRT"]]
        actions = [Action(d.name, d.dose, d.unit, float(h)) for d, h in zip(drugs, changes["TPT"])]
        outs = simulator.simulate(int(subject), patient.baseline, actions, samples, seed)
        observed = events({"dqtcf_ms": changes["change"].to_numpy(), "qtcf_ms": changes["value"].to_numpy()},
                          [criterion])[criterion]
        for action, out, seen in zip(actions, outs, observed):
            rows.append({"RANDID": int(subject), "drug": action.drug, "hours": action.hours,
                         "p": float(events(out, [criterion])[criterion].mean()), "observed": int(seen)})
    return pd.DataFrame(rows)
