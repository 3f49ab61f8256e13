"""Uncertainty-aware clinical risk of simulated ECGs, its calibration, expert alignment and candidate proposers."""
from .alignment import CIPA_GAIN, cipa_gains, kendall_tau, ndcg, observed_dqtcf, rank_gains
from .calibration import Reliability, brier_score, expected_calibration_error, reliability
from .proposer import (
    ANSWER_SCHEMA, DOSE_RANGE, Candidate, ChatProposer, EndpointConfig, FormularyProposer, PatientContext,
    ProposalError, Proposer, make_candidate, parse_answer, render_png,
)
from .loop import CAVEAT, Assessment, Patient, UnknownSubjectError, assess, parse_candidates, patient_from_table
from .simulators import Baseline, ExposureResponseSimulator, Simulator, WorldModelSimulator
from .study import (
    TRIAL_CANDIDATES, alignment_table, calibration_by_time, calibration_predictions, candidate_scores, cvar_agreement,
    kappa_ranks, scores_at,
)
from .whatif import what_if, whatif_panel
from .scores import (
    CRITERIA, MEASURES, RISK_CRITERIA, Criterion, Probability, RiskSummary, cvar, event_probability, events,
    expected_risk, mean_variance, rank_candidates, risk_spread, rollout_measures, rollout_risk, summarise,
)

__all__ = [
    "CAVEAT", "Assessment", "Baseline", "ExposureResponseSimulator", "Patient", "Simulator", "UnknownSubjectError",
    "WorldModelSimulator", "assess", "parse_candidates", "patient_from_table",
    "ANSWER_SCHEMA", "CIPA_GAIN", "CRITERIA", "DOSE_RANGE", "MEASURES", "RISK_CRITERIA", "Candidate", "ChatProposer",
    "Criterion", "EndpointConfig", "FormularyProposer", "PatientContext", "Probability", "ProposalError", "Proposer",
    "Reliability", "RiskSummary", "brier_score", "cipa_gains", "cvar", "event_probability", "events",
    "expected_calibration_error", "expected_risk", "kendall_tau", "make_candidate", "mean_variance", "ndcg",
    "observed_dqtcf", "parse_answer", "rank_candidates", "rank_gains", "reliability", "render_png", "risk_spread",
    "rollout_measures", "rollout_risk", "summarise",
    "TRIAL_CANDIDATES", "alignment_table", "calibration_by_time", "calibration_predictions", "candidate_scores",
    "cvar_agreement", "kappa_ranks",
    "scores_at", "what_if", "whatif_panel",
]
