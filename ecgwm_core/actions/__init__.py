"""Interventions as actions: drug exposure (pharmacokinetics) and its ECG effect (exposure-response)."""
from .action import CHANNELS, FORMULARY, Action, Drug
from .exposure_response import PUBLISHED_SLOPES, SlopeResult, concentration_slope, match_drug
from .pk import PKFit, fit_pk, one_compartment

__all__ = [
    "CHANNELS", "FORMULARY", "Action", "Drug","PKFit", "PUBLISHED_SLOPES", "SlopeResult", "concentration_slope", "fit_pk", "match_drug", "one_compartment"]
