"""World-model predictors: the sampling rules (fast, hand-made draws) and, marked slow, the real model."""
import numpy as np
import pandas as pd
import pytest

from ecgwm_core.data import load_clinical_table
from ecgwm_core.evaluation import check_beat
from ecgwm_core.evaluation.protocols import KEY, prediction_task
from ecgwm_core.evaluation.simulation import (
    Draws, WorldModelPredictor, observed_offsets, plausible_samples, with_effect_scale,
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


def test_observed_offset_is_mean_of_observed_minus_forecast_at_the_early_points():
    one, task = _task_with_early_rows()
    keys = pd.concat([task.context.loc[task.context["TPT"] > 0, KEY].drop_duplicates(),
                      task.queries[KEY]]).reset_index(drop=True)
    samples = np.zeros((len(keys), 4))
    samples[:, :] = np.arange(len(keys))[:, None]  # forecast mean at point i is i
    offset = observed_offsets(task, keys, samples)
    early = keys[keys["TPT"] <= 1.5]
    qtcf = one.groupby("TPT")["QTcF"].mean()  # triplicate means, hand-computed ΔQTcF
    expected = np.mean([qtcf[h] - qtcf[-0.5] - i for i, h in zip(early.index, early["TPT"])])
    assert offset.loc[(1001, "Dofetilide")] == pytest.approx(expected, abs=1e-9)


def test_shrunken_offset_shifts_only_the_later_forecasts():
    one, task = _task_with_early_rows()
    keys = pd.concat([task.context.loc[task.context["TPT"] > 0, KEY].drop_duplicates(),
                      task.queries[KEY]]).sort_values(KEY).reset_index(drop=True)
    d = Draws(keys, np.zeros((len(keys), 6)), np.ones((len(keys), 6), dtype=bool))
    offset = observed_offsets(task, keys, np.zeros((len(keys), 6))).iloc[0]
    for shrinkage in (0.0, 0.5, 1.0):
        out = WorldModelPredictor(shrinkage=shrinkage, between_subject=False).forecast(task, d, seed=0)
        assert out.shape == (len(task.queries), 6) and (task.queries["TPT"] > 1.5).all()
        np.testing.assert_allclose(out, shrinkage * offset)


def test_between_subject_noise_tops_the_rollout_variance_up_to_the_population_spread():
    from ecgwm_core.evaluation.simulation import between_subject_noise

    zero = [0.0, 0.0]
    curve = {"hours": [1.0, 3.0], "pr_ms": zero, "qrs_ms": zero, "jtpeak_ms": zero, "tpeaktend_ms": zero,
             "rr_ms": zero, "dqtcf_sd_ms": [8.0, 12.0]}

    class Holder:  # stands in for a WorldModel: only .effects is read
        effects = DrugEffects({"placebo": curve}, {})

    keys = pd.DataFrame({"RANDID": [1, 1, 1], "EXTRT": ["Placebo"] * 3, "TPT": [1.0, 2.0, 3.0]})
    rng = np.random.default_rng(0)
    flat = np.zeros((3, 20000))
    noise = between_subject_noise(Holder(), keys, flat, seed=0)
    np.testing.assert_allclose(noise.std(1), [8.0, 10.0, 12.0], rtol=0.02)  # 10 = midway, by hand
    wide = 5.0 * rng.standard_normal((3, 20000))  # rollouts with sd 5: adds sqrt(sd_b² − 25)
    np.testing.assert_allclose(between_subject_noise(Holder(), keys, wide, seed=0).std(1),
                               np.sqrt(np.array([64.0, 100.0, 144.0]) - wide.var(1)), rtol=0.02)
    too_wide = 20.0 * rng.standard_normal((3, 1000))
    assert not between_subject_noise(Holder(), keys, too_wide, seed=0).any()  # never shrinks the spread
    np.testing.assert_array_equal(noise, between_subject_noise(Holder(), keys, flat, seed=0))  # seeded


def test_effect_scale_multiplies_the_priors_interval_changes_only():
    zero = {"hours": [1.0, 3.0], "pr_ms": [0.0, 0.0], "qrs_ms": [0.0, 0.0], "jtpeak_ms": [0.0, 0.0],
            "tpeaktend_ms": [0.0, 0.0], "rr_ms": [0.0, 0.0], "dqtcf_sd_ms": [0.0, 0.0]}
    effects = DrugEffects({"placebo": zero, "dofetilide": {**zero, "jtpeak_ms": [10.0, 20.0], "pr_ms": [1.0, 2.0]}},
                          {"dofetilide": {"ka_per_h": 1.0, "ke_per_h": 0.1, "v_over_f_l": 100.0, "tlag_h": 0.0}})

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
