"""Measuring ECGs: filters, beats (R peaks, median beat) and fit metrics."""
from .beats import detect_rpeaks, match_beats, median_beat
from .filters import remove_baseline
from .metrics import prd_percent, rmse_mv

__all__ = ["detect_rpeaks", "match_beats", "median_beat", "prd_percent", "remove_baseline", "rmse_mv"]
