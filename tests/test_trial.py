"""Drug effects of the real ECGRDVQ table against the values the book reports."""
import pytest

from ecgwm_core.data import load_clinical_table
from ecgwm_core.data.trial import change_from_baseline, peak_change


@pytest.fixture(scope="module")
def kept():
    return load_clinical_table().kept


def _peak(effects, drug):
    row = peak_change(effects).set_index("drug").loc[drug]
    return row["hours"], row["mean"]


@pytest.mark.parametrize(
    "drug, hours, delta_ms",
    [("Dofetilide", 2.5, 75.0), ("Quinidine Sulph", 2.0, 76.0), ("Ranolazine", 2.0, 5.0), ("Verapamil HCL", 2.0, 3.0)],
)
def test_peak_delta_qtcf(kept, drug, hours, delta_ms):
    peak_hours, peak_ms = _peak(change_from_baseline(kept, "QTcF"), drug)
    assert peak_hours == hours
    assert peak_ms == pytest.approx(delta_ms, abs=2.0)


def test_verapamil_prolongs_pr(kept):
    hours, delta = _peak(change_from_baseline(kept, "PR"), "Verapamil HCL")
    assert hours == 1.5 and delta == pytest.approx(28.0, abs=2.0)


def test_change_from_baseline_structure(kept):
    effects = change_from_baseline(kept, "QTcF")
    base = effects[effects["hours"] == -0.5]
    assert (base["mean"] == 0).all()
    post = effects[effects["hours"] > 0]
    assert (post["ci_low"] < post["mean"]).all() and (post["mean"] < post["ci_high"]).all()
    assert set(effects["n"]) <= {15, 16}
    assert len(effects) == 5 * 16
    # dofetilide's 95 % CI at the peak excludes the 10 ms ICH E14 threshold
    dof = effects[(effects["drug"] == "Dofetilide") & (effects["hours"] == 2.5)].iloc[0]
    assert dof["ci_low"] > 10


def test_unknown_measure_is_named(kept):
    with pytest.raises(KeyError, match="no column 'QTX'"):
        change_from_baseline(kept, "QTX")
