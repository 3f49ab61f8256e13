"""How an action moves the ODE prior: interval changes -> shifted dipole waves, checked by measurement.

An intervention changes intervals: PR, QRS, J-Tpeak and Tpeak-Tend (QT is
their sum with QRS). On the dipole model each has a direct handle, with
σ = b·RR/2π the time width of a wave and the tangent-method fiducials at μ ± 2σ:

- ΔPR: the P wave moves earlier by ΔPR (θ_P − 2π·ΔPR/RR);
- ΔQRS: the S wave moves later by ΔQRS (the J point follows it);
- ΔJ-Tpeak: the T wave moves later by ΔQRS + ΔJ-Tpeak;
- ΔTpeak-Tend: the T wave widens by ΔTpeak-Tend/2 in σ (T end = μ + 2σ).

:func:`shift_dipole` applies these analytically. :func:`calibrated_shift`
then renders the ECG, measures it with :func:`ecgwm_core.signal.measure_ecg`
and corrects the residual a few times, so that what the project's own
delineator reads matches the intended change (tested within 3 ms). The
intended changes of an action come from the exposure-response slopes fitted on
the trial (:func:`action_changes`). Heart-rate changes are not applied: the
ODE renders at the pre-intervention RR.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..data.vocabulary import COLUMN_TO_INTERVAL
from ..ode import FIVE_WAVES, DipoleParams
from ..ode.measured import render_measured
from .action import FORMULARY, Action
from .exposure_response import concentration_slope
from .pk import fit_pk

CHANGES = ("pr_ms", "qrs_ms", "jtpeak_ms", "tpeaktend_ms")
"""The interval changes an action sets, in ms."""
_COLUMN = {interval: column for column, interval in COLUMN_TO_INTERVAL.items()}


def shift_dipole(params: DipoleParams, rr_s: float, changes: dict[str, float]) -> DipoleParams:
    """Dipole parameters moved so that the intervals change by ``changes`` (ms); see the module docstring.

    Parameters
    ----------
    params : unbatched dipole parameters with waves named P, Q, R, S, T.
    rr_s : the RR interval the ECG is rendered at, in s.
    changes : any of :data:`CHANGES` mapped to a change in ms.
    """
    unknown = set(changes) - set(CHANGES)
    if unknown:
        raise ValueError(f"unknown interval change(s) {sorted(unknown)}; known: {', '.join(CHANGES)}")
    if params.names != FIVE_WAVES or params.theta.dim() != 1:
        raise ValueError("shift_dipole needs unbatched five-wave (P, Q, R, S, T) dipole parameters")
    per_ms = 2 * math.pi / (1000 * rr_s)  # rad per ms at this RR
    d = {name: changes.get(name, 0.0) for name in CHANGES}
    theta = params.theta.clone()
    b = params.b.clone()
    theta[0] -= d["pr_ms"] * per_ms
    theta[3] += d["qrs_ms"] * per_ms
    theta[4] += (d["qrs_ms"] + d["jtpeak_ms"]) * per_ms
    b[:, 4] = b[:, 4] + d["tpeaktend_ms"] / 2 * per_ms
    if (b <= 0).any():
        raise ValueError(f"Tpeak-Tend change {d['tpeaktend_ms']} ms would make the T wave's width negative")
    return DipoleParams(theta, params.alpha.clone(), b, params.names)


def calibrated_shift(params: DipoleParams, rr_s: float, changes: dict[str, float], fs: float = 500.0,
                     iterations: int = 3) -> DipoleParams:
    """:func:`shift_dipole`, then corrected until the delineator reads the intended changes.

    Each iteration renders pre- and post-intervention ECGs (10 s, constant RR,
    no noise), measures both and adds the remaining error to the requested change.
    """
    before = render_measured(params, rr_s, fs)[1]
    request = {name: float(changes.get(name, 0.0)) for name in CHANGES}
    shifted = shift_dipole(params, rr_s, request)
    for _ in range(iterations):
        after = render_measured(shifted, rr_s, fs)[1]
        error = {name: (after[name] - before[name]) - changes.get(name, 0.0) for name in CHANGES}
        if max(abs(e) for e in error.values()) < 0.5:
            break
        request = {name: request[name] - error[name] for name in CHANGES}
        shifted = shift_dipole(params, rr_s, request)
    return shifted


def action_changes(kept: pd.DataFrame, action: Action) -> dict[str, float]:
    """Intended placebo-corrected interval changes (ms) of an action: slope × concentration per interval.

    The concentration is the action's observed one if given, else the fitted PK
    model's typical-subject prediction for the dose and hours. Slopes are the
    linear mixed-model slopes on the trial table ``kept``.
    """
    drug = FORMULARY[action.drug]
    if drug.name == "placebo":
        return {name: 0.0 for name in CHANGES}
    conc = action.concentration_ng_ml
    if conc is None:
        conc = float(fit_pk(kept, drug.trial_name).predict(np.array([action.hours]), action.dose_mg)[0])
    return {name: concentration_slope(kept, drug.trial_name, _COLUMN[name]).slope * conc for name in CHANGES}
