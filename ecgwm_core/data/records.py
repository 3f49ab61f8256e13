"""Read the real PhysioNet waveform records (PTB, MIT-BIH) with ``wfdb``.

Every read goes through :func:`read_record` / :func:`read_annotation`, which
turn ``wfdb``'s failures on a damaged record (a corrupt header, a missing or
truncated signal file: ``HeaderSyntaxError``, ``IndexError``, a broadcasting
``ValueError``...) into :class:`RecordError` naming the file.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import wfdb

from .registry import DATASETS, DataNotFoundError, resolve
from .vocabulary import STANDARD_12

_T = TypeVar("_T")


class RecordError(ValueError):
    """A WFDB record exists but cannot be read (corrupt header, missing or truncated signal file)."""


def _wfdb(stem: str, what: str, read: Callable[[], _T]) -> _T:
    """``read()``, with any failure of ``wfdb`` on record ``stem`` raised as :class:`RecordError`."""
    try:
        return read()
    except Exception as err:  # wfdb's parsers raise many types on damaged files; all mean the same here
        raise RecordError(
            f"cannot read the {what} of WFDB record {stem} ({Path(stem).name}.hea and the files it names): "
            f"{type(err).__name__}: {err}. The file is damaged or incomplete; download the record again"
        ) from err


def read_record(stem: str) -> wfdb.Record:
    """``wfdb.rdrecord(stem)``, checked: :class:`RecordError` names the record if it cannot be read."""
    record = _wfdb(stem, "signals", lambda: wfdb.rdrecord(stem))
    if record.p_signal is None or len(record.p_signal) != record.sig_len:
        raise RecordError(f"WFDB record {stem}: the signal file holds fewer samples than its header says "
                          f"({record.sig_len}); it is truncated, download it again")
    return record


def read_annotation(stem: str, extension: str) -> wfdb.Annotation:
    """``wfdb.rdann(stem, extension)``, checked like :func:`read_record`."""
    return _wfdb(stem, f"{extension} annotations", lambda: wfdb.rdann(stem, extension))


_CANONICAL = {name.lower(): name for name in STANDARD_12} | {
    "vx": "X", "vy": "Y", "vz": "Z", "mlii": "MLII",
}


@dataclass(frozen=True)
class Recording:
    """A multi-lead ECG record in physical units.

    Attributes
    ----------
    signal : (leads, samples) float64 array in mV.
    fs : sampling frequency in Hz.
    leads : lead names, canonical spelling (``"I"``, ``"aVR"``, ``"V1"``, ``"X"``...).
    name : record name.
    beat_samples : reference beat annotation sample indices (empty if none).
    beat_symbols : the matching annotation symbols (``"N"``, ``"A"``, ``"V"``...).
    """

    signal: np.ndarray
    fs: float
    leads: tuple[str, ...]
    name: str
    beat_samples: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    beat_symbols: tuple[str, ...] = ()

    @property
    def duration_s(self) -> float:
        """Length of the record in seconds."""
        return self.signal.shape[1] / self.fs

    def lead(self, name: str) -> np.ndarray:
        """One lead's samples (mV) by name; ``KeyError`` lists the leads present."""
        if name not in self.leads:
            raise KeyError(f"lead {name!r} not in record {self.name}; leads: {', '.join(self.leads)}")
        return self.signal[self.leads.index(name)]

    def window(self, start_s: float, stop_s: float) -> "Recording":
        """The part of the record between ``start_s`` and ``stop_s`` (seconds)."""
        if not 0 <= start_s < stop_s <= self.duration_s:
            raise ValueError(
                f"window {start_s}-{stop_s} s is outside record {self.name} (0-{self.duration_s:.1f} s)"
            )
        a, b = int(round(start_s * self.fs)), int(round(stop_s * self.fs))
        inside = (self.beat_samples >= a) & (self.beat_samples < b)
        return Recording(
            signal=self.signal[:, a:b],
            fs=self.fs,
            leads=self.leads,
            name=f"{self.name}[{start_s:g}-{stop_s:g} s]",
            beat_samples=self.beat_samples[inside] - a,
            beat_symbols=tuple(np.asarray(self.beat_symbols, dtype=object)[inside]),
        )


def _stem(key: str, record: str, companions: tuple[str, ...]) -> str:
    """WFDB record path (no extension) after checking that all its files exist.

    ``wfdb`` reads the signal and annotation files from the header's folder, so
    they are looked for there and named in the error if absent.
    """
    header = resolve(key, f"{record}.hea")
    for ext in companions:
        if not header.with_suffix(ext).is_file():
            raise DataNotFoundError(
                f"{header.with_suffix(ext)} is missing: a WFDB record needs its header and "
                f"its {', '.join(companions)} file(s) in the same folder. "
                f"Download the record again from {DATASETS[key].url}"
            )
    return str(header.with_suffix(""))


def _recording(record: wfdb.Record, **annotations) -> Recording:
    return Recording(
        signal=np.asarray(record.p_signal, dtype=np.float64).T.copy(),
        fs=float(record.fs),
        leads=tuple(_CANONICAL.get(n.lower(), n) for n in record.sig_name),
        name=record.record_name,
        **annotations,
    )


def load_ptb(record: str = "patient001/s0010_re") -> Recording:
    """A PTB Diagnostic ECG Database record: 12 standard leads + Frank X, Y, Z, 1000 Hz.

    Parameters
    ----------
    record : path inside ``ptbdb/`` without extension. The bundled record is
        ``patient001/s0010_re``; others need ``$ECGWM_DATA``.

    Raises
    ------
    DataNotFoundError
        If a file of the record is missing.
    RecordError
        If the record is damaged (corrupt header, truncated signal file).

    Returns
    -------
    Recording
        15 leads (``I ... V6, X, Y, Z``) in mV.
    """
    return _recording(read_record(_stem("ptbdb", record, (".dat", ".xyz"))))


def load_mitdb(record: str = "100") -> Recording:
    """An MIT-BIH Arrhythmia Database record with its reference beat annotations.

    Parameters
    ----------
    record : record name, e.g. ``"100"`` (bundled); others need ``$ECGWM_DATA``.

    Returns
    -------
    Recording
        2 leads (e.g. ``MLII``, ``V5``) in mV at 360 Hz, with ``beat_samples``
        and ``beat_symbols`` from the ``atr`` annotation file (beat labels only;
        rhythm and signal-quality annotations are left out).
    """
    stem = _stem("mitdb", record, (".dat", ".atr"))
    rec = read_record(stem)
    ann = read_annotation(stem, "atr")
    symbols = np.asarray(ann.symbol, dtype=object)
    is_beat = np.isin(symbols, list(BEAT_SYMBOLS))
    return _recording(
        rec,
        beat_samples=np.asarray(ann.sample)[is_beat].astype(np.int64),
        beat_symbols=tuple(symbols[is_beat]),
    )


BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")
"""WFDB annotation codes that mark a beat (PhysioBank annotation table)."""
