"""The decision-support loop: patient → proposer → rollouts per candidate → risk mean ± spread → ranked summary.

    patient (pre-dose measures, context, optional pre-dose ECG)
      → Proposer.propose(context, ecg)            candidates (drug, dose)
      → Simulator.simulate(subject, baseline, …)  K measured rollouts per candidate
      → scores.summarise                          E[r], Std[r], R = E[r] + κ·Std[r], CVaR, event probabilities
      → ranked from lowest to highest R, with a plain-language summary

The result is decision support from a model of 16 healthy volunteers in a
single-dose trial; it requires validation by a clinical expert before any use
(:data:`CAVEAT`, printed with every summary).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..actions import FORMULARY
from ..data.records import Recording
from ..data.trial import BASELINE_HOURS
from .proposer import Candidate, FormularyProposer, PatientContext, ProposalError, Proposer, make_candidate
from .scores import CRITERIA, RiskSummary, summarise
from .simulators import BASELINE_COLUMNS, Baseline, Simulator

CAVEAT = ("Decision support only: simulated from a model of healthy volunteers given single doses; "
          "every recommendation requires validation by a clinical expert before any use.")
DEFAULT_HOURS = 2.5
"""Default assessment time (h after the dose): near the trial's peak mean ΔQTcF for dofetilide and quinidine."""
REPORTED = ("dqtcf_gt_30", "qtcf_gt_500")
"""Event probabilities shown in the ranked table."""


class UnknownSubjectError(ValueError):
    """The subject is not in the table (the message lists the subjects that are)."""


@dataclass(frozen=True)
class Patient:
    """A patient as the loop sees it: id, pre-dose measures, context for proposers and an optional pre-dose ECG."""

    subject: int
    baseline: Baseline
    context: PatientContext
    ecg: Recording | None = None


def patient_from_table(kept: pd.DataFrame, subject: int, with_ecg: bool = False) -> Patient:
    """A trial subject as a patient: the mean of all pre-dose ECG measures, demographics from the table.

    Parameters
    ----------
    kept : usable rows of the clinical table.
    subject : ``RANDID``.
    with_ecg : also render the subject's first pre-dose ECG as a semi-synthetic twin (10 s, 12 leads) for
        proposers that read the ECG.

    Raises
    ------
    UnknownSubjectError
        If ``subject`` has no pre-dose rows in ``kept``.
    """
    rows = kept[(kept["RANDID"] == subject) & (kept["TPT"] == BASELINE_HOURS)]
    if rows.empty:
        known = ", ".join(str(s) for s in sorted(kept["RANDID"].unique()))
        raise UnknownSubjectError(f"unknown subject {subject!r}; subjects in the table: {known}")
    baseline = Baseline(**{m: float(rows[col].mean()) for m, col in BASELINE_COLUMNS.items()})
    first = rows.iloc[0]
    context = PatientContext(str(subject), baseline.qtcf_ms, baseline.hr_bpm, baseline.pr_ms, baseline.qrs_ms,
                             age_years=float(first["AGE"]), sex=str(first["SEX"]))
    ecg = None
    if with_ecg:
        from ..data import STANDARD_12
        from ..synthetic.twins import render_twins

        signals, _ = render_twins(rows.iloc[:1], progress=False)
        ecg = Recording(signals[0].astype(float), 500.0, STANDARD_12, f"{subject} pre-dose (semi-synthetic twin)")
    return Patient(subject, baseline, context, ecg)


def parse_candidates(text: str) -> list[Candidate]:
    """Candidates from ``"dofetilide,quinidine:200mg,placebo"``: a name alone means the trial dose.

    Raises
    ------
    ProposalError
        If a drug is unknown or a dose is malformed or outside the formulary (the message names it).
    """
    out = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, _, dose = part.partition(":")
        entry = FORMULARY.get(name.strip().lower())
        if entry is None:
            raise ProposalError(f"unknown candidate {name.strip()!r}; formulary: {', '.join(FORMULARY)}")
        if not dose:
            out.append(make_candidate(entry.name, entry.dose, entry.unit, "requested"))
            continue
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-z]+)\s*", dose.lower())
        if match is None:
            raise ProposalError(f"candidate {part!r}: write the dose as AMOUNT UNIT, e.g. dofetilide:250ug")
        try:
            out.append(make_candidate(entry.name, float(match[1]), match[2], "requested"))
        except ProposalError as err:
            raise ProposalError(f"candidate {part!r}: {err}") from None
    if not out:
        raise ProposalError("no candidates given")
    return out


@dataclass(frozen=True)
class Ranked:
    """One candidate's result."""

    candidate: Candidate
    risk: RiskSummary


@dataclass(frozen=True)
class Assessment:
    """Candidates ranked from lowest to highest risk score for one patient at one time after the dose."""

    patient: Patient
    hours: float
    ranked: list[Ranked]

    def table(self) -> pd.DataFrame:
        """One row per candidate, lowest risk first: drug, dose, E[risk], Std[risk], score, CVaR, P(event)."""
        rows = []
        for r in self.ranked:
            row = {"drug": r.candidate.drug, "dose": f"{r.candidate.dose:g} {r.candidate.unit}",
                   "expected": r.risk.expected, "spread": r.risk.spread, "score": r.risk.score, "cvar": r.risk.cvar}
            for name in REPORTED:
                p = r.risk.probabilities[name]
                row.update({f"p_{name}": p.p, f"p_{name}_low": p.ci_low, f"p_{name}_high": p.ci_high})
            rows.append(row)
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """Plain-language summary of the ranking, ending with :data:`CAVEAT`."""
        safest, riskiest = self.ranked[0], self.ranked[-1]
        k = safest.risk.n_rollouts
        p30 = riskiest.risk.probabilities["dqtcf_gt_30"]
        return (
            f"Subject {self.patient.subject}, {self.hours:g} h after a single dose, {k} simulated ECGs per candidate "
            f"(risk score = mean + {safest.risk.kappa:g} x spread). Lowest risk: {safest.candidate.label} "
            f"({safest.risk.expected:.2f} ± {safest.risk.spread:.2f}). Highest risk: {riskiest.candidate.label} "
            f"({riskiest.risk.expected:.2f} ± {riskiest.risk.spread:.2f}); "
            f"{CRITERIA['dqtcf_gt_30'].label} in {100 * p30.p:.0f} % of its simulations "
            f"(95 % CI {100 * p30.ci_low:.0f}-{100 * p30.ci_high:.0f} %). {CAVEAT}"
        )


def assess(patient: Patient, simulator: Simulator, proposer: Proposer | None = None,
           candidates: Sequence[Candidate] | None = None, hours: float = DEFAULT_HOURS, samples: int = 64,
           kappa: float = 1.0, alpha: float = 0.9, seed: int = 0) -> Assessment:
    """Run the loop for one patient.

    Parameters
    ----------
    patient : from :func:`patient_from_table` or built by hand.
    simulator : rolls out the candidates (the world model's adapter or :class:`ExposureResponseSimulator`).
    proposer : proposes candidates when ``candidates`` is not given (default :class:`FormularyProposer`).
    candidates : candidates to assess, overriding the proposer.
    hours : time after the dose, h.
    samples : K rollouts per candidate.
    kappa, alpha : risk aversion of the mean-variance score and the CVaR level.
    seed : seed of the rollouts and of the bootstrap.
    """
    if candidates is None:
        candidates = (proposer or FormularyProposer()).propose(patient.context, patient.ecg)
    actions = [c.action(hours) for c in candidates]
    measures = simulator.simulate(patient.subject, patient.baseline, actions, samples, seed)
    risks = [summarise(m, kappa=kappa, alpha=alpha, seed=seed) for m in measures]
    order = np.argsort([r.score for r in risks], kind="stable")  # lowest risk first, ties in given order
    return Assessment(patient, hours, [Ranked(candidates[i], risks[i]) for i in order])

