"""Configurations of the world model: frozen dataclasses, saved as JSON next to every checkpoint.

Two named configurations: ``quick`` (2-core CPU, the book and CI: everything
trains in a few minutes) and ``paper`` (GPU-ready: larger networks, more
augmentation, mixed precision). :func:`get_config` returns one by name, with
optional overrides, and :func:`config_from_dict` rebuilds one from its JSON.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

WEIGHT_SCHEDULES = ("alpha_bar", "snr_clipped", "constant", "high_noise")
"""Names of the energy weight schedules w(t) (see :mod:`ecgwm_core.worldmodel.energy`)."""


@dataclass(frozen=True)
class RepresentationConfig:
    """What the model sees of an ECG: the 12-lead median beat in a fixed window around R, plus log RR.

    Attributes
    ----------
    fs_hz : sampling frequency of the beat (Hz).
    before_s : window start before the R peak (s).
    samples : window length in samples (224 at 250 Hz = R − 0.3 s to R + 0.592 s).
    """

    fs_hz: float = 250.0
    before_s: float = 0.3
    samples: int = 224


@dataclass(frozen=True)
class AutoencoderConfig:
    """1-D convolutional autoencoder of the median beat.

    Attributes
    ----------
    latent_dim : size of the beat latent (log RR is appended as one more coordinate).
    channels : channels of the strided convolutions (each halves the length).
    kernel : convolution kernel size (odd).
    steps : optimiser steps; batch : batch size; lr : Adam learning rate.
    """

    latent_dim: int = 48
    channels: tuple[int, ...] = (32, 64, 64, 64)
    kernel: int = 5
    steps: int = 1500
    batch: int = 32
    lr: float = 2e-3


@dataclass(frozen=True)
class DiffusionConfig:
    """Conditional DDPM on the latent change s_post − s_pre (standardised), or on its residual from the anchor.

    Attributes
    ----------
    timesteps : T of the cosine schedule.
    hidden, blocks : width and number of residual blocks of the MLP denoiser.
    steps, batch, lr : training.
    lambda0 : energy weight λ0 (0: no prior; 1: full prior).
    weight_schedule : one of :data:`WEIGHT_SCHEDULES`.
    ddim_steps, eta : default sampler: DDIM with this many steps and η (η = 1: stochastic).
    guidance : sampling-time energy guidance per unit of λ0: rollouts use s = λ0 · guidance
        (:attr:`sampling_guidance`), and every finished sample takes the energy's proximal step
        x0 ← (x0 + s·w0·anchor)/(1 + s·w0) (:func:`~ecgwm_core.worldmodel.energy.energy_guidance`),
        keeping 1/(1 + s·w0) of its distance from the anchor. λ0 stays the one prior-strength knob
        (0: no prior in training or sampling). On subjects never seen the network's residual carried
        no information about ΔQTcF on average, so any pull helps the forecast's mean; it also shrinks
        the rollouts' spread. s = 2 was picked on the 4 leave-subjects-out folds from 0, 0.5, 1, 2
        and 4 (held-out ΔQTcF MAE 11.2, 10.2, 9.8, 9.6 and 9.5 ms, estimated by shrinking unguided
        rollouts). Nested cross-validation, which never scores a candidate on a test fold
        (``benchmarks/nested_guidance.py``), picks s = 4 in every outer fold: outer MAE 9.45 ms against
        9.58 ms for s = 2 and 9.65 ms for the population mean, so the default is kept.
    cond_dropout : probability of dropping the conditioning in training (classifier-free guidance; 0 = off).
    ema_decay : decay of the exponential moving average of the weights.
    residual : diffuse x0 = change − anchor (the anchor, calibrated on the subject, carries the drug effect
        to any morphology; the network adds what the prior misses) instead of x0 = change. The energy
        E = ‖x̂0 − anchor‖² is the same function of the denoised change either way. Measured on fold 0
        (quick): held-out ΔQTcF MAE 9.9 ms with the residual, 10.5 ms diffusing the change itself.
    """

    timesteps: int = 200
    hidden: int = 192
    blocks: int = 3
    steps: int = 3000
    batch: int = 128
    lr: float = 1e-3
    lambda0: float = 1.0
    weight_schedule: str = "alpha_bar"
    ddim_steps: int = 50
    eta: float = 1.0
    guidance: float = 2.0
    cond_dropout: float = 0.0
    residual: bool = True
    ema_decay: float = 0.995

    @property
    def sampling_guidance(self) -> float:
        """The rollouts' default energy-guidance scale s = λ0 · guidance."""
        return self.lambda0 * self.guidance


@dataclass(frozen=True)
class DataConfig:
    """How training data are built from the clinical table.

    Attributes
    ----------
    augment_copies : extra random twin morphologies per training subject (re-rendered rows).
    augment_every : keep every n-th post-dose row in the augmented copies (1 = all).
    anchor_fit_iterations : L-BFGS iterations per round of the ODE fit to a pre-dose beat.
    """

    augment_copies: int = 3
    augment_every: int = 3
    anchor_fit_iterations: int = 20


@dataclass(frozen=True)
class WorldModelConfig:
    """Everything that defines a trained world model (saved with it).

    Attributes
    ----------
    name : ``"quick"``, ``"paper"`` or a user label.
    seed : seed of every random step of training.
    device : ``"cpu"``, ``"cuda"`` or ``"auto"`` (cuda when available).
    amp : mixed precision (bfloat16 autocast) on CUDA.
    """

    name: str = "quick"
    seed: int = 0
    device: str = "cpu"
    amp: bool = False
    representation: RepresentationConfig = field(default_factory=RepresentationConfig)
    autoencoder: AutoencoderConfig = field(default_factory=AutoencoderConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    data: DataConfig = field(default_factory=DataConfig)

    def __post_init__(self) -> None:
        if self.diffusion.weight_schedule not in WEIGHT_SCHEDULES:
            raise ValueError(f"unknown weight schedule {self.diffusion.weight_schedule!r}; "
                             f"choose one of {', '.join(WEIGHT_SCHEDULES)}")
        if not (self.diffusion.lambda0 >= 0):
            raise ValueError(f"lambda0 must be >= 0; got {self.diffusion.lambda0}")
        if not (self.diffusion.guidance >= 0):
            raise ValueError(f"guidance must be >= 0; got {self.diffusion.guidance}")
        if self.device not in ("cpu", "cuda", "auto"):
            raise ValueError(f"device must be 'cpu', 'cuda' or 'auto'; got {self.device!r}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists)."""
        return json.loads(json.dumps(asdict(self)))

    def digest(self) -> str:
        """sha256 of the canonical JSON: two configs with the same digest train the same model."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()

    def with_diffusion(self, **changes: Any) -> "WorldModelConfig":
        """A copy with some :class:`DiffusionConfig` fields changed (e.g. ``lambda0=0``)."""
        return replace(self, diffusion=replace(self.diffusion, **changes))


QUICK = WorldModelConfig()
"""2-core CPU configuration of the book and CI: trains in a few minutes (see the world-model chapters)."""
PAPER = WorldModelConfig(
    name="paper", device="auto", amp=True,
    representation=RepresentationConfig(fs_hz=500.0, samples=448),
    autoencoder=AutoencoderConfig(latent_dim=64, channels=(64, 128, 192, 256), kernel=7, steps=30000, batch=128, lr=1e-3),
    diffusion=DiffusionConfig(timesteps=1000, hidden=768, blocks=6, steps=100000, batch=512, lr=3e-4,
                              ddim_steps=100, ema_decay=0.999),
    data=DataConfig(augment_copies=6, augment_every=1, anchor_fit_iterations=300),
)
"""GPU-ready configuration (full-rate beats, 6 re-rendered morphologies, bf16 autocast). Measured on one
NVIDIA H200 with these sizes: an autoencoder step takes 4.2 ms and a diffusion step 7.6 ms, so the networks
train in about 2 + 13 minutes; rendering the twins and fitting the anchors on the CPU comes on top
(roughly 7x the quick config's, i.e. tens of minutes on 2 cores, minutes on 16)."""
CONFIGS = {"quick": QUICK, "paper": PAPER}


def get_config(name: str = "quick", **diffusion_changes: Any) -> WorldModelConfig:
    """The named configuration, optionally with :class:`DiffusionConfig` fields changed.

    Raises
    ------
    ValueError
        If ``name`` is not ``"quick"`` or ``"paper"``.
    """
    if name not in CONFIGS:
        raise ValueError(f"unknown config {name!r}; choose one of {', '.join(CONFIGS)}")
    config = CONFIGS[name]
    return config.with_diffusion(**diffusion_changes) if diffusion_changes else config


def config_from_dict(data: dict[str, Any]) -> WorldModelConfig:
    """Rebuild a :class:`WorldModelConfig` from :meth:`WorldModelConfig.to_dict` output.

    Raises
    ------
    ValueError
        If a key is unknown (the JSON was written by another version, or edited).
    """
    parts = {"representation": RepresentationConfig, "autoencoder": AutoencoderConfig,
             "diffusion": DiffusionConfig, "data": DataConfig}
    top = {f.name for f in fields(WorldModelConfig)}
    if set(data) - top:
        raise ValueError(f"unknown config keys {sorted(set(data) - top)}")
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key in parts:
            known = {f.name for f in fields(parts[key])}
            if set(value) - known:
                raise ValueError(f"unknown {key} config keys {sorted(set(value) - known)}")
            kwargs[key] = parts[key](**{k: tuple(v) if isinstance(v, list) else v for k, v in value.items()})
        else:
            kwargs[key] = value
    return WorldModelConfig(**kwargs)
