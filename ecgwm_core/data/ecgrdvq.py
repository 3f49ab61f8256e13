"""Load the ECGRDVQ clinical table (SCR-002.Clinical.Data.csv) with its defects made explicit.

One row of the table is one 10-s 12-lead ECG of the FDA crossover study of
dofetilide, quinidine, ranolazine, verapamil and placebo (Johannesen et al.
2014). :func:`load_clinical_table` types the columns, converts every
concentration to ng/mL, adds heart rate, QTcF and QTcB, and moves each row
that cannot be used into a separate *rejected* table with the reason(s).
Nothing is dropped silently.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..signal.intervals import qtcb_ms, qtcf_ms
from .registry import resolve
from .vocabulary import MEASUREMENTS

CLINICAL_FILE = "SCR-002.Clinical.Data.csv"

REQUIRED_COLUMNS = (
    "EGREFID", "RANDID", "SEX", "AGE", "ARMCD", "VISIT", "EXTRT", "EXDOSE", "EXDOSU",
    "TPT", "BASELINE", "PCSTRESN", "PCSTRESU", "RR", "PR", "QT", "QRS", "JTPEAK",
    "TPEAKTEND", "Twave_amplitude",
)
"""Columns a table must have to be loaded."""


PLAUSIBLE_MS = {
    "RR": (300.0, 2000.0),
    "PR": (50.0, 400.0),
    "QT": (200.0, 700.0),
    "QRS": (40.0, 250.0),
    "JTPEAK": (50.0, 500.0),
    "TPEAKTEND": (20.0, 300.0),
}
"""Physiologically possible ranges (ms, inclusive); values outside are rejected."""

WRAPAROUND_BELOW_MS = -(2.0**31)
"""Values below this are unsigned 32-bit wrap-arounds: two verapamil rows hold PR =
-4294966951 and -4294966972 ms (2**32 + value = 345 and 324 ms, but the stored
value cannot be trusted, so the rows are rejected rather than repaired)."""

CONCENTRATION_TO_NG_ML = {"ng/mL": 1.0, "pg/mL": 1e-3}
"""Factors turning the table's ``PCSTRESU`` units into ng/mL."""



class MalformedTableError(ValueError):
    """The file is not an SCR-002 clinical table (not CSV, empty or missing columns)."""


@dataclass(frozen=True)
class ClinicalTable:
    """The clinical table split into usable and rejected rows.

    Attributes
    ----------
    kept : usable rows, one per ECG. Added columns: ``HR`` (bpm), ``QTcF``
        and ``QTcB`` (ms), ``conc_ng_ml`` (plasma concentration in ng/mL,
        NaN where not measured).
    rejected : rows that cannot be used, with a ``reason`` column (``"; "``
        joined when several apply).
    source : the file read.
    """

    kept: pd.DataFrame
    rejected: pd.DataFrame
    source: Path

    def reason_counts(self) -> dict[str, int]:
        """Number of rejected rows per single reason (a row may count twice)."""
        reasons = self.rejected["reason"].str.split("; ").explode()
        return {str(k): int(v) for k, v in reasons.value_counts().sort_index().items()}

    def summary(self) -> dict:
        """Counts for reports and ``ecgwm data validate``."""
        return {
            "file": str(self.source),
            "rows": int(len(self.kept) + len(self.rejected)),
            "kept": int(len(self.kept)),
            "rejected": int(len(self.rejected)),
            "reasons": self.reason_counts(),
            "subjects": int(pd.concat([self.kept, self.rejected])["RANDID"].nunique()),
            "drugs": sorted(self.kept["EXTRT"].unique().tolist()),
        }

    def summary_line(self) -> str:
        """One line: rows kept and rejected, with the reasons."""
        s = self.summary()
        reasons = ", ".join(f"{k}: {v}" for k, v in s["reasons"].items()) or "none"
        return (
            f"{s['rows']} rows, {s['subjects']} subjects: kept {s['kept']}, "
            f"rejected {s['rejected']} ({reasons})"
        )


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, na_values=["NA"], keep_default_na=True)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise MalformedTableError(f"{path}: not a readable CSV table ({err})") from err
    if frame.empty:
        raise MalformedTableError(f"{path}: the table has no rows")
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise MalformedTableError(
            f"{path}: missing column(s) {', '.join(missing)}; an SCR-002 clinical table "
            f"(ECGRDVQ on PhysioNet) needs {', '.join(REQUIRED_COLUMNS)}"
        )
    return frame


def _rejection_reasons(frame: pd.DataFrame) -> pd.Series:
    """Per row, the reasons it cannot be used ('' when it can)."""
    reasons = pd.Series([[] for _ in range(len(frame))], index=frame.index)

    def add(mask: pd.Series, text: str) -> None:
        for i in frame.index[mask.to_numpy()]:
            reasons[i].append(text)

    for col in MEASUREMENTS:
        add(frame[col].isna(), f"{col} missing")
    for col, (low, high) in PLAUSIBLE_MS.items():
        value = frame[col]
        wrapped = value < WRAPAROUND_BELOW_MS
        add(wrapped, f"{col} 32-bit wrap-around (< -2**31 ms)")
        add(value.notna() & ~wrapped & ((value < low) | (value > high)), f"{col} outside {low:g}-{high:g} ms")
    unit = frame["PCSTRESU"]
    add(unit.notna() & ~unit.isin(list(CONCENTRATION_TO_NG_ML)), "unknown concentration unit")
    return reasons.map("; ".join)


def load_clinical_table(path: str | Path | None = None) -> ClinicalTable:
    """Read and check an SCR-002 clinical table.

    Parameters
    ----------
    path : CSV file. ``None`` reads ``ecgrdvq/SCR-002.Clinical.Data.csv``
        from ``$ECGWM_DATA`` (the full 22-subject file) or the bundled copy.

    Returns
    -------
    ClinicalTable
        ``kept`` and ``rejected`` rows; see :class:`ClinicalTable`.

    Raises
    ------
    MalformedTableError
        If the file is empty, not CSV, or lacks a required column.
    DataNotFoundError
        If ``path`` is ``None`` and the file is nowhere to be found.
    """
    source = resolve("ecgrdvq", CLINICAL_FILE) if path is None else Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"clinical table {source} does not exist")
    frame = _read_csv(source)
    reason = _rejection_reasons(frame)
    frame = frame.assign(
        conc_ng_ml=frame["PCSTRESN"] * frame["PCSTRESU"].map(CONCENTRATION_TO_NG_ML),
        HR=60000.0 / frame["RR"],
        QTcF=qtcf_ms(frame["QT"], frame["RR"] / 1000.0),
        QTcB=qtcb_ms(frame["QT"], frame["RR"] / 1000.0),
    )
    usable = reason == ""
    kept = frame[usable].reset_index(drop=True)
    rejected = frame[~usable].assign(reason=reason[~usable]).reset_index(drop=True)
    return ClinicalTable(kept=kept, rejected=rejected, source=source)
