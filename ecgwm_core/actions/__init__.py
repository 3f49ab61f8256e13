"""Interventions as actions: drug exposure (pharmacokinetics) and its ECG effect (exposure-response)."""
from .action import CHANNELS, FORMULARY, Action, Drug
from .exposure_response import (
    ER_MEASURES, PUBLISHED_SLOPES, SlopeResult, compare_linear_emax, concentration_slope,
    exposure_response_table, match_drug, paired_ddelta,
)
from .ode_effect import CHANGES, action_changes, calibrated_shift, shift_dipole
from .pk import PKFit, fit_pk, one_compartment

__all__ = [
    "CHANGES", "CHANNELS", "ER_MEASURES", "FORMULARY", "PUBLISHED_SLOPES", "Action", "Drug", "PKFit", "SlopeResult",
    "action_changes", "calibrated_shift", "compare_linear_emax", "concentration_slope", "exposure_response_table",
    "fit_pk", "match_drug", "one_compartment", "paired_ddelta", "shift_dipole",
]
