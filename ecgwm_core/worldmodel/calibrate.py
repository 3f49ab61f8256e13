"""Anchors that read right after decoding: scale each latent anchor until the decoded QT moves as intended.

An anchor is a difference of encodings, encode(shifted prior) − encode(prior),
added to the subject's own pre-dose state. The autoencoder is not linear, so
the decoded beat of ``state + anchor`` does not always move by the interval
change the prior was shifted by: on fold 0 of the quick model, dofetilide's
anchor at 3 h asked for +45.7 ms of QT, the rendered prior moved +44.3 ms, but
the decoded state moved only +27.2 ms. :func:`calibrate_anchors` rescales the
beat part of each anchor (a gain per anchor, a few multiplicative corrections,
measured with the project's delineator) until the decoded QT change matches
the intended one: the latent analogue of :func:`ecgwm_core.actions.calibrated_shift`.
The direction of the anchor in latent space is kept; the log-RR coordinate is
left alone.
"""
from __future__ import annotations

import numpy as np
import torch

from .model import WorldModel
from .representation import measure_beats

GAIN_RANGE = (0.5, 3.0)
"""Bounds of an anchor's gain (a gain at a bound means the latent direction cannot carry the change)."""
MIN_TARGET_MS = 5.0
"""Anchors asking for a smaller |ΔQT| (ms) are left as they are: their measured change is mostly noise."""


def _qt_ms(model: WorldModel, states: torch.Tensor) -> np.ndarray:
    beats, rr = model.decode_state(states)
    return np.array([m["qt_ms"] for m in measure_beats(beats, rr, model.config.representation)])


def calibrate_anchors(model: WorldModel, base: torch.Tensor, anchor: torch.Tensor, target_qt_ms: np.ndarray,
                      iterations: int = 3) -> tuple[torch.Tensor, np.ndarray]:
    """Rescale anchors so that decode(base + anchor) lengthens QT by ``target_qt_ms``.

    Parameters
    ----------
    model : a model with a trained autoencoder.
    base : (n, D) raw states the anchors are added to (the subjects' pre-dose states).
    anchor : (n, D) raw anchor changes of state (last coordinate: log RR, not changed).
    target_qt_ms : (n,) intended QT change of each anchor (ms, at constant RR).
    iterations : multiplicative corrections (each step at most halves or doubles the gain); the beats are
        decoded and measured iterations + 1 times, and each anchor keeps the gain whose decoded QT came
        closest to its target (so a correction that makes the delineator jump, e.g. to an earlier T end
        on a flattened T wave, is never kept).

    Returns
    -------
    (anchor, gain)
        The calibrated (n, D) anchors and the (n,) gains applied to their beat part
        (1 where the target is below :data:`MIN_TARGET_MS`, the beat could not be measured or no
        gain came closer to the target than the uncalibrated anchor).
    """
    target = np.asarray(target_qt_ms, dtype=float)
    if base.shape != anchor.shape or target.shape != (len(anchor),):
        raise ValueError(f"base and anchor must be (n, D) and target (n,); got {tuple(base.shape)}, "
                         f"{tuple(anchor.shape)} and {target.shape}")
    qt0 = _qt_ms(model, base)
    gain, best, best_error = np.ones(len(anchor)), np.ones(len(anchor)), np.full(len(anchor), np.inf)
    active = np.flatnonzero((np.abs(target) >= MIN_TARGET_MS) & np.isfinite(qt0))
    for _ in range(iterations + 1 if active.size else 0):
        states = base[active].clone()
        states[:, :-1] += torch.as_tensor(gain[active], dtype=states.dtype, device=states.device)[:, None] \
            * anchor[active, :-1]
        moved = _qt_ms(model, states) - qt0[active]
        error = np.where(np.isfinite(moved), np.abs(moved - target[active]), np.inf)
        better = error < best_error[active]
        best[active[better]], best_error[active[better]] = gain[active[better]], error[better]
        ok = np.isfinite(moved) & (moved * target[active] > 0)
        ratio = np.clip(np.where(ok, target[active] / np.where(ok, moved, 1.0), 1.0), 0.5, 2.0)
        gain[active] = np.clip(gain[active] * ratio, *GAIN_RANGE)
    gain = best
    out = anchor.clone()
    out[:, :-1] *= torch.as_tensor(gain, dtype=out.dtype, device=out.device)[:, None]
    return out, gain
