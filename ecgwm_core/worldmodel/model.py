"""The trained world model: autoencoder, denoiser (+ EMA), standardisation and drug effects; checkpoints.

A checkpoint is a folder with ``weights.safetensors`` (the trained weights),
``ema.safetensors`` (EMA weights of the denoiser) and ``model.json`` (the
config, the drug effects, training metadata and the sha256 of both weight
files). :meth:`WorldModel.load` refuses a folder whose weights do not match
their recorded hash or whose config differs from the one asked for.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ..actions import CHANNELS, FORMULARY, Action
from .anchors import DrugEffects
from .autoencoder import BeatAutoencoder
from .config import WorldModelConfig, config_from_dict
from .denoiser import Denoiser
from .diffusion import Schedule, cosine_schedule

FORMAT = "ecgwm-worldmodel-6"
"""Checkpoint format, also part of every cache key of models and their rollouts: bump it when the
checkpoint's contents or the code that builds training pairs change. 5: time-matched anchor effects
with a change of RR, anchors calibrated with the best gain, the subjects' residual covariance, residual
diffusion. 6: the residual model's baseline-offset gain (regression to the mean)."""
STAGE_FORMAT = "ecgwm-worldmodel-5"
"""Version of what precedes the diffusion model (twins, anchors, autoencoder), part of their cache key:
bump it when that code changes (format 6 changed only the drug effects' residual model)."""
ACTION_DIM = 2 + len(CHANNELS) + len(FORMULARY)
"""Action features: log1p(predicted concentration), hours/24, channel blocks, drug one-hot."""


class CheckpointError(ValueError):
    """A checkpoint folder is missing, tampered with or does not match the requested config."""


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes (recorded next to checkpoint weights to detect tampering)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


class WorldModel(nn.Module):
    """ECG world model: beat autoencoder + conditional latent diffusion on the change of state.

    The state of an ECG is s = [encode(beat), log RR]. Diffusion runs on the standardised
    change x0 = (s_post − s_pre) / σ_Δ, conditioned on the standardised pre-dose state,
    the action features and the ODE anchor change (in x0 units).

    Parameters
    ----------
    config : the configuration.
    effects : the trial's drug effects and PK (for anchors and action features).
    """

    def __init__(self, config: WorldModelConfig, effects: DrugEffects) -> None:
        super().__init__()
        self.config, self.effects = config, effects
        self.autoencoder = BeatAutoencoder(config.autoencoder, config.representation)
        d = config.autoencoder.latent_dim + 1
        self.dim = d
        dc = config.diffusion
        self.denoiser = Denoiser(d, 2 * d + ACTION_DIM, dc.hidden, dc.blocks)
        self.ema = Denoiser(d, 2 * d + ACTION_DIM, dc.hidden, dc.blocks)
        self.ema.load_state_dict(self.denoiser.state_dict())
        self.ema.requires_grad_(False)
        for name in ("state_mean", "state_std", "change_std"):
            self.register_buffer(name, torch.zeros(d) if name == "state_mean" else torch.ones(d))
        self.schedule: Schedule = cosine_schedule(dc.timesteps)
        self.meta: dict[str, Any] = {}

    # ---- states -------------------------------------------------------------------------------
    def state(self, beats: np.ndarray | torch.Tensor, rr_s: np.ndarray | torch.Tensor,
              batch: int = 512) -> torch.Tensor:
        """(n, D) raw states [encode(beat), log RR] of (n, 12, M) beats (mV) and (n,) RR (s)."""
        device = self.state_mean.device
        x = torch.as_tensor(np.asarray(beats, dtype=np.float32))
        with torch.no_grad():
            z = torch.cat([self.autoencoder.encode(x[i:i + batch].to(device)) for i in range(0, len(x), batch)])
        log_rr = torch.log(torch.as_tensor(np.asarray(rr_s, dtype=np.float32))).to(device)
        return torch.cat([z, log_rr[:, None]], dim=1)

    def decode_state(self, s: torch.Tensor, batch: int = 512) -> tuple[np.ndarray, np.ndarray]:
        """(n, D) raw states → ((n, 12, M) beats in mV, (n,) RR in s)."""
        with torch.no_grad():
            beats = torch.cat([self.autoencoder.decode(s[i:i + batch, :-1]) for i in range(0, len(s), batch)])
        return beats.float().cpu().numpy(), torch.exp(s[:, -1]).float().cpu().numpy()

    def action_features(self, actions: list[Action]) -> torch.Tensor:
        """(n, ACTION_DIM) features: Action.vector at the PK-predicted concentration, then the drug one-hot."""
        rows = []
        for a in actions:
            onehot = np.eye(len(FORMULARY))[a.token()]
            rows.append(np.concatenate([a.vector(self.effects.concentration(a)), onehot]))
        return torch.tensor(np.array(rows), dtype=torch.float32, device=self.state_mean.device)

    def condition(self, pre_state: torch.Tensor, action_features: torch.Tensor,
                  anchor_change: torch.Tensor) -> torch.Tensor:
        """(n, C) conditioning from raw pre-dose states, action features and raw anchor changes of state."""
        return torch.cat([(pre_state - self.state_mean) / self.state_std, action_features,
                          anchor_change / self.change_std], dim=1)

    # ---- checkpoints --------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write ``weights.safetensors``, ``ema.safetensors`` and ``model.json`` into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        weights = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items() if not k.startswith("ema.")}
        ema = {k: v.detach().cpu().contiguous() for k, v in self.ema.state_dict().items()}
        save_file(weights, str(folder / "weights.safetensors"))
        save_file(ema, str(folder / "ema.safetensors"))
        info = {"format": FORMAT, "config": self.config.to_dict(), "config_sha256": self.config.digest(),
                "effects": self.effects.to_dict(), "meta": self.meta,
                "sha256": {name: file_sha256(folder / name) for name in ("weights.safetensors", "ema.safetensors")}}
        (folder / "model.json").write_text(json.dumps(info, indent=1))
        return folder

    @classmethod
    def load(cls, folder: str | Path, expect: WorldModelConfig | None = None,
             device: str | torch.device = "cpu") -> "WorldModel":
        """Load a checkpoint folder written by :meth:`save`.

        Parameters
        ----------
        folder : the checkpoint folder.
        expect : if given, the config the checkpoint must have been trained with.
        device : where to put the model.

        Raises
        ------
        CheckpointError
            If a file is missing, a weight file's sha256 differs from the one recorded in
            ``model.json`` (tampered or corrupted), the JSON is of another format, or the
            config differs from ``expect``.
        """
        folder = Path(folder)
        files = [folder / n for n in ("model.json", "weights.safetensors", "ema.safetensors")]
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise CheckpointError(f"not a world-model checkpoint: missing {', '.join(missing)}; "
                                  "train one with `ecgwm train --out DIR`")
        info = json.loads(files[0].read_text())
        if info.get("format") != FORMAT:
            raise CheckpointError(f"{folder}: format {info.get('format')!r}, expected {FORMAT!r}")
        for name, digest in info["sha256"].items():
            if file_sha256(folder / name) != digest:
                raise CheckpointError(f"{folder / name}: sha256 differs from model.json (tampered or corrupted); "
                                      "retrain or restore the checkpoint")
        try:
            config = config_from_dict(info["config"])
        except (TypeError, ValueError) as err:
            raise CheckpointError(f"{folder}: config cannot be read ({err})") from err
        if config.digest() != info["config_sha256"]:
            raise CheckpointError(f"{folder}: config in model.json was edited after saving")
        if expect is not None and expect.digest() != config.digest():
            raise CheckpointError(f"{folder}: trained with config {config.name!r} ({config.digest()[:12]}) but "
                                  f"{expect.name!r} ({expect.digest()[:12]}) was requested")
        model = cls(config, DrugEffects(**info["effects"]))
        state = load_file(str(files[1]))
        state.update({f"ema.{k}": v for k, v in load_file(str(files[2])).items()})
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as err:
            raise CheckpointError(f"{folder}: weights do not fit the config: {err}") from err
        model.meta = info["meta"]
        return model.to(device).eval()
