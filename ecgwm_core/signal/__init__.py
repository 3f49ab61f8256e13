"""Measuring ECGs: filters, beats (R peaks, median beat), delineation and intervals, fit metrics."""
from .beats import detect_rpeaks, match_beats, median_beat
from .delineate import INTERVALS, Fiducials, delineate_beat, measure_batch, measure_ecg
from .filters import lowpass, remove_baseline
from .metrics import prd_percent, rmse_mv

__all__ = [
    "INTERVALS", "Fiducials", "delineate_beat", "detect_rpeaks", "lowpass", "match_beats", "measure_batch",
    "measure_ecg", "median_beat", "prd_percent", "remove_baseline", "rmse_mv",
]
