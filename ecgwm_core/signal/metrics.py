"""Agreement between a signal and its reconstruction."""
from __future__ import annotations

import numpy as np


def prd_percent(x: np.ndarray, x_hat: np.ndarray) -> np.ndarray:
    """PRD (%) per row of (leads, M) arrays."""
    return 100 * np.sqrt(((x - x_hat) ** 2).sum(-1) / (x**2).sum(-1))


def rmse_mv(x: np.ndarray, x_hat: np.ndarray) -> np.ndarray:
    """RMSE (mV) per row of (leads, M) arrays."""
    return np.sqrt(((x - x_hat) ** 2).mean(-1))
