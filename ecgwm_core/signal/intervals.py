"""Heart-rate correction of the QT interval: the one implementation of QTcF and QTcB."""
from __future__ import annotations

import numpy as np


def qtcf_ms(qt_ms, rr_s):
    """Fridericia's corrected QT, QT / RR^(1/3) (Fridericia 1920), in ms.

    Parameters
    ----------
    qt_ms : QT interval(s) in ms (scalar, array or pandas Series).
    rr_s : R-R interval(s) in **seconds**, broadcastable with ``qt_ms``.
    """
    return qt_ms / np.cbrt(rr_s)


def qtcb_ms(qt_ms, rr_s):
    """Bazett's corrected QT, QT / RR^(1/2) (Bazett 1920), in ms; ``rr_s`` in seconds."""
    return qt_ms / np.sqrt(rr_s)
