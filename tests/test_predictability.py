"""Subject parts of forecasts and what they are worth (evaluation/predictability.py), against hand values."""
import numpy as np
import pandas as pd
import pytest

from ecgwm_core.evaluation.predictability import response_signal, subject_component, subject_share


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
    with pytest.raises(ValueError, match="missing values"):
        subject_component(values, keys.assign(TPT=np.where(np.arange(12) == 3, np.nan, keys["TPT"])))


def test_subject_share_is_the_consistent_part_of_a_miss():
    keys = _keys(2)
    consistent = np.repeat([5.0, -5.0, 2.0, -2.0], 3)  # subject 0: +5 placebo, -5 dofetilide; subject 1: +2, -2
    assert subject_share(consistent, keys) == pytest.approx(1.0)
    hourly = np.tile([1.0, -1.0, 0.0], 4) * np.repeat([1.0, 1.0, -1.0, -1.0], 3)  # cancels over each period
    assert subject_share(hourly, keys) == pytest.approx(0.0, abs=1e-12)
    noise = np.random.default_rng(0).standard_normal(len(_keys(300)))
    assert subject_share(noise, _keys(300)) == pytest.approx(1 / 3, abs=0.03)  # 3 hours: 1/3 by chance
    with pytest.raises(ValueError, match="RANDID"):
        subject_share(consistent, keys.drop(columns="RANDID"))


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
    assert knows.part_sd_ms == pytest.approx(8.0, rel=0.05)
    assert knows.level_ms == pytest.approx(bias.mean(), abs=0.5)
    assert knows.mae_subject_part < 0.6 * knows.mae_reference  # only the 4-ms noise remains
    assert knows.mae_candidate > knows.mae_subject_part  # the bias costs; the subject part alone does not
    assert knows.n == len(keys)

    guesses = response_signal(observed, reference, reference + bias + 8.0 * rng.standard_normal(len(keys)), keys)
    assert abs(guesses.correlation) < 0.03 and abs(guesses.slope) < 0.03
    assert guesses.mae_subject_part > 1.2 * guesses.mae_reference  # noise of the same size only adds error

    by_hour = 100.0 * keys["TPT"].to_numpy()  # any drug x time constant, on the candidate or the observation
    for moved in (response_signal(observed, reference, reference + response + by_hour, keys),
                  response_signal(observed + by_hour, reference, reference + bias + response, keys)):
        for field in ("correlation", "slope"):
            assert getattr(moved, field) == pytest.approx(getattr(knows, field), abs=1e-9)
    assert response_signal(observed, reference, reference + response + by_hour, keys).mae_subject_part == \
        pytest.approx(knows.mae_subject_part, abs=1e-9)


def test_response_signal_is_undefined_without_a_subject_part_and_uses_only_observed_rows():
    keys = _keys(3)
    rng = np.random.default_rng(1)
    observed, reference = rng.normal(0, 10, len(keys)), rng.normal(0, 1, len(keys))
    level = response_signal(observed, reference, reference + 5.3 + 0.1 * keys["TPT"].to_numpy(), keys)
    assert np.isnan(level.correlation) and np.isnan(level.slope) and level.part_sd_ms == 0.0  # no 1e15 slopes
    assert level.level_ms == pytest.approx(5.3 + 0.1 * 7 / 3)
    candidate = reference + rng.normal(0, 3, len(keys))
    gaps = np.where(np.arange(len(keys)) % 5 == 0, np.nan, observed)  # unequal group sizes
    subset = ~np.isnan(gaps)
    direct = response_signal(observed[subset], reference[subset], candidate[subset], keys[subset])
    assert response_signal(gaps, reference, candidate, keys) == direct
    with pytest.raises(ValueError, match="finite"):
        response_signal(observed, reference, np.full(len(keys), np.nan), keys)
    with pytest.raises(ValueError, match="shape"):
        response_signal(observed[:4], reference, candidate, keys)
    with pytest.raises(ValueError, match="at least 3"):
        response_signal(np.full(len(keys), np.nan), reference, candidate, keys)
