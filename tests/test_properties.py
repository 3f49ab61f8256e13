"""Property-based tests (hypothesis): ``simulate`` and ``measure_ecg`` over their documented ranges.

For every parameter inside the documented ranges, ``simulate`` returns finite
MODEL ECGs of the promised shape with R peaks inside the record; outside them
it raises ``ValueError``/``TypeError`` naming the parameter. ``measure_ecg``
never raises: it returns finite intervals with quality ``"ok"`` only when they
are physiological, and NaN or an ``"implausible"`` flag otherwise.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecgwm_core.data.ecgrdvq import PLAUSIBLE_MS
from ecgwm_core.ode import simulate
from ecgwm_core.ode.simulate import MIN_FS_HZ
from ecgwm_core.signal.delineate import CHECKED_INTERVALS, INTERVALS, measure_ecg

torch.set_num_threads(1)
FAST = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])
"""Few examples, derandomised (the same examples on every run and machine, no example database
written into the repository), no per-example deadline."""


@st.composite
def documented_inputs(draw) -> dict:
    """Arguments of :func:`simulate` inside its documented ranges (sizes kept small for speed)."""
    heart_rate = draw(st.floats(20.0, 250.0))
    return {
        "n": draw(st.integers(1, 3) | st.integers(1, 3).map(np.int64)),
        "heart_rate": heart_rate,
        "duration_s": draw(st.floats(60.0 / heart_rate, 4.0)),
        "fs": draw(st.floats(MIN_FS_HZ, 1000.0)),
        "hr_std": draw(st.floats(0.0, 5.0)),
        "leads": draw(st.sampled_from(["1", "12", "xyz"])),
        "wander_mv": draw(st.floats(0.0, 0.5)),
        "seed": draw(st.integers(0, 2**31 - 1)),
    }


@FAST
@given(documented_inputs())
def test_simulate_is_finite_inside_the_documented_ranges(kwargs):
    sim = simulate(**kwargs)
    n_samples = int(round(kwargs["duration_s"] * kwargs["fs"]))
    n_leads = {"1": 1, "12": 12, "xyz": 3}[kwargs["leads"]]
    assert tuple(sim.signal.shape) == (int(kwargs["n"]), n_leads, n_samples)
    assert torch.isfinite(sim.signal).all()
    assert sim.signal.abs().max() < 20  # mV: an ECG, not a blow-up
    for peaks in sim.rpeaks:
        assert ((peaks >= 0) & (peaks < n_samples)).all()


NAMED = {"n", "duration_s", "fs", "heart_rate", "hr_std", "wander_mv", "seed", "max_memory_gb"}


@FAST
@given(name=st.sampled_from(sorted(NAMED)),
       value=st.one_of(st.floats(-1e3, 1e3), st.sampled_from([math.nan, math.inf, -math.inf, 1e12]),
                       st.integers(-1000, 1000), st.just(10**12), st.text(max_size=3), st.none(), st.booleans()))
def test_simulate_returns_finite_ecgs_or_names_the_bad_parameter(name, value):
    """Any value of one parameter (sizes bounded so that accepted ones stay fast; 1e12 hits the memory limit)."""
    kwargs = {"n": 1, "duration_s": 2.0, "fs": 250.0, "leads": "1"} | {name: value}
    try:
        sim = simulate(**kwargs)
    except (ValueError, TypeError) as err:
        assert name in str(err), f"{err} does not name {name}"
        return
    assert torch.isfinite(sim.signal).all()


@st.composite
def model_ecgs(draw) -> tuple[np.ndarray, float]:
    """A MODEL ECG (ODE prior) with noise, possibly rescaled (µV) or with a wrong declared fs."""
    fs = draw(st.sampled_from([250.0, 500.0]))
    heart_rate = draw(st.floats(45.0, 130.0))
    sim = simulate(n=1, duration_s=8.0, fs=fs, heart_rate=heart_rate, leads=draw(st.sampled_from(["1", "12"])),
                   seed=draw(st.integers(0, 1000)), wander_mv=draw(st.floats(0.0, 0.3)))
    signal = sim.signal[0].numpy()
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    signal = signal + rng.normal(0.0, draw(st.floats(0.0, 0.05)), signal.shape)
    scale = draw(st.sampled_from([1.0, 1.0, 1000.0]))
    declared = fs * draw(st.sampled_from([1.0, 1.0, 0.5, 2.0]))
    return scale * signal, declared


@FAST
@given(model_ecgs())
def test_measure_ecg_is_finite_and_ok_only_when_plausible(case):
    signal, fs = case
    result = measure_ecg(signal, fs)
    assert set(result) == {*INTERVALS, "quality"}
    values = np.array([result[k] for k in INTERVALS])
    if result["quality"] == "ok":
        assert np.isfinite(values).all()
        for name, column in CHECKED_INTERVALS.items():
            low, high = PLAUSIBLE_MS[column]
            assert low <= result[name] <= high
        assert np.ptp(signal) < 1000  # a µV signal is never "ok"
    else:
        assert result["quality"].startswith(("implausible", "failed", "flat", "non-finite"))


@FAST
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=0, max_size=3000),
       st.sampled_from([100.0, 250.0, 500.0]))
def test_measure_ecg_never_raises_on_arbitrary_samples(samples, fs):
    result = measure_ecg(np.asarray(samples, dtype=float), fs)
    assert isinstance(result["quality"], str)
    if result["quality"] == "ok":
        assert all(math.isfinite(result[k]) for k in INTERVALS)


@pytest.mark.parametrize("fs", [MIN_FS_HZ, 1000.0])
def test_accuracy_floor_is_accepted(fs):
    """The stated floor itself (128 Hz) is inside the documented range."""
    assert simulate(n=1, duration_s=1.0, fs=fs).signal.shape[-1] == round(fs)
