"""Full PhysioNet layouts that are not shipped: ECGRDVQ raw waveforms and MIMIC-IV-ECG.

Both need a user's download (``$ECGWM_DATA``): the ECGRDVQ waveforms are 5,232
10-s records and MIMIC-IV-ECG (about 800,000 ECGs) needs credentialed access.
Missing files raise :class:`~ecgwm_core.data.DataNotFoundError` naming the
file and where to get the data set; damaged ones :class:`~ecgwm_core.data.records.RecordError`.

- ECGRDVQ: ``ecgrdvq/raw/<RANDID>/<EGREFID>.{hea,dat}``, 12 leads at 500 Hz,
  joined to the clinical table by ``EGREFID``.
- MIMIC-IV-ECG: ``record_list.csv`` (``subject_id``, ``study_id``,
  ``file_name``, ``ecg_time``, ``path``), the records at
  ``files/pNNNN/pNNNNNNNN/sNNNNNNNN/NNNNNNNN`` and ``machine_measurements.csv``
  (global intervals in ms, 29999 meaning "not measured").
"""
from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from .records import Recording, _recording, _stem, read_record
from .registry import resolve

MIMIC_MISSING = 29999
"""Value MIMIC-IV-ECG's machine measurements use for "not measured"."""
MIMIC_INTERVALS = ("rr_interval", "p_onset", "p_end", "qrs_onset", "qrs_end", "t_end", "p_axis", "qrs_axis", "t_axis")


def load_ecgrdvq_ecg(randid: int, egrefid: str) -> Recording:
    """One ECGRDVQ waveform, ``raw/<RANDID>/<EGREFID>``, in mV.

    Raises
    ------
    DataNotFoundError
        If the record is not under ``$ECGWM_DATA/ecgrdvq``.
    """
    return _recording(read_record(_stem("ecgrdvq", f"raw/{int(randid)}/{egrefid}", (".dat",))))


def iter_ecgrdvq_ecgs(kept: pd.DataFrame) -> Iterator[tuple[pd.Series, Recording]]:
    """Each usable clinical-table row with its waveform, joined by ``EGREFID``."""
    for _, row in kept.iterrows():
        yield row, load_ecgrdvq_ecg(row["RANDID"], row["EGREFID"])


def load_mimic_record_list() -> pd.DataFrame:
    """MIMIC-IV-ECG ``record_list.csv`` (one row per study, with the waveform ``path``)."""
    return pd.read_csv(resolve("mimic-iv-ecg", "record_list.csv"))


def load_mimic_measurements() -> pd.DataFrame:
    """MIMIC-IV-ECG ``machine_measurements.csv`` with the 29999 sentinel turned into NaN."""
    table = pd.read_csv(resolve("mimic-iv-ecg", "machine_measurements.csv"))
    present = [c for c in MIMIC_INTERVALS if c in table.columns]
    table[present] = table[present].mask(table[present] == MIMIC_MISSING)
    return table


def load_mimic_ecg(path: str) -> Recording:
    """One MIMIC-IV-ECG record by its ``path`` from the record list, e.g.
    ``files/p1000/p10000032/s40689238/40689238``, in mV."""
    return _recording(read_record(_stem("mimic-iv-ecg", path, (".dat",))))
