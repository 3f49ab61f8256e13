"""The McSharry ODE prior against independent solvers, published settings and real beats."""
import math

import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp
from scipy.signal import periodogram

from ecgwm_core.data import load_mitdb, load_ptb
from ecgwm_core.ode import (
    DIPOLE_PTB, EXTENDED_WAVES, FIVE_WAVES, WaveParams, fit_dipole, fit_single_lead, preset, rr_process,
    simulate,
)
from ecgwm_core.signal import detect_rpeaks, median_beat, remove_baseline
from ecgwm_core.ode.mcsharry import MV_PER_UNIT, integrate_exponential, phase_segments
from ecgwm_core.ode.rr import PROCESS_FS_HZ


def measured_hr(sim, i=0):
    rr = np.diff(sim.rpeaks[i]) / sim.fs
    return 60 / rr


@pytest.mark.parametrize("bpm", [40, 60, 100, 150])
def test_mean_heart_rate_and_variability(bpm):
    sim = simulate(n=1, duration_s=60, fs=500, heart_rate=bpm, hr_std=2.0, seed=3, wander_mv=0)
    hr = measured_hr(sim)
    assert abs(60 / (60 / hr).mean() - bpm) < 1.0
    assert hr.std() == pytest.approx(2.0, rel=0.2)
    # the R wave really is the signal's maximum near each R time
    z = sim.signal[0, 0].numpy()
    for r in sim.rpeaks[0][2:-1]:
        assert abs(int(np.argmax(z[r - 25 : r + 25])) - 25) <= 3


def test_rr_spectrum_peaks_and_lf_hf_ratio():
    for lf_hf in (0.5, 2.0):
        series = rr_process(600, 60, hr_std=3, lf_hf=lf_hf, seed=1)[0]
        f, p = periodogram(series - series.mean(), fs=PROCESS_FS_HZ)
        lf_band, hf_band = (f >= 0.04) & (f < 0.15), (f >= 0.15) & (f < 0.4)
        assert f[lf_band][np.argmax(p[lf_band])] == pytest.approx(0.10, abs=0.02)
        assert f[hf_band][np.argmax(p[hf_band])] == pytest.approx(0.25, abs=0.02)
        assert p[lf_band].sum() / p[hf_band].sum() == pytest.approx(lf_hf, rel=0.3)


@pytest.mark.parametrize("fs, bpm", [(500, 75), (250, 40), (128, 200)])
def test_fast_path_matches_scipy_solve_ivp(fs, bpm):
    """Independent check: RK45 at tight tolerances on the full (x, y, z) system."""
    sim = simulate(n=1, duration_s=3, fs=fs, heart_rate=bpm, hr_std=3, seed=2, wander_mv=0.15)
    params = preset("paper")
    from ecgwm_core.ode.params import scale_for_heart_rate

    waves = scale_for_heart_rate(params, 60 / sim.rr.mean(dim=1))
    theta_i, a, b = (v[0].numpy() for v in (waves.theta, waves.a, waves.b))
    starts, lengths = (v[0].numpy() for v in phase_segments(sim.rr))

    def rhs(t, s):
        x, y, z = s
        k = max(0, np.searchsorted(starts, t, side="right") - 1)
        w = 2 * np.pi / lengths[k]
        alpha = 1 - np.hypot(x, y)
        d = np.remainder(np.arctan2(y, x) - theta_i + np.pi, 2 * np.pi) - np.pi
        dz = -MV_PER_UNIT * np.sum(a * d * np.exp(-(d**2) / (2 * b**2)))
        return [alpha * x - w * y, alpha * y + w * x, dz - (z - 0.15 * np.sin(2 * np.pi * 0.25 * t))]

    t_eval = np.arange(sim.signal.shape[-1]) / sim.fs
    ref = solve_ivp(rhs, (0, t_eval[-1]), [-1, 0, 0], t_eval=t_eval, rtol=1e-10, atol=1e-12, max_step=5e-4)
    assert np.abs(ref.y[2] - sim.signal[0, 0].numpy()).max() < 0.005


def test_fast_path_matches_rk4_reference():
    kwargs = dict(n=2, duration_s=2, fs=500, heart_rate=90, hr_std=4, seed=5)
    fast = simulate(**kwargs).signal
    rk4 = simulate(method="rk4", **kwargs).signal
    assert (fast - rk4).abs().max().item() < 0.005


def test_gradcheck_through_the_integrator():
    base = preset("paper")
    rr = torch.tensor([[0.8, 0.85]], dtype=torch.float64)
    t = torch.arange(0, 0.6, 1 / 250, dtype=torch.float64)

    def run(theta, a, b):
        return integrate_exponential(WaveParams(theta, a, b), rr, t, wander_mv=0.1)

    inputs = tuple(v.clone().requires_grad_(True) for v in (base.theta, base.a, base.b))
    assert torch.autograd.gradcheck(run, inputs, eps=1e-6, atol=1e-5)
    rr_var = rr.clone().requires_grad_(True)
    simulate(n=1, duration_s=1.2, fs=250, rr=rr_var, wander_mv=0).signal.sum().backward()
    assert torch.isfinite(rr_var.grad).all() and rr_var.grad.abs().sum() > 0


def test_gain_gives_ecgsyn_range():
    sim = simulate(duration_s=6, heart_rate=60, hr_std=0, wander_mv=0, hr_scaling=True)
    last_beat = sim.signal[0, 0, -500:]
    assert (last_beat.max() - last_beat.min()).item() == pytest.approx(1.6, abs=0.02)


def test_qt_shortens_with_heart_rate():
    def r_to_t(bpm):
        sim = simulate(duration_s=10, heart_rate=bpm, hr_std=0, wander_mv=0)
        return (sim.wave_times[0, 3, 4] - sim.wave_times[0, 3, 2]).item()

    times = [r_to_t(bpm) for bpm in (50, 75, 100, 150)]
    assert all(a > b for a, b in zip(times, times[1:]))
    assert 0.2 < times[1] < 0.35  # R to T peak at 75 bpm: about a quarter second


def test_presets_differ_where_documented():
    paper, ref = preset("paper"), preset("reference")
    diff = (paper.theta - ref.theta) * 180 / math.pi
    np.testing.assert_allclose(diff.numpy(), [10, 0, 0, 0, -10], atol=1e-9)
    assert torch.equal(paper.a, ref.a) and torch.equal(paper.b, ref.b)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_einthoven_and_goldberger_hold(dtype):
    rr = torch.full((2, 12), 0.8, dtype=dtype)
    sim = simulate(n=2, duration_s=5, leads="12", rr=rr)
    lead = {name: sim.signal[:, i] for i, name in enumerate(sim.leads)}
    tol = 1e-12 if dtype == torch.float64 else 1e-6
    assert (lead["II"] - lead["I"] - lead["III"]).abs().max() < tol
    assert (lead["aVR"] + lead["aVL"] + lead["aVF"]).abs().max() < tol
    assert sim.signal.dtype == dtype


def test_seeds():
    a, b = simulate(n=3, seed=7), simulate(n=3, seed=7)
    assert torch.equal(a.signal, b.signal)
    c = simulate(n=3, seed=8)
    assert not torch.equal(a.rr[:, :5], c.rr[:, :5])
    assert not torch.equal(a.rr[0, :5], a.rr[1, :5])  # batch members are independent
    single = simulate(n=1, seed=7)
    assert torch.equal(single.rr[0], a.rr[0, : single.rr.shape[1]])  # member 0 does not depend on the batch size
    assert torch.allclose(single.signal[0], a.signal[0], atol=1e-12)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(heart_rate=300), "heart_rate must be within 20-250 bpm"),
        (dict(heart_rate=float("nan")), "heart_rate contains NaN"),
        (dict(fs=0), "fs must be a finite number > 0"),
        (dict(duration_s=-1), "duration_s must be a finite number > 0"),
        (dict(leads="15"), "leads must be '1', '12' or 'xyz'"),
        (dict(rr=torch.ones(2, 5)), r"rr must be \(n=1, beats\)"),
        (dict(hr_std=-1), "hr_std must be a finite number >= 0"),
    ],
)
def test_bad_input_is_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate(**kwargs)


def test_bad_parameters_are_named():
    p = preset("paper")
    with pytest.raises(ValueError, match="b \\(wave widths\\) must be > 0"):
        WaveParams(p.theta, p.a, -p.b)
    with pytest.raises(ValueError, match="a contains NaN"):
        WaveParams(p.theta, p.a * float("nan"), p.b)
    with pytest.raises(ValueError, match="same shape"):
        WaveParams(p.theta, p.a[:4], p.b)
    with pytest.raises(ValueError, match="unknown preset 'x'; presets: paper, reference"):
        preset("x")


@pytest.fixture(scope="module")
def ptb_beat():
    rec = load_ptb()
    beat, rr = median_beat(remove_baseline(rec.signal, rec.fs), rec.fs, detect_rpeaks(rec.lead("II"), rec.fs))
    return beat, rr


def test_ptb_xyz_fit_reaches_reported_prd(ptb_beat):
    """Chapter values: PRD X/Y/Z 15.8/21.4/16.4 % (five waves), 15.4/20.8/12.6 % (T split in two)."""
    beat, rr = ptb_beat
    assert 60 / rr == pytest.approx(81.7, abs=1.0)
    five = fit_dipole(beat[12:], "xyz", FIVE_WAVES)
    ext = fit_dipole(beat[12:], "xyz", EXTENDED_WAVES)
    assert (five.prd < [17.5, 23.5, 18.0]).all()
    assert (ext.prd <= five.prd + 0.05).all() and ext.prd[2] < 14.0
    assert (five.rmse < 0.03).all()  # mV
    # the shipped default dipole is this fit
    np.testing.assert_allclose(five.params.theta.numpy(), DIPOLE_PTB.theta.numpy(), atol=0.02)


def test_ptb_12_lead_fit_through_dower(ptb_beat):
    beat, _ = ptb_beat
    fit = fit_dipole(beat[:12], "12", FIVE_WAVES)
    assert fit.leads[0] == "I" and fit.prd.shape == (12,)
    assert np.median(fit.prd) < 60 and (fit.rmse < 0.16).all()


def test_mitdb_single_lead_fit():
    rec = load_mitdb()
    beats = rec.beat_samples[(np.asarray(rec.beat_symbols) == "N") & (rec.beat_samples < 300 * rec.fs)]
    beat, rr = median_beat(remove_baseline(rec.signal[:, : int(300 * rec.fs)], rec.fs), rec.fs, beats)
    fit = fit_single_lead(beat[0], rr, FIVE_WAVES, lead="MLII")
    assert fit.prd[0] < 14.0 and fit.rmse[0] < 0.025


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device"))])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_render_follows_the_device_and_dtype_of_rr(device, dtype):
    """Every tensor render and simulate create lives on rr's device, in rr's dtype."""
    from ecgwm_core.ode import DIPOLE_PTB, preset, render, simulate
    from ecgwm_core.ode.render import constant_rr

    rr = constant_rr(0.8, 2.0, batch=3, dtype=dtype, device=device)
    t = torch.arange(1000, dtype=dtype, device=device) / 500.0
    for params, leads in ((DIPOLE_PTB, "12"), (DIPOLE_PTB, "xyz"), (preset("paper"), "1")):
        out = render(params, rr, t, leads, wander_mv=0.1)
        assert out.device.type == device and out.dtype == dtype
        assert out.shape == (3, {"12": 12, "xyz": 3, "1": 1}[leads], 1000)
        assert torch.isfinite(out).all()
    sim = simulate(n=2, duration_s=2.0, leads="12", dtype=dtype, device=device)
    assert sim.signal.device.type == device and sim.wave_times.device.type == device
    # the same numbers as on the CPU in float64
    ref = render(DIPOLE_PTB, constant_rr(0.8, 2.0, batch=3), torch.arange(1000, dtype=torch.float64) / 500.0)
    got = render(DIPOLE_PTB, rr, t).double().cpu()
    assert (got - ref).abs().max() < (1e-4 if dtype == torch.float32 else 1e-12)  # 0.1 µV in float32


def test_render_is_differentiable_in_the_dipole_parameters():
    """gradcheck (float64) through render for theta, alpha and b of the dipole, and for the RR intervals."""
    from ecgwm_core.ode import DIPOLE_PTB, DipoleParams, render

    t = torch.arange(200, dtype=torch.float64) / 100.0

    def leads(theta, alpha, b, rr):
        return render(DipoleParams(theta, alpha, b, DIPOLE_PTB.names), rr, t)

    inputs = tuple(x.clone().requires_grad_(True) for x in (DIPOLE_PTB.theta, DIPOLE_PTB.alpha, DIPOLE_PTB.b))
    rr = torch.full((1, 4), 0.8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(leads, (*inputs, rr), eps=1e-6, atol=1e-5, fast_mode=True)


def test_simulate_is_the_render_of_its_parameters():
    """simulate() adds bookkeeping only: its signal equals render() of the same RR and parameters."""
    from ecgwm_core.ode import DIPOLE_PTB, render, simulate

    sim = simulate(n=2, duration_s=3.0, fs=250.0, leads="12", seed=4, wander_mv=0.1)
    t = torch.arange(750, dtype=torch.float64) / 250.0
    assert torch.equal(sim.signal, render(DIPOLE_PTB, sim.rr, t, "12", wander_mv=0.1))
    assert simulate(n=np.int64(2), duration_s=1.0).signal.shape == (2, 1, 500)
