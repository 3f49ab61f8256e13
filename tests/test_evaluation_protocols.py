"""Prediction protocols and baselines on hand-made tables with hand-computed answers."""
import numpy as np
import pandas as pd
import pytest

from ecgwm_core.data import load_clinical_table
from ecgwm_core.evaluation.baselines import CopyForward, PopulationMean, ShiftedPopulation
from ecgwm_core.evaluation.protocols import (
    MissingBaselineError, ich_category, leave_subjects_out, prediction_task, score, summarise_folds,
)


def rows(randid: int, drug: str, qtcf: dict[float, float], conc: float = 1.0) -> pd.DataFrame:
    """Usable rows with the given QTcF per time point (RR = 1000 ms, so QTcF = QT); -0.5 h as a triplicate."""
    out = []
    for tpt, value in qtcf.items():
        for _ in range(3 if tpt == -0.5 else 1):
            out.append({"RANDID": randid, "EXTRT": drug, "TPT": tpt, "EXDOSE": 1.0, "EXDOSU": "mg", "RR": 1000.0,
                        "QT": value, "QTcF": value, "PCSTRESN": conc, "conc_ng_ml": conc})
    return pd.DataFrame(out)


def test_ich_categories_at_the_edges():
    assert ich_category(np.array([-5, 9.9, 10, 30, 30.1, 60, 60.1])).tolist() == [0, 0, 1, 1, 2, 2, 3]


def test_task_hides_post_dose_rows_and_concentrations():
    kept = pd.concat([rows(1, "Dofetilide", {-0.5: 400, 1.0: 420, 2.0: 430})])
    task = prediction_task(kept)
    assert task.context["TPT"].max() == -0.5 and task.context["conc_ng_ml"].isna().all()
    assert task.queries["TPT"].tolist() == [1.0, 2.0]
    assert "QTcF" not in task.queries and task.queries["conc_ng_ml"].isna().all()
    seen = prediction_task(kept, use_concentration=True, observed_until=1.0)
    assert seen.queries["TPT"].tolist() == [2.0] and seen.queries["conc_ng_ml"].tolist() == [1.0]
    assert seen.context["TPT"].max() == 1.0
    with pytest.raises(ValueError, match="observed_until"):
        prediction_task(kept, observed_until=-1.0)


def test_task_rejects_missing_baselines_by_name():
    kept = pd.concat([rows(1, "Placebo", {-0.5: 400, 1.0: 401}), rows(2, "Placebo", {1.0: 410}),
                      rows(2, "Verapamil HCL", {-0.5: 400, 1.0: 401})])
    with pytest.raises(MissingBaselineError, match=r"RANDID 2 × Placebo") as err:
        prediction_task(kept)
    assert "RANDID 1" not in str(err.value)


def test_population_mean_and_shifted_population_hand_values():
    train = pd.concat([rows(1, "Dofetilide", {-0.5: 400, 1.0: 410, 2.0: 420}),
                       rows(2, "Dofetilide", {-0.5: 400, 1.0: 430, 2.0: 440})])  # Δ at 1 h: 10, 30; at 2 h: 20, 40
    new = rows(3, "Dofetilide", {-0.5: 400, 1.0: 440, 2.0: 999, 3.0: 999})  # 3 h unseen: nearest is 2 h
    task = prediction_task(new)
    samples = PopulationMean().fit(train).sample(task, 20000, seed=0)
    assert np.median(samples, 1) == pytest.approx([20, 30, 30], abs=1.0)  # t with 1 df: no mean
    # t with 1 df scaled by sd·√(1 + 1/2) = √200·√1.5: the 95 % quantile is 6.314·17.32 above the mean
    assert np.quantile(samples[0], 0.95) - 20 == pytest.approx(6.314 * np.sqrt(200 * 1.5), rel=0.08)
    # observed 1 h Δ = 40, population 20: offset 20, half of it shifts the later points
    shifted = ShiftedPopulation().fit(train).sample(prediction_task(new, observed_until=1.0), 20000, seed=0)
    assert np.median(shifted, 1) == pytest.approx([30 + 10, 30 + 10], abs=1.0)
    assert np.median(CopyForward().fit(train).sample(task, 20000, seed=0), 1) == pytest.approx([0, 0, 0], abs=1.5)
    with pytest.raises(ValueError, match="Placebo"):
        PopulationMean().fit(train).sample(prediction_task(rows(3, "Placebo", {-0.5: 400, 1.0: 401})), 10, 0)


def test_score_hand_values():
    samples = np.array([np.linspace(0, 20, 101), np.linspace(30, 50, 101)])
    out = score(samples, np.array([12.0, 70.0]))
    assert out["mae_ms"] == pytest.approx((2 + 30) / 2)
    assert out["coverage90"] == 0.5 and out["ich_accuracy"] == 0.5 and out["n"] == 2


def test_leave_subjects_out_on_the_trial_one_fold():
    kept = load_clinical_table().kept
    scores = leave_subjects_out(kept, {"copy": CopyForward, "pop": PopulationMean}, k=4, n_folds=2, n_samples=100)
    assert len(scores) == 4 and set(scores["fold"]) == {0, 1}
    summary = summarise_folds(scores).set_index("method")
    # measured on this data (issue 11): zero change ~21 ms MAE, population mean ~10 ms
    assert 15 < summary.loc["copy", "mae_ms_mean"] < 25
    assert 7 < summary.loc["pop", "mae_ms_mean"] < 12
    assert 0.8 < summary.loc["pop", "coverage90_mean"] < 0.97
