"""World-model predictors: the sampling rules (fast, hand-made draws) and, marked slow, the real model."""
import numpy as np
import pandas as pd
import pytest

from ecgwm_core.data import load_clinical_table
from ecgwm_core.evaluation import check_beat
from ecgwm_core.evaluation.protocols import KEY, observed_dqtcf, prediction_task
from ecgwm_core.evaluation.simulation import (
    Draws, WorldModelPredictor, plausible_samples, with_effect_scale,
)
from ecgwm_core.ode import paper_dipole
from ecgwm_core.worldmodel import get_config
from ecgwm_core.worldmodel.anchors import DrugEffects, trial_action
from ecgwm_core.worldmodel.plots import LEAD_NAMES
from ecgwm_core.worldmodel.representation import r_index, render_beats


def test_implausible_rollouts_are_replaced_by_plausible_ones_of_the_same_point():
    dq = np.array([[10.0, 500.0, 12.0, np.nan], [1.0, 2.0, 3.0, 4.0], [7.0, 8.0, 9.0, 10.0]])
    ok = np.array([[True, False, True, True], [True] * 4, [False] * 4])
    out = plausible_samples(dq, ok, seed=3)
    assert set(out[0]) <= {10.0, 12.0} and out[0, 0] == 10.0 and out[0, 2] == 12.0
    np.testing.assert_array_equal(out[1], dq[1])
    assert np.isnan(out[2]).all()  # nothing plausible: no forecast rather than a hallucinated one
    np.testing.assert_array_equal(out, plausible_samples(dq, ok, seed=3))  # seeded


def _task_with_early_rows() -> tuple:
    kept = load_clinical_table().kept
    one = kept[(kept["RANDID"] == 1001) & (kept["EXTRT"] == "Dofetilide")]
    return one, prediction_task(one, observed_until=1.5)


def _stand_in(cov: dict) -> object:
    class Holder:  # stands in for a WorldModel: only .effects.residual_cov is read
        pass

    model = Holder()
    model.effects = DrugEffects({}, {}, cov)
    return model


def test_observed_until_shift_is_the_gaussian_conditional_of_the_later_residuals():
    one, task = _task_with_early_rows()
    keys = pd.concat([task.context.loc[task.context["TPT"] > 0, KEY].drop_duplicates(),
                      task.queries[KEY]]).sort_values(KEY).reset_index(drop=True)
    hours = sorted(keys["TPT"])
    rng = np.random.default_rng(0)
    a = rng.standard_normal((len(hours), len(hours)))
    cov = a @ a.T + len(hours) * np.eye(len(hours))  # any covariance
    # one period of one subject: its baseline offset is 0, so the offset gain must not move the forecast
    model = _stand_in({"Dofetilide": {"hours": hours, "offset_gain": -0.5, "cov": cov.tolist()}})
    d = Draws(keys, np.zeros((len(keys), 6)), np.ones((len(keys), 6), dtype=bool))
    out = WorldModelPredictor(model=model, between_subject=False).forecast(task, d, seed=0)
    qtcf = one.groupby("TPT")["QTcF"].mean()  # triplicate means: the hand-computed early residuals
    early = [h for h in hours if h <= 1.5]
    r = np.array([qtcf[h] - qtcf[-0.5] for h in early])
    # independent route: the conditional mean from the joint precision, −Λ_LL⁻¹ Λ_LE r_E
    lam = np.linalg.inv(cov)
    e, later = [hours.index(h) for h in early], [hours.index(h) for h in task.queries["TPT"]]
    expected = -np.linalg.solve(lam[np.ix_(later, later)], lam[np.ix_(later, e)] @ r)
    assert out.shape == (len(task.queries), 6)
    np.testing.assert_allclose(out[:, 0], expected, atol=1e-9)
    d.dqtcf[keys["TPT"] == early[0]] = np.nan  # an observed point without any plausible rollout is left out
    out = WorldModelPredictor(model=model, between_subject=False).forecast(task, d, seed=0)
    idx = e[1:] + later  # the marginal of the remaining early hours and the later ones
    lam = np.linalg.inv(cov[np.ix_(idx, idx)])
    n_e = len(e) - 1
    expected = -np.linalg.solve(lam[n_e:, n_e:], lam[n_e:, :n_e] @ r[1:])
    np.testing.assert_allclose(out[:, 0], expected, atol=1e-9)
    # the point forecast: the mean of the shifted rollouts, whatever the between-subject noise
    d.dqtcf[:] = rng.normal(5.0, 2.0, d.dqtcf.shape)
    predictor = WorldModelPredictor(model=model)
    predictor.draws = lambda task, n_samples, seed: d
    shifted = WorldModelPredictor(model=model, between_subject=False).forecast(task, d, seed=0)
    np.testing.assert_allclose(predictor.point(task, 6, 0), shifted.mean(1), atol=1e-12)
    assert np.ptp(shifted.mean(1) - d.dqtcf[later].mean(1)) > 0.1  # the shift differs by hour


def test_residual_covariance_learns_how_much_an_early_offset_carries_over():
    """Subjects with a persistent level a ~ N(0, 8²) and noise N(0, 6²) per hour: given 3 early hours, the
    best weight of their mean residual is τ² / (τ² + σ²/3) = 64 / 76 (the exercise of chapter 08)."""
    from ecgwm_core.worldmodel.deviation import conditional_residuals, residual_covariance

    rng = np.random.default_rng(1)
    hours = [0.5, 1.0, 1.5, 2.0, 3.0, 4.0]
    level = 8.0 * rng.standard_normal(400)
    rows = [{"RANDID": i, "EXTRT": "Placebo", "TPT": h, "change": -5.0 + lv + 6.0 * rng.standard_normal()}
            for i, lv in enumerate(level) for h in hours]
    no_offsets = pd.DataFrame(columns=["RANDID", "EXTRT", "offset_ms"])
    cov = residual_covariance(pd.DataFrame(rows), no_offsets)["Placebo"]
    assert cov["offset_gain"] == 0.0
    mean, sd = conditional_residuals(cov, np.array([0.5, 1.0, 1.5]), np.array([10.0, 10.0, 10.0]),
                                     np.array([3.0, 4.0]))
    tau2 = level.var()  # the drawn levels' variance (53 for this seed), σ² = 36
    np.testing.assert_allclose(mean, 10.0 * tau2 / (tau2 + 12), rtol=0.08)
    np.testing.assert_allclose(sd, np.sqrt(tau2 + 36 - tau2**2 / (tau2 + 12)), rtol=0.08)  # conditional sd
    none = conditional_residuals(cov, np.array([]), np.array([]), np.array([2.0]))
    assert none[0][0] == 0.0 and none[1][0] == pytest.approx(np.sqrt(tau2 + 36), rel=0.08)
    with pytest.raises(ValueError, match="residuals"):
        conditional_residuals(cov, np.array([0.5]), np.array([np.nan]), np.array([2.0]))


def _crossover(n_subjects: int, seed: int, rr_gain: float = 0.0) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows of a 5-period crossover (QTcF triplicates at −0.5 h and 1-4 h) where each period's
    pre-dose QTcF is the subject's usual QTcF plus a day deviation d ~ N(0, 6²) that the post-dose
    rows do not share, and the (n, 5) deviations d. Each row also has an ``RR`` (ms) around the
    subject's usual RR, 1000 + 150·z; drug j's effect, 10·j ms, is scaled by (1 + ``rr_gain``·z)."""
    rng = np.random.default_rng(seed)
    z = np.random.default_rng(seed + 1000).standard_normal(n_subjects)  # own stream: QTcF draws unchanged
    drugs = ["Placebo", "Dofetilide", "Quinidine Sulph", "Ranolazine", "Verapamil HCL"]
    day = 6.0 * rng.standard_normal((n_subjects, len(drugs)))
    rows = []
    for i in range(n_subjects):
        usual = 400.0 + 15.0 * rng.standard_normal()
        for j, drug in enumerate(drugs):
            for h in (-0.5, 1.0, 2.0, 3.0, 4.0):
                level = usual + (day[i, j] if h < 0 else 10.0 * j * (h > 0) * (1 + rr_gain * z[i]))
                rows += [{"RANDID": i, "EXTRT": drug, "TPT": h, "conc_ng_ml": np.nan,
                          "QTcF": level + 4.0 * rng.standard_normal(), "RR": 1000.0 + 150.0 * z[i] + 20.0 * k}
                         for k in (-1, 0, 1)]
    return pd.DataFrame(rows), day


def test_baseline_offset_gain_recovers_regression_to_the_mean():
    """A period that starts d above the subject's usual QTcF has ΔQTcF lower by d: with 5 periods the
    offset d − mean(d) predicts the residual −d + mean(d) with slope −1; conditioning shifts by β·offset."""
    from ecgwm_core.data.trial import subject_changes
    from ecgwm_core.worldmodel.deviation import baseline_offsets, conditional_residuals, residual_covariance

    kept, day = _crossover(300, seed=2)
    offsets = baseline_offsets(kept)
    drugs = kept["EXTRT"].drop_duplicates().tolist()
    truth = pd.DataFrame({"RANDID": np.repeat(np.arange(300), 5), "EXTRT": drugs * 300,
                          "d": (day - day.mean(1, keepdims=True)).ravel()})
    both = offsets.merge(truth, on=["RANDID", "EXTRT"])
    assert len(both) == 1500
    error = both["offset_ms"] - both["d"]  # the triplicate mean's noise: sd 4/√3·√(4/5) ≈ 2.1 ms
    assert abs(error.mean()) < 0.3 and 1.8 < error.std() < 2.4
    changes = subject_changes(kept, "QTcF")
    cov = residual_covariance(changes[changes["TPT"] > 0], offsets)
    beta = cov["Placebo"]["offset_gain"]
    assert beta == pytest.approx(-1.0, abs=0.06)  # triplicate noise of the baseline dilutes it a little
    assert all(c["offset_gain"] == beta for c in cov.values())  # pooled over treatments
    mean, _ = conditional_residuals(cov["Placebo"], np.array([]), np.array([]), np.array([2.0, 3.0]), 8.0)
    np.testing.assert_allclose(mean, 8.0 * beta)
    # early residuals that already moved by β·offset carry no further information
    mean, _ = conditional_residuals(cov["Placebo"], np.array([1.0]), np.array([8.0 * beta]),
                                    np.array([3.0]), 8.0)
    np.testing.assert_allclose(mean, 8.0 * beta, atol=1e-9)
    with pytest.raises(ValueError, match="offset"):
        conditional_residuals(cov["Placebo"], np.array([]), np.array([]), np.array([2.0]), np.nan)


def test_offset_population_beats_the_population_mean_when_baselines_regress_to_the_mean():
    from ecgwm_core.evaluation.baselines import OffsetPopulation, PopulationMean
    from ecgwm_core.evaluation.protocols import score

    kept, _ = _crossover(120, seed=3)
    kept = kept.assign(EXDOSE=1.0, EXDOSU="mg")
    train, test = kept[kept["RANDID"] < 80], kept[kept["RANDID"] >= 80]
    task = prediction_task(test)
    truth = task.queries[KEY].merge(observed_dqtcf(test), on=KEY, how="left")["dqtcf"].to_numpy()
    offset = OffsetPopulation().fit(train)
    assert offset.gain_ == pytest.approx(-1.0, abs=0.1)
    with_offset = score(offset.sample(task, 64, seed=0), truth)["mae_ms"]
    without = score(PopulationMean().fit(train).sample(task, 64, seed=0), truth)["mae_ms"]
    assert with_offset < 0.8 * without, (with_offset, without)  # day deviations of sd 6 ms removed


def test_pre_dose_features_find_a_response_that_scales_with_the_baseline_rr_and_shrink_to_none():
    from ecgwm_core.evaluation.baselines import OffsetPopulation, PreDoseFeatures

    def maes(rr_gain: float, ridge: float) -> tuple[float, float]:
        kept, _ = _crossover(120, seed=4, rr_gain=rr_gain)
        kept = kept.assign(EXDOSE=1.0, EXDOSU="mg")
        train, test = kept[kept["RANDID"] < 80], kept[kept["RANDID"] >= 80]
        task = prediction_task(test)
        truth = task.queries[KEY].merge(observed_dqtcf(test), on=KEY, how="left")["dqtcf"].to_numpy()
        features = PreDoseFeatures(features=("RR",), ridge=ridge).fit(train)
        mae = np.abs(features.point(task) - truth).mean()
        draws = features.sample(task, 4000, seed=0)  # centred on the point forecast
        assert np.abs(draws.mean(1) - features.point(task)).max() < 1.5
        return mae, np.abs(OffsetPopulation().fit(train).point(task) - truth).mean()

    with_rr, offset_only = maes(rr_gain=0.5, ridge=1.0)  # Quinidine: 30·(1 + 0.5 z) ms, sd 15 ms across subjects
    assert with_rr < 0.7 * offset_only, (with_rr, offset_only)
    unrelated, offset_only = maes(rr_gain=0.0, ridge=10.0)
    assert abs(unrelated - offset_only) < 0.05 * offset_only, (unrelated, offset_only)
    with pytest.raises(ValueError, match="no column"):
        PreDoseFeatures(features=("QTcX",)).fit(_crossover(6, seed=0)[0].assign(EXDOSE=1.0, EXDOSU="mg"))
    for ridge in (-1.0, 0.0, np.nan):
        with pytest.raises(ValueError, match="ridge"):
            PreDoseFeatures(ridge=ridge)
    with pytest.raises(ValueError, match="tuple of column names"):
        PreDoseFeatures(features="RR")


def test_pre_dose_feature_slopes_match_scikit_learn_ridge_and_shrink_to_the_offset_baseline():
    from sklearn.linear_model import Ridge

    from ecgwm_core.evaluation.baselines import OffsetPopulation, PreDoseFeatures

    kept, _ = _crossover(30, seed=6, rr_gain=0.5)
    rng = np.random.default_rng(6)
    kept = kept.assign(EXDOSE=1.0, EXDOSU="mg", PR=160.0 + 20.0 * rng.standard_normal(len(kept)))
    train, test = kept[kept["RANDID"] < 20], kept[kept["RANDID"] >= 20]
    model = PreDoseFeatures(features=("RR", "PR"), ridge=4.0).fit(train)
    # independent route: per drug, each subject's mean residual from population + offset, regressed by sklearn
    changes = observed_dqtcf(train)
    changes = changes[changes["TPT"] > 0]
    fitted = OffsetPopulation().fit(train).point(prediction_task(train))
    task_rows = prediction_task(train).queries[KEY].assign(fitted=fitted)
    residual = changes.merge(task_rows, on=KEY).assign(r=lambda d: d["dqtcf"] - d["fitted"])
    pre = train[train["TPT"] == -0.5].groupby("RANDID")[["RR", "PR"]].mean()
    x = ((pre - pre.mean()) / pre.std(ddof=1)).to_numpy()
    for drug, rows in residual.groupby("EXTRT"):
        y = rows.groupby("RANDID")["r"].mean().reindex(pre.index).to_numpy()
        np.testing.assert_allclose(model.slopes_[drug], Ridge(alpha=4.0).fit(x, y).coef_, rtol=1e-6, atol=1e-9)
    assert model.slopes_["Quinidine Sulph"][0] > 5.0  # the RR-scaled response (30·0.5 ms per sd of RR)
    task = prediction_task(test)
    offset = OffsetPopulation().fit(train).point(task)
    huge = PreDoseFeatures(features=("RR", "PR"), ridge=1e9).fit(train).point(task)
    np.testing.assert_allclose(huge, offset, atol=1e-4)  # all shrunk away: the offset baseline
    blank = test.assign(RR=np.where(test["RANDID"] == 20, np.nan, test["RR"]),
                        PR=np.where(test["RANDID"] == 20, np.nan, test["PR"]))
    gap = prediction_task(blank)
    mine = gap.queries["RANDID"].to_numpy() == 20
    point = model.point(gap)
    np.testing.assert_allclose(point[mine], OffsetPopulation().fit(train).point(gap)[mine])  # no features: none used
    assert np.abs(point[~mine] - offset[~mine]).max() > 1.0


def test_antithetic_draws_are_student_t_and_centre_each_forecast_on_its_point():
    from scipy import stats

    from ecgwm_core.evaluation.baselines import OffsetPopulation, antithetic_t
    from ecgwm_core.evaluation.simulation import between_subject_noise

    draws = antithetic_t(np.random.default_rng(0), 11, (3, 100000))
    np.testing.assert_allclose(draws.sum(1), 0.0, atol=1e-8)
    assert stats.kstest(draws[0, :50000], stats.t(11).cdf).pvalue > 0.01  # each half: independent t_11
    odd = antithetic_t(np.random.default_rng(0), np.array([[3.0], [30.0]]), (2, 5))  # df per row
    np.testing.assert_array_equal(odd[:, 3:], -odd[:, :2])
    kept, _ = _crossover(60, seed=5)
    kept = kept.assign(EXDOSE=1.0, EXDOSU="mg")
    task = prediction_task(kept[kept["RANDID"] >= 40])
    offset = OffsetPopulation().fit(kept[kept["RANDID"] < 40])
    samples = offset.sample(task, 32, seed=1)
    np.testing.assert_allclose(samples.mean(1), offset.point(task), atol=1e-9)
    assert samples.std(1).min() > 2.0  # still a spread around it (the day deviations: sd 6 ms)
    rollouts = np.random.default_rng(2).normal(10.0, 3.0, (4, 32))
    noise = between_subject_noise(np.full(4, 12.0), rollouts, seed=0, n_subjects=12)
    np.testing.assert_allclose((rollouts + noise).mean(1), rollouts.mean(1), atol=1e-9)


def test_between_subject_noise_tops_the_rollout_variance_up_to_the_given_spread():
    """Student-t draws with m − 1 degrees of freedom, scaled so the total variance is sd²·(1 + 1/m)
    (the t variance (m − 1)/(m − 3) on top), never shrinking rollouts that are already wider."""
    from ecgwm_core.evaluation.simulation import between_subject_noise

    rng = np.random.default_rng(0)
    sd, m = np.array([8.0, 10.0, 12.0]), 12
    t_var = (m - 1) / (m - 3)
    noise = between_subject_noise(sd, np.zeros((3, 200000)), seed=0, n_subjects=m)
    np.testing.assert_allclose(noise.std(1), sd * np.sqrt((1 + 1 / m) * t_var), rtol=0.02)
    assert abs(np.mean(np.abs(noise[0]) > 8.0 * np.sqrt(1 + 1 / m) * 2.718) - 0.02) < 0.003  # t_11 tails
    wide = 5.0 * rng.standard_normal((3, 200000))  # rollouts with sd 5: adds sqrt(sd²(1 + 1/m) − 25)
    np.testing.assert_allclose(between_subject_noise(sd, wide, seed=0, n_subjects=m).std(1),
                               np.sqrt((sd**2 * (1 + 1 / m) - wide.var(1)) * t_var), rtol=0.02)
    assert not between_subject_noise(sd, 20.0 * rng.standard_normal((3, 1000)), seed=0, n_subjects=m).any()
    np.testing.assert_array_equal(noise, between_subject_noise(sd, np.zeros((3, 200000)), seed=0, n_subjects=m))
    with pytest.raises(ValueError, match="training subjects"):
        between_subject_noise(sd, np.zeros((3, 10)), seed=0, n_subjects=2)


def test_effect_scale_multiplies_the_priors_interval_changes_only():
    zero = {"hours": [1.0, 3.0], "pr_ms": [0.0, 0.0], "qrs_ms": [0.0, 0.0], "jtpeak_ms": [0.0, 0.0],
            "tpeaktend_ms": [0.0, 0.0], "rr_ms": [0.0, 0.0]}
    effects = DrugEffects({"placebo": zero, "dofetilide": {**zero, "jtpeak_ms": [10.0, 20.0], "pr_ms": [1.0, 2.0]}},
                          {"dofetilide": {"ka_per_h": 1.0, "ke_per_h": 0.1, "v_over_f_l": 100.0, "tlag_h": 0.0}}, {})

    class Holder:  # stands in for a WorldModel: only .effects is read
        pass

    model = Holder()
    model.effects = effects
    scaled = with_effect_scale(model, 2.0)
    action = trial_action("dofetilide", 2.5)
    assert scaled.effects.changes(action) == pytest.approx({k: 2 * v for k, v in effects.changes(action).items()})
    assert scaled.effects.concentration(action) == effects.concentration(action)
    assert model.effects is effects  # the original model is untouched
    with pytest.raises(ValueError, match="effect scale"):
        with_effect_scale(model, -1.0)


@pytest.fixture(scope="module")
def ode_beat():
    """A noise-free ODE median beat (model output of the prior) in the world model's representation."""
    rep = get_config("quick").representation
    return render_beats([paper_dipole(67.0)], np.array([0.9]), rep)[0], rep


def test_check_beat_passes_an_ode_beat_and_flags_constructed_defects(ode_beat):
    beat, rep = ode_beat
    ok = check_beat(beat, rep.fs_hz, r_index(rep), 0.9, LEAD_NAMES)
    assert ok.plausible, ok.reasons
    broken = beat.copy()
    broken[2] += 0.3  # lead III no longer equals II - I: Einthoven's law violated
    assert any("I + III - II" in r for r in check_beat(broken, rep.fs_hz, r_index(rep), 0.9, LEAD_NAMES).reasons)
    flat = np.zeros_like(beat)
    assert not check_beat(flat, rep.fs_hz, r_index(rep), 0.9).plausible
    nan = beat.copy()
    nan[0, 5] = np.nan
    assert check_beat(nan, rep.fs_hz, r_index(rep), 0.9).reasons == ("non-finite samples",)


@pytest.mark.slow
def test_world_model_forecasts_dofetilide_prolongation_on_unseen_subjects():
    """The cached quick model (trained on the default split's 12 subjects) on the 4 held-out subjects."""
    from ecgwm_core.worldmodel import default_split, pretrained

    kept = load_clinical_table().kept
    _, test = default_split(kept)
    rows = kept[kept["RANDID"].isin(test[:1]) & kept["EXTRT"].isin(["Dofetilide", "Placebo"])]
    task = prediction_task(rows)
    samples = WorldModelPredictor(model=pretrained("quick", progress=False)).fit(None).sample(task, 16, 0)
    assert samples.shape == (len(task.queries), 16) and np.isfinite(samples).all()
    mean = pd.Series(samples.mean(1), index=pd.MultiIndex.from_frame(task.queries[["EXTRT", "TPT"]]))
    # dofetilide's known peak prolongation (~30 ms at 2-3 h in the trial) against placebo (~0)
    assert mean.loc[("Dofetilide", 2.5)] - mean.loc[("Placebo", 2.5)] > 10
