"""What-if: one subject, one drug at a chosen dose and time, against placebo, re-assessed live in Jupyter.

:func:`what_if` is the computation (a two-candidate run of the loop);
:func:`whatif_panel` wraps it in ipywidgets (subject, drug, dose as a fraction
of the trial dose, hours, κ) for Jupyter or Binder. A static book shows
:func:`what_if` at the panel's defaults instead (widgets need a live kernel).
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..actions import FORMULARY
from .loop import Assessment, assess, patient_from_table
from .proposer import DOSE_RANGE, ProposalError, make_candidate
from .simulators import Simulator


def what_if(simulator: Simulator, kept: pd.DataFrame, subject: int, drug: str, dose_fraction: float = 1.0,
            hours: float = 2.5, kappa: float = 1.0, samples: int = 32, seed: int = 0) -> Assessment:
    """Assess ``drug`` at ``dose_fraction`` × its trial dose against placebo for one subject.

    Parameters
    ----------
    simulator : rolls out the two candidates.
    kept : usable rows of the clinical table.
    subject : RANDID.
    drug : an active formulary drug.
    dose_fraction : dose as a fraction of the trial dose, within :data:`~ecgwm_core.risk.proposer.DOSE_RANGE`.
    hours : time after the dose, h (0-48).
    kappa : risk aversion of the score.
    samples : K rollouts per candidate.
    seed : seed of the rollouts and bootstrap.

    Raises
    ------
    ProposalError
        If the drug is unknown or placebo, or the dose is outside the formulary.
    UnknownSubjectError
        If the subject is not in ``kept``.
    """
    entry = FORMULARY.get(drug)
    if entry is None or drug == "placebo":
        raise ProposalError(f"drug must be an active formulary drug; got {drug!r}; "
                         f"choose from {', '.join(d for d in FORMULARY if d != 'placebo')}")
    candidates = [make_candidate("placebo", 0.0, "mg", "reference"),
                  make_candidate(drug, round(dose_fraction * entry.dose, 6), entry.unit, "what-if")]
    return assess(patient_from_table(kept, int(subject)), simulator, candidates=candidates, hours=hours,
                  samples=samples, kappa=kappa, seed=seed)


def whatif_panel(simulator: Simulator, kept: pd.DataFrame, subjects: Sequence[int], samples: int = 32,
                 seed: int = 0):
    """An ipywidgets panel that re-runs :func:`what_if` whenever a control changes (needs a live kernel).

    Returns
    -------
    ipywidgets.VBox
        Controls (subject, drug, dose fraction, hours, κ) above the ranked table and summary.
    """
    import ipywidgets as widgets
    from IPython.display import display

    drugs = [d for d in FORMULARY if d != "placebo"]
    controls = {
        "subject": widgets.Dropdown(options=[int(s) for s in subjects], description="subject"),
        "drug": widgets.Dropdown(options=drugs, value=drugs[0], description="drug"),
        "dose_fraction": widgets.FloatSlider(value=1.0, min=DOSE_RANGE[0], max=DOSE_RANGE[1], step=0.05,
                                             description="dose × trial"),
        "hours": widgets.FloatSlider(value=2.5, min=0.5, max=24.0, step=0.5, description="hours"),
        "kappa": widgets.FloatSlider(value=1.0, min=0.0, max=4.0, step=0.25, description="κ"),
    }
    out = widgets.Output()

    def update(_=None) -> None:
        result = what_if(simulator, kept, samples=samples, seed=seed,
                         **{name: w.value for name, w in controls.items()})
        with out:
            out.clear_output(wait=True)
            display(result.table()[["drug", "dose", "expected", "spread", "score", "p_dqtcf_gt_30"]].round(2))
            print(result.summary())

    for w in controls.values():
        w.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox(list(controls.values())[:2]), *list(controls.values())[2:], out])
