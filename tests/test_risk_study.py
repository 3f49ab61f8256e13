"""Risk across subjects (risk.study): κ rankings, alignment, CVaR agreement and calibration tables on hand-made inputs."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import brier_score_loss

from ecgwm_core.data import load_clinical_table
from ecgwm_core.risk.study import (
    alignment_table,
    calibration_by_time,
    cvar_agreement,
    kappa_ranks,
    scores_at,
)

DRUGS = ["placebo", "dofetilide", "quinidine", "ranolazine", "verapamil"]


def _scores(expected, spread, cvar=None, subject=1003):
    cvar = expected if cvar is None else cvar
    return pd.DataFrame({"subject": subject, "drug": DRUGS, "expected": expected, "spread": spread, "cvar": cvar})


def test_kappa_moves_a_wide_candidate_past_a_narrow_one():
    # hand-made: ranolazine has the lower mean but the larger spread; they swap where 1.0 + κ·0.1 = 0.8 + κ·0.5
    table = _scores([0.5, 3.0, 2.0, 0.8, 1.0], [0.1, 0.2, 0.3, 0.5, 0.1])
    assert scores_at(table, 2.0).tolist() == pytest.approx([0.7, 3.4, 2.6, 1.8, 1.2])
    ranks = kappa_ranks(table, [0.0, 0.4, 1.0]).set_index(["kappa", "drug"])["rank"]
    assert ranks[(0.0, "verapamil")] == 3 and ranks[(0.0, "ranolazine")] == 4
    assert (ranks[(0.4, "verapamil")], ranks[(0.4, "ranolazine")]) == (3, 4)  # 1.04 vs 1.00: not yet swapped
    assert ranks[(1.0, "ranolazine")] == 3 and ranks[(1.0, "verapamil")] == 4
    with pytest.raises(ValueError, match="kappa must be a finite number >= 0"):
        scores_at(table, -1.0)


def test_alignment_against_cipa_and_the_observed_trial_ranking():
    kept = load_clinical_table().kept
    table = _scores([0.1, 3.0, 2.0, 0.3, 0.2], [0.0, 1.0, 4.0, 0.0, 0.0])
    result = alignment_table(table, kept, kappas=(0.0, 1.0), hours=2.5).set_index("kappa")
    cipa = [0, 3, 3, 1, 1]
    assert result.loc[0.0, "tau_cipa"] == pytest.approx(stats.kendalltau([0.1, 3.0, 2.0, 0.3, 0.2], cipa).statistic)
    assert result.loc[0.0, "ndcg_cipa"] == pytest.approx(1.0)  # both high-risk drugs first, then both low
    # κ = 1 puts quinidine (6.0) above dofetilide (4.0): still an ideal CiPA ordering (they tie at "high")
    assert result.loc[1.0, "ndcg_cipa"] == pytest.approx(1.0)
    rows = kept[(kept["RANDID"] == 1003)]
    pre = rows[rows["TPT"] == -0.5].groupby("EXTRT")["QTcF"].mean()
    post = rows[rows["TPT"] == 2.5].groupby("EXTRT")["QTcF"].mean()
    observed = (post - pre).rename({"Placebo": "placebo", "Dofetilide": "dofetilide", "Quinidine Sulph": "quinidine",
                                    "Ranolazine": "ranolazine", "Verapamil HCL": "verapamil"})[DRUGS]
    expected_tau = stats.kendalltau([0.1, 3.0, 2.0, 0.3, 0.2], observed.to_numpy()).statistic
    assert result.loc[0.0, "tau_observed"] == pytest.approx(expected_tau)
    with pytest.raises(ValueError, match="subject 4242 has no post-dose QTcF"):
        alignment_table(table.assign(subject=4242), kept)
    one = table[table["drug"].isin(["placebo", "quinidine"])].assign(subject=1002)  # no quinidine at 2.5 h
    with pytest.raises(ValueError, match="fewer than two drugs with an observed"):
        alignment_table(one, kept)


def test_cvar_agreement_names_the_riskiest_by_each_score():
    table = _scores([0.1, 3.0, 2.0, 0.3, 0.2], [0.0, 0.1, 0.2, 0.0, 0.0], cvar=[0.1, 3.1, 4.0, 0.3, 0.2])
    row = cvar_agreement(table, kappa=1.0).iloc[0]
    assert (row["riskiest_mv"], row["riskiest_cvar"]) == ("dofetilide", "quinidine")
    assert row["tau"] == pytest.approx(0.8)  # one discordant pair of ten


def test_calibration_by_time_matches_sklearn_and_hand_values():
    frame = pd.DataFrame({"hours": [1, 1, 2, 2], "p": [0.9, 0.1, 0.5, 0.5], "observed": [1, 0, 1, 0]})
    table = calibration_by_time({"m": frame}, n_bins=10).set_index("hours", drop=False)
    assert table.loc[1, "brier"] == pytest.approx(0.01)
    assert table.loc[2, "ece"] == pytest.approx(0.0)  # both predictions 0.5 in one bin, observed 1/2
    pooled = table[table["hours"].isna()].iloc[0]
    assert pooled["brier"] == pytest.approx(brier_score_loss(frame["observed"], frame["p"]))
    assert pooled["ece"] == pytest.approx(0.1 / 2)  # bins 0.1 and 0.9 off by 0.1 each, bin 0.5 exact
    assert pooled["n"] == 4 and pooled["event_rate"] == 0.5


class _DoseSimulator:
    """Synthetic stub: ΔQTcF = 40 ms × (dose / trial dose) for every rollout, plus ±2 ms alternating noise."""

    def simulate(self, subject, baseline, actions, samples, seed):
        from ecgwm_core.actions import FORMULARY
        from ecgwm_core.risk import rollout_measures

        noise = np.where(np.arange(samples) % 2, 2.0, -2.0)
        out = []
        for a in actions:
            d = 0.0 if a.drug == "placebo" else 40.0 * a.dose / FORMULARY[a.drug].dose
            out.append(rollout_measures(qtcf_ms=400 + d + noise, dqtcf_ms=d + noise))
        return out


def test_what_if_compares_the_dose_with_placebo_and_rejects_bad_drugs():
    from ecgwm_core.risk import ProposalError, what_if

    kept = load_clinical_table().kept
    full = what_if(_DoseSimulator(), kept, 1001, "dofetilide", 1.0, samples=4).table().set_index("drug")
    half = what_if(_DoseSimulator(), kept, 1001, "dofetilide", 0.5, samples=4).table().set_index("drug")
    assert full.loc["dofetilide", "dose"] == "500 ug" and half.loc["dofetilide", "dose"] == "250 ug"
    assert full.loc["dofetilide", "p_dqtcf_gt_30"] == 1.0 and half.loc["dofetilide", "p_dqtcf_gt_30"] == 0.0
    with pytest.raises(ProposalError, match="active formulary drug; got 'placebo'"):
        what_if(_DoseSimulator(), kept, 1001, "placebo")
    with pytest.raises(ProposalError, match="outside the formulary"):
        what_if(_DoseSimulator(), kept, 1001, "dofetilide", 0.2)


def test_whatif_panel_reruns_when_a_control_changes():
    from ecgwm_core.risk import whatif_panel

    calls = []

    class Counting(_DoseSimulator):
        def simulate(self, subject, baseline, actions, samples, seed):
            calls.append((subject, actions[1].dose))
            return super().simulate(subject, baseline, actions, samples, seed)

    panel = whatif_panel(Counting(), load_clinical_table().kept, subjects=[1001, 1003], samples=4)
    assert calls == [(1001, 500.0)]
    dropdowns = panel.children[0].children
    dropdowns[0].value = 1003
    panel.children[1].value = 0.5  # dose fraction
    assert calls == [(1001, 500.0), (1003, 500.0), (1003, 250.0)]
