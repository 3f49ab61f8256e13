"""The hallucination checker passes real and rendered ECGs and flags each constructed defect.

Defects are built on ODE renderings (model output, labelled synthetic) of the paper dipole
by removing, adding or moving Gaussian waves, so each one is known exactly.
"""
import math

import numpy as np
import pandas as pd
import pytest
import torch

from ecgwm_core.data import STANDARD_12, load_clinical_table, load_mitdb, load_ptb
from ecgwm_core.evaluation.plausibility import (
    check_batch, check_ecg, hallucination_rate, order_reasons,
)
from ecgwm_core.ode import DipoleParams, lead_matrix, simulate
from ecgwm_core.ode.simulate import paper_dipole
from ecgwm_core.signal import delineate
from ecgwm_core.synthetic.twins import render_twins

torch.set_num_threads(1)
FS = 500.0


def render(params: DipoleParams, hr: float = 60.0, seed: int = 0) -> np.ndarray:
    """Synthetic 12-lead ECG (ODE prior) with wander and dipole-level noise (so limb identities hold)."""
    x = simulate(n=1, heart_rate=hr, leads="12", params=params, seed=seed, wander_mv=0.1).signal[0].numpy()
    noise = np.random.default_rng(seed).normal(0, 0.01, (3, x.shape[1]))
    return x + lead_matrix("12")[0].numpy() @ noise


def edit(params: DipoleParams, scale: dict[str, float] | None = None, extra_ms: dict[str, float] | None = None,
         rr_ms: float = 1000.0) -> DipoleParams:
    """Scale waves' amplitudes, and add copies of waves centred at the given ms from R."""
    theta, alpha, b, names = params.theta.clone(), params.alpha.clone(), params.b.clone(), list(params.names)
    for wave, factor in (scale or {}).items():
        alpha[:, names.index(wave)] *= factor
    for wave, ms in (extra_ms or {}).items():
        i = names.index(wave)
        theta = torch.cat([theta, torch.tensor([2 * math.pi * ms / rr_ms], dtype=theta.dtype)])
        alpha, b = torch.cat([alpha, alpha[:, i: i + 1]], 1), torch.cat([b, b[:, i: i + 1]], 1)
        names.append(f"{wave}copy")
    return DipoleParams(theta, alpha, b, tuple(names))


@pytest.mark.parametrize("hr", [50.0, 75.0, 100.0, 120.0])
def test_clean_renderings_pass(hr):
    report = check_ecg(render(paper_dipole(hr), hr), FS, STANDARD_12)
    assert report.plausible, report.reasons
    assert report.intervals["rr_ms"] == pytest.approx(60000 / hr, rel=0.05)


def test_real_ptb_and_mitbih_pass():
    ptb = load_ptb()
    rows = [ptb.leads.index(lead) for lead in STANDARD_12]
    for start in (0.0, 15.0, 28.0):
        window = ptb.window(start, start + 10)
        report = check_ecg(window.signal[rows], window.fs, STANDARD_12)
        assert report.plausible, (start, report.reasons)
    mit = load_mitdb()
    windows = [mit.window(start, start + 10) for start in range(0, 1800, 150)]
    normal = [w for w in windows if set(w.beat_symbols) == {"N"}]  # sinus rhythm, no premature beats
    assert len(normal) >= 10
    for window in normal:
        report = check_ecg(window.signal, window.fs)
        assert report.plausible, (window.name, report.reasons)


def test_semi_synthetic_twins_pass():
    kept = load_clinical_table().kept
    signals, _ = render_twins(kept.groupby("RANDID").head(1), progress=False)
    checked = check_batch(signals, FS, STANDARD_12)
    assert hallucination_rate(checked) == 0.0, checked["reasons"].tolist()


BASE = paper_dipole(60.0)
DEFECTS = {
    "P missing": (edit(BASE, scale={"P": 0.0}), "P wave missing"),
    "T missing": (edit(BASE, scale={"T": 0.0}), "T wave missing"),
    "P duplicated": (edit(BASE, extra_ms={"P": 450.0}), "duplicated P"),
    "T duplicated": (edit(BASE, extra_ms={"T": 480.0}), "duplicated T"),
}


@pytest.mark.parametrize("name", list(DEFECTS))
def test_each_wave_defect_is_flagged_by_name(name):
    params, expected = DEFECTS[name]
    report = check_ecg(render(params), FS, STANDARD_12)
    assert any(expected in reason for reason in report.reasons), report.reasons


def test_extra_qrs_breaks_the_rhythm():
    rr = 1200.0  # 50 bpm: room for a second complex 760 ms after R
    params = edit(paper_dipole(50.0), extra_ms={"Q": 740.0, "R": 760.0, "S": 780.0}, rr_ms=rr)
    reasons = check_ecg(render(params, 50.0), FS, STANDARD_12).reasons
    assert any("irregular rhythm" in r for r in reasons), reasons


def test_p_after_the_qrs_and_missing_qrs_are_flagged():
    theta = BASE.theta.clone()
    theta[0] = 2 * math.pi * 0.15  # P 150 ms after R: wrong wave order
    moved = DipoleParams(theta, BASE.alpha, BASE.b, BASE.names)
    assert not check_ecg(render(moved), FS, STANDARD_12).plausible
    no_qrs = edit(BASE, scale={"Q": 0.0, "R": 0.0, "S": 0.0})
    assert not check_ecg(render(no_qrs), FS, STANDARD_12).plausible
    flat = np.zeros((12, 5000))
    assert "QRS missing" in check_ecg(flat, FS, STANDARD_12).reasons[0]


def test_order_reasons_on_swapped_fiducials():
    d = delineate(render(BASE), FS)
    f = d.fiducials
    swapped = type(d)(d.beat, d.fs, d.r_index, d.rr_s, type(f)(f.qrs_onset + 0.01, f.qrs_onset, f.j_point,
                                                               f.t_end, f.t_peak, f.t_amplitude))
    assert order_reasons(d) == []
    assert order_reasons(swapped) == ["wave order: P onset after QRS onset, T peak after T end"]


def test_out_of_range_interval_limb_leads_and_nan_are_flagged():
    slow = check_ecg(render(paper_dipole(28.0), 28.0), FS, STANDARD_12).reasons
    assert any(r.startswith("rr_ms") and "outside 300-2000 ms" in r for r in slow), slow
    x = render(BASE)
    x[2] *= 1.5  # lead III no longer equals II - I
    reasons = check_ecg(x, FS, STANDARD_12).reasons
    assert any("I + III - II" in r for r in reasons) and not any("aVR + aVL" in r for r in reasons)
    x = render(BASE)
    x[3] = -x[3]  # aVR sign flipped
    assert any("aVR + aVL + aVF" in r for r in check_ecg(x, FS, STANDARD_12).reasons)
    x[5, 100] = np.nan
    assert check_ecg(x, FS, STANDARD_12).reasons == ("non-finite samples",)


def test_batch_rate_and_input_errors():
    batch = np.stack([render(BASE), render(DEFECTS["T missing"][0])])
    checked = check_batch(batch, FS, STANDARD_12)
    assert checked["plausible"].tolist() == [True, False]
    assert hallucination_rate(checked) == 0.5
    with pytest.raises(ValueError, match="lead names"):
        check_ecg(batch[0], FS, STANDARD_12[:3])
    with pytest.raises(ValueError, match="no ECG"):
        hallucination_rate(pd.DataFrame({"plausible": []}))
