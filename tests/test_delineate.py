"""Delineation and intervals: against the ODE prior's known fiducials, on a real record, and on bad input."""
import math

import numpy as np
import pytest

from ecgwm_core.data import load_ptb
from ecgwm_core.ode import simulate
from ecgwm_core.signal import INTERVALS, measure_batch, measure_ecg
from ecgwm_core.synthetic.groundtruth import validation_table

FS = 500.0


def test_intervals_match_the_ode_ground_truth_across_rates_and_noise():
    """Measured: median absolute error 2.2 (PR), 2.3 (QRS), 2.1 (QT) ms over 18 ECGs."""
    table = validation_table(seed=0)
    assert len(table) == 18 and (table["quality"] == "ok").all()
    for name in ("pr_ms", "qrs_ms", "qt_ms"):
        errors = table[f"{name}_error_ms"].abs()
        assert errors.median() <= 5.0, name
        assert errors.max() <= 12.0, name


def test_real_ptb_record_gives_plausible_intervals():
    rec = load_ptb()
    m = measure_ecg(rec.signal[:12], rec.fs)
    assert m["quality"] == "ok"
    assert m["hr_bpm"] == pytest.approx(81.9, abs=1.0)
    assert 150 < m["pr_ms"] < 260 and 80 < m["qrs_ms"] < 140 and 340 < m["qt_ms"] < 460
    # (QT = QRS + J-Tpeak + Tpeak-Tend holds by construction of the fiducials; no test needed)
    assert m["qtcf_ms"] == pytest.approx(m["qt_ms"] / (m["rr_ms"] / 1000) ** (1 / 3))


def test_heart_rate_corrections_against_hand_computed_values():
    """Fridericia QT / RR^(1/3) and Bazett QT / RR^(1/2) with RR in s, at RRs whose roots are exact."""
    from ecgwm_core.signal.intervals import qtcb_ms, qtcf_ms

    assert qtcf_ms(400.0, 0.729) == pytest.approx(400 / 0.9, rel=1e-12)  # 0.9^3 = 0.729
    assert qtcb_ms(400.0, 0.64) == pytest.approx(500.0, rel=1e-12)  # 0.8^2 = 0.64
    assert qtcf_ms(380.0, 1.0) == qtcb_ms(380.0, 1.0) == 380.0  # no correction at 60 bpm
    np.testing.assert_allclose(qtcf_ms(np.array([360.0, 420.0]), np.array([1.331, 0.512])), [360 / 1.1, 420 / 0.8])
    np.testing.assert_allclose(qtcb_ms(np.array([360.0, 420.0]), np.array([1.21, 0.49])), [360 / 1.1, 420 / 0.7])


@pytest.mark.parametrize(
    "signal, reason",
    [
        (np.zeros((12, 5000)), "flat signal"),
        (np.random.default_rng(1).normal(0, 0.3, (12, 5000)), "failed"),
        (np.full((12, 5000), np.nan), "non-finite samples"),
        (np.ones(10), "flat signal"),
    ],
)
def test_bad_signals_give_nan_and_a_reason(signal, reason):
    m = measure_ecg(signal, FS)
    assert m["quality"].startswith(reason)
    assert all(math.isnan(m[name]) for name in INTERVALS)


def test_named_reasons_and_wave_edges():
    """The reasons are part of the output: a noise-only ECG is named as such; a tangent needs two points and a
    slope (its least-squares line through (2, 1), (3, 3), (4, 5) crosses 0 at 1.5)."""
    from ecgwm_core.signal.delineate import _tangent

    noise = np.random.default_rng(1).normal(0, 0.3, (12, 5000))
    assert measure_ecg(noise, FS)["quality"] == "failed: no QRS complex stands out of the noise"
    assert _tangent(np.array([-3.0, -1.0, 1.0, 3.0, 5.0]), 3, 0.0) == pytest.approx(1.5)
    for edge in (0, 9):
        with pytest.raises(ValueError, match="a wave edge lies at the end of the beat"):
            _tangent(np.arange(10.0), edge, 0.0, half=0)
    with pytest.raises(ValueError, match="flat slope at a wave edge"):
        _tangent(np.zeros(10), 5, 0.0)


def test_measure_batch_is_one_row_per_ecg():
    sim = simulate(n=3, duration_s=10, fs=FS, heart_rate=70, leads="12", seed=2)
    table = measure_batch(sim.signal.numpy(), FS, progress=False)
    assert list(table.columns) == [*INTERVALS, "quality"] and len(table) == 3
    assert (table["quality"] == "ok").all()
    assert table["hr_bpm"].between(67, 73).all()
