"""Evaluation metrics and calibration against hand-computed values and independent references."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ecgwm_core.evaluation import calibration, metrics


def test_waveform_errors_hand_computed():
    x = np.array([[0.0, 1.0, 2.0, 3.0]])
    x_hat = np.array([[0.0, 1.0, 2.0, 5.0]])
    out = metrics.waveform_errors(x, x_hat)
    assert out["mae_mv"][0] == pytest.approx(0.5)
    assert out["rmse_mv"][0] == pytest.approx(1.0)  # sqrt(4 / 4)
    assert out["prd_percent"][0] == pytest.approx(100 * np.sqrt(4 / 14))
    with pytest.raises(ValueError, match="same shape"):
        metrics.waveform_errors(x, x_hat[:, :3])


def test_dtw_forgives_a_shift_and_matches_hand_value():
    # the same wave one sample later (and one sample longer): DTW 0
    x = np.array([[0.0, 0.0, 1.0, 2.0, 1.0, 0.0]])
    shifted = np.array([[0.0, 0.0, 0.0, 1.0, 2.0, 1.0, 0.0]])
    assert metrics.dtw_distance(x, shifted)[0] == pytest.approx(0.0, abs=1e-12)
    # constant offset of 1 over 3 samples: the path is the diagonal, sqrt(3 * 1^2)
    assert metrics.dtw_distance(np.zeros((1, 3)), np.ones((1, 3)))[0] == pytest.approx(np.sqrt(3))
    ramp = np.linspace(0, 0.01, 100)[None]
    assert metrics.dtw_distance(np.zeros((1, 100)), 1 + ramp)[0] == pytest.approx(np.sqrt(((1 + ramp) ** 2).sum()))


def test_interval_deltas_and_bland_altman():
    cols = list(metrics.DELTA_COLUMNS)
    observed = pd.DataFrame([[400.0, 160, 90, 200, 80, 60]], columns=cols)
    generated = pd.DataFrame([[412.0, 150, 95, 210, 80, 66]], columns=cols)
    d = metrics.interval_deltas(generated, observed)
    assert d.iloc[0].tolist() == [12, -10, 5, 10, 0, 6]
    assert list(d.columns) == ["dQTcF", "dPR", "dQRS", "dJTpeak", "dTpeakTend", "dHR"]
    ba = metrics.bland_altman(np.array([1.0, 2, 3, np.nan]), np.array([0.0, 0, 0, 1]))
    assert (ba.bias, ba.n) == (2.0, 3)
    assert ba.sd == pytest.approx(1.0)
    assert (ba.loa_low, ba.loa_high) == pytest.approx((2 - 1.96, 2 + 1.96))


def test_mmd_against_a_direct_double_sum():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, (6, 2)), rng.normal(1, 1, (5, 2))
    k = lambda u, v: np.exp(-np.sum((u - v) ** 2) / (2 * 0.7**2))  # noqa: E731
    aa = sum(k(a[i], a[j]) for i in range(6) for j in range(6) if i != j) / 30
    bb = sum(k(b[i], b[j]) for i in range(5) for j in range(5) if i != j) / 20
    ab = sum(k(u, v) for u in a for v in b) / 30
    assert metrics.mmd_rbf(a, b, bandwidth=0.7, scale=np.ones(2)) == pytest.approx(aa + bb - 2 * ab)
    same = rng.normal(0, 1, (200, 2))
    assert abs(metrics.mmd_rbf(same[:100], same[100:])) < 0.02 < metrics.mmd_rbf(same[:100], same[100:] + 1)


def test_frechet_distance_closed_form():
    # 1-D Gaussians: d^2 = (mu1 - mu2)^2 + (s1 - s2)^2
    a, b = np.array([[0.0], [2.0]]), np.array([[5.0], [9.0]])  # means 1, 7; sds sqrt(2), sqrt(8)
    assert metrics.frechet_distance(a, b, scale=np.ones(1)) == pytest.approx(36 + (np.sqrt(2) - np.sqrt(8)) ** 2)
    table = pd.DataFrame({c: [1.0, 2.0, np.nan] for c in metrics.FEATURES})
    assert metrics.feature_matrix(table).shape == (2, len(metrics.FEATURES))


def test_coverage_and_pit():
    samples = np.tile(np.arange(101.0), (4, 1))  # quantiles 5 and 95
    observed = np.array([4.0, 5.0, 50.0, 96.0])
    assert calibration.coverage(samples, observed, 0.9) == pytest.approx(0.5)
    assert calibration.pit_values(samples, observed) == pytest.approx([4.5 / 101, 5.5 / 101, 50.5 / 101, 96.5 / 101])
    density, edges = calibration.pit_histogram(np.array([0.05, 0.15, 0.95, 0.96]), bins=2)
    assert density.tolist() == [1.0, 1.0] and edges.tolist() == [0.0, 0.5, 1.0]
    with pytest.raises(ValueError, match="shape"):
        calibration.coverage(samples, observed[:2])


def test_calibrated_forecasts_cover_at_the_nominal_rate():
    rng = np.random.default_rng(1)
    observed = rng.normal(size=4000)
    samples = rng.normal(size=(4000, 200))
    assert calibration.coverage(samples, observed) == pytest.approx(0.9, abs=0.02)
    density, _ = calibration.pit_histogram(calibration.pit_values(samples, observed))
    assert np.abs(density - 1).max() < 0.15
    assert calibration.coverage(0.3 * samples, observed) < 0.5  # overconfident forecasts undercover


def test_crps_against_the_closed_form_normal():
    # CRPS of N(0, 1) at y (Gneiting & Raftery 2007): y(2Φ(y) − 1) + 2φ(y) − 1/√π
    y = np.array([0.0, 1.0, -2.0])
    exact = y * (2 * stats.norm.cdf(y) - 1) + 2 * stats.norm.pdf(y) - 1 / np.sqrt(np.pi)
    samples = np.tile(stats.norm.ppf((np.arange(4000) + 0.5) / 4000), (3, 1))
    assert calibration.crps(samples, y) == pytest.approx(exact, abs=2e-3)
    # two-member ensemble by hand: E|X − y| − ½E|X − X'| = 1 − ½·1 = 0.5
    assert calibration.crps(np.array([[-1.0, 1.0]]), np.array([0.0]))[0] == pytest.approx(0.5)
