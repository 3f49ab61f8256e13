"""A conditional VAE baseline: the world model's latent diffusion replaced by a CVAE of similar size.

The CVAE is fitted on exactly the diffusion model's training data
(:func:`ecgwm_core.worldmodel.training_pairs`: standardised changes of state and
their conditioning c, built with the fold's autoencoder and ODE anchors; x0 is
the change's residual from the anchor when the world model diffuses residuals),
and its samples go through the world model's own decoder, delineator and
plausibility ranges (:func:`ecgwm_core.worldmodel.measured_rollouts`). So the
comparison with :class:`~ecgwm_core.evaluation.simulation.WorldModelPredictor`
isolates the generator: conditional diffusion versus a conditional VAE.

Model (Sohn, Lee & Yan 2015): an encoder q(z | x0, c) = N(μ, diag σ²), a decoder
x̂0 = g(z, c) and the prior p(z) = N(0, I). The loss per pair is

    ‖x0 − g(z, c)‖² + β · KL(q(z | x0, c) ‖ N(0, I)),   z ~ q (reparameterised),

the squared error summed over the D standardised coordinates, the KL over the
latent coordinates. This is, up to a constant factor and offset, the negative
ELBO of a Gaussian decoder with variance β/2 per coordinate: β sets the noise
floor below which variation is left to the decoder's noise instead of the
latent. Sampling draws z ~ N(0, I) with a seeded generator and returns the
decoder's mean g(z, c), so the predictive spread comes from the latent alone;
the default β = 0.05 (floor sd 0.16 in units of the change's sd) keeps that
spread close to the data's while the KL still pulls the aggregate posterior
onto the prior (checked on synthetic data with a known spread in the tests).

Trained weights are cached in ``$ECGWM_CACHE/evaluation/cvae-<key>.safetensors``
with a JSON config, keyed by the world model's fingerprint, the training rows
and the CVAE config, so chapters re-execute without retraining.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm.auto import tqdm

from ..actions import Action
from ..worldmodel import Baseline, Rollouts, WorldModel, WorldModelConfig, measured_rollouts, training_pairs
from ..worldmodel.cohort import cache_root
from ..worldmodel.model import file_sha256
from ..worldmodel.rollout import rollout_condition
from ..worldmodel.train import data_digest
from .protocols import PredictionTask
from .simulation import Draws, WorldModelPredictor, fingerprint, generator_draws

FORMAT = "ecgwm-cvae-1"


@dataclass(frozen=True)
class CVAEConfig:
    """Size and training of a :class:`ConditionalVAE`.

    Attributes
    ----------
    latent : size of the Gaussian latent z.
    hidden, blocks : width and number of residual blocks of the encoder and of the decoder
        (the quick denoiser: 192 wide, 3 blocks).
    beta : weight of the KL term (the decoder's implied noise variance is β/2 per coordinate).
    steps, batch, lr : Adam steps (learning rate decayed to 0 on a cosine), batch size, peak rate.
    seed : seeds initialisation, batches and the reparameterisation noise.
    """

    latent: int = 16
    hidden: int = 192
    blocks: int = 3
    beta: float = 0.05
    steps: int = 3000
    batch: int = 128
    lr: float = 1e-3
    seed: int = 0

    def __post_init__(self) -> None:
        sizes = {"latent": self.latent, "hidden": self.hidden, "steps": self.steps, "batch": self.batch}
        bad = {k: v for k, v in sizes.items() if not (isinstance(v, int) and v >= 1)}
        if bad or self.blocks < 0:
            raise ValueError(f"CVAE sizes must be integers >= 1 (blocks >= 0); got {bad or {'blocks': self.blocks}}")
        if not (self.beta > 0 and self.lr > 0):
            raise ValueError(f"beta and lr must be > 0; got beta={self.beta}, lr={self.lr}")


class _Residual(nn.Module):
    """h + MLP(LayerNorm(h))."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.LayerNorm(hidden), nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, hidden))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.mlp(h)


def _mlp(inputs: int, outputs: int, hidden: int, blocks: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, hidden), *(_Residual(hidden) for _ in range(blocks)),
                         nn.LayerNorm(hidden), nn.SiLU(), nn.Linear(hidden, outputs))


class ConditionalVAE(nn.Module):
    """q(z | x0, c) and g(z, c) as residual MLPs (see the module docstring).

    Parameters
    ----------
    dim : size D of x0 (the world model's state: latent + log RR).
    cond_dim : size C of the conditioning (:meth:`WorldModel.condition`).
    config : sizes and training.
    """

    def __init__(self, dim: int, cond_dim: int, config: CVAEConfig = CVAEConfig()) -> None:
        super().__init__()
        self.dim, self.cond_dim, self.config = dim, cond_dim, config
        self.encoder = _mlp(dim + cond_dim, 2 * config.latent, config.hidden, config.blocks)
        self.decoder = _mlp(config.latent + cond_dim, dim, config.hidden, config.blocks)

    def _check(self, cond: torch.Tensor, x0: torch.Tensor | None = None) -> None:
        if cond.ndim != 2 or cond.shape[1] != self.cond_dim or (
                x0 is not None and (x0.ndim != 2 or x0.shape != (len(cond), self.dim))):
            got = f"x0 {tuple(x0.shape)} and " if x0 is not None else ""
            raise ValueError(f"expected x0 (N, {self.dim}) and cond (N, {self.cond_dim}); got {got}"
                             f"cond {tuple(cond.shape)}")

    def encode(self, x0: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, log variance) of q(z | x0, c), each (N, latent), for (N, D) x0 and (N, C) cond."""
        self._check(cond, x0)
        mean, log_var = self.encoder(torch.cat([x0, cond], dim=1)).chunk(2, dim=1)
        return mean, log_var.clamp(-12.0, 6.0)

    def decode(self, z: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """(N, D) decoder mean g(z, c) for (N, latent) z and (N, C) cond."""
        self._check(cond)
        return self.decoder(torch.cat([z, cond], dim=1))

    def loss(self, x0: torch.Tensor, cond: torch.Tensor, generator: torch.Generator | None = None
             ) -> tuple[torch.Tensor, dict[str, float]]:
        """Negative ELBO (batch mean of squared error summed over D + β · KL) and its two parts."""
        mean, log_var = self.encode(x0, cond)
        eps = torch.randn(mean.shape, generator=generator, device=mean.device)
        recon = (self.decode(mean + eps * (0.5 * log_var).exp(), cond) - x0).pow(2).sum(1).mean()
        kl = 0.5 * (mean.pow(2) + log_var.exp() - 1.0 - log_var).sum(1).mean()
        loss = recon + self.config.beta * kl
        return loss, {"loss": float(loss.detach()), "recon": float(recon.detach()), "kl": float(kl.detach())}

    @torch.no_grad()
    def sample(self, cond: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """(N, D) standardised changes g(z, c), z ~ N(0, I) drawn with ``generator``, one per row of (N, C) cond."""
        self._check(cond)
        z = torch.randn(len(cond), self.config.latent, generator=generator, device=cond.device)
        return self.decode(z, cond)

    # ---- checkpoints --------------------------------------------------------------------------
    def save(self, stem: str | Path, meta: dict[str, Any] | None = None) -> Path:
        """Write ``<stem>.safetensors`` (weights) and ``<stem>.json`` (sizes, config, sha256, ``meta``)."""
        stem = Path(stem)
        stem.parent.mkdir(parents=True, exist_ok=True)
        weights = stem.with_suffix(".safetensors")
        save_file({k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}, str(weights))
        info = {"format": FORMAT, "dim": self.dim, "cond_dim": self.cond_dim, "config": asdict(self.config),
                "sha256": file_sha256(weights), "meta": meta or {}}
        stem.with_suffix(".json").write_text(json.dumps(info, indent=1))
        return weights

    @classmethod
    def load(cls, stem: str | Path) -> tuple[ConditionalVAE, dict[str, Any]]:
        """(model in eval mode, meta) from files written by :meth:`save`.

        Raises
        ------
        ValueError
            If a file is missing, the JSON is of another format, or the weights' sha256 differs from the
            recorded one (corrupted or replaced: delete both files to retrain).
        """
        stem = Path(stem)
        weights, config = stem.with_suffix(".safetensors"), stem.with_suffix(".json")
        if not (weights.is_file() and config.is_file()):
            raise ValueError(f"no CVAE checkpoint at {stem}: need {weights.name} and {config.name}")
        info = json.loads(config.read_text())
        if info.get("format") != FORMAT:
            raise ValueError(f"{config}: format {info.get('format')!r}, expected {FORMAT!r}")
        if file_sha256(weights) != info["sha256"]:
            raise ValueError(f"{weights}: sha256 differs from {config.name}; delete both files to retrain")
        model = cls(info["dim"], info["cond_dim"], CVAEConfig(**info["config"]))
        model.load_state_dict(load_file(str(weights)), strict=True)
        return model.eval(), info["meta"]


def train_cvae(x0: torch.Tensor, cond: torch.Tensor, config: CVAEConfig = CVAEConfig(), progress: bool = False
               ) -> tuple[ConditionalVAE, list[dict[str, float]]]:
    """Fit a :class:`ConditionalVAE` to (N, D) standardised changes and their (N, C) conditioning.

    Adam with a cosine decay of the learning rate; minibatches, initialisation and the
    reparameterisation noise are seeded by ``config.seed``, so the same call gives the same weights.

    Returns
    -------
    (model in eval mode, curve)
        ``curve``: per step, ``loss`` (negative ELBO), ``recon`` (squared error summed over D) and ``kl`` (nats).
    """
    if x0.ndim != 2 or cond.ndim != 2 or len(x0) != len(cond) or len(x0) == 0:
        raise ValueError(f"need x0 (N, D) and cond (N, C) with the same N >= 1; got {tuple(x0.shape)}, "
                         f"{tuple(cond.shape)}")
    torch.manual_seed(config.seed)
    model = ConditionalVAE(x0.shape[1], cond.shape[1], config)
    gen = torch.Generator().manual_seed(config.seed + 1)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.steps)
    x0, cond = x0.float(), cond.float()
    curve: list[dict[str, float]] = []
    bar = tqdm(range(config.steps), desc="conditional VAE", disable=not progress)
    for _ in bar:
        idx = torch.randint(len(x0), (config.batch,), generator=gen)
        loss, parts = model.loss(x0[idx], cond[idx], gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        curve.append(parts)
        bar.set_postfix(loss=f"{parts['loss']:.3f}", refresh=False)
    return model.eval(), curve


def cvae_rollouts(model: WorldModel, cvae: ConditionalVAE, baseline: Baseline, actions: list[Action],
                  samples: int, seed: int) -> Rollouts:
    """``samples`` CVAE-generated post-dose states per action, decoded and measured like the world model's."""
    cond, anchor = rollout_condition(model, baseline, actions)
    x0 = cvae.sample(cond.repeat_interleave(samples, 0), torch.Generator(device=cond.device).manual_seed(seed))
    change = x0 * model.change_std
    if model.config.diffusion.residual:  # the CVAE models what the world model's diffusion models
        change = change + anchor.repeat_interleave(samples, 0)
    return measured_rollouts(model, baseline, actions, change)


def cached_cvae(model: WorldModel, kept: pd.DataFrame, config: CVAEConfig = CVAEConfig(),
                progress: bool = False) -> tuple[ConditionalVAE, dict[str, Any]]:
    """The CVAE trained on ``model``'s diffusion pairs of ``kept``, cached in ``$ECGWM_CACHE/evaluation``.

    Returns
    -------
    (model, meta)
        ``meta``: ``key`` (the cache key), ``train_s`` (seconds), ``n_pairs``, ``curve`` (every 10th step's
        loss parts), ``parameters`` (of the CVAE).
    """
    h = hashlib.sha256(fingerprint(model).encode())
    h.update(data_digest(kept).encode())
    h.update(json.dumps(asdict(config), sort_keys=True).encode())
    key = h.hexdigest()[:20]
    stem = cache_root().parent / "evaluation" / f"cvae-{key}"
    if stem.with_suffix(".json").is_file():
        return ConditionalVAE.load(stem)
    pairs = training_pairs(model, kept, progress)
    clock = time.perf_counter()
    target = pairs.x0 - pairs.anchor if model.config.diffusion.residual else pairs.x0
    cvae, curve = train_cvae(target.cpu(), pairs.cond.cpu(), config, progress)
    meta = {"key": key, "train_s": time.perf_counter() - clock, "n_pairs": len(pairs.x0),
            "parameters": sum(p.numel() for p in cvae.parameters()),
            "curve": {k: [c[k] for c in curve[::10]] for k in ("loss", "recon", "kl")}}
    cvae.save(stem, meta)
    return cvae, meta


class CVAEPredictor(WorldModelPredictor):
    """ΔQTcF forecasts from a conditional VAE in the world model's latent space (a baseline).

    :meth:`fit` gets the fold's world model (trained or cached, as :class:`WorldModelPredictor` does)
    and trains the CVAE on its diffusion pairs; :meth:`sample` generates K changes of state per
    point from the world model's conditioning, decodes and measures them, and replaces implausible
    rollouts and applies the observed-until rule exactly as the world model's predictor does.

    Parameters
    ----------
    config : world-model configuration (the autoencoder, anchors and pairs the CVAE shares).
    cvae : the CVAE's size and training.
    model : an already trained world model to use instead of training.
    progress : progress bars.
    """

    name = "conditional VAE"

    def __init__(self, config: WorldModelConfig | str = "quick", cvae: CVAEConfig = CVAEConfig(),
                 model: WorldModel | None = None, progress: bool = False) -> None:
        super().__init__(config, model=model, progress=progress)
        self.cvae_config = cvae
        self.cvae: ConditionalVAE | None = None
        self.cvae_meta: dict[str, Any] = {}

    def fit(self, kept: pd.DataFrame | None) -> CVAEPredictor:
        """Get the fold's world model and train (or load the cached) CVAE on its pairs of ``kept``."""
        if kept is None:
            raise ValueError("CVAEPredictor.fit() needs the training rows: the CVAE is trained on their pairs")
        super().fit(kept)
        self.cvae, self.cvae_meta = cached_cvae(self.model, kept, self.cvae_config, self.progress)
        return self

    def draws(self, task: PredictionTask, n_samples: int, seed: int) -> Draws:
        """K CVAE rollouts (cached) at the task's queries and observed points."""
        if self.model is None or self.cvae is None:
            raise ValueError("call fit() before sampling")
        model, cvae = self.model, self.cvae
        return generator_draws(model, task, n_samples, seed, f"cvae-{self.cvae_meta['key']}-{n_samples}-{seed}",
                               lambda base, actions, k, s: cvae_rollouts(model, cvae, base, actions, k, s),
                               self.progress)
