"""Subject parts of forecasts and what they are worth (evaluation/predictability.py), against hand values."""
import numpy as np
import pandas as pd
import pytest

from ecgwm_core.evaluation.predictability import response_signal, subject_component


def _keys(n_subjects: int) -> pd.DataFrame:
    grid = [(i, drug, h) for i in range(n_subjects) for drug in ("Placebo", "Dofetilide") for h in (1.0, 2.0, 4.0)]
    return pd.DataFrame(grid, columns=["RANDID", "EXTRT", "TPT"])


def test_subject_component_removes_the_mean_of_each_drug_and_time_point():
    keys = _keys(2)
    values = np.arange(12.0)  # subject 0: 0-5, subject 1: 6-11; each drug x hour mean is the value + 3
    np.testing.assert_array_equal(subject_component(values, keys), np.r_[np.full(6, -3.0), np.full(6, 3.0)])
    with pytest.raises(ValueError, match="shape"):
        subject_component(values[:5], keys)
    with pytest.raises(ValueError, match="TPT"):
        subject_component(values, keys.drop(columns="TPT"))


def test_response_signal_credits_a_true_subject_part_and_not_a_drug_bias_or_noise():
    rng = np.random.default_rng(0)
    keys = _keys(400)
    response = np.repeat(8.0 * rng.standard_normal(800), 3)  # one response per subject x drug, sd 8 ms
    reference = np.where(keys["EXTRT"] == "Dofetilide", 40.0, 0.0) + keys["TPT"].to_numpy()
    observed = reference + response + 4.0 * rng.standard_normal(len(keys))
    bias = np.where(keys["EXTRT"] == "Dofetilide", -6.0, 1.0) * keys["TPT"].to_numpy()  # per drug x hour

    knows = response_signal(observed, reference, reference + bias + response, keys)
    assert knows.slope == pytest.approx(1.0, abs=0.03)
    assert knows.correlation == pytest.approx(8 / np.sqrt(64 + 16), abs=0.02)  # r = sd(u) / sd(u + e)
    assert knows.mae_debiased < 0.6 * knows.mae_reference  # only the 4-ms noise remains
    assert knows.mae_candidate > knows.mae_debiased  # the bias costs, and is what "debiased" removes
    assert knows.n == len(keys)

    guesses = response_signal(observed, reference, reference + bias + 8.0 * rng.standard_normal(len(keys)), keys)
    assert abs(guesses.correlation) < 0.03 and abs(guesses.slope) < 0.03
    assert guesses.mae_debiased > 1.2 * guesses.mae_reference  # noise of the same size only adds error

    shifted = response_signal(observed, reference, reference + response + 100.0 * keys["TPT"].to_numpy(), keys)
    for field in ("correlation", "slope", "mae_debiased"):  # invariant to any drug x time constant
        assert getattr(shifted, field) == pytest.approx(getattr(knows, field), abs=1e-9)


def test_response_signal_skips_missing_observations_and_refuses_bad_input():
    keys = _keys(3)
    observed = np.linspace(0, 10, len(keys))
    part = response_signal(np.where(np.arange(len(keys)) < 6, np.nan, observed), np.zeros(len(keys)),
                           observed, keys)
    assert part.n == len(keys) - 6
    with pytest.raises(ValueError, match="finite"):
        response_signal(observed, np.zeros(len(keys)), np.full(len(keys), np.nan), keys)
    with pytest.raises(ValueError, match="shape"):
        response_signal(observed[:4], np.zeros(len(keys)), observed, keys)
    with pytest.raises(ValueError, match="at least 3"):
        response_signal(np.full(len(keys), np.nan), np.zeros(len(keys)), observed, keys)
