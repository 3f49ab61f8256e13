"""World model: schedule and samplers against diffusers, x̂0, the energy term, networks, checkpoints, rollouts.

All networks here are tiny (seconds on one core); nothing trains on the twins.
"""
import dataclasses
from dataclasses import replace
import math

import numpy as np
import pytest
import torch

from ecgwm_core.actions import Action, shift_dipole
from ecgwm_core.ode import paper_dipole
from ecgwm_core.worldmodel import (
    AutoencoderConfig, CheckpointError, DiffusionConfig, RepresentationConfig, WorldModel, WorldModelConfig,
    add_noise, config_from_dict, cosine_schedule, ddim_step, ddim_timesteps, ddpm_step, diffusion_loss,
    energy_weight, get_config, predict_x0, rollout, sample,
)
from ecgwm_core.worldmodel.anchors import DrugEffects, trial_action
from ecgwm_core.worldmodel.autoencoder import BeatAutoencoder
from ecgwm_core.worldmodel.denoiser import Denoiser
from ecgwm_core.worldmodel.representation import measure_beats, render_beats
from ecgwm_core.worldmodel.rollout import Baseline

torch.set_num_threads(1)
T = 200
TINY = WorldModelConfig(
    name="tiny", autoencoder=AutoencoderConfig(latent_dim=8, channels=(8, 8, 8, 8), steps=10, batch=8),
    diffusion=DiffusionConfig(timesteps=50, hidden=32, blocks=1, steps=10, batch=8, ddim_steps=10),
)
_ZERO = [0.0, 0.0]
EFFECTS = DrugEffects(  # hand-set mean changes (ms) at 1 and 2 h and the PK of a typical subject, not fitted
    curves={"placebo": {"hours": [1.0, 2.0], "pr_ms": _ZERO, "qrs_ms": _ZERO, "jtpeak_ms": [-4.0, -8.0],
                        "tpeaktend_ms": _ZERO, "rr_ms": [20.0, 40.0]},
            "dofetilide": {"hours": [1.0, 2.0], "pr_ms": _ZERO, "qrs_ms": _ZERO, "jtpeak_ms": [16.0, 30.0],
                           "tpeaktend_ms": [4.0, 6.0], "rr_ms": _ZERO}},
    pk={"dofetilide": {"ka_per_h": 1.0, "ke_per_h": 0.1, "v_over_f_l": 300.0, "tlag_h": 0.2}},
    residual_cov={"Placebo": {"hours": [1.0, 2.0], "offset_gain": -0.5, "cov": [[64.0, 32.0], [32.0, 64.0]]}},
)


# ---- schedule and samplers vs diffusers ------------------------------------------------------
def _close(ours: torch.Tensor, theirs: torch.Tensor, tol: float) -> bool:
    """|ours − theirs| ≤ tol·(1 + |theirs|): absolute near 0, relative for the large values of float32."""
    return bool(((ours - theirs).abs() <= tol * (1 + theirs.abs())).all())


def test_cosine_alpha_bar_matches_diffusers_and_hand_endpoints():
    from diffusers import DDPMScheduler

    ours = cosine_schedule(T)
    ref = DDPMScheduler(num_train_timesteps=T, beta_schedule="squaredcos_cap_v2")
    assert torch.allclose(ours.alpha_bar, ref.alphas_cumprod, atol=1e-6, rtol=0)
    assert torch.allclose(ours.betas, ref.betas, atol=1e-6, rtol=0)
    assert (ours.alpha_bar.diff() < 0).all()  # monotone: more noise at every step
    f = lambda tau: math.cos((tau + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    assert ours.alpha_bar[0].item() == pytest.approx(f(1 / T) / f(0), abs=1e-7)  # ᾱ_0 = 1 − β_0, hand formula
    assert ours.alpha_bar[0].item() > 0.999 and ours.alpha_bar[-1].item() < 1e-4


def test_ddim_timesteps_and_update_match_diffusers():
    from diffusers import DDIMScheduler

    schedule = cosine_schedule(T)
    ref = DDIMScheduler(num_train_timesteps=T, beta_schedule="squaredcos_cap_v2", clip_sample=False,
                        set_alpha_to_one=True)
    ref.set_timesteps(50)
    order = ddim_timesteps(T, 50)
    assert order == ref.timesteps.tolist()
    z = torch.randn(6, 9, generator=torch.Generator().manual_seed(1))
    eps = torch.randn(6, 9, generator=torch.Generator().manual_seed(2))
    for eta in (0.0, 1.0):
        for i in (0, 17, 49):
            t, t_prev = order[i], order[i + 1] if i + 1 < len(order) else -1
            ours = ddim_step(schedule, z, eps, t, t_prev, eta, torch.Generator().manual_seed(3))
            theirs = ref.step(eps, t, z, eta=eta, generator=torch.Generator().manual_seed(3)).prev_sample
            assert _close(ours, theirs, 1e-6), (eta, t)


def test_ddpm_ancestral_step_matches_diffusers():
    from diffusers import DDPMScheduler

    schedule = cosine_schedule(T)
    ref = DDPMScheduler(num_train_timesteps=T, beta_schedule="squaredcos_cap_v2", clip_sample=False,
                        variance_type="fixed_small")
    z = torch.randn(5, 7, generator=torch.Generator().manual_seed(4))
    eps = torch.randn(5, 7, generator=torch.Generator().manual_seed(5))
    for t in (0, 1, 100, T - 1):
        ours = ddpm_step(schedule, z, eps, t, torch.Generator().manual_seed(6))
        theirs = ref.step(eps, t, z, generator=torch.Generator().manual_seed(6)).prev_sample
        # diffusers recomputes β_t = 1 − ᾱ_t/ᾱ_{t−1} in float32 (we keep the float64 β rounded once), which
        # matters where β is tiny (t = 1) or x̂0 ~100x z_t (t = T − 1): agreement to 2e-5 relative
        assert _close(ours, theirs, 2e-5), t


def test_x0_hat_is_x0_when_the_noise_is_known():
    schedule = cosine_schedule(T)
    x0, noise = torch.randn(32, 5), torch.randn(32, 5)
    t = torch.arange(0, T - 20, (T - 20) // 32)[:32]  # up to ᾱ ≈ 0.015: x̂0 divides by √ᾱ
    assert torch.allclose(predict_x0(schedule, add_noise(schedule, x0, noise, t), noise, t), x0, atol=1e-4)


# ---- energy ----------------------------------------------------------------------------------
def _loss_inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    net = Denoiser(6, 4, 16, 1)
    cond = torch.randn(10, 4, generator=g)
    return (net, cond, torch.randn(10, 6, generator=g), torch.randn(10, 6, generator=g),
            torch.randint(T, (10,), generator=g), torch.randn(10, 6, generator=g))


def test_lambda0_zero_gives_exactly_the_plain_loss_and_gradients():
    schedule = cosine_schedule(T)
    net, cond, x0, anchor, t, noise = _loss_inputs()
    loss, _ = diffusion_loss(lambda z, tt: net(z, tt, cond), schedule, x0, anchor, t, noise, 0.0, "alpha_bar")
    loss.backward()
    ours = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    plain = ((net(add_noise(schedule, x0, noise, t), t, cond) - noise) ** 2).mean()  # written out by hand
    plain.backward()
    assert torch.equal(loss.detach(), plain.detach())
    assert all(torch.equal(a, p.grad) for a, p in zip(ours, net.parameters()))


def test_energy_term_is_weighted_distance_of_x0_hat_to_anchor():
    schedule = cosine_schedule(T)
    net, cond, x0, anchor, t, noise = _loss_inputs(1)
    loss, parts = diffusion_loss(lambda z, tt: net(z, tt, cond), schedule, x0, anchor, t, noise, 0.7, "alpha_bar")
    with torch.no_grad():
        a = schedule.alpha_bar[t][:, None]
        z_t = a.sqrt() * x0 + (1 - a).sqrt() * noise
        eps = net(z_t, t, cond)
        x0_hat = (z_t - (1 - a).sqrt() * eps) / a.sqrt()
        expected = ((eps - noise) ** 2).mean() + 0.7 * (a[:, 0] * ((x0_hat - anchor) ** 2).mean(1)).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert parts["energy"] > 0


def test_energy_guidance_is_the_proximal_step_of_the_weighted_energy():
    """prox(x0) = argmin ‖x − x0‖² + s·w0·‖x − a‖²: checked against a numerical minimiser."""
    from ecgwm_core.worldmodel import energy_guidance

    schedule = cosine_schedule(T)
    gen = torch.Generator().manual_seed(0)
    x0, anchor = (torch.randn(4, 6, generator=gen, dtype=torch.float64) for _ in range(2))
    w0 = float(schedule.alpha_bar[0])
    for scale in (0.5, 2.0):
        guided = energy_guidance(x0, anchor, scale, schedule, "alpha_bar")
        x = x0.clone().requires_grad_(True)
        opt = torch.optim.LBFGS([x], max_iter=100, tolerance_grad=1e-12, tolerance_change=1e-14)

        def objective():
            opt.zero_grad()
            loss = ((x - x0) ** 2).sum() + scale * w0 * ((x - anchor) ** 2).sum()
            loss.backward()
            return loss

        opt.step(objective)
        torch.testing.assert_close(guided, x.detach(), rtol=0, atol=1e-6)
        # every sample keeps 1/(1 + s·w0) of its distance from the anchor
        torch.testing.assert_close(guided - anchor, (x0 - anchor) / (1 + scale * w0))
    torch.testing.assert_close(energy_guidance(x0, anchor, 0.0, schedule, "alpha_bar"), x0)
    torch.testing.assert_close(energy_guidance(x0, anchor, 1e9, schedule, "constant"), anchor)
    assert energy_guidance(x0, anchor, 2.0, schedule, "high_noise").sub(x0).abs().max() < 1e-2  # w0 = 1 − ᾱ0 ≈ 0.002
    with pytest.raises(ValueError, match="guidance"):
        energy_guidance(x0, anchor, -1.0, schedule, "alpha_bar")


def test_config_sampling_guidance_scales_with_lambda0():
    assert get_config("quick").diffusion.sampling_guidance == 2.0
    assert get_config("quick", lambda0=0.0).diffusion.sampling_guidance == 0.0  # no prior anywhere
    assert get_config("quick", lambda0=0.5, guidance=3.0).diffusion.sampling_guidance == 1.5
    with pytest.raises(ValueError, match="guidance"):
        get_config("quick", guidance=-1.0)


def test_weight_schedules():
    schedule = cosine_schedule(T)
    t = torch.arange(T)
    a = schedule.alpha_bar
    snr = a / (1 - a)
    assert torch.allclose(energy_weight(schedule, t, "alpha_bar"), snr / (1 + snr), atol=1e-6)
    for name in ("alpha_bar", "snr_clipped"):  # grow as noise falls (t decreases)
        w = energy_weight(schedule, t, name)
        assert (w.diff() <= 0).all() and w[0] > 0.99 and w[-1] < 1e-3
    assert (energy_weight(schedule, t, "high_noise").diff() >= 0).all()
    assert torch.equal(energy_weight(schedule, t, "constant"), torch.ones(T))
    with pytest.raises(ValueError, match="unknown weight schedule"):
        energy_weight(schedule, t, "linear")


# ---- networks --------------------------------------------------------------------------------
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU"))]


@pytest.mark.parametrize("device", DEVICES)
def test_shapes_dtypes_devices(device):
    ae = BeatAutoencoder(TINY.autoencoder, TINY.representation).to(device)
    x = torch.randn(3, 12, TINY.representation.samples, device=device)
    z = ae.encode(x)
    assert z.shape == (3, 8) and z.dtype == torch.float32 and z.device.type == device
    assert ae.decode(z).shape == x.shape and ae.loss(x).dim() == 0
    net = Denoiser(9, 5, 16, 1).to(device)
    out = sample(lambda zt, t: net(zt, t, torch.zeros(4, 5, device=device)), cosine_schedule(T).to(device), (4, 9),
                 torch.Generator(device=device).manual_seed(0), steps=5, device=device)
    assert out.shape == (4, 9) and out.device.type == device and torch.isfinite(out).all()
    with pytest.raises(ValueError, match="beats must be"):
        ae.encode(torch.randn(3, 11, TINY.representation.samples, device=device))


def test_bad_configs_are_refused():
    with pytest.raises(ValueError, match="divisible"):
        BeatAutoencoder(AutoencoderConfig(channels=(8, 8, 8)), RepresentationConfig(samples=100))
    with pytest.raises(ValueError, match="weight schedule"):
        get_config("quick", weight_schedule="cubic")
    with pytest.raises(ValueError, match="unknown config"):
        get_config("huge")
    assert config_from_dict(get_config("paper").to_dict()) == get_config("paper")
    with pytest.raises(ValueError, match="unknown"):
        config_from_dict({**get_config().to_dict(), "colour": "red"})


def test_overfit_eight_samples():
    torch.manual_seed(0)
    ae = BeatAutoencoder(TINY.autoencoder, TINY.representation)
    beats = torch.as_tensor(render_beats([paper_dipole(hr) for hr in range(55, 95, 5)],
                                         60 / np.arange(55, 95, 5), TINY.representation))
    opt = torch.optim.Adam(ae.parameters(), lr=3e-3)
    first = ae.loss(beats).item()
    for _ in range(300):
        opt.zero_grad()
        loss = ae.loss(beats)
        loss.backward()
        opt.step()
    assert ae.loss(beats).item() < first / 10
    net, cond, x0, _, t, noise = (v[:8] if torch.is_tensor(v) and v.dim() else v for v in _loss_inputs(2))
    schedule = cosine_schedule(T)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    z_t = add_noise(schedule, x0, noise, t)
    first = ((net(z_t, t, cond[:8]) - noise) ** 2).mean().item()
    for _ in range(300):
        opt.zero_grad()
        loss = ((net(z_t, t, cond[:8]) - noise) ** 2).mean()
        loss.backward()
        opt.step()
    assert loss.item() < first / 10


# ---- representation and anchors --------------------------------------------------------------
def test_anchor_render_measures_the_intended_qt_change():
    rep = RepresentationConfig()
    base = paper_dipole(60.0)
    shifted = shift_dipole(base, 1.0, {"jtpeak_ms": 20.0, "tpeaktend_ms": 6.0})
    beats = render_beats([base, shifted], np.array([1.0, 1.0]), rep)
    pre, post = measure_beats(beats, np.array([1.0, 1.0]), rep)
    assert pre["quality"] == post["quality"] == "ok"
    assert post["qt_ms"] - pre["qt_ms"] == pytest.approx(26.0, abs=3.0)  # the shift requested, within 3 ms
    assert post["pr_ms"] - pre["pr_ms"] == pytest.approx(0.0, abs=2.0)
    assert pre["hr_bpm"] == pytest.approx(60.0)


def test_drug_effects_follow_the_pk_curve():
    early, peak = (Action("dofetilide", 500, "ug", h) for h in (0.2, 3.0))
    assert EFFECTS.concentration(early) == 0.0  # before the lag time
    c = EFFECTS.concentration(peak)
    expected = 1000 * 0.5 / 300 * 1.0 / 0.9 * (math.exp(-0.1 * 2.8) - math.exp(-1.0 * 2.8))  # by hand
    assert c == pytest.approx(expected, rel=1e-9)


def test_drug_effects_are_time_matched_and_scale_with_exposure():
    placebo = EFFECTS.changes(Action("placebo", 0, "mg", 1.5))
    assert placebo["jtpeak_ms"] == pytest.approx(-6.0) and placebo["rr_ms"] == pytest.approx(30.0)  # midway
    assert EFFECTS.changes(Action("placebo", 0, "mg", 0.5))["jtpeak_ms"] == pytest.approx(-2.0)  # from 0 at dose
    trial = EFFECTS.changes(Action("dofetilide", 500, "ug", 2.0))  # the trial dose: the drug's own curve
    assert trial == pytest.approx({"pr_ms": 0.0, "qrs_ms": 0.0, "jtpeak_ms": 30.0, "tpeaktend_ms": 6.0,
                                   "rr_ms": 0.0})
    double = EFFECTS.changes(Action("dofetilide", 1000, "ug", 2.0))  # placebo + 2 × (drug − placebo)
    assert double["jtpeak_ms"] == pytest.approx(-8.0 + 2 * 38.0) and double["rr_ms"] == pytest.approx(-40.0)
    later = EFFECTS.changes(Action("dofetilide", 500, "ug", 6.0))  # after 2 h: decays with the concentration
    ratio = EFFECTS.concentration(Action("dofetilide", 500, "ug", 6.0)) / EFFECTS.concentration(
        Action("dofetilide", 500, "ug", 2.0))
    assert 0 < ratio < 1
    assert later["jtpeak_ms"] == pytest.approx(-8.0 + ratio * 38.0)
    scaled = replace(EFFECTS, scale=0.5).changes(Action("dofetilide", 500, "ug", 2.0))
    assert scaled["jtpeak_ms"] == pytest.approx(-8.0 + 0.5 * 38.0)


def test_fitted_effects_add_up_to_the_observed_qt_change():
    """Independent check on the real table: QRS + JT-peak + Tpeak-Tend changes ≈ the QT column's change."""
    from ecgwm_core.data import load_clinical_table
    from ecgwm_core.data.trial import change_from_baseline

    kept = load_clinical_table(None).kept
    effects = DrugEffects.fit(kept)
    qt = change_from_baseline(kept, "QT")
    for drug, trial_name in (("dofetilide", "Dofetilide"), ("quinidine", "Quinidine Sulph")):
        for hours in (1.0, 2.5, 5.0):
            c = effects.changes(trial_action(trial_name, hours))
            observed = qt[(qt["drug"] == trial_name) & (qt["hours"] == hours)]["mean"].item()
            assert c["qrs_ms"] + c["jtpeak_ms"] + c["tpeaktend_ms"] == pytest.approx(observed, abs=4.0)


class _ShrinkingDecoder:
    """Stands in for a WorldModel: latent coordinate u decodes to the paper's ECG with its T wave moved
    by a nonlinear 20·u + 6·u·|u| ms (so a latent step does not map 1:1 to a QT change)."""

    dim = 3
    config = WorldModelConfig()

    def decode_state(self, s):
        rep = self.config.representation
        params = [shift_dipole(paper_dipole(60.0), 1.0, {"jtpeak_ms": 20.0 * u + 6.0 * u * abs(u)})
                  for u in s[:, 0].tolist()]
        rr = torch.exp(s[:, -1]).numpy()
        return render_beats(params, rr, rep), rr


def test_calibrated_anchors_move_the_decoded_qt_as_intended():
    from ecgwm_core.worldmodel.calibrate import calibrate_anchors

    model = _ShrinkingDecoder()
    base = torch.zeros(4, 3)
    anchor = torch.tensor([[1.0, 0.5, 0.1], [1.0, 0.5, -0.1], [-0.5, 0.0, 0.0], [0.1, 0.0, 0.0]])
    target = np.array([40.0, 25.0, -12.0, 2.0])  # the last is below MIN_TARGET_MS: left alone
    out, gain = calibrate_anchors(model, base, anchor, target)
    qt = lambda s: np.array([m["qt_ms"] for m in measure_beats(*model.decode_state(s), model.config.representation)])  # noqa: E731
    beat_part = torch.tensor([1.0, 1.0, 0.0])  # QT is compared at the base RR
    moved = qt(base + out * beat_part) - qt(base)
    np.testing.assert_allclose(moved[:3], target[:3], atol=2.0)  # uncalibrated: 26, 26, -11.5 ms (by hand)
    assert gain[3] == 1.0 and torch.equal(out[3], anchor[3])
    assert torch.equal(out[:, -1], anchor[:, -1])  # log RR untouched
    torch.testing.assert_close(out[:, 1], torch.as_tensor(gain, dtype=torch.float32) * anchor[:, 1])  # direction kept
    with pytest.raises(ValueError, match="target"):
        calibrate_anchors(model, base, anchor, target[:2])


# ---- checkpoints and rollouts ----------------------------------------------------------------
def _tiny_model(seed=0):
    torch.manual_seed(seed)
    model = WorldModel(TINY, EFFECTS)
    with torch.no_grad():  # an untrained denoiser, but EMA != raw weights, as after training
        for p in model.ema.parameters():
            p.add_(0.01)
    return model.eval()


def _baseline(model):
    prior = paper_dipole(60.0)
    beats = render_beats([prior] * 3, np.ones(3), model.config.representation)
    s = model.state(beats, np.ones(3))
    return Baseline(s.mean(0), prior, 1.0, 400.0, beats)


@pytest.mark.parametrize("device", DEVICES)
def test_rollouts_with_calibrated_anchors_run_on_every_device(device):
    model = _tiny_model().to(device)
    base = _baseline(model)
    assert base.state.device.type == device
    actions = [Action("dofetilide", 500, "ug", 2.0), Action("placebo", 0, "mg", 2.0)]
    result = rollout(model, base, actions, samples=3, seed=0)
    assert result.beats.shape == (6, 12, TINY.representation.samples) and np.isfinite(result.beats).all()
    assert list(result.table["drug"]) == ["dofetilide"] * 3 + ["placebo"] * 3


def test_checkpoint_round_trip_gives_identical_samples(tmp_path):
    model = _tiny_model()
    model.save(tmp_path / "ck")
    loaded = WorldModel.load(tmp_path / "ck", expect=TINY)
    actions = [Action("dofetilide", 500, "ug", 2.5), Action("placebo", 0, "mg", 2.5)]
    a = rollout(model, _baseline(model), actions, samples=4, seed=7)
    b = rollout(loaded, _baseline(loaded), actions, samples=4, seed=7)
    assert np.array_equal(a.beats, b.beats)
    c = rollout(loaded, _baseline(loaded), actions, samples=4, seed=8)
    assert not np.array_equal(a.beats, c.beats)
    assert list(a.table["drug"]) == ["dofetilide"] * 4 + ["placebo"] * 4
    assert {"qtcf_ms", "dqtcf_ms", "hr_bpm", "pr_ms", "qrs_ms", "plausible"} <= set(a.table.columns)
    a.save(str(tmp_path / "r.npz"))
    with np.load(tmp_path / "r.npz", allow_pickle=False) as f:
        assert f["beats"].shape == (8, 12, TINY.representation.samples)


def test_tampered_or_mismatched_checkpoints_are_refused(tmp_path):
    folder = _tiny_model().save(tmp_path / "ck")
    with pytest.raises(CheckpointError, match="trained with config"):
        WorldModel.load(folder, expect=get_config("quick"))
    weights = folder / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="sha256"):
        WorldModel.load(folder)
    folder = _tiny_model().save(tmp_path / "ck2")
    text = (folder / "model.json").read_text().replace('"hidden": 32', '"hidden": 64')
    (folder / "model.json").write_text(text)
    with pytest.raises(CheckpointError, match="edited"):
        WorldModel.load(folder)
    with pytest.raises(CheckpointError, match="missing"):
        WorldModel.load(tmp_path / "nothing")


def test_rollout_refuses_bad_hours():
    model = _tiny_model()
    with pytest.raises(ValueError, match="0-48"):
        rollout(model, _baseline(model), [Action("dofetilide", 500, "ug", 60.0)], samples=2)


def test_config_changes_with_lambda0():
    plain = get_config("quick", lambda0=0.0)
    assert plain.diffusion.lambda0 == 0 and plain.digest() != get_config("quick").digest()
    assert dataclasses.replace(plain.diffusion, lambda0=1.0) == get_config("quick").diffusion


def test_diffusion_training_resumes_exactly(tmp_path, monkeypatch):
    import importlib

    train_module = importlib.import_module("ecgwm_core.worldmodel.train")  # the module, not the function
    monkeypatch.setattr(train_module, "SAVE_EVERY", 10)
    config = dataclasses.replace(TINY, diffusion=dataclasses.replace(TINY.diffusion, steps=20))
    g = torch.Generator().manual_seed(0)
    d = config.autoencoder.latent_dim + 1
    pairs = train_module.Pairs(torch.randn(16, d, generator=g), torch.randn(16, d, generator=g),
                               torch.randn(16, 2 * d + 11, generator=g))

    def run(state_dir):
        torch.manual_seed(0)
        model = WorldModel(config, EFFECTS)
        curve = train_module.train_diffusion(model, pairs, torch.device("cpu"), 0, False, state_dir)
        return model, curve

    full, curve = run(tmp_path)  # leaves the step-10 state behind, as an interrupted run would
    assert (tmp_path / "diffusion_state.json").is_file()
    resumed, resumed_curve = run(tmp_path)  # a fresh model picks up at step 10
    assert len(curve) == len(resumed_curve) == 20 and resumed_curve[:10] == curve[:10]
    for a, b in zip(full.denoiser.parameters(), resumed.denoiser.parameters()):
        assert torch.equal(a, b)
    assert all(torch.equal(a, b) for a, b in zip(full.ema.parameters(), resumed.ema.parameters()))
