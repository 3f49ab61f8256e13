"""Pharmacokinetics and concentration-QTc slopes fitted on the real ECGRDVQ table."""
import numpy as np
import pytest
import torch

from ecgwm_core.actions import PUBLISHED_SLOPES, concentration_slope, fit_pk, match_drug, one_compartment
from ecgwm_core.data import load_clinical_table

DRUGS = ["Dofetilide", "Quinidine Sulph", "Ranolazine", "Verapamil HCL"]


@pytest.fixture(scope="module")
def kept():
    return load_clinical_table().kept


def test_dofetilide_slope_reproduces_the_published_value(kept):
    """Garnett et al. 2018: 26.7 ms per ng/mL (95 % CI 23.5-29.9); measured here 26.9 (23.0-30.8)."""
    result = concentration_slope(kept, "Dofetilide")
    published, low, high = PUBLISHED_SLOPES["Dofetilide"]
    assert low <= result.slope <= high
    assert result.ci_low < published < result.ci_high
    assert result.n_subjects == 16 and result.converged


def cqtc_data(kept, drug):
    """The pre-specified model's data (Garnett et al. 2018): ΔQTcF on the drug's and the placebo periods after
    dosing, concentration 0 on placebo, baseline QTcF centred."""
    from ecgwm_core.data.trial import subject_changes

    changes = subject_changes(kept, "QTcF")
    data = changes[(changes["TPT"] > 0) & changes["EXTRT"].isin([drug, "Placebo"])].copy()
    data["active"] = (data["EXTRT"] == drug).astype(float)
    data.loc[data["EXTRT"] == "Placebo", "conc_ng_ml"] = 0.0
    data = data.dropna(subset=["conc_ng_ml"])
    data["baseline_c"] = data["baseline"] - data["baseline"].mean()
    return data


def reml_slope(data, random_slope=True):
    """Independent estimator of the same linear mixed model: the REML criterion written out in NumPy
    (block-diagonal V_i = Z_i G Z_i' + σ² I, GLS fixed effects) and minimised with SciPy.

    Returns the concentration slope, its Wald 95 % CI and the random-effect covariance G.
    """
    from scipy.optimize import minimize

    conc = data["conc_ng_ml"].to_numpy(float)
    times = np.sort(data["TPT"].unique())
    x = np.column_stack([np.ones(len(data)), *[(data["TPT"] == t).to_numpy(float) for t in times[1:]],
                         data["active"].to_numpy(float), data["baseline_c"].to_numpy(float), conc])
    y = data["change"].to_numpy(float)
    z = np.column_stack([np.ones(len(data)), conc]) if random_slope else np.ones((len(data), 1))
    groups = [np.flatnonzero(data["RANDID"].to_numpy() == g) for g in np.unique(data["RANDID"])]
    tril = np.tril_indices(z.shape[1])

    def unpack(p):
        chol = np.zeros((z.shape[1], z.shape[1]))
        chol[tril] = p[1:]
        return np.exp(2 * p[0]), chol @ chol.T

    def criterion(p):
        s2, g_cov = unpack(p)
        xvx, xvy, logdet, inverses = 0.0, 0.0, 0.0, []
        for rows in groups:
            v_inv = np.linalg.inv(z[rows] @ g_cov @ z[rows].T + s2 * np.eye(len(rows)))
            inverses.append(v_inv)
            logdet -= np.linalg.slogdet(v_inv)[1]
            xvx, xvy = xvx + x[rows].T @ v_inv @ x[rows], xvy + x[rows].T @ v_inv @ y[rows]
        beta = np.linalg.solve(xvx, xvy)
        quad = sum((y[r] - x[r] @ beta) @ v @ (y[r] - x[r] @ beta) for r, v in zip(groups, inverses))
        return logdet + np.linalg.slogdet(xvx)[1] + quad, beta, xvx

    start = np.concatenate([[np.log(y.std())], np.eye(z.shape[1])[tril] * y.std() / 2])
    best = minimize(lambda p: criterion(p)[0], start, method="BFGS").x
    _, beta, xvx = criterion(best)
    se = np.sqrt(np.linalg.inv(xvx)[-1, -1])
    return beta[-1], beta[-1] - 1.96 * se, beta[-1] + 1.96 * se, unpack(best)[1]


@pytest.mark.parametrize("drug, rel", [("Dofetilide", 0.002), ("Ranolazine", 0.03)])
def test_cqtc_fit_equals_an_independent_reml_fit_with_a_random_slope(kept, drug, rel):
    """statsmodels' fit against the REML criterion written out here, for the same model: slope and CI agree;
    a random-intercept-only model gives a slope the test tells apart (dofetilide 25.5 against 26.9)."""
    result = concentration_slope(kept, drug)
    data = cqtc_data(kept, drug)
    slope, low, high, g_cov = reml_slope(data)
    assert result.slope == pytest.approx(slope, rel=rel)
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), rel=rel)
    assert result.n_observations == len(data)
    if drug == "Dofetilide":
        assert np.sqrt(g_cov[1, 1]) > 3.0  # subjects' slopes spread (measured SD 6.6 ms per ng/mL)
        intercept_only = reml_slope(data, random_slope=False)[0]
        assert abs(intercept_only - slope) > 10 * rel * slope


@pytest.mark.parametrize("drug", DRUGS[1:])
def test_multichannel_blockers_have_far_smaller_slopes_per_unit_exposure(kept, drug):
    result = concentration_slope(kept, drug)
    assert result.converged
    assert abs(result.slope) < 0.1  # ms per ng/mL, against ~27 for dofetilide


@pytest.mark.parametrize("drug", DRUGS)
def test_pk_fit_reproduces_observed_tmax_and_cmax(kept, drug):
    fit = fit_pk(kept, drug)
    s = fit.summary()
    times = np.sort(fit.observed["hours"].to_numpy())
    i = int(np.searchsorted(times, s["tmax_observed_h"]))
    interval = max(times[i] - times[i - 1], times[i + 1] - times[i])
    assert abs(s["tmax_fit_h"] - s["tmax_observed_h"]) <= interval
    assert s["cmax_fit_ng_ml"] == pytest.approx(s["cmax_observed_ng_ml"], rel=0.2)
    assert 1.0 < fit.half_life_h < 12.0
    assert len(fit.subjects) == kept[kept["EXTRT"] == drug]["RANDID"].nunique()  # 15 took quinidine


def test_one_compartment_properties():
    hours = np.linspace(0, 48, 2001)
    c = one_compartment(hours, dose_mg=1.0, ka=1.5, ke=0.1, v_over_f=100.0, tlag=0.5)
    assert c[hours <= 0.5].max() == 0.0
    t_peak = hours[c.argmax()]
    assert t_peak == pytest.approx(0.5 + np.log(15) / 1.4, abs=0.03)
    # AUC(0-inf) = F·D/CL = 1000·D/(V/F·ke) ng·h/mL
    auc = np.trapezoid(c, hours) + c[-1] / 0.1
    assert auc == pytest.approx(1000 * 1.0 / (100.0 * 0.1), rel=0.01)
    np.testing.assert_allclose(one_compartment(hours, 2.0, 1.5, 0.1, 100.0, 0.5), 2 * c)


def test_one_compartment_when_absorption_equals_elimination():
    """ka = ke: the general formula's limit, C = 1000 D/(V/F) ka t exp(-ke t), hand-derived (L'Hopital)."""
    hours = np.array([0.0, 0.5, 2.0, 6.0, 24.0])
    same = one_compartment(hours, dose_mg=2.0, ka=0.3, ke=0.3, v_over_f=50.0)
    np.testing.assert_allclose(same, 1000 * 2.0 / 50.0 * 0.3 * hours * np.exp(-0.3 * hours), rtol=1e-12)
    near = one_compartment(hours, dose_mg=2.0, ka=0.3 * (1 + 1e-7), ke=0.3, v_over_f=50.0)
    np.testing.assert_allclose(same, near, rtol=1e-5)


def test_linear_vs_emax_choice_on_its_own(kept):
    """compare_linear_emax called directly (the module fixture hides it from per-test coverage): its linear AIC
    equals statsmodels' OLS AIC up to the constant n (log 2 pi + 1) that the stated formula leaves out."""
    import statsmodels.api as sm

    from ecgwm_core.actions.exposure_response import compare_linear_emax, paired_ddelta

    result = compare_linear_emax(kept, "Quinidine", "QTcF")
    points = paired_ddelta(kept, "Quinidine Sulph", "QTcF")
    ols = sm.OLS(points["ddelta"].to_numpy(), sm.add_constant(points["conc_ng_ml"].to_numpy())).fit()
    n = len(points)
    assert result["aic_linear"] == pytest.approx(ols.aic - n * (np.log(2 * np.pi) + 1), rel=1e-9)
    assert result["chosen"] == "Emax" and result["aic_emax"] < result["aic_linear"] - 2
    assert result["ec50_ng_ml"] > 0 and np.isfinite(result["emax"])
    linear = compare_linear_emax(kept, "Dofetilide", "QTcF")
    assert linear["chosen"] == "linear" and np.isnan(linear["emax"]) and np.isnan(linear["ec50_ng_ml"])


def test_drug_names_and_errors(kept):
    assert match_drug("verapamil", DRUGS) == "Verapamil HCL"
    with pytest.raises(ValueError, match="unknown drug 'aspirin'; known: Dofetilide"):
        fit_pk(kept, "aspirin")
    with pytest.raises(ValueError, match="unknown drug ' '"):
        concentration_slope(kept, " ")


def test_action_encodings():
    from ecgwm_core.actions import CHANNELS, FORMULARY, Action

    trial = Action("Dofetilide", 500, "ug", hours=2.5, concentration_ng_ml=2.2)
    assert trial.drug == "dofetilide" and trial.dose_mg == pytest.approx(0.5)
    assert trial.token() == list(FORMULARY).index("dofetilide")
    assert trial.token(dose_bins=True) == 3 * trial.token() + 1  # the trial dose is the middle bin
    assert Action("dofetilide", 1, "mg", 2.5).token(dose_bins=True) == 3 * trial.token() + 2
    vec = trial.vector()
    assert vec.shape == (2 + len(CHANNELS),)
    assert vec[0] == pytest.approx(np.log1p(2.2)) and vec[1] == pytest.approx(2.5 / 24)
    assert list(vec[2:]) == [1.0, 0.0, 0.0, 0.0]  # dofetilide blocks hERG only
    assert Action("verapamil", 120, "mg", 1).vector(concentration_ng_ml=100.0)[2:].tolist() == [1.0, 0.0, 0.0, 1.0]
    # every formulary drug maps to a treatment of the real table
    kept = load_clinical_table().kept
    assert {d.trial_name for d in FORMULARY.values()} == set(kept["EXTRT"])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(drug="aspirin", dose=1, unit="mg", hours=1), "unknown drug 'aspirin'; formulary: placebo, dofetilide"),
        (dict(drug="dofetilide", dose=1, unit="g", hours=1), "unknown dose unit 'g'"),
        (dict(drug="dofetilide", dose=-1, unit="mg", hours=1), "dose must be a finite number >= 0"),
        (dict(drug="dofetilide", dose=1, unit="mg", hours=-2), "hours must be a finite number >= 0"),
        (dict(drug="dofetilide", dose=float("nan"), unit="mg", hours=1), "dose must be a finite number"),
    ],
)
def test_bad_actions_are_named(kwargs, message):
    from ecgwm_core.actions import Action

    with pytest.raises(ValueError, match=message):
        Action(**kwargs)


def test_vector_needs_a_concentration():
    from ecgwm_core.actions import Action

    with pytest.raises(ValueError, match="no concentration"):
        Action("dofetilide", 500, "ug", 2).vector()


@pytest.fixture(scope="module")
def er_table(kept):
    from ecgwm_core.actions import exposure_response_table

    return exposure_response_table(kept, DRUGS, ("JTPEAK", "TPEAKTEND", "PR", "QTcF")).set_index(["drug", "measure"])


def test_multichannel_block_signature_in_exposure_response(er_table):
    """Johannesen et al. 2014: hERG-only block lengthens J-Tpeak; added late-Na or Ca block shortens it."""
    dof_jt = er_table.loc[("Dofetilide", "JTPEAK")]
    assert dof_jt["ci_low"] > 0 and er_table.loc[("Dofetilide", "TPEAKTEND"), "ci_low"] > 0
    for drug in ("Ranolazine", "Verapamil HCL"):
        assert er_table.loc[(drug, "JTPEAK"), "ci_high"] < 0
    # calcium-channel block lengthens PR with exposure (measured 0.25 ms per ng/mL)
    assert er_table.loc[("Verapamil HCL", "PR"), "ci_low"] > 0.1


def test_model_choice_follows_the_stated_aic_rule(er_table):
    for _, row in er_table.iterrows():
        expected = "Emax" if row["aic_emax"] < row["aic_linear"] - 2 else "linear"
        assert row["chosen"] == expected
    assert er_table.loc[("Dofetilide", "QTcF"), "chosen"] == "linear"
    assert er_table.loc[("Quinidine Sulph", "QTcF"), "chosen"] == "Emax"  # saturates at high concentration


def _rendered_changes(before, after, rr_s):
    from ecgwm_core.ode.measured import render_measured

    pre, post = render_measured(before, rr_s)[1], render_measured(after, rr_s)[1]
    return {name: post[name] - pre[name] for name in ("pr_ms", "qrs_ms", "jtpeak_ms", "tpeaktend_ms", "qt_ms")}


@pytest.mark.parametrize("drug", ["dofetilide", "quinidine", "ranolazine", "verapamil"])
@pytest.mark.parametrize("dose_factor", [0.5, 1.0, 2.0])
def test_action_moves_the_ode_prior_to_the_intended_intervals(kept, drug, dose_factor):
    """Render before/after with the shifted dipole, measure with the project's delineator: within 3 ms."""
    from ecgwm_core.actions import FORMULARY, Action, action_changes, calibrated_shift
    from ecgwm_core.ode import paper_dipole

    entry = FORMULARY[drug]
    tmax = fit_pk(kept, entry.trial_name).summary()["tmax_fit_h"]
    action = Action(drug, entry.dose * dose_factor, entry.unit, hours=tmax)
    intended = action_changes(kept, action)
    rr_s = 1.0  # 60 bpm: room for the T wave of twice the trial dose of dofetilide (QT + 140 ms)
    before = paper_dipole(60.0)
    shifted = calibrated_shift(before, rr_s, intended)
    measured = _rendered_changes(before, shifted, rr_s)
    for name, change in intended.items():
        assert measured[name] == pytest.approx(change, abs=3.0), name
    assert measured["qt_ms"] == pytest.approx(intended["qrs_ms"] + intended["jtpeak_ms"] + intended["tpeaktend_ms"],
                                              abs=3.0)
    # Independent of the delineator the calibration iterated on: the fiducials known from the rendering
    # (every lead of paper_dipole is a sum of Gaussians, tangent fiducials at mu +- 2 sigma).
    truth = {name: _true_intervals(shifted, rr_s)[name] - _true_intervals(before, rr_s)[name] for name in intended}
    # A T wave widened by > 40 ms (quinidine) pulls the delineated J point: to make the delineator read the
    # intended change, the calibration moves S, so the true QRS is up to 8 ms wider and J-Tpeak shorter by as
    # much (their sum, and QT, stay right). Measured elsewhere: within 1.9 ms.
    split_j = drug == "quinidine" and dose_factor >= 1.0
    for name, change in intended.items():
        tol = 9.0 if split_j and name in ("qrs_ms", "jtpeak_ms") else 2.0
        assert truth[name] == pytest.approx(change, abs=tol), name
    assert sum(truth.values()) - truth["pr_ms"] == pytest.approx(
        sum(intended.values()) - intended["pr_ms"], abs=2.0)  # QT


def _true_intervals(params, rr_s):
    """PR, QRS, J-Tpeak, Tpeak-Tend (ms) of a dipole whose X, Y, Z share each wave's width, from its parameters:
    wave centre mu = theta RR / 2 pi, width sigma = b RR / 2 pi, onsets and ends at mu -+ 2 sigma."""
    assert torch.equal(params.b, params.b[0].expand(3, -1))
    mu = [1000 * rr_s * float(x) / (2 * np.pi) for x in params.theta]
    sigma = [1000 * rr_s * float(x) / (2 * np.pi) for x in params.b[0]]
    p_on, qrs_on, j = mu[0] - 2 * sigma[0], mu[1] - 2 * sigma[1], mu[3] + 2 * sigma[3]
    return {"pr_ms": qrs_on - p_on, "qrs_ms": j - qrs_on, "jtpeak_ms": mu[4] - j, "tpeaktend_ms": 2 * sigma[4]}


def test_placebo_and_bad_changes(kept):
    from ecgwm_core.actions import Action, action_changes, shift_dipole
    from ecgwm_core.ode import DIPOLE_PTB

    assert action_changes(kept, Action("placebo", 0, "mg", 2)) == {
        "pr_ms": 0.0, "qrs_ms": 0.0, "jtpeak_ms": 0.0, "tpeaktend_ms": 0.0}
    with pytest.raises(ValueError, match="unknown interval change"):
        shift_dipole(DIPOLE_PTB, 0.8, {"qt_ms": 10})
    with pytest.raises(ValueError, match="width negative"):
        shift_dipole(DIPOLE_PTB, 0.8, {"tpeaktend_ms": -500})
