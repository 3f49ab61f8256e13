"""Evaluation: metrics, plausibility (hallucination) checks, calibration, predictability, baselines and protocols."""
from .calibration import central_interval, coverage, crps, pit_histogram, pit_values
from .metrics import (
    DELTA_COLUMNS, FEATURES, BlandAltman, bland_altman, dtw_distance, feature_matrix, frechet_distance,
    interval_deltas, mmd_rbf, waveform_errors,
)
from .plausibility import PlausibilityReport, check_batch, check_beat, check_ecg, hallucination_rate
from .predictability import ResponseSignal, response_signal, subject_component, subject_share

__all__ = [
    "DELTA_COLUMNS", "FEATURES", "BlandAltman", "PlausibilityReport", "ResponseSignal", "bland_altman",
    "central_interval", "check_batch", "check_beat", "check_ecg", "coverage", "crps", "dtw_distance", "feature_matrix",
    "frechet_distance", "hallucination_rate", "interval_deltas", "mmd_rbf", "pit_histogram", "pit_values",
    "response_signal", "subject_component", "subject_share", "waveform_errors",
]
