"""The project's one vocabulary: treatments, measurement columns and lead names.

Every module that needs one of these names imports it from here, so that a
spelling lives in one place.
"""
from __future__ import annotations

from collections.abc import Iterable

PLACEBO = "Placebo"
"""The control treatment as spelled in ``EXTRT``."""
DRUGS = (PLACEBO, "Dofetilide", "Quinidine Sulph", "Ranolazine", "Verapamil HCL")
"""The ECGRDVQ treatments as spelled in ``EXTRT`` (placebo first)."""
ACTIVE_DRUGS = DRUGS[1:]
"""The four active drugs of the trial, in the trial's order."""

MEASUREMENTS = ("RR", "PR", "QT", "QRS", "JTPEAK", "TPEAKTEND", "Twave_amplitude")
"""Measurement columns of the clinical table (intervals in ms, T amplitude in µV)."""
COLUMN_TO_INTERVAL = {"RR": "rr_ms", "PR": "pr_ms", "QRS": "qrs_ms", "QT": "qt_ms", "JTPEAK": "jtpeak_ms",
                      "TPEAKTEND": "tpeaktend_ms", "Twave_amplitude": "t_amplitude_uv"}
"""Clinical-table column -> the delineator's name for the same measurement
(:data:`ecgwm_core.signal.INTERVALS`)."""

DERIVED_COLUMNS = ("conc_ng_ml", "HR", "QTcF", "QTcB")
"""Columns :func:`~ecgwm_core.data.load_clinical_table` computes from the source columns.
QTcF uses a cube root, whose last bit can differ between CPUs and numpy's SIMD paths, so
content hashes of a table (cache keys) leave these columns out."""

STANDARD_12 = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
"""The 12 standard leads in their conventional order and canonical spelling."""


def active_drugs(treatments: Iterable[str]) -> list[str]:
    """The active drugs among ``treatments`` (e.g. a table's ``EXTRT`` column), in the trial's order.

    Names outside :data:`DRUGS` are kept after the trial's drugs, sorted, so that a
    user table with another drug still lists it.
    """
    present = set(treatments) - {PLACEBO}
    return [d for d in ACTIVE_DRUGS if d in present] + sorted(present - set(ACTIVE_DRUGS))
