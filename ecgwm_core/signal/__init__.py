"""Measuring ECGs: filters, beats (R peaks, median beat), delineation and intervals, fit metrics."""
from .beats import detect_rpeaks, match_beats, median_beat
from .delineate import (INTERVALS, Delineation, Fiducials, delineate, delineate_beat, delineate_beats, measure_batch,
                        measure_ecg)
from .filters import lowpass, notch, remove_baseline, resample
from .metrics import prd_percent, rmse_mv

__all__ = [
    "INTERVALS", "Delineation", "Fiducials", "delineate", "delineate_beat", "delineate_beats", "detect_rpeaks", "lowpass", "match_beats", "measure_batch",
    "measure_ecg", "median_beat", "notch", "prd_percent", "remove_baseline", "resample", "rmse_mv",
]
