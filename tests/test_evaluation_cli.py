"""``ecgwm predict-qtc`` on small SCR-002 tables cut from the shipped trial table."""
import numpy as np
import pandas as pd
import pytest

from ecgwm_core.cli import main
from ecgwm_core.cli.predict import OUTPUT_COLUMNS
from ecgwm_core.data.ecgrdvq import MEASUREMENTS
from ecgwm_core.data.registry import resolve

MEASURED = [*MEASUREMENTS, "PCSTRESN"]


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    """Two subjects, two treatments each; one renamed to a subject id the shipped data never had."""
    table = pd.read_csv(resolve("ecgrdvq", "SCR-002.Clinical.Data.csv"), na_values=["NA"])
    part = table[table["RANDID"].isin([1001, 1002]) & table["EXTRT"].isin(["Dofetilide", "Placebo"])].copy()
    part.loc[part["RANDID"] == 1002, "RANDID"] = 777777
    return part


def run(tmp_path, table: pd.DataFrame, *options: str) -> tuple[int, str]:
    """predict-qtc with a baseline (the protocol's) unless ``options`` name a method."""
    src, out = tmp_path / "table.csv", tmp_path / "pred.csv"
    table.to_csv(src, index=False)
    if "--method" not in options:
        shifted = "--observed-until" in options
        options = (*options, "--method", "shifted-population" if shifted else "population-mean")
    code = main(["predict-qtc", str(src), "--out", str(out), "--samples", "50", *options])
    return code, out.read_text() if out.exists() else ""


def test_writes_exactly_the_columns_for_unseen_subjects(tmp_path, small):
    code, text = run(tmp_path, small)
    assert code == 0
    pred = pd.read_csv(pd.io.common.StringIO(text))
    assert tuple(pred.columns) == OUTPUT_COLUMNS
    post = small[small["TPT"] > 0].groupby(["RANDID", "EXTRT", "TPT"]).ngroups
    assert len(pred) == post and 777777 in set(pred["RANDID"])
    assert (pred["dqtcf_q05"] <= pred["dqtcf_mean"]).all() and (pred["dqtcf_mean"] <= pred["dqtcf_q95"]).all()
    dofetilide = pred[(pred["EXTRT"] == "Dofetilide") & (pred["TPT"] == 2.5)]["dqtcf_mean"]
    assert (dofetilide > 15).all()  # the drug's known prolongation, not zero


def test_post_dose_measurements_are_ignored(tmp_path, small):
    _, reference = run(tmp_path, small)
    emptied = small.copy()
    emptied.loc[emptied["TPT"] > 0, MEASURED] = np.nan  # the normal use: nothing measured after the dose
    assert run(tmp_path, emptied)[1] == reference
    changed = small.copy()
    changed[["QT", "RR"]] = changed[["QT", "RR"]].astype(float)
    changed.loc[changed["TPT"] > 0, ["QT", "RR"]] *= 1.3
    assert run(tmp_path, changed)[1] == reference


def test_population_offset_uses_the_other_periods_pre_dose_rows_only(tmp_path, small):
    """The baseline offset reads every period's pre-dose QTcF: raising the placebo period's pre-dose QT
    moves the placebo forecasts down (β < 0) and the dofetilide ones up; post-dose rows stay ignored."""
    _, reference = run(tmp_path, small, "--method", "population-offset")
    emptied = small.copy()
    emptied.loc[emptied["TPT"] > 0, MEASURED] = np.nan
    assert run(tmp_path, emptied, "--method", "population-offset")[1] == reference
    raised = small.copy()
    raised["QT"] = raised["QT"].astype(float)
    raised.loc[(raised["TPT"] < 0) & (raised["EXTRT"] == "Placebo"), "QT"] += 20.0
    code, text = run(tmp_path, raised, "--method", "population-offset")
    assert code == 0
    new, old = (pd.read_csv(pd.io.common.StringIO(t)).set_index(["RANDID", "EXTRT", "TPT"])["dqtcf_mean"]
                for t in (text, reference))
    moved = (new - old).groupby(level="EXTRT").mean()
    assert moved["Placebo"] < -2.0 and moved["Dofetilide"] > 2.0, moved


def test_observed_until_ignores_only_later_rows(tmp_path, small):
    _, reference = run(tmp_path, small, "--observed-until", "1.5")
    assert pd.read_csv(pd.io.common.StringIO(reference))["TPT"].min() > 1.5
    later = small.copy()
    later.loc[later["TPT"] > 1.5, ["QT"]] += 40
    assert run(tmp_path, later, "--observed-until", "1.5")[1] == reference
    early = small.copy()
    early.loc[early["TPT"].between(0.1, 1.5), ["QT"]] += 40
    assert run(tmp_path, early, "--observed-until", "1.5")[1] != reference


def test_rejects_missing_baseline_and_bad_input(tmp_path, small, capsys):
    no_baseline = small[~((small["RANDID"] == 777777) & (small["EXTRT"] == "Placebo") & (small["TPT"] < 0))]
    code, _ = run(tmp_path, no_baseline)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("ecgwm predict-qtc: error: ")
    assert "RANDID 777777 × Placebo" in err[-1] and "Dofetilide" not in err[-1]
    assert main(["predict-qtc", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "p.csv")]) == 2
    assert capsys.readouterr().err.startswith("ecgwm predict-qtc: error: ")
    assert run(tmp_path, small, "--observed-until", "-2")[0] == 2
    assert run(tmp_path, small, "--checkpoint", str(tmp_path))[0] == 2  # not with a baseline
    assert "cannot be used with --method population-mean" in capsys.readouterr().err
    assert run(tmp_path, small, "--method", "world-model", "--checkpoint", str(tmp_path))[0] == 2
    assert "not a world-model checkpoint" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["predict-qtc", "x.csv", "--out", "p.csv", "--samples", "many"])
    assert exit_.value.code == 2
    assert "ecgwm predict-qtc: error:" in capsys.readouterr().err


@pytest.mark.slow
def test_world_model_method_uses_only_pre_dose_rows(tmp_path, small, capsys):
    """The default predictor (cached quick world model): unseen ids, post-dose values ignored."""
    code, reference = run(tmp_path, small, "--method", "world-model")
    assert code == 0 and "predict-qtc: world model" in capsys.readouterr().err
    pred = pd.read_csv(pd.io.common.StringIO(reference))
    assert tuple(pred.columns) == OUTPUT_COLUMNS and 777777 in set(pred["RANDID"])
    emptied = small.copy()
    emptied.loc[emptied["TPT"] > 0, MEASURED] = np.nan
    assert run(tmp_path, emptied, "--method", "world-model")[1] == reference
    dofetilide = pred[(pred["EXTRT"] == "Dofetilide") & (pred["TPT"] == 2.5)]["dqtcf_mean"]
    placebo = pred[(pred["EXTRT"] == "Placebo") & (pred["TPT"] == 2.5)]["dqtcf_mean"]
    assert dofetilide.mean() - placebo.mean() > 10  # the drug's known prolongation carried by the prior
