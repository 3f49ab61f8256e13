"""From 10-s 12-lead strips (recorded, twin or ODE-rendered) to what the world model sees.

The representation is the delineator's own view of an ECG: the strip is
filtered as :func:`ecgwm_core.signal.delineate` filters it (0.5 Hz high-pass,
40 Hz low-pass), the 12-lead median beat is taken in a fixed window around R
(:class:`~ecgwm_core.worldmodel.config.RepresentationConfig`) with each lead's
isoelectric level removed, and the median RR interval is kept beside it. A
decoded beat can therefore go straight to
:func:`ecgwm_core.signal.delineate_beat`.
"""
from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from ..ode import DipoleParams
from ..ode.render import constant_rr, render
from ..signal import Delineation, delineate_beats, detect_rpeaks, lowpass, median_beat, remove_baseline, resample
from ..signal.delineate import INTERVALS, isoelectric
from .config import RepresentationConfig

ANCHOR_DURATION_S = 6.0
"""Length of the noise-free strips the ODE anchors are rendered as (s)."""


def r_index(rep: RepresentationConfig) -> int:
    """Sample of the R peak inside the beat window."""
    return int(round(rep.before_s * rep.fs_hz))


def filtered(signals: np.ndarray, fs: float, rep: RepresentationConfig) -> np.ndarray:
    """(..., 12, N) strips in mV → the same filtered (as the delineator does) and resampled to ``rep.fs_hz``."""
    x = lowpass(remove_baseline(signals, fs), fs, 40.0)
    return x if fs == rep.fs_hz else resample(x, fs, rep.fs_hz)


def window_beat(x: np.ndarray, rpeaks: np.ndarray, rep: RepresentationConfig) -> np.ndarray:
    """(12, M) median over the beats of a filtered strip in the fixed window, isoelectric level removed.

    Raises
    ------
    ValueError
        If fewer than 3 beats fit inside the strip.
    """
    before = r_index(rep)
    inside = rpeaks[(rpeaks - before >= 0) & (rpeaks - before + rep.samples <= x.shape[-1])]
    if inside.size < 3:
        raise ValueError(f"need at least 3 complete beats in the window; got {inside.size}")
    beat = np.median(np.stack([x[:, r - before: r - before + rep.samples] for r in inside]), axis=0)
    return isoelectric(beat, rep.fs_hz, before)[0]


def strip_beats(signals: np.ndarray, fs: float, rep: RepresentationConfig,
                centred: np.ndarray | None = None, progress: bool = False
                ) -> tuple[np.ndarray, np.ndarray, dict[int, np.ndarray]]:
    """Median beats and RR of a batch of strips.

    Parameters
    ----------
    signals : (n, 12, N) strips in mV at ``fs`` Hz.
    fs : Hz.
    rep : the beat window.
    centred : optional indices of strips whose R − RR/2 … R + RR/2 median beat is also wanted
        (the window :func:`ecgwm_core.ode.fit_dipole` fits).
    progress : progress bar.

    Returns
    -------
    (beats, rr_s, centred_beats)
        (n, 12, M) float32 beats in mV, (n,) median RR in s, and {index: (12, RR·fs) beat}.
    """
    wanted = set() if centred is None else {int(i) for i in centred}
    beats = np.empty((len(signals), 12, rep.samples), dtype=np.float32)
    rr = np.empty(len(signals))
    out_centred: dict[int, np.ndarray] = {}
    for i, strip in enumerate(tqdm(signals, desc="median beats", disable=not progress)):
        x = filtered(strip, fs, rep)
        rpeaks = detect_rpeaks(x[int(np.argmax(np.ptp(x, axis=1)))], rep.fs_hz)
        beats[i] = window_beat(x, rpeaks, rep)
        rr[i] = float(np.median(np.diff(rpeaks))) / rep.fs_hz
        if i in wanted:
            out_centred[i] = median_beat(x, rep.fs_hz, rpeaks)[0]
    return beats, rr, out_centred


def render_beats(params: list[DipoleParams], rr_s: np.ndarray, rep: RepresentationConfig,
                 chunk: int = 128) -> np.ndarray:
    """(n, 12, M) float32 median beats of noise-free ODE strips at constant RR, represented like the data.

    Parameters
    ----------
    params : n unbatched five-wave :class:`~ecgwm_core.ode.DipoleParams`.
    rr_s : (n,) RR intervals in s.
    rep : the beat window.
    chunk : strips rendered at once (memory).
    """
    out = np.empty((len(params), 12, rep.samples), dtype=np.float32)
    t = torch.arange(int(ANCHOR_DURATION_S * rep.fs_hz), dtype=torch.float64) / rep.fs_hz
    for start in range(0, len(params), chunk):
        part = params[start:start + chunk]
        rr = np.asarray(rr_s[start:start + chunk], dtype=float)
        beats_k = constant_rr(float(rr.min()), ANCHOR_DURATION_S).shape[1]
        rr_t = torch.tensor(rr)[:, None].expand(-1, beats_k).contiguous()
        batch = DipoleParams(torch.stack([p.theta for p in part]), torch.stack([p.alpha for p in part]),
                             torch.stack([p.b for p in part]), part[0].names)
        strips = filtered(render(batch, rr_t, t, "12").numpy(), rep.fs_hz, rep)
        for j, (strip, r) in enumerate(zip(strips, rr)):
            rpeaks = np.round((np.arange(beats_k) + 0.5) * r * rep.fs_hz).astype(np.int64)
            out[start + j] = window_beat(strip, rpeaks, rep)
    return out


def measure_beats(beats: np.ndarray, rr_s: np.ndarray, rep: RepresentationConfig) -> list[dict[str, float]]:
    """Delineate (n, 12, M) beats (mV) at their RR (s) with :func:`ecgwm_core.signal.delineate_beats`.

    Returns one dict of :data:`~ecgwm_core.signal.INTERVALS` per beat plus ``quality``
    (``"ok"`` or the delineator's reason); unmeasurable beats get NaN.
    """
    beats = np.asarray(beats, dtype=float)
    out = []
    for beat, rr, fid in zip(beats, rr_s, delineate_beats(beats, rep.fs_hz, r_index(rep), rr_s)):
        if isinstance(fid, Exception):
            out.append({**{k: float("nan") for k in INTERVALS}, "quality": f"failed: {fid}"})
        else:
            out.append({**Delineation(beat, rep.fs_hz, r_index(rep), float(rr), fid).intervals(), "quality": "ok"})
    return out
