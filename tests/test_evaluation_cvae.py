"""The conditional-VAE baseline: shapes, training, seeding, checkpoints, a synthetic known-answer check and,
marked slow, the predictor on fold 0 with the world model."""
import json

import numpy as np
import pytest
import torch

from ecgwm_core.evaluation.cvae import ConditionalVAE, CVAEConfig, CVAEPredictor, train_cvae

torch.set_num_threads(1)

TINY = CVAEConfig(latent=4, hidden=64, blocks=1, steps=1500, batch=128, lr=3e-3)
GROUP_SD = (0.5, 1.0)
"""Noise sd of x0 in each synthetic group."""


def _synthetic(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """SYNTHETIC pairs: c = [one-hot of 2 groups, u ~ U(-1, 1)], x0 = f(c) + N(0, sd_g² I), f = (2u + g, −u)."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 2, n)
    u = rng.uniform(-1, 1, n)
    mean = np.stack([2 * u + g, -u], axis=1)
    x0 = mean + np.asarray(GROUP_SD)[g][:, None] * rng.standard_normal((n, 2))
    cond = np.column_stack([np.eye(2)[g], u])
    return torch.tensor(x0, dtype=torch.float32), torch.tensor(cond, dtype=torch.float32)


@pytest.fixture(scope="module")
def fitted() -> tuple[ConditionalVAE, list[dict[str, float]]]:
    x0, cond = _synthetic(4000, seed=0)
    return train_cvae(x0, cond, TINY)


def test_shapes_and_bad_shapes_are_refused():
    vae = ConditionalVAE(dim=5, cond_dim=3, config=TINY)
    x0, cond = torch.zeros(7, 5), torch.zeros(7, 3)
    mean, log_var = vae.encode(x0, cond)
    assert mean.shape == log_var.shape == (7, 4)
    assert vae.decode(mean, cond).shape == (7, 5)
    assert vae.sample(cond, torch.Generator().manual_seed(0)).shape == (7, 5)
    with pytest.raises(ValueError, match=r"cond \(N, 3\)"):
        vae.sample(torch.zeros(7, 4), torch.Generator())
    with pytest.raises(ValueError, match=r"x0 \(N, 5\)"):
        vae.encode(torch.zeros(6, 5), cond)
    with pytest.raises(ValueError, match="beta"):
        CVAEConfig(beta=0.0)


def test_default_size_is_that_of_the_quick_denoiser():
    from ecgwm_core.worldmodel.denoiser import Denoiser
    d, c = 49, 109  # quick config: 48 latent + log RR; conditioning 2·49 + 11 action features
    denoiser = sum(p.numel() for p in Denoiser(d, c, 192, 3).parameters())
    cvae = sum(p.numel() for p in ConditionalVAE(d, c).parameters())
    assert 0.7 < cvae / denoiser < 1.3, (cvae, denoiser)


def test_negative_elbo_falls_fivefold_when_overfitting_a_small_fixed_set():
    gen = torch.Generator().manual_seed(1)
    x0, cond = 2.0 * torch.randn(32, 3, generator=gen), torch.randn(32, 2, generator=gen)
    _, curve = train_cvae(x0, cond, CVAEConfig(latent=4, hidden=64, blocks=1, steps=600, batch=32, lr=3e-3))
    first = np.mean([c["loss"] for c in curve[:10]])
    last = np.mean([c["loss"] for c in curve[-10:]])
    assert last < first / 5, (first, last)


def test_same_seed_same_samples_and_training_is_seeded(fitted):
    vae, _ = fitted
    cond = torch.tensor([[1.0, 0.0, 0.3]] * 50)
    a = vae.sample(cond, torch.Generator().manual_seed(0))
    assert torch.equal(a, vae.sample(cond, torch.Generator().manual_seed(0)))
    assert not torch.allclose(a, vae.sample(cond, torch.Generator().manual_seed(1)))
    x0, c = _synthetic(200, seed=2)
    short = CVAEConfig(latent=4, hidden=32, blocks=1, steps=20, batch=16)
    one, two = train_cvae(x0, c, short)[0], train_cvae(x0, c, short)[0]
    assert all(torch.equal(p, q) for p, q in zip(one.state_dict().values(), two.state_dict().values()))


def test_checkpoint_round_trip_gives_identical_samples_and_refuses_a_changed_file(fitted, tmp_path):
    vae, _ = fitted
    vae.save(tmp_path / "cvae", meta={"key": "abc"})
    loaded, meta = ConditionalVAE.load(tmp_path / "cvae")
    assert meta == {"key": "abc"} and loaded.config == TINY
    cond = torch.tensor([[0.0, 1.0, -0.5]] * 20)
    assert torch.equal(vae.sample(cond, torch.Generator().manual_seed(4)),
                       loaded.sample(cond, torch.Generator().manual_seed(4)))
    info = json.loads((tmp_path / "cvae.json").read_text())
    assert (tmp_path / "cvae.safetensors").is_file() and info["format"] == "ecgwm-cvae-1"
    (tmp_path / "cvae.safetensors").write_bytes((tmp_path / "cvae.safetensors").read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(ValueError, match="sha256"):
        ConditionalVAE.load(tmp_path / "cvae")
    with pytest.raises(ValueError, match="no CVAE checkpoint"):
        ConditionalVAE.load(tmp_path / "missing")


@pytest.mark.parametrize("group, u", [(0, 0.5), (1, -0.5), (1, 0.8)])
def test_samples_recover_the_known_conditional_mean_and_sd_of_synthetic_data(fitted, group, u):
    vae, _ = fitted
    cond = torch.tensor([[float(group == 0), float(group == 1), u]] * 4000)
    s = vae.sample(cond, torch.Generator().manual_seed(7)).numpy()
    truth_mean = np.array([2 * u + group, -u])
    sd = GROUP_SD[group]
    np.testing.assert_allclose(s.mean(0), truth_mean, atol=0.15 * sd + 0.05)
    # the decoder's implied noise variance β/2 is left out of the samples: sd ≈ sqrt(sd² − β/2)
    np.testing.assert_allclose(s.std(0), np.sqrt(sd ** 2 - TINY.beta / 2), rtol=0.15)


@pytest.mark.slow
def test_predictor_on_fold_0_gives_seeded_finite_forecasts_for_every_query():
    from ecgwm_core.data import load_clinical_table, subject_folds
    from ecgwm_core.evaluation.protocols import prediction_task
    kept = load_clinical_table(None).kept
    train, test = subject_folds(kept, k=4, seed=0)[0]
    predictor = CVAEPredictor("quick", CVAEConfig(steps=100)).fit(kept[kept["RANDID"].isin(train)])
    task = prediction_task(kept[(kept["RANDID"] == test[0]) & (kept["EXTRT"] == "Dofetilide")])
    samples = predictor.sample(task, 4, seed=0)
    assert samples.shape == (len(task.queries), 4) and np.isfinite(samples).mean() > 0.9
    np.testing.assert_array_equal(samples, predictor.sample(task, 4, seed=0))
    assert not np.array_equal(samples, predictor.sample(task, 4, seed=1))
