"""Full PhysioNet layouts (ECGRDVQ raw, MIMIC-IV-ECG) read from fixtures.

The fixtures are SYNTHETIC: 12-lead ECGs simulated by the ODE prior and written
with ``wfdb.wrsamp`` in exactly the PhysioNet folder layouts, because the real
waveforms cannot be shipped (size; credentialed access for MIMIC). One record is
also written byte by byte to PhysioNet's header specification, so that the loader
is checked against the format's documentation rather than against wfdb's writer.
"""
import numpy as np
import pandas as pd
import pytest
import wfdb

from ecgwm_core.data import (
    DataNotFoundError, iter_ecgrdvq_ecgs, load_clinical_table, load_ecgrdvq_ecg, load_mimic_ecg,
    load_mimic_measurements, load_mimic_record_list,
)
from ecgwm_core.ode import simulate

LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]


def write_record(folder, name, signal_mv):
    folder.mkdir(parents=True, exist_ok=True)
    wfdb.wrsamp(name, fs=500, units=["mV"] * 12, sig_name=[s.lower() for s in LEADS], p_signal=signal_mv.T,
                fmt=["16"] * 12, adc_gain=[1000.0] * 12, baseline=[0] * 12, write_dir=str(folder))


@pytest.fixture(scope="module")
def ecgs():
    return simulate(n=3, duration_s=10, fs=500, heart_rate=65, leads="12", seed=4).signal.numpy()


def test_ecgrdvq_raw_layout_joined_by_egrefid(tmp_path, monkeypatch, ecgs):
    kept = load_clinical_table().kept.head(3)
    for (_, row), sig in zip(kept.iterrows(), ecgs):
        write_record(tmp_path / "ecgrdvq" / "1.0.0" / "raw" / str(row["RANDID"]), row["EGREFID"], sig)
    monkeypatch.setenv("ECGWM_DATA", str(tmp_path))
    pairs = list(iter_ecgrdvq_ecgs(kept))
    assert len(pairs) == 3
    for (row, rec), sig in zip(pairs, ecgs):
        assert rec.name == row["EGREFID"] and rec.fs == 500 and rec.leads == tuple(LEADS)
        np.testing.assert_allclose(rec.signal, sig, atol=0.0006)  # 1 µV steps of format 16
    with pytest.raises(DataNotFoundError, match=r"ecgrdvq/raw/1001/not-a-record\.hea"):
        load_ecgrdvq_ecg(1001, "not-a-record")


def test_mimic_iv_ecg_layout(tmp_path, monkeypatch, ecgs):
    root = tmp_path / "mimic-iv-ecg" / "1.0"
    subject, study = 10000032, 40689238
    path = f"files/p{str(subject)[:4]}/p{subject}/s{study}/{study}"
    write_record(root / f"files/p{str(subject)[:4]}/p{subject}/s{study}", str(study), ecgs[0])
    pd.DataFrame({"subject_id": [subject], "study_id": [study], "file_name": [str(study)],
                  "ecg_time": ["2180-07-23 08:44:00"], "path": [path]}).to_csv(root / "record_list.csv", index=False)
    pd.DataFrame({"subject_id": [subject], "study_id": [study], "rr_interval": [659], "p_onset": [40],
                  "p_end": [128], "qrs_onset": [170], "qrs_end": [258], "t_end": [518], "p_axis": [29999],
                  "qrs_axis": [77], "t_axis": [79]}).to_csv(root / "machine_measurements.csv", index=False)
    monkeypatch.setenv("ECGWM_DATA", str(tmp_path))
    records = load_mimic_record_list()
    measurements = load_mimic_measurements()
    assert np.isnan(measurements.loc[0, "p_axis"]) and measurements.loc[0, "qrs_end"] == 258
    rec = load_mimic_ecg(records.loc[0, "path"])
    assert rec.signal.shape == (12, 5000)
    np.testing.assert_allclose(rec.signal, ecgs[0], atol=0.0006)


def test_mimic_missing_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("ECGWM_DATA", str(tmp_path))
    with pytest.raises(DataNotFoundError, match=r"(?s)mimic-iv-ecg/record_list\.csv.*physionet\.org/content/mimic-iv-ecg"):
        load_mimic_record_list()


def write_by_the_wfdb_spec(folder, name, adu, gain, baseline, names):
    """A record written by hand to PhysioNet's header specification (WFDB "header(5)"), not by wfdb.wrsamp:
    record line ``name nsig fs nsamp``, one signal line per lead ``file fmt gain(baseline)/units adcres adczero
    initval checksum blocksize description``; format 16 = little-endian 16-bit two's complement, interleaved."""
    folder.mkdir(parents=True, exist_ok=True)
    adu = np.asarray(adu, dtype="<i2")  # (samples, leads)
    lines = [f"{name} {adu.shape[1]} 500 {adu.shape[0]}"]
    for lead, column in zip(names, adu.T):
        checksum = (int(column.astype(np.int64).sum()) + 32768) % 65536 - 32768
        lines.append(f"{name}.dat 16 {gain}({baseline})/mV 16 0 {column[0]} {checksum} 0 {lead}")
    (folder / f"{name}.hea").write_text("\n".join(lines) + "\n")
    adu.tofile(folder / f"{name}.dat")


def test_ecgrdvq_record_written_to_the_header_spec(tmp_path, monkeypatch, ecgs):
    """Physical value = (adu - baseline) / gain in mV, leads named as in the header (any case)."""
    gain, baseline = 200, -12
    adu = np.round(ecgs[0].T * gain).astype(int) + baseline
    names = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
    write_by_the_wfdb_spec(tmp_path / "ecgrdvq" / "raw" / "1001", "spec-record", adu, gain, baseline, names)
    monkeypatch.setenv("ECGWM_DATA", str(tmp_path))
    rec = load_ecgrdvq_ecg(1001, "spec-record")
    assert rec.fs == 500 and rec.leads == tuple(LEADS) and rec.signal.shape == (12, 5000)
    np.testing.assert_allclose(rec.signal, (adu.T - baseline) / gain, atol=1e-12)
    np.testing.assert_allclose(rec.signal, ecgs[0], atol=0.5 / gain + 1e-12)  # half an ADC step
