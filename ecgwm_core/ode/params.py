"""Parameters of the McSharry ECG model: wave angles, amplitudes and widths, with checks.

Two named presets of the five P, Q, R, S, T waves (McSharry, Clifford,
Tarassenko and Smith, IEEE Trans Biomed Eng 2003;50(3):289-294):

``"paper"`` (the default)
    Table 1 of the paper: θ = -60, -15, 0, 15, 90 degrees.
``"reference"``
    The values of the widely used ECGSYN reference implementation, which
    moves P earlier and T later: θ_P = -70, θ_T = 100 degrees.

Amplitudes a = 1.2, -5, 30, -7.5, 0.75 and widths b = 0.25, 0.1, 0.1, 0.1,
0.4 rad are the same in both. Angles are stored in radians.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

FIVE_WAVES = ("P", "Q", "R", "S", "T")
"""The five waves of McSharry's model and of the default dipole, in phase order."""
HR_RANGE_BPM = (20.0, 250.0)
"""Heart rates the model accepts (bpm, inclusive)."""

_A = (1.2, -5.0, 30.0, -7.5, 0.75)
_B = (0.25, 0.1, 0.1, 0.1, 0.4)
PRESETS_DEG = {
    "paper": ((-60.0, -15.0, 0.0, 15.0, 90.0), _A, _B),
    "reference": ((-70.0, -15.0, 0.0, 15.0, 100.0), _A, _B),
}
"""Preset name -> (θ in degrees, a, b in rad) for P, Q, R, S, T."""


@dataclass(frozen=True)
class WaveParams:
    """Gaussian waves of the McSharry model, possibly batched.

    Attributes
    ----------
    theta : (..., W) wave-centre angles in rad, R at 0, within (-π, π].
    a : (..., W) amplitudes (model units; the simulator turns them into mV).
    b : (..., W) angular widths in rad, > 0.
    names : the W wave names (``"P"``, ``"Q"``... or e.g. ``"T1"``, ``"T2"``).
    """

    theta: torch.Tensor
    a: torch.Tensor
    b: torch.Tensor
    names: tuple[str, ...] = FIVE_WAVES

    def __post_init__(self) -> None:
        shapes = {tuple(t.shape) for t in (self.theta, self.a, self.b)}
        if len(shapes) != 1:
            raise ValueError(
                f"theta, a and b must have the same shape (..., W); got "
                f"{tuple(self.theta.shape)}, {tuple(self.a.shape)}, {tuple(self.b.shape)}"
            )
        if self.theta.shape[-1] != len(self.names):
            raise ValueError(
                f"parameters have {self.theta.shape[-1]} waves but {len(self.names)} names {self.names}"
            )
        if not torch.isfinite(torch.stack([self.theta, self.a, self.b]).detach()).all():
            for name, value in (("theta", self.theta), ("a", self.a), ("b", self.b)):
                check_finite(name, value)
        if (self.b.detach() <= 0).any():
            raise ValueError(f"b (wave widths) must be > 0 rad; got {self.b.detach().min().item():.4g}")

    def to(self, dtype: torch.dtype | None = None, device: torch.device | str | None = None) -> "WaveParams":
        """The same parameters in ``dtype`` and on ``device`` (``None`` keeps each; ``self`` if nothing changes)."""
        dtype = dtype or self.theta.dtype
        device = torch.device(device) if device is not None else self.theta.device
        if self.theta.dtype == dtype and self.theta.device == device:
            return self
        return WaveParams(*(x.to(device=device, dtype=dtype) for x in (self.theta, self.a, self.b)), self.names)

    def expand(self, batch: int) -> "WaveParams":
        """Parameters with a leading batch dimension of size ``batch``: (batch, W)."""
        if self.theta.dim() == 2:
            if self.theta.shape[0] != batch:
                raise ValueError(f"parameters have batch {self.theta.shape[0]}, expected {batch} or unbatched (W,)")
            return self
        return WaveParams(*(t.unsqueeze(0).expand(batch, -1) for t in (self.theta, self.a, self.b)), self.names)


def check_finite(name: str, value: torch.Tensor) -> None:
    """Raise ``ValueError`` naming ``name`` if ``value`` holds NaN or inf."""
    if not torch.isfinite(value.detach()).all():
        raise ValueError(f"{name} contains NaN or inf: {value.detach().flatten()[:6].tolist()}")


def preset(name: str = "paper", dtype: torch.dtype = torch.float64,
           device: torch.device | str | None = None) -> WaveParams:
    """The five-wave parameters of a named preset (see the module docstring).

    Parameters
    ----------
    name : ``"paper"`` (default) or ``"reference"``.
    dtype : torch dtype of the tensors.
    device : torch device of the tensors (default: the CPU).
    """
    if name not in PRESETS_DEG:
        raise ValueError(f"unknown preset {name!r}; presets: {', '.join(PRESETS_DEG)}")
    theta, a, b = PRESETS_DEG[name]
    return WaveParams(
        torch.tensor(theta, dtype=dtype, device=device) * (math.pi / 180.0),
        torch.tensor(a, dtype=dtype, device=device),
        torch.tensor(b, dtype=dtype, device=device),
    )


def check_heart_rate(heart_rate_bpm: float | torch.Tensor, name: str = "heart_rate") -> None:
    """Raise ``ValueError`` unless every heart rate lies in :data:`HR_RANGE_BPM`."""
    hr = torch.as_tensor(heart_rate_bpm, dtype=torch.float64)
    check_finite(name, hr)
    low, high = HR_RANGE_BPM
    if (hr < low).any() or (hr > high).any():
        raise ValueError(f"{name} must be within {low:g}-{high:g} bpm; got {hr.flatten().tolist()}")


def scale_for_heart_rate(params: WaveParams, heart_rate_bpm: torch.Tensor) -> WaveParams:
    """Heart-rate-dependent morphology of the ECGSYN reference implementation.

    With f = sqrt(HR / 60): widths b are multiplied by f, the Q and S angles
    by f and the P and T angles by sqrt(f); R stays at 0. At 60 bpm nothing
    changes. Because a beat lasts 60/HR s, the T-wave time after R scales as
    HR^(1/4) · 60/HR, which gives the familiar QT shortening at high rates.

    Parameters
    ----------
    params : five-wave parameters, (W,) or (B, W), named P, Q, R, S, T.
    heart_rate_bpm : (B,) mean heart rates in bpm.

    Returns
    -------
    WaveParams
        (B, W) scaled parameters.
    """
    if params.names != FIVE_WAVES:
        raise ValueError(f"heart-rate scaling is defined for waves {FIVE_WAVES}; got {params.names}")
    hr = torch.as_tensor(heart_rate_bpm, dtype=params.theta.dtype, device=params.theta.device).reshape(-1, 1)
    p = params.expand(hr.shape[0])
    f = torch.sqrt(hr / 60.0)
    angle_factor = torch.cat([f.sqrt(), f, torch.ones_like(f), f, f.sqrt()], dim=1)
    return WaveParams(p.theta * angle_factor, p.a, p.b * f, p.names)
