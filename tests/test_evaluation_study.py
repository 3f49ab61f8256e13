"""The chapter's study helpers that need no trained model."""
import pandas as pd

from ecgwm_core.evaluation import study


def _scores(folds: int) -> pd.DataFrame:
    rows = []
    for fold in range(folds):
        for method, mae in (("population mean", 10.0 + fold), ("world model", 12.0 + 2 * fold)):
            rows.append({"method": method, "fold": fold, "mae_ms": mae, "coverage90": 0.8 + 0.06 * fold,
                         "crps_ms": mae / 2, "ich_accuracy": 0.75, "n": 10, "protocol": "pre-dose"})
    return pd.DataFrame(rows)


def test_forecast_table_shows_the_mean_for_one_fold_and_mean_sd_over_folds():
    one = study.forecast_table(_scores(1), "pre-dose")
    assert one.loc["world model", "MAE (ms)"] == "12.0" and one.loc["population mean", "90 % coverage"] == "0.80"
    two = study.forecast_table(_scores(2), "pre-dose")
    # world model MAE 12 and 14: mean 13, sample sd √2 = 1.41
    assert two.loc["world model", "MAE (ms)"] == "13.0 ± 1.4"
    assert two.loc["population mean", "90 % coverage"] == "0.83 ± 0.04"  # sd of 0.80, 0.86: 0.042
    assert list(two.columns) == ["MAE (ms)", "90 % coverage", "CRPS (ms)", "ICH bin accuracy"]


def test_methods_of_each_protocol():
    pre, observed = study.methods(True, False), study.methods(True, True)
    assert "shifted population" not in pre and "shifted population" in observed
    assert {"copy-forward", "population mean", "linear C-QTc", "ODE prior only", "world model, λ0 = 0",
            "world model"} <= set(pre)
    assert study.methods(True)["world model"]().config.name == "quick"
    assert study.methods(False)["world model"]().config.name == "paper"
