"""The ECG world model: beat autoencoder + action-conditioned latent diffusion with ODE energy regularisation.

Public API
----------
Configs
    :class:`WorldModelConfig` (frozen; parts :class:`RepresentationConfig`, :class:`AutoencoderConfig`,
    :class:`DiffusionConfig`, :class:`DataConfig`), :func:`get_config` (``"quick"``/``"paper"``).
Training
    :func:`train` ``(config, table, subjects, out, resume)``; :func:`pretrained` ``(name)`` trains once and
    caches; :func:`default_split` the 12/4 leave-subjects-out split it uses; :func:`training_pairs` the
    diffusion training data of a trained model.
Model
    :class:`WorldModel` (``.autoencoder.encode/decode/loss``, ``.save``, ``.load``),
    :class:`CheckpointError`.
Rollouts
    :func:`baseline_from_strips`, :func:`baseline_from_beats`, :func:`rollout` → :class:`Rollouts`;
    :func:`measured_rollouts` decodes and measures changes from any generator
    (``.table``, ``.beats``, ``.summary()``, ``.save(npz)``).
Validation
    :func:`heldout_dqtcf`, :func:`mae_table`.
Diffusion pieces (for the book)
    :func:`cosine_schedule`, :func:`add_noise`, :func:`predict_x0`, :func:`ddpm_step`, :func:`ddim_step`,
    :func:`sample`, :func:`energy_weight`, :func:`diffusion_loss`.
"""
from .autoencoder import BeatAutoencoder
from .config import (
    AutoencoderConfig, DataConfig, DiffusionConfig, RepresentationConfig, WEIGHT_SCHEDULES, WorldModelConfig,
    config_from_dict, get_config,
)
from .diffusion import Schedule, add_noise, cosine_schedule, ddim_step, ddim_timesteps, ddpm_step, predict_x0, sample
from .energy import diffusion_loss, energy, energy_guidance, energy_weight
from .model import CheckpointError, WorldModel
from .rollout import Baseline, Rollouts, baseline_from_beats, baseline_from_strips, measured_rollouts, rollout
from .train import default_split, pretrained, train, training_pairs
from .validate import heldout_dqtcf, mae_table

__all__ = [
    "AutoencoderConfig", "Baseline", "BeatAutoencoder", "CheckpointError", "DataConfig", "DiffusionConfig",
    "RepresentationConfig", "Rollouts", "Schedule", "WEIGHT_SCHEDULES", "WorldModel", "WorldModelConfig",
    "add_noise", "baseline_from_beats", "baseline_from_strips", "config_from_dict", "cosine_schedule",
    "ddim_step", "ddim_timesteps", "ddpm_step", "default_split", "diffusion_loss", "energy", "energy_guidance",
    "energy_weight", "get_config", "heldout_dqtcf", "mae_table", "measured_rollouts", "predict_x0", "pretrained",
    "rollout", "sample", "train", "training_pairs",
]
