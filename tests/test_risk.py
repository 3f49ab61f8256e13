"""Risk scores, aggregation over rollouts, calibration and alignment, against hand-computed values and libraries."""
import numpy as np
import pytest
from scipy import optimize, stats
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, ndcg_score

from ecgwm_core.data import load_clinical_table
from ecgwm_core.risk import (
    CRITERIA, brier_score, cipa_gains, cvar, event_probability, events, expected_calibration_error, kendall_tau,
    mean_variance, ndcg, observed_dqtcf, rank_candidates, rank_gains, reliability, risk_spread, rollout_measures,
    rollout_risk, summarise,
)


# --- categorical criteria at their edges (the sources say "greater than" / "less than", strictly) ---------------
@pytest.mark.parametrize("name, at, inside, beyond", [
    ("qtcf_gt_500", 500.0, 499.9, 500.1),
    ("dqtcf_gt_60", 60.0, 59.9, 60.1),
    ("dqtcf_gt_30", 30.0, 29.9, 30.1),
    ("pr_gt_200", 200.0, 199.9, 200.1),
    ("qrs_widening_gt_25", 0.25, 0.2499, 0.2501),
    ("hr_lt_50", 50.0, 50.1, 49.9),
])
def test_events_are_strict_at_the_threshold(name, at, inside, beyond):
    assert CRITERIA[name].event(np.array([at, inside, beyond])).tolist() == [False, False, True]


def test_qrs_widening_is_relative_to_the_baseline():
    # 100 ms baseline: 125 ms is exactly 25 % (no event), 126 ms is 26 % (event)
    m = rollout_measures(qtcf_ms=[400, 400], dqtcf_ms=[0, 0], qrs_ms=[125.0, 126.0], baseline_qrs_ms=100.0)
    assert m["qrs_widening"] == pytest.approx([0.25, 0.26])
    assert events(m, ["qrs_widening_gt_25"])["qrs_widening_gt_25"].tolist() == [False, True]
    with pytest.raises(ValueError, match="baseline_qrs_ms"):
        rollout_measures(qtcf_ms=[400], dqtcf_ms=[0], qrs_ms=[100])
    with pytest.raises(ValueError, match="same shape"):
        rollout_measures(qtcf_ms=[400, 410], dqtcf_ms=[0])


def test_events_need_their_measure():
    m = rollout_measures(qtcf_ms=[400], dqtcf_ms=[0])
    assert set(events(m)) == {"qtcf_gt_500", "dqtcf_gt_60", "dqtcf_gt_30"}
    with pytest.raises(KeyError, match="pr_ms"):
        events(m, ["pr_gt_200"])


def test_continuous_risk_is_softplus_excess_summed_over_present_criteria():
    # hand-computed: softplus(x) = ln(1 + e^x); QTcF 510 -> (510-500)/10 = 1; dQTcF 40 -> (40-30)/10 = 1;
    # HR 45 -> (50-45)/5 = 1
    m = rollout_measures(qtcf_ms=[510.0], dqtcf_ms=[40.0], hr_bpm=[45.0])
    assert rollout_risk(m)[0] == pytest.approx(3 * np.log(1 + np.e))
    # far beyond a threshold the excess is linear in the distance
    far = rollout_measures(qtcf_ms=[300.0, 300.0], dqtcf_ms=[130.0, 230.0])
    assert np.diff(rollout_risk(far))[0] == pytest.approx(10.0, abs=1e-4)
    with pytest.raises(ValueError, match="none of the criteria"):
        rollout_risk({"hr_bpm": np.array([60.0])}, names=["qtcf_gt_500"])


# --- aggregation over rollouts on hand-made samples ---------------------------------------------------------------
def test_mean_variance_on_hand_made_samples():
    r = np.array([1.0, 2.0, 3.0, 6.0])  # mean 3, population variance (4 + 1 + 0 + 9) / 4 = 3.5
    assert risk_spread(r) == pytest.approx(np.sqrt(3.5))
    assert mean_variance(r, 0.0) == pytest.approx(3.0)
    assert mean_variance(r, 2.0) == pytest.approx(3.0 + 2 * np.sqrt(3.5))
    assert mean_variance(np.array([[1.0, 1.0], [0.0, 2.0]]), 1.0) == pytest.approx([1.0, 2.0])
    assert risk_spread(np.array([4.2])) == 0.0  # one sample: the deterministic baseline has no spread
    with pytest.raises(ValueError, match="kappa"):
        mean_variance(r, -1.0)
    with pytest.raises(ValueError, match="NaN"):
        mean_variance(np.array([1.0, np.nan]), 1.0)


def test_cvar_on_hand_made_samples():
    r = np.arange(1.0, 11.0)  # 1..10
    assert cvar(r, 0.9) == pytest.approx(10.0)       # worst 10 % = the single largest
    assert cvar(r, 0.8) == pytest.approx(9.5)        # worst two
    assert cvar(r, 0.75) == pytest.approx((10 + 9 + 0.5 * 8) / 2.5)  # fractional third sample
    assert cvar(r, 0.0) == pytest.approx(5.5)        # the mean


@pytest.mark.parametrize("alpha", [0.5, 0.73, 0.9, 0.95])
def test_cvar_equals_the_rockafellar_uryasev_minimum(alpha):
    r = np.random.default_rng(3).gamma(2.0, 1.5, size=37)
    objective = lambda c: c + np.mean(np.maximum(r - c, 0.0)) / (1 - alpha)  # noqa: E731
    reference = min(objective(c) for c in r)  # piecewise linear: the minimum sits on a sample
    assert cvar(r, alpha) == pytest.approx(reference, rel=1e-12)
    assert optimize.minimize_scalar(objective, bounds=(r.min(), r.max()), method="bounded").fun >= reference - 1e-6


def test_ranking_riskiest_first_and_stable_on_ties():
    assert rank_candidates([0.2, 3.0, 0.2, 1.0]).tolist() == [1, 3, 0, 2]


def test_kappa_can_reorder_candidates():
    safe_on_average = np.array([0.0, 0.0, 0.0, 4.0])  # mean 1, std sqrt(3)
    steady = np.full(4, 1.5)                         # mean 1.5, std 0
    assert rank_candidates([mean_variance(safe_on_average, 0), mean_variance(steady, 0)]).tolist() == [1, 0]
    assert rank_candidates([mean_variance(safe_on_average, 1), mean_variance(steady, 1)]).tolist() == [0, 1]


def test_event_probability_bootstrap_matches_scipy_percentile_bootstrap():
    flags = np.zeros(200, dtype=bool)
    flags[:60] = True
    prob = event_probability(flags, n_boot=4000, seed=1)
    reference = stats.bootstrap((flags.astype(float),), np.mean, n_resamples=4000, method="percentile",
                                rng=np.random.default_rng(2)).confidence_interval
    assert prob.p == pytest.approx(0.3)
    assert prob.ci_low == pytest.approx(reference.low, abs=0.01)
    assert prob.ci_high == pytest.approx(reference.high, abs=0.01)
    assert event_probability(flags, seed=5) == event_probability(flags, seed=5)  # seeded
    none = event_probability(np.zeros(64, dtype=bool))
    assert (none.p, none.ci_low, none.ci_high) == (0.0, 0.0, 0.0)


def test_summarise_one_candidate():
    m = rollout_measures(qtcf_ms=[480.0, 520.0, 470.0, 530.0], dqtcf_ms=[20.0, 45.0, 10.0, 65.0])
    s = summarise(m, kappa=0.5, alpha=0.75, seed=0)
    r = rollout_risk(m)
    assert (s.expected, s.spread) == pytest.approx((r.mean(), r.std()))
    assert s.score == pytest.approx(r.mean() + 0.5 * r.std())
    assert s.cvar == pytest.approx(r.max())
    assert s.probabilities["qtcf_gt_500"].p == 0.5
    assert s.probabilities["dqtcf_gt_60"].p == 0.25
    assert s.n_rollouts == 4


# --- calibration --------------------------------------------------------------------------------------------------
def test_brier_matches_sklearn_and_hand_values():
    assert brier_score([0.5, 0.5], [0, 1]) == pytest.approx(0.25)
    assert brier_score([1.0, 0.0], [1, 0]) == 0.0
    p = np.random.default_rng(0).uniform(size=50)
    y = np.random.default_rng(1).uniform(size=50) < p
    assert brier_score(p, y) == pytest.approx(brier_score_loss(y, p))


def test_reliability_matches_sklearn_calibration_curve():
    rng = np.random.default_rng(4)
    p = rng.uniform(size=300)
    y = rng.uniform(size=300) < p ** 2
    rel = reliability(p, y, n_bins=7)
    observed, predicted = calibration_curve(y, p, n_bins=7)
    used = rel.counts > 0
    assert rel.observed[used] == pytest.approx(observed)
    assert rel.predicted[used] == pytest.approx(predicted)
    assert rel.counts.sum() == 300


def test_ece_on_known_cases():
    # perfectly calibrated bins: predictions 0.25 (1 of 4 events) and 0.75 (3 of 4)
    assert expected_calibration_error([0.25] * 4 + [0.75] * 4, [1, 0, 0, 0, 1, 1, 1, 0], n_bins=4) == 0.0
    # always 0.9, events half the time: gap 0.4 in the one used bin
    assert expected_calibration_error([0.9] * 10, [1, 0] * 5) == pytest.approx(0.4)
    # two bins, 2 and 6 predictions, gaps |0 - 0.1| and |1 - 0.8|: (2 * 0.1 + 6 * 0.2) / 8
    assert expected_calibration_error([0.1] * 2 + [0.8] * 6, [0, 0] + [1] * 6, n_bins=5) == pytest.approx(0.175)
    with pytest.raises(ValueError, match="binary"):
        expected_calibration_error([0.5], [2])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        brier_score([1.2], [1])


# --- alignment ------------------------------------------------------------------------------------------------------
def test_ndcg_matches_sklearn():
    rng = np.random.default_rng(7)
    gains, scores = rng.integers(0, 4, size=6).astype(float), rng.normal(size=6)
    assert ndcg(scores, gains) == pytest.approx(ndcg_score([gains], [scores]))
    assert ndcg(scores, gains, k=3) == pytest.approx(ndcg_score([gains], [scores], k=3))


def test_alignment_with_cipa_classes():
    drugs = ["placebo", "dofetilide", "quinidine", "ranolazine", "verapamil"]
    gains = cipa_gains(drugs)
    assert gains.tolist() == [0.0, 3.0, 3.0, 1.0, 1.0]
    perfect = [0.1, 5.0, 4.0, 1.0, 0.9]
    assert ndcg(perfect, gains) == pytest.approx(1.0)
    assert kendall_tau(perfect, gains) == pytest.approx(stats.kendalltau(perfect, gains).statistic)
    assert kendall_tau(perfect, gains) > 0.8
    assert kendall_tau([-s for s in perfect], gains) == pytest.approx(-kendall_tau(perfect, gains))
    with pytest.raises(ValueError, match="unknown drugs"):
        cipa_gains(["aspirin"])


def test_observed_ranking_of_a_shipped_subject():
    kept = load_clinical_table().kept
    peak = observed_dqtcf(kept, 1001)
    assert set(peak.index) == {"placebo", "dofetilide", "quinidine", "ranolazine", "verapamil"}
    # subject 1001 at 2.0 h on dofetilide: triplicate mean 451.35 ms minus baseline 380.72 ms (the table's values)
    assert observed_dqtcf(kept, 1001, hours=2.0)["dofetilide"] == pytest.approx(70.63, abs=0.01)
    assert rank_gains([5.0, -1.0, 5.0, 10.0]).tolist() == [1.5, 0.0, 1.5, 3.0]
    with pytest.raises(ValueError, match="subject 4242"):
        observed_dqtcf(kept, 4242)
