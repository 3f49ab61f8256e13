"""A catalogue of bad inputs (issue 13): each gets a clear one-line error or a stated warning.

Every case names what a careful user might type or pass, the outcome it must
get and words the message must contain:

- ``error``: the CLI exits with status 2 and prints one line
  ``ecgwm <command>: error: ...`` (argparse usage errors: its usage + one line),
  or the library raises the named exception type;
- ``rejected``: a table loads, the bad row is rejected with its line, column,
  value and reason;
- ``warning``: the input is used, with a warning that says what is off;
- ``flagged``: ``measure_ecg`` returns numbers but its ``quality`` says why
  they cannot be physiological;
- ``valid``: an edge case that must be accepted.

For CLI cases the test also checks that no traceback reaches the user and no
file (partial or whole) is left in the output folder. The tables are the
shipped ECGRDVQ table (real data) with one defect planted per file.
"""
from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecgwm_core.actions import Action, fit_pk
from ecgwm_core.cli import main
from ecgwm_core.data import (
    DataNotFoundError,
    MalformedTableError,
    load_clinical_table,
    load_mitdb,
)
from ecgwm_core.data.ecgrdvq import TableWarning
from ecgwm_core.data.records import RecordError
from ecgwm_core.data.registry import BUNDLED_ROOT, resolve
from ecgwm_core.ode import simulate
from ecgwm_core.signal.delineate import measure_ecg

TABLE = BUNDLED_ROOT / "ecgrdvq" / "SCR-002.Clinical.Data.csv"
SUBJECTS = ("1001", "1002")
"""The planted-defect tables keep these two subjects (432 real rows) so each case loads fast."""


# ----------------------------------------------------------------------------------------------
# Inputs: tables with one planted defect, damaged WFDB records, ECG signals


def _real_rows() -> pd.DataFrame:
    frame = pd.read_csv(TABLE, dtype=str, keep_default_na=False)
    return frame[frame["RANDID"].isin(SUBJECTS)].reset_index(drop=True)


def _dofetilide_rows(frame: pd.DataFrame) -> pd.Index:
    return frame.index[(frame["EXTRT"] == "Dofetilide") & (frame["PCSTRESN"] != "NA")]


def _plant(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The real rows with the defect ``name`` planted (row 5 is a post-dose ranolazine ECG of 1001)."""
    f = frame.copy()
    cell = {"qt_letter_o": ("QT", "4OO"), "rr_inf": ("RR", "inf"), "qt_long": ("QT", "1070"),
            "t_amplitude": ("Twave_amplitude", "50000"), "tpt_text": ("TPT", "abc"), "randid_empty": ("RANDID", "NA"),
            "conc_unit": ("PCSTRESU", "mg/L"), "dose_unit": ("EXDOSU", "g"), "dose_negative": ("EXDOSE", "-1500"),
            "pr_wrap": ("PR", "-4294966951")}
    if name in cell:
        column, value = cell[name]
        f.loc[5, column] = value
        if name == "conc_unit":
            f.loc[5, "PCSTRESN"] = "3"
    elif name == "conc_negative":
        f.loc[_dofetilide_rows(f)[:3], "PCSTRESN"] = "-500"
    elif name == "unit_slip":  # dofetilide pg/mL relabelled ng/mL: 1000x
        f.loc[f["PCSTRESU"] == "pg/mL", "PCSTRESU"] = "ng/mL"
    elif name == "unit_slip_only":  # the slipped dofetilide next to placebo only: no drug left to fit
        f.loc[f["PCSTRESU"] == "pg/mL", "PCSTRESU"] = "ng/mL"
        f = f[f["EXTRT"].isin(["Dofetilide", "Placebo"])]
    elif name == "duplicated":
        f = pd.concat([f, f])
    elif name == "no_baseline":
        f = f[~((f["RANDID"] == "1001") & (f["TPT"] == "-0.5"))]
    elif name == "nothing_usable":
        f["QT"] = "x"
    else:
        raise KeyError(name)
    return f


PLANTED = ("qt_letter_o", "rr_inf", "qt_long", "t_amplitude", "tpt_text", "randid_empty", "conc_unit", "dose_unit",
           "dose_negative", "pr_wrap", "conc_negative", "unit_slip", "unit_slip_only", "duplicated", "no_baseline",
           "nothing_usable")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """A folder of bad inputs: planted-defect tables, malformed files, damaged WFDB records."""
    root = tmp_path_factory.mktemp("bad_inputs")
    rows = _real_rows()
    for name in PLANTED:
        _plant(name, rows).to_csv(root / f"{name}.csv", index=False)
    (root / "empty.csv").write_text("")
    (root / "garbage.csv").write_bytes(b"\x00\x01\x02garbage\xff")
    (root / "columns.csv").write_text("a,b\n1,2\n")
    (root / "header_only.csv").write_text(TABLE.read_text().splitlines()[0] + "\n")
    (root / "a_folder.csv").mkdir()
    (root / "a_folder.npz").mkdir()
    (root / "not_a_folder").write_text("x")
    for damage in ("truncated", "corrupt", "other_dat", "empty_header", "no_dat"):
        folder = root / "wfdb" / damage / "mitdb"
        folder.mkdir(parents=True)
        for ext in ("hea", "dat", "atr"):
            shutil.copy(BUNDLED_ROOT / "mitdb" / f"100.{ext}", folder)
    (root / "wfdb/truncated/mitdb/100.dat").write_bytes((BUNDLED_ROOT / "mitdb/100.dat").read_bytes()[:100_000])
    (root / "wfdb/corrupt/mitdb/100.hea").write_text("garbage here\nxx yy\n")
    header = (BUNDLED_ROOT / "mitdb/100.hea").read_text()
    (root / "wfdb/other_dat/mitdb/100.hea").write_text(header.replace("100.dat", "other.dat"))
    (root / "wfdb/empty_header/mitdb/100.hea").write_text("")
    (root / "wfdb/no_dat/mitdb/100.dat").unlink()
    return root


@pytest.fixture(scope="module")
def ecg() -> np.ndarray:
    """A MODEL ECG (ODE prior, 12 leads, 500 Hz, 10 s, 60 bpm) in mV."""
    return simulate(n=1, duration_s=10, fs=500, leads="12", seed=1).signal[0].numpy()


# ----------------------------------------------------------------------------------------------
# The catalogue


@dataclass(frozen=True)
class Case:
    """One bad input.

    ``argv`` (CLI) may hold ``{in}`` (the inputs folder) and ``{out}`` (an empty output folder);
    ``call`` (library) receives the inputs folder and the ECG. ``words`` must all appear in the
    message (CLI: stderr; exception text; rejected rows' detail; warning text; quality).
    """

    id: str
    outcome: str
    words: tuple[str, ...]
    argv: tuple[str, ...] = ()
    call: Callable | None = None
    error: type[BaseException] | None = None
    env: tuple[tuple[str, str], ...] = ()


def cli(id, outcome, words, *argv, env=()):
    return Case(id, outcome, tuple(words), argv=argv, env=env)


def lib(id, outcome, words, call, error=None, env=()):
    return Case(id, outcome, tuple(words), call=call, error=error, env=env)


def _table(name):
    return lambda root, _: load_clinical_table(root / f"{name}.csv")


def _sim(**kwargs):
    return lambda root, _: simulate(**kwargs)


def _action(**changes):
    fields = {"drug": "dofetilide", "dose": 500.0, "unit": "ug", "hours": 2.5} | changes
    return lambda root, _: Action(**fields)


def _measure(transform, fs=500.0):
    return lambda root, ecg: measure_ecg(transform(ecg), fs)


def _mitdb(root, _):
    return load_mitdb()


def _env_mitdb(damage):
    return (("ECGWM_DATA", f"{{in}}/wfdb/{damage}"),)


PREDICT = ("pkpd", "predict", "--drug", "dofetilide")
SIM = ("simulate", "--n", "1", "--duration", "2", "--leads", "1")

CASES = [
    # --- tables through the library: each defect rejects its row, naming line, column and value
    lib("table-qt-letter-o", "rejected", ("line 7", "QT '4OO' is not a number"), _table("qt_letter_o")),
    lib("table-rr-infinite", "rejected", ("RR inf is not finite",), _table("rr_inf")),
    lib("table-qt-out-of-range", "rejected", ("QT 1070", "outside the physiological range 200-700 ms"),
        _table("qt_long")),
    lib("table-t-amplitude", "rejected", ("Twave_amplitude 50000", "-2000-3000 µV"), _table("t_amplitude")),
    lib("table-tpt-text", "rejected", ("TPT 'abc' is not a number",), _table("tpt_text")),
    lib("table-randid-empty", "rejected", ("RANDID is empty",), _table("randid_empty")),
    lib("table-conc-unit", "rejected", ("PCSTRESU 'mg/L'", "ng/mL, pg/mL"), _table("conc_unit")),
    lib("table-dose-unit", "rejected", ("EXDOSU 'g'", "mg, ug"), _table("dose_unit")),
    lib("table-dose-negative", "rejected", ("EXDOSE -1500 is negative",), _table("dose_negative")),
    lib("table-pr-wraparound", "rejected", ("PR -4294966951 is a 32-bit wrap-around",), _table("pr_wrap")),
    lib("table-conc-negative", "rejected", ("PCSTRESN -500 is negative",), _table("conc_negative")),
    lib("table-unit-slip-1000x", "rejected", ("exceeds", "Dofetilide", "pg/mL written as ng/mL"),
        _table("unit_slip")),
    lib("table-duplicate-ids", "rejected", ("EGREFID", "repeats line 2"), _table("duplicated")),
    lib("table-no-baseline", "warning", ("no usable pre-dose ECG", "1001 Dofetilide", "1001 Placebo"),
        _table("no_baseline")),
    lib("table-nothing-usable", "error", ("no usable row", "QT not a number: 432"), _table("nothing_usable"),
        MalformedTableError),
    lib("table-empty-file", "error", ("not a readable CSV",), _table("empty"), MalformedTableError),
    lib("table-binary", "error", ("not a readable CSV",), _table("garbage"), MalformedTableError),
    lib("table-missing-columns", "error", ("missing column(s) EGREFID",), _table("columns"), MalformedTableError),
    lib("table-header-only", "error", ("no rows",), _table("header_only"), MalformedTableError),
    lib("table-absent", "error", ("absent.csv", "does not exist"), _table("absent"), FileNotFoundError),
    lib("table-is-a-folder", "error", ("a_folder.csv", "is a folder"), _table("a_folder"), FileNotFoundError),
    # --- the same through the CLI
    cli("validate-qt-letter-o", "rejected", ("QT not a number", "QT '4OO' is not a number"),
        "data", "validate", "{in}/qt_letter_o.csv"),
    cli("validate-no-baseline", "warning", ("ecgwm data validate: warning:", "1001 Ranolazine"),
        "data", "validate", "{in}/no_baseline.csv"),
    cli("validate-nothing-usable", "error", ("ecgwm data validate: error:", "no usable row"),
        "data", "validate", "{in}/nothing_usable.csv"),
    cli("validate-absent", "error", ("absent.csv",), "data", "validate", "{in}/absent.csv"),
    cli("validate-binary", "error", ("not a readable CSV",), "data", "validate", "{in}/garbage.csv"),
    cli("pkpd-fit-unfittable", "error", ("cannot fit Dofetilide", "only 0 positive concentrations",
                                         "no drug could be fitted"), "pkpd", "fit", "--table", "{in}/unit_slip_only.csv"),
    cli("pkpd-fit-nothing-usable", "error", ("no usable row",), "pkpd", "fit", "--table", "{in}/nothing_usable.csv"),
    cli("predict-dose-nan", "error", ("dose must be a finite number", "nan"), *PREDICT, "--dose", "nan", "ug",
        "--hours", "2"),
    cli("predict-dose-inf", "error", ("dose must be a finite number", "inf"), *PREDICT, "--dose", "inf", "ug",
        "--hours", "2"),
    cli("predict-dose-text", "error", ("--dose amount must be a number", "'abc'"), *PREDICT, "--dose", "abc", "ug",
        "--hours", "2"),
    cli("predict-dose-1000x", "error", ("1000x the trial's only dose", "--extrapolate"), *PREDICT,
        "--dose", "500", "mg", "--hours", "2"),
    cli("predict-after-last-sample", "error", ("30 h is after the last sampled time (24 h)", "--extrapolate"),
        *PREDICT, "--dose", "500", "ug", "--hours", "30"),
    cli("predict-hours-negative", "error", ("hours must be a finite number >= 0",), *PREDICT, "--dose", "500", "ug",
        "--hours", "-1"),
    cli("predict-hours-nan", "error", ("hours must be a finite number >= 0",), *PREDICT, "--dose", "500", "ug",
        "--hours", "nan"),
    cli("predict-unknown-drug", "error", ("unknown drug 'aspirin'",), "pkpd", "predict", "--drug", "aspirin",
        "--dose", "1", "mg", "--hours", "1"),
    cli("predict-unknown-unit", "error", ("unknown dose unit 'g'",), *PREDICT, "--dose", "1", "g", "--hours", "1"),
    cli("predict-placebo", "error", ("placebo has no concentration",), "pkpd", "predict", "--drug", "placebo",
        "--dose", "0", "mg", "--hours", "1"),
    cli("simulate-huge-n", "error", ("GB", "over the 4 GB limit", "--max-memory"), "simulate", "--n", "1000000000",
        "--out", "{out}/s.npz"),
    cli("simulate-memory-limit", "error", ("over the 0.001 GB limit",), *SIM, "--n", "64", "--max-memory", "0.001",
        "--out", "{out}/s.npz"),
    cli("simulate-n-zero", "error", ("n must be an integer >= 1",), "simulate", "--n", "0", "--out", "{out}/s.npz"),
    cli("simulate-txt-extension", "error", ("unsupported extension '.txt'", ".npz"), *SIM, "--out", "{out}/result.txt"),
    cli("simulate-no-extension", "error", ("unsupported extension '(none)'",), *SIM, "--out", "{out}/result"),
    cli("simulate-missing-folder", "error", ("folder", "does not exist", "mkdir -p"), *SIM,
        "--out", "{out}/missing/s.npz"),
    cli("simulate-out-is-folder", "error", ("is a folder",), *SIM, "--out", "{in}/a_folder.npz"),
    cli("simulate-unwritable-folder", "error", ("cannot write in folder /proc",), *SIM, "--out", "/proc/s.npz"),
    cli("simulate-bad-plot-extension", "error", ("--plot", "unsupported extension '.xyz'"), *SIM,
        "--out", "{out}/s.npz", "--plot", "{out}/p.xyz"),
    cli("simulate-plot-missing-folder", "error", ("--plot", "does not exist"), *SIM,
        "--out", "{out}/s.npz", "--plot", "{out}/missing/p.png"),
    cli("simulate-fs-below-floor", "error", ("accuracy floor of 128 Hz",), *SIM, "--fs", "100", "--out", "{out}/s.npz"),
    cli("simulate-fs-negative", "error", ("fs must be a finite number > 0",), *SIM, "--fs", "-5",
        "--out", "{out}/s.npz"),
    cli("simulate-fs-nan", "error", ("fs must be a finite number > 0",), *SIM, "--fs", "nan", "--out", "{out}/s.npz"),
    cli("simulate-shorter-than-a-beat", "error", ("shorter than one beat",), "simulate", "--duration", "0.5",
        "--out", "{out}/s.npz"),
    cli("simulate-heart-rate-300", "error", ("heart_rate must be within 20-250 bpm",), *SIM, "--heart-rate", "300",
        "--out", "{out}/s.npz"),
    cli("simulate-wander-negative", "error", ("wander_mv must be a finite number >= 0",), *SIM, "--wander", "-1",
        "--out", "{out}/s.npz"),
    cli("simulate-hr-std-negative", "error", ("hr_std",), *SIM, "--hr-std", "-1", "--out", "{out}/s.npz"),
    cli("simulate-dipole-preset", "error", ("Presets 'paper'/'reference' are single-lead",), "simulate",
        "--leads", "12", "--preset", "reference", "--out", "{out}/s.npz"),
    cli("simulate-n-text", "error", ("argument --n: invalid int value: 'abc'",), "simulate", "--n", "abc",
        "--out", "{out}/s.npz"),
    cli("twins-out-unwritable", "error", ("cannot write in folder /proc",), "data", "twins", "--out", "/proc/twins"),
    cli("twins-out-is-a-file", "error", ("is a file",), "data", "twins", "--out", "{in}/not_a_folder"),
    cli("figure-unknown", "error", ("unknown figure 'nope'",), "figure", "nope", "--out", "{out}/f.png"),
    cli("figure-missing-folder", "error", ("does not exist",), "figure", "trial-dqtcf", "--out", "{out}/no/f.png"),
    cli("figure-bad-extension", "error", ("unsupported extension '.xyz'",), "figure", "trial-dqtcf",
        "--out", "{out}/f.xyz"),
    cli("figure-all-into-a-file", "error", ("is a file",), "figure", "all", "--out", "{in}/not_a_folder"),
    cli("data-env-missing", "error", ("ECGWM_DATA=", "is not an existing folder"), "data", "info",
        env=(("ECGWM_DATA", "{in}/typo"),)),
    cli("pkpd-env-missing", "error", ("ECGWM_DATA=", "is not an existing folder"), "pkpd", "fit",
        env=(("ECGWM_DATA", "{in}/typo"),)),
    # the other agents' subcommands go through the same boundary
    cli("assess-subject-text", "error", ("subject id must be an integer RANDID",), "assess", "--subject", "abc"),
    cli("predict-qtc-absent-table", "error", ("absent.csv", "does not exist"), "predict-qtc", "{in}/absent.csv",
        "--out", "{out}/p.csv"),
    cli("predict-qtc-nothing-usable", "error", ("no usable row",), "predict-qtc", "{in}/nothing_usable.csv",
        "--out", "{out}/p.csv"),
    cli("rollout-no-checkpoint", "error", ("not a world-model checkpoint",), "rollout", "--checkpoint",
        "{in}/no_checkpoint", "--subject", "1001", "--drug", "dofetilide", "--dose", "500", "ug", "--hours", "2",
        "--out", "{out}/r.npz"),
    cli("train-unknown-config", "error", ("invalid choice: 'nope'",), "train", "--config", "nope",
        "--out", "{out}/checkpoint"),
    cli("predict-qtc-out-txt", "error", ("unsupported extension '.txt'", ".csv"), "predict-qtc",
        "{in}/absent.csv", "--out", "{out}/p.txt"),
    cli("rollout-out-folder-missing", "error", ("does not exist", "mkdir -p"), "rollout", "--checkpoint",
        "{in}/no_checkpoint", "--subject", "1001", "--drug", "dofetilide", "--dose", "500", "ug", "--hours", "2",
        "--out", "{out}/missing/r.npz"),
    cli("train-out-is-a-file", "error", ("is a file, not a folder",), "train", "--out", "{in}/nothing_usable.csv"),
    cli("unknown-command", "error", ("invalid choice: 'simulate-nothing'",), "simulate-nothing"),
    # --- library: simulate
    lib("simulate-numpy-int", "valid", (), _sim(n=np.int64(2), duration_s=2.0)),
    lib("simulate-numpy-floats", "valid", (), _sim(duration_s=np.float32(2.0), fs=np.float64(250), heart_rate=np.int32(70))),
    lib("simulate-n-float", "error", ("n must be an integer", "2.5"), _sim(n=2.5), TypeError),
    lib("simulate-n-string", "error", ("n must be an integer", "'3'"), _sim(n="3"), TypeError),
    lib("simulate-n-bool", "error", ("n must be an integer",), _sim(n=True), TypeError),
    lib("simulate-heart-rate-string", "error", ("heart_rate must be a real number",), _sim(heart_rate="60"), TypeError),
    lib("simulate-fs-below-floor-lib", "error", ("accuracy floor of 128 Hz",), _sim(fs=100.0), ValueError),
    lib("simulate-short-lib", "error", ("shorter than one beat", "40 bpm"), _sim(duration_s=1.0, heart_rate=40),
        ValueError),
    lib("simulate-memory-lib", "error", ("GB", "max_memory_gb"), _sim(n=10**9), ValueError),
    lib("simulate-duration-nan", "error", ("duration_s must be a finite number",), _sim(duration_s=math.nan),
        ValueError),
    lib("simulate-seed-negative", "error", ("seed must be an integer >= 0",), _sim(seed=-1), ValueError),
    lib("simulate-leads", "error", ("leads must be '1', '12' or 'xyz'",), _sim(leads="3"), ValueError),
    # --- library: Action and PK
    lib("action-dose-string", "error", ("Action.dose must be a number", "'500'"), _action(dose="500"), TypeError),
    lib("action-drug-none", "error", ("Action.drug must be a string",), _action(drug=None), TypeError),
    lib("action-unit-number", "error", ("Action.unit must be a string",), _action(unit=1), TypeError),
    lib("action-concentration-string", "error", ("Action.concentration_ng_ml must be a number",),
        _action(concentration_ng_ml="2"), TypeError),
    lib("action-hours-inf", "error", ("hours must be a finite number >= 0",), _action(hours=math.inf), ValueError),
    lib("action-dose-negative", "error", ("dose must be a finite number >= 0",), _action(dose=-1.0), ValueError),
    lib("action-numpy-scalars", "valid", (), _action(dose=np.int64(500), hours=np.float32(2.5))),
    lib("fit-pk-not-a-table", "error", ("kept must be a pandas DataFrame",), lambda r, e: fit_pk([1, 2], "Dofetilide"),
        TypeError),
    lib("fit-pk-missing-columns", "error", ("lacks column(s)", "conc_ng_ml"),
        lambda r, e: fit_pk(pd.DataFrame({"RANDID": [1]}), "Dofetilide"), ValueError),
    # --- library: measure_ecg quality on a MODEL ECG made implausible
    lib("measure-fs-halved", "flagged", ("implausible", "qt_ms", "is fs right?"), _measure(lambda x: x, fs=250.0)),
    lib("measure-microvolts", "flagged", ("implausible", "QRS amplitude", "µV instead of mV"),
        _measure(lambda x: 1000 * x)),
    lib("measure-nan", "flagged", ("non-finite samples",), _measure(lambda x: np.where(np.arange(x.shape[1]) == 9,
                                                                                         np.nan, x))),
    lib("measure-flat", "flagged", ("flat signal",), _measure(lambda x: 0 * x)),
    # --- library: WFDB records and the data root
    lib("wfdb-truncated-dat", "error", ("WFDB record", "100", "download the record again"), _mitdb,
        RecordError, env=_env_mitdb("truncated")),
    lib("wfdb-corrupt-header", "error", ("100.hea", "HeaderSyntaxError"), _mitdb, RecordError,
        env=_env_mitdb("corrupt")),
    lib("wfdb-header-names-missing-dat", "error", ("other.dat",), _mitdb, RecordError,
        env=_env_mitdb("other_dat")),
    lib("wfdb-empty-header", "error", ("100.hea",), _mitdb, RecordError,
        env=_env_mitdb("empty_header")),
    lib("wfdb-missing-dat", "error", ("100.dat is missing",), _mitdb, DataNotFoundError,
        env=_env_mitdb("no_dat")),
    lib("data-root-missing", "error", ("is not an existing folder", "unset it"),
        lambda r, e: resolve("ptbdb", "patient001/s0010_re.hea"), DataNotFoundError,
        env=(("ECGWM_DATA", "{in}/typo"),)),
    lib("data-root-is-a-file", "error", ("is not an existing folder",),
        lambda r, e: resolve("mitdb", "100.hea"), DataNotFoundError, env=(("ECGWM_DATA", "{in}/not_a_folder"),)),
]


def _fill(text: str, root: Path, out: Path) -> str:
    return text.replace("{in}", str(root)).replace("{out}", str(out))


def _run_cli(case: Case, root: Path, out: Path, capsys) -> tuple[int, str, str]:
    try:
        code = main([_fill(a, root, out) for a in case.argv])
    except SystemExit as stop:  # argparse usage errors
        code = stop.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _check_cli(case: Case, root: Path, out: Path, capsys) -> None:
    code, stdout, stderr = _run_cli(case, root, out, capsys)
    text = stdout + stderr
    assert "Traceback" not in text
    for word in case.words:
        assert word in text, f"{word!r} not in {text!r}"
    if case.outcome == "error":
        assert code == 2, stderr
        error_lines = [line for line in stderr.splitlines() if ": error:" in line]
        assert len(error_lines) == 1 and error_lines[0].startswith("ecgwm"), stderr
    else:
        assert code == 0, stderr
    if case.outcome == "warning":
        assert ": warning:" in stderr
    assert sorted(p.name for p in out.iterdir()) == [], "a file was left in the output folder"


def _check_library(case: Case, root: Path, ecg: np.ndarray) -> None:
    if case.error is not None:
        with pytest.raises(case.error) as caught:
            case.call(root, ecg)
        message = str(caught.value)
        assert "\n" not in message.strip(), "the message must be one line"
        for word in case.words:
            assert word in message, f"{word!r} not in {message!r}"
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = case.call(root, ecg)
    issued = " ".join(str(w.message) for w in caught)
    if case.outcome == "warning":
        assert any(issubclass(w.category, TableWarning) for w in caught)
        text = issued
    elif case.outcome == "rejected":
        text = " ".join(result.rejected["detail"])
        assert len(result.rejected) > 0 and len(result.kept) > 0
    elif case.outcome == "flagged":
        text = result["quality"]
        assert text != "ok"
    else:
        assert case.outcome == "valid", case.outcome
        text = ""
    for word in case.words:
        assert word in text, f"{word!r} not in {text!r}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, inputs, ecg, tmp_path, monkeypatch, capsys):
    for name, value in case.env:
        monkeypatch.setenv(name, _fill(value, inputs, tmp_path))
    if case.call is None:
        out = tmp_path / "out"
        out.mkdir()
        _check_cli(case, inputs, out, capsys)
    else:
        _check_library(case, inputs, ecg)


def test_catalogue_size_and_outcomes():
    """At least 60 bad inputs (issue 13), CLI and library both covered, ids unique."""
    assert len(CASES) >= 60 and len({c.id for c in CASES}) == len(CASES)
    outcomes = {c.outcome for c in CASES}
    assert outcomes == {"error", "rejected", "warning", "flagged", "valid"}
    assert sum(c.call is None for c in CASES) >= 25 and sum(c.call is not None for c in CASES) >= 25


def test_unit_slip_changes_no_slope(inputs):
    """The 1000x slip leaves no dofetilide concentration usable (so no fit can be 1000x off), negatives none."""
    slipped = load_clinical_table(inputs / "unit_slip.csv").kept
    assert slipped.loc[slipped["EXTRT"] == "Dofetilide", "conc_ng_ml"].notna().sum() == 0
    negative = load_clinical_table(inputs / "conc_negative.csv")
    assert (negative.kept["conc_ng_ml"].dropna() >= 0).all()
    assert negative.rejected["reason"].str.contains("PCSTRESN negative").sum() == 3


@pytest.mark.parametrize("ratio", [0.5, 1.0])
def test_doses_within_the_trial_are_predicted(ratio, capsys):
    """Half and the full trial dose need no --extrapolate; the prediction scales with the dose."""
    assert main([*PREDICT, "--dose", f"{500 * ratio:g}", "ug", "--hours", "2.5"]) == 0
    assert '"concentration_ng_ml"' in capsys.readouterr().out


def test_extrapolation_is_a_stated_warning(capsys):
    assert main([*PREDICT, "--dose", "500", "mg", "--hours", "2", "--extrapolate"]) == 0
    captured = capsys.readouterr()
    assert "ecgwm pkpd predict: warning: extrapolating: 500 mg is 1000x the trial's only dose" in captured.err
    assert "EXTRAPOLATED" in captured.out


def test_unexpected_failure_is_one_line_with_debug_hint(monkeypatch, capsys):
    from ecgwm_core.cli import simulate as cli_simulate

    def boom(args):
        raise RuntimeError("planted bug")

    monkeypatch.setattr(cli_simulate, "_run", boom)
    assert main(["simulate", "--out", "x.npz"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == ("ecgwm simulate: error: unexpected RuntimeError: planted bug; run with --debug for the "
                           "traceback and please report it")
    with pytest.raises(RuntimeError, match="planted bug"):
        main(["simulate", "--out", "x.npz", "--debug"])


def test_warnings_print_as_one_line(monkeypatch, capsys):
    from ecgwm_core.cli import simulate as cli_simulate

    def warn(args):
        warnings.warn("something is off\n  on two lines", UserWarning)
        return 0

    monkeypatch.setattr(cli_simulate, "_run", warn)
    assert main(["simulate", "--out", "x.npz"]) == 0
    assert capsys.readouterr().err == "ecgwm simulate: warning: something is off on two lines\n"


def test_atomic_output_leaves_nothing_on_failure(tmp_path):
    from ecgwm_core.cli.output import atomic_output

    target = tmp_path / "a.npz"
    with pytest.raises(RuntimeError, match="failed write"), atomic_output(target) as temporary:
        np.savez(temporary, x=np.arange(3))
        assert temporary.suffix == ".npz" and temporary.exists()
        raise RuntimeError("failed write")
    assert list(tmp_path.iterdir()) == []
    with atomic_output(target) as temporary:
        np.savez(temporary, x=np.arange(3))
    assert [p.name for p in tmp_path.iterdir()] == ["a.npz"]
    assert np.load(target)["x"].tolist() == [0, 1, 2]
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_is_refused(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    assert main(["simulate", "--out", str(folder / "s.npz")]) == 2
    assert "cannot write in folder" in capsys.readouterr().err


def test_simulate_writes_uncompressed_by_default_and_says_so(tmp_path, capsys):
    """Issue 9 §4: uncompressed unless --compress; the line printed names the file, its size and the times."""
    plain, packed = tmp_path / "plain.npz", tmp_path / "packed.npz"
    assert main([*SIM, "--n", "2", "--out", str(plain)]) == 0
    line = capsys.readouterr().out
    assert line.startswith(f"wrote {plain} (") and "uncompressed" in line and "simulated in" in line
    assert main([*SIM, "--n", "2", "--out", str(packed), "--compress"]) == 0
    assert "compressed" in capsys.readouterr().out
    import zipfile

    assert {i.compress_type for i in zipfile.ZipFile(plain).infolist()} == {zipfile.ZIP_STORED}
    assert {i.compress_type for i in zipfile.ZipFile(packed).infolist()} == {zipfile.ZIP_DEFLATED}
    np.testing.assert_array_equal(np.load(plain)["signal"], np.load(packed)["signal"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["packed.npz", "plain.npz"]


def test_cli_default_memory_limit_matches_the_library():
    from ecgwm_core.cli.simulate import MAX_MEMORY_GB as CLI_LIMIT
    from ecgwm_core.ode.simulate import MAX_MEMORY_GB

    assert CLI_LIMIT == MAX_MEMORY_GB


def test_console_script_prints_no_traceback_and_debug_shows_it(tmp_path):
    """The installed ``ecgwm`` script, as a user runs it."""
    ecgwm = str(Path(sys.executable).with_name("ecgwm"))
    argv = [ecgwm, "simulate", "--out", str(tmp_path / "result.txt")]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (f"ecgwm simulate: error: --out {tmp_path / 'result.txt'}: unsupported extension "
                             "'.txt'; use one of .npz\n")
    debug = subprocess.run([*argv, "--debug"], capture_output=True, text=True, timeout=120, check=False)
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "OutputPathError" in debug.stderr
    assert list(tmp_path.iterdir()) == []
