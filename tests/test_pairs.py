"""Learning pairs (pre-dose ECG, action, post-dose ECG) and subject-wise splits on the real table."""
import numpy as np
import pytest

from ecgwm_core.data import load_clinical_table, paired_samples, split_by_subject, subject_folds


@pytest.fixture(scope="module")
def pairs():
    return paired_samples(load_clinical_table().kept)


def test_every_post_dose_ecg_has_its_own_periods_baseline(pairs):
    kept = load_clinical_table().kept
    assert len(pairs) == 3545  # post-dose ECGs whose period has a usable pre-dose ECG
    assert (pairs["hours"] > 0).all()
    lookup = kept.set_index("EGREFID")
    pre, post = lookup.loc[pairs["pre_EGREFID"]], lookup.loc[pairs["post_EGREFID"]]
    assert (pre["TPT"].to_numpy() == -0.5).all()
    assert (pre["RANDID"].to_numpy() == post["RANDID"].to_numpy()).all()
    assert (pre["VISIT"].to_numpy() == post["VISIT"].to_numpy()).all()
    np.testing.assert_allclose(pairs["post_QTcF"], post["QTcF"])
    dof = pairs[pairs["drug"] == "Dofetilide"]
    assert ((dof["post_QTcF"] - dof["pre_QTcF"])[dof["hours"] == 2.5].mean()) == pytest.approx(75, abs=5)


def test_split_keeps_subjects_apart(pairs):
    splits = split_by_subject(pairs, (0.6, 0.2, 0.2), seed=3)
    sets = [set(s["RANDID"]) for s in splits.values()]
    assert all(sets) and not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    assert sum(len(s) for s in splits.values()) == len(pairs)
    assert split_by_subject(pairs, seed=3)["test"].equals(split_by_subject(pairs, seed=3)["test"])
    with pytest.raises(ValueError, match="summing to 1"):
        split_by_subject(pairs, (0.5, 0.2, 0.2))


def test_leave_subjects_out_folds(pairs):
    folds = subject_folds(pairs, k=4, seed=1)
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested) == sorted(pairs["RANDID"].unique())
    for train, test in folds:
        assert not set(train) & set(test)
    with pytest.raises(ValueError, match="k must be between 2"):
        subject_folds(pairs, k=40)
