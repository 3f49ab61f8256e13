"""The ``ecgwm`` console script, run as a user would run it."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

import ecgwm_core

ECGWM = [str(Path(sys.executable).with_name("ecgwm"))]


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([*ECGWM, *args], capture_output=True, text=True, check=check, timeout=120)


def test_version_and_help():
    assert run("--version").stdout.strip() == f"ecgwm {ecgwm_core.__version__}"
    help_text = run("--help").stdout
    for command in ("data", "figure"):
        assert command in help_text


def test_data_info_lists_bundled_sets():
    text = run("data", "info").stdout
    assert "3792 rows (ECGs), 16 subjects" in text
    assert "patient001/s0010_re" in text and "record(s): 100" in text
    assert text.count("ODC-By 1.0") == 3
    info = json.loads(run("data", "info", "--json").stdout)
    assert {d["key"] for d in info} == {"ecgrdvq", "ptbdb", "mitdb"}
    assert all(d["size_bytes"] > 100_000 for d in info)


def test_data_validate_good_and_bad(tmp_path):
    from ecgwm_core.data.registry import BUNDLED_ROOT

    good = run("data", "validate", str(BUNDLED_ROOT / "ecgrdvq" / "SCR-002.Clinical.Data.csv"))
    summary = json.loads(good.stdout)
    assert (summary["rows"], summary["kept"], summary["rejected"]) == (3792, 3781, 11)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    result = run("data", "validate", str(bad), check=False)
    assert result.returncode == 2 and "missing column(s) EGREFID" in result.stderr
    result = run("data", "validate", str(tmp_path / "absent.csv"), check=False)
    assert result.returncode == 2 and "absent.csv" in result.stderr


def test_figure_regenerates_a_book_figure(tmp_path):
    names = run("figure", "list").stdout
    assert "trial-dqtcf" in names and "ptb-12lead" in names
    out = tmp_path / "dqtcf.png"
    run("figure", "trial-dqtcf", "--out", str(out))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20_000
    unknown = run("figure", "nope", "--out", str(out), check=False)
    assert unknown.returncode == 2 and "known: ptb-12lead" in unknown.stderr


@pytest.mark.parametrize("argv", [[], ["data"], ["simulate-nothing"]])
def test_usage_errors_exit_2(argv):
    result = run(*argv, check=False)
    assert result.returncode == 2 and "usage: ecgwm" in result.stderr


def test_simulate_writes_npz_and_plot(tmp_path):
    import numpy as np

    out, plot = tmp_path / "sim.npz", tmp_path / "sim.png"
    run("simulate", "--n", "2", "--fs", "250", "--heart-rate", "72", "--leads", "12", "--seed", "1",
        "--out", str(out), "--plot", str(plot))
    data = np.load(out)
    assert data["signal"].shape == (2, 12, 2500) and float(data["fs"]) == 250.0
    assert list(data["leads"][:3]) == ["I", "II", "III"]
    rpeaks = data["rpeaks"][0]
    rr_s = np.diff(rpeaks[rpeaks >= 0]) / 250.0
    assert 60 / rr_s.mean() == pytest.approx(72, abs=3)
    assert plot.read_bytes()[:4] == b"\x89PNG"
    single = tmp_path / "one.npz"
    run("simulate", "--leads", "1", "--preset", "reference", "--duration", "5", "--out", str(single))
    assert np.load(single)["signal"].shape == (1, 1, 2500)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--heart-rate", "300"], "heart_rate must be within 20-250 bpm"),
        (["--leads", "12", "--preset", "reference"], "Presets 'paper'/'reference' are single-lead"),
        (["--fs", "-5"], "fs must be a finite number > 0"),
    ],
)
def test_simulate_bad_input_exits_2(tmp_path, args, message):
    result = run("simulate", *args, "--out", str(tmp_path / "x.npz"), check=False)
    assert result.returncode == 2 and message in result.stderr


def test_pkpd_fit_json_and_predict():
    rows = json.loads(run("pkpd", "fit", "--json").stdout)
    dof = next(r for r in rows if r["drug"] == "Dofetilide")
    assert {"drug", "slope_ms_per_ng_ml", "ci_low", "ci_high", "n_subjects"} <= set(dof)
    assert 23.5 <= dof["slope_ms_per_ng_ml"] <= 29.9 and dof["n_subjects"] == 16
    predicted = json.loads(run("pkpd", "predict", "--drug", "dofetilide", "--dose", "500", "ug", "--hours", "2.5").stdout)
    assert 1.5 < predicted["concentration_ng_ml"] < 3.5
    assert predicted["ci_low_ms"] < predicted["ddqtcf_ms"] < predicted["ci_high_ms"]
    doubled = json.loads(run("pkpd", "predict", "--drug", "dofetilide", "--dose", "1", "mg", "--hours", "2.5",
                             "--extrapolate").stdout)  # 2x the trial's dose: allowed with a warning
    assert doubled["concentration_ng_ml"] == pytest.approx(2 * predicted["concentration_ng_ml"], rel=1e-3)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--drug", "aspirin", "--dose", "1", "mg", "--hours", "1"], "unknown drug 'aspirin'"),
        (["--drug", "dofetilide", "--dose", "1", "g", "--hours", "1"], "unknown dose unit 'g'"),
        (["--drug", "dofetilide", "--dose", "-1", "mg", "--hours", "1"], "dose must be a finite number >= 0"),
    ],
)
def test_pkpd_predict_bad_input(args, message):
    result = run("pkpd", "predict", *args, check=False)
    assert result.returncode == 2 and message in result.stderr


def test_data_twins_writes_the_layout(tmp_path):
    from ecgwm_core.data.registry import BUNDLED_ROOT

    table = tmp_path / "table.csv"
    lines = (BUNDLED_ROOT / "ecgrdvq" / "SCR-002.Clinical.Data.csv").read_text().splitlines()
    table.write_text("\n".join(lines[:4]) + "\n")  # header + 3 real rows
    result = run("data", "twins", "--table", str(table), "--out", str(tmp_path / "twins"), "--quiet")
    assert "3 semi-synthetic twins" in result.stdout
    assert len(list((tmp_path / "twins" / "ecgrdvq" / "raw").rglob("*.hea"))) == 3
