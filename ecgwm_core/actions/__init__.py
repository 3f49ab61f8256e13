"""Interventions as actions: drug exposure (pharmacokinetics) and its ECG effect (exposure-response)."""
from .action import CHANNELS, FORMULARY, Action, Drug
from .exposure_response import (
    ER_MEASURES, PUBLISHED_SLOPES, SlopeResult, compare_linear_emax, concentration_slope,
    exposure_response_table, match_drug, paired_ddelta,
)
from .pk import PKFit, fit_pk, one_compartment

__all__ = [
    "CHANNELS", "ER_MEASURES", "FORMULARY", "Action", "Drug", "compare_linear_emax",
    "exposure_response_table", "paired_ddelta","PKFit", "PUBLISHED_SLOPES", "SlopeResult", "concentration_slope", "fit_pk", "match_drug", "one_compartment"]
