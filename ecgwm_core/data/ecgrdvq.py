"""Load the ECGRDVQ clinical table (SCR-002.Clinical.Data.csv) with its defects made explicit.

One row of the table is one 10-s 12-lead ECG of the FDA crossover study of
dofetilide, quinidine, ranolazine, verapamil and placebo (Johannesen et al.
2014). :func:`load_clinical_table` types the columns cell by cell, converts
every concentration to ng/mL, adds heart rate, QTcF and QTcB, and moves each
row that cannot be used into a separate *rejected* table with the reason(s)
and the offending values (CSV line, column, value, why). A row is rejected
when a number is not a number or not finite, a measurement is missing or out
of its physiological range, its ECG id repeats an earlier row, or its
concentration is negative or more than its dose can give. Periods without a
pre-dose ECG are named in a warning. Nothing is dropped silently, and a table
with no usable row is an error.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..signal.intervals import qtcb_ms, qtcf_ms
from .registry import resolve
from .trial import BASELINE_HOURS
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
PLAUSIBLE_T_AMPLITUDE_UV = (-2000.0, 3000.0)
"""Possible T-wave amplitudes (µV, inclusive): inverted T waves are negative, and even
hyperacute T waves stay below ~2 mV."""
NUMERIC_COLUMNS = ("RANDID", "AGE", "EXDOSE", "TPT", "PCSTRESN", *MEASUREMENTS)
"""Columns coerced to numbers cell by cell; a cell that is not a number rejects its row."""
REQUIRED_VALUES = ("RANDID", "EXTRT", "TPT", *MEASUREMENTS)
"""Columns whose empty cells reject the row."""

WRAPAROUND_BELOW_MS = -(2.0**31)
"""Values below this are unsigned 32-bit wrap-arounds: two verapamil rows hold PR =
-4294966951 and -4294966972 ms (2**32 + value = 345 and 324 ms, but the stored
value cannot be trusted, so the rows are rejected rather than repaired)."""

CONCENTRATION_TO_NG_ML = {"ng/mL": 1.0, "pg/mL": 1e-3}
"""Factors turning the table's ``PCSTRESU`` units into ng/mL."""
DOSE_TO_MG = {"mg": 1.0, "ug": 1e-3}
"""Factors turning dose units (``EXDOSU``, :class:`~ecgwm_core.actions.Action`) into mg."""
PLASMA_VOLUME_L = 3.0
"""Plasma volume of an adult (L). After one oral dose the plasma concentration cannot exceed
the whole dose dissolved in it: 1000 · dose (mg) / 3 L ng/mL. The trial's peaks are 10-100x
lower (dofetilide 3.3 ng/mL after 0.5 mg); a pg/mL-as-ng/mL slip is 1000x higher."""


class MalformedTableError(ValueError):
    """The file is not an SCR-002 clinical table (not CSV, empty, missing columns, or no usable row)."""


class TableWarning(UserWarning):
    """A table loads, but part of it cannot serve every analysis (e.g. a period without a pre-dose ECG)."""


@dataclass(frozen=True)
class ClinicalTable:
    """The clinical table split into usable and rejected rows.

    Attributes
    ----------
    kept : usable rows, one per ECG. Added columns: ``HR`` (bpm), ``QTcF``
        and ``QTcB`` (ms), ``conc_ng_ml`` (plasma concentration in ng/mL,
        NaN where not measured).
    rejected : rows that cannot be used, with a ``reason`` column (the kinds of
        problem, ``"; "`` joined when several apply, e.g. ``"QT not a number"``)
        and a ``detail`` column (CSV line, column, value and why).
    source : the file read.
    warnings : problems that do not reject rows (subject periods without a
        pre-dose ECG); also issued as :class:`TableWarning` when loading.
    """

    kept: pd.DataFrame
    rejected: pd.DataFrame
    source: Path
    warnings: tuple[str, ...] = ()

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
            "problems": self.rejected["detail"].head(20).tolist(),
            "warnings": list(self.warnings),
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


class _Problems:
    """Per row of a table, the problems found: (kind, detail with CSV line, column and value)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.found: dict[int, list[tuple[str, str]]] = {i: [] for i in frame.index}

    def add(self, mask: pd.Series, kind: str, detail: Callable[[int], str]) -> None:
        for i in self.frame.index[mask.fillna(False).to_numpy(dtype=bool)]:
            self.found[i].append((kind, detail(i)))

    def reasons(self) -> pd.Series:
        """Per row, the kinds of problem joined by ``"; "`` (``""`` for a usable row)."""
        return pd.Series({i: "; ".join(kind for kind, _ in v) for i, v in self.found.items()}, dtype=object)

    def details(self) -> pd.Series:
        """Per row, ``"line N: <column> <value> <why>; ..."`` (N counts the header as line 1)."""
        return pd.Series({i: f"line {i + 2}: " + "; ".join(d for _, d in v) for i, v in self.found.items()},
                         dtype=object)


def _coerce(raw: pd.DataFrame, problems: _Problems) -> pd.DataFrame:
    """Numeric columns as floats, cell by cell; non-numbers, infinities and required empties noted."""
    frame = raw.copy()
    for col in NUMERIC_COLUMNS:
        number = pd.to_numeric(raw[col], errors="coerce")
        given = raw[col].notna()
        problems.add(given & number.isna(), f"{col} not a number",
                     lambda i, c=col: f"{c} {raw.at[i, c]!r} is not a number")
        infinite = pd.Series(np.isinf(number.to_numpy(dtype=float)), index=raw.index)
        problems.add(infinite, f"{col} not finite", lambda i, c=col: f"{c} {raw.at[i, c]} is not finite")
        frame[col] = number if number.dtype.kind in "iu" else number.astype(float).where(~infinite)
    for col in REQUIRED_VALUES:
        problems.add(raw[col].isna(), f"{col} missing", lambda i, c=col: f"{c} is empty")
    return frame


def _check_ranges(frame: pd.DataFrame, problems: _Problems) -> None:
    """Measurements outside their physiological range (and 32-bit wrap-arounds) noted."""
    ranges = {**{c: (*r, "ms") for c, r in PLAUSIBLE_MS.items()}, "Twave_amplitude": (*PLAUSIBLE_T_AMPLITUDE_UV, "µV")}
    for col, (low, high, unit) in ranges.items():
        value = frame[col]
        wrapped = value < WRAPAROUND_BELOW_MS
        problems.add(wrapped, f"{col} 32-bit wrap-around (< -2**31 ms)",
                     lambda i, c=col: f"{c} {frame.at[i, c]:.0f} is a 32-bit wrap-around")
        problems.add(~wrapped & ((value < low) | (value > high)), f"{col} outside {low:g}-{high:g} {unit}",
                     lambda i, c=col, lo=low, hi=high, u=unit:
                     f"{c} {frame.at[i, c]:g} is outside the physiological range {lo:g}-{hi:g} {u}")


def _concentrations(frame: pd.DataFrame, problems: _Problems) -> pd.Series:
    """Concentrations in ng/mL; unknown units, negative values and more than the dose can give noted."""
    unit, dose_unit = frame["PCSTRESU"], frame["EXDOSU"]
    problems.add(unit.notna() & ~unit.isin(list(CONCENTRATION_TO_NG_ML)), "unknown concentration unit",
                 lambda i: f"PCSTRESU {unit[i]!r} is not one of {', '.join(CONCENTRATION_TO_NG_ML)}")
    problems.add(dose_unit.notna() & ~dose_unit.isin(list(DOSE_TO_MG)), "unknown dose unit",
                 lambda i: f"EXDOSU {dose_unit[i]!r} is not one of {', '.join(DOSE_TO_MG)}")
    problems.add(frame["EXDOSE"] < 0, "EXDOSE negative", lambda i: f"EXDOSE {frame.at[i, 'EXDOSE']:g} is negative")
    problems.add(frame["PCSTRESN"] < 0, "PCSTRESN negative",
                 lambda i: f"PCSTRESN {frame.at[i, 'PCSTRESN']:g} is negative; concentrations are >= 0")
    conc = frame["PCSTRESN"] * unit.map(CONCENTRATION_TO_NG_ML)
    ceiling = 1000.0 * frame["EXDOSE"] * dose_unit.map(DOSE_TO_MG) / PLASMA_VOLUME_L
    above = conc > ceiling
    problems.add(above, "concentration above what the dose can give",
                 lambda i: f"PCSTRESN {frame.at[i, 'PCSTRESN']:g} {unit[i]} ({conc[i]:.4g} ng/mL) exceeds "
                           f"{ceiling[i]:.4g} ng/mL, all of {frame.at[i, 'EXDOSE']:g} {dose_unit[i]} "
                           f"{frame.at[i, 'EXTRT']} in {PLASMA_VOLUME_L:g} L of plasma; check PCSTRESU "
                           "(pg/mL written as ng/mL?)")
    groups = [frame["EXTRT"], unit]
    share = above.groupby(groups).sum() / conc.notna().groupby(groups).sum()
    slipped = pd.Series(list(zip(frame["EXTRT"], unit)), index=frame.index).isin(share[share > 0.5].index)
    problems.add(slipped & conc.notna() & ~above, "concentration unit implausible for the drug",
                 lambda i: f"most {frame.at[i, 'EXTRT']} concentrations in {unit[i]} exceed what the dose can "
                           "give, so this one's unit is wrong too (1000x?); fix PCSTRESU")
    return conc


def _duplicates(frame: pd.DataFrame, problems: _Problems) -> None:
    """Rows repeating an earlier row's ECG id (``EGREFID``) noted; the first is kept."""
    ids = frame["EGREFID"]
    first = {ecg: i for i, ecg in reversed(list(ids.items()))}
    problems.add(ids.notna() & ids.duplicated(keep="first"), "duplicate EGREFID",
                 lambda i: f"EGREFID {ids[i]} repeats line {first[ids[i]] + 2}")


def _missing_baselines(kept: pd.DataFrame) -> list[str]:
    """A warning naming the subject periods (RANDID, EXTRT) without a usable pre-dose ECG, if any."""
    has_baseline = kept.groupby(["RANDID", "EXTRT"])["TPT"].apply(lambda t: bool((t == BASELINE_HOURS).any()))
    missing = [f"{int(subject)} {drug}" for (subject, drug), ok in has_baseline.items() if not ok]
    if not missing:
        return []
    return [f"{len(missing)} subject period(s) have no usable pre-dose ECG (TPT {BASELINE_HOURS:g} h), so their "
            f"change from baseline cannot be computed: {', '.join(missing)}"]


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
        If the file is empty, not CSV, lacks a required column, or has no usable row.

    Warns
    -----
    TableWarning
        For each entry of :attr:`ClinicalTable.warnings`.
    DataNotFoundError
        If ``path`` is ``None`` and the file is nowhere to be found.
    """
    source = resolve("ecgrdvq", CLINICAL_FILE) if path is None else Path(path)
    if not source.is_file():
        state = "is a folder, not a CSV file" if source.is_dir() else "does not exist"
        raise FileNotFoundError(f"clinical table {source} {state}")
    raw = _read_csv(source)
    problems = _Problems(raw)
    frame = _coerce(raw, problems)
    _check_ranges(frame, problems)
    _duplicates(frame, problems)
    conc = _concentrations(frame, problems)
    frame = frame.assign(
        conc_ng_ml=conc,
        HR=60000.0 / frame["RR"],
        QTcF=qtcf_ms(frame["QT"], frame["RR"] / 1000.0),
        QTcB=qtcb_ms(frame["QT"], frame["RR"] / 1000.0),
    )
    reason, detail = problems.reasons(), problems.details()
    usable = (reason == "").to_numpy()
    kept = frame[usable].astype({"RANDID": "int64"}).reset_index(drop=True)
    rejected = frame[~usable].assign(reason=reason[~usable], detail=detail[~usable]).reset_index(drop=True)
    if kept.empty:
        counts = rejected["reason"].str.split("; ").explode().value_counts()
        raise MalformedTableError(
            f"{source}: no usable row; all {len(rejected)} rows rejected "
            f"({', '.join(f'{k}: {v}' for k, v in counts.items())}), e.g. {rejected['detail'].iloc[0]}"
        )
    notes = _missing_baselines(kept)
    for note in notes:
        warnings.warn(f"{source.name}: {note}", TableWarning, stacklevel=2)
    return ClinicalTable(kept=kept, rejected=rejected, source=source, warnings=tuple(notes))
