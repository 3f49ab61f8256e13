"""Loaders of the bundled real data: registry, clinical table, WFDB records."""
import json
import shutil

import numpy as np
import pytest

from ecgwm_core.data import (
    DataNotFoundError,
    MalformedTableError,
    load_clinical_table,
    load_mitdb,
    load_ptb,
    resolve,
)
from ecgwm_core.data.registry import BUNDLED_ROOT


@pytest.fixture(scope="module")
def table():
    return load_clinical_table()


def test_clinical_table_counts_and_rejections(table):
    summary = table.summary()
    assert summary["rows"] == 3792
    assert summary["subjects"] == 16
    assert summary["rejected"] == 11 and summary["kept"] == 3781
    assert summary["reasons"]["QT missing"] == 9
    assert summary["reasons"]["PR 32-bit wrap-around (< -2**31 ms)"] == 2
    wrapped = table.rejected[table.rejected["reason"].str.contains("wrap-around")]
    assert sorted(wrapped["PR"]) == [-4294966972.0, -4294966951.0]
    assert set(wrapped["EXTRT"]) == {"Verapamil HCL"}
    # nothing implausible is kept
    kept = table.kept
    assert kept[["RR", "PR", "QT", "QRS"]].notna().all().all()
    assert kept["PR"].between(50, 400).all() and kept["RR"].between(300, 2000).all()


def test_concentrations_are_converted_to_ng_per_ml(table):
    kept = table.kept
    dof = kept[(kept["EXTRT"] == "Dofetilide") & kept["PCSTRESN"].notna()]
    assert (dof["PCSTRESU"] == "pg/mL").all()
    np.testing.assert_allclose(dof["conc_ng_ml"], dof["PCSTRESN"] / 1000)
    # published dofetilide Cmax after 500 µg is a few ng/mL, not thousands
    assert 1.5 < dof["conc_ng_ml"].max() < 5
    quin = kept[(kept["EXTRT"] == "Quinidine Sulph") & kept["PCSTRESN"].notna()]
    np.testing.assert_allclose(quin["conc_ng_ml"], quin["PCSTRESN"])


def test_rate_corrections(table):
    row = table.kept.iloc[0]
    rr_s = row["RR"] / 1000
    assert row["QTcF"] == pytest.approx(row["QT"] / rr_s ** (1 / 3))
    assert row["QTcB"] == pytest.approx(row["QT"] / rr_s**0.5)
    assert row["HR"] == pytest.approx(60 / rr_s)
    # healthy volunteers: QTcF at baseline within the normal range
    base = table.kept[table.kept["TPT"] == -0.5]["QTcF"]
    assert 370 < base.mean() < 430


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "not a readable CSV"),
        ('"EGREFID","RANDID"\n"a",1\n', "missing column(s) SEX"),
        ("\x00\x01\x02garbage\xff", "not a readable CSV"),
    ],
)
def test_malformed_tables_are_named(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content.encode("latin-1"))
    with pytest.raises(MalformedTableError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_clinical_table(path)


def test_header_only_table_is_rejected(tmp_path):
    header = open(BUNDLED_ROOT / "ecgrdvq" / "SCR-002.Clinical.Data.csv").readline()
    path = tmp_path / "empty.csv"
    path.write_text(header)
    with pytest.raises(MalformedTableError, match="no rows"):
        load_clinical_table(path)


def test_missing_file_error_names_file_and_source(monkeypatch, tmp_path):
    monkeypatch.setenv("ECGWM_DATA", str(tmp_path))
    with pytest.raises(DataNotFoundError) as err:
        resolve("ptbdb", "patient002/s0015lre.hea")
    text = str(err.value)
    assert "ptbdb/patient002/s0015lre.hea" in text
    assert "physionet.org/content/ptbdb" in text and "ECGWM_DATA" in text
    with pytest.raises(ValueError, match="known data sets: ecgrdvq, mimic-iv-ecg, mitdb, ptbdb"):
        resolve("nope", "x")


def test_ecgwm_data_reads_full_physionet_layout(monkeypatch, tmp_path):
    """A user's download (<root>/<slug>/1.0.0/...) wins over the bundled copy."""
    versioned = tmp_path / "mitdb" / "1.0.0"
    versioned.mkdir(parents=True)
    for ext in ("hea", "dat", "atr"):
        shutil.copy(BUNDLED_ROOT / "mitdb" / f"100.{ext}", versioned / f"100.{ext}")
    ptb = tmp_path / "ptbdb" / "patient001"
    ptb.mkdir(parents=True)
    for ext in ("hea", "dat"):  # .xyz deliberately missing
        shutil.copy(BUNDLED_ROOT / "ptbdb" / "patient001" / f"s0010_re.{ext}", ptb)
    monkeypatch.setenv("ECGWM_DATA", str(tmp_path))
    assert resolve("mitdb", "100.hea") == versioned / "100.hea"
    assert load_mitdb().signal.shape == (2, 650000)
    with pytest.raises(DataNotFoundError, match=r"s0010_re\.xyz is missing"):
        load_ptb()


def test_ptb_record_is_real_and_consistent():
    rec = load_ptb()
    assert rec.fs == 1000 and rec.signal.shape == (15, 38400)
    assert rec.leads[:3] == ("I", "II", "III") and rec.leads[-3:] == ("X", "Y", "Z")
    # Einthoven and Goldberger hold on the recorded leads up to 16-bit rounding
    i, ii, iii, avr, avl, avf = (rec.lead(n) for n in ("I", "II", "III", "aVR", "aVL", "aVF"))
    assert np.abs(ii - i - iii).max() < 0.005
    assert np.abs(avr + avl + avf).max() < 0.005
    assert 0.5 < np.ptp(ii) < 5  # mV, a plausible QRS amplitude range
    with pytest.raises(KeyError, match="leads: I, II"):
        rec.lead("V7")


def test_mitdb_100_annotations():
    rec = load_mitdb()
    symbols, counts = np.unique(rec.beat_symbols, return_counts=True)
    assert dict(zip(symbols, counts)) == {"A": 33, "N": 2239, "V": 1}
    rr = np.diff(rec.beat_samples) / rec.fs
    assert 70 < 60 / rr.mean() < 80  # record 100's mean rate is ~75 bpm
    window = rec.window(10.0, 20.0)
    assert window.signal.shape == (2, 3600)
    assert ((window.beat_samples >= 0) & (window.beat_samples < 3600)).all()
    assert 10 <= len(window.beat_samples) <= 15
    with pytest.raises(ValueError, match="outside record"):
        rec.window(5.0, 4000.0)


def test_validate_summary_is_json_ready(table):
    summary = table.summary()
    assert set(summary) >= {"rows", "kept", "rejected", "reasons", "subjects", "drugs"}
    assert summary["drugs"] == sorted(["Dofetilide", "Placebo", "Quinidine Sulph", "Ranolazine", "Verapamil HCL"])
    assert json.loads(json.dumps(summary)) == summary
