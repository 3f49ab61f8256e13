"""The ECGRDVQ digital-twin cohort: SEMI-SYNTHETIC 12-lead ECGs rendered to reproduce each table row.

The trial's waveforms are on PhysioNet and cannot be fetched here; its
per-ECG measurements are in the shipped table. For every usable row this module
renders a 10-s, 500-Hz 12-lead ECG whose intervals, measured by the project's
own delineator, reproduce that row's RR, PR, QRS, QT, J-Tpeak, Tpeak-Tend and
T amplitude. These ECGs are **rendered, not recorded**, and are labelled so
wherever they are used.

How a twin is made:

- **Subject morphology** (seeded by ``RANDID``, the same for all of a
  subject's ECGs): a rotated electrical axis, scaled P/QRS amplitudes, its own
  T-wave direction and asymmetry (a second, later and wider T hump of 10-30 %
  of its height), a small ST offset and per-precordial-lead gains.
- **Waves placed in time**: with the tangent convention (onset μ − 2σ, end
  μ + 2σ for a wave of centre μ and width σ) the row's intervals fix the
  centres of P, S and T and the width of T; the T amplitude fixes the T
  wave's size. A per-subject calibration (render, measure, subtract the
  delineator's bias) removes what the overlap of waves adds.
- **Heart-rate variability** around the row's RR and **noise**: baseline
  wander, muscle noise, mains hum and electrode-motion jumps, each seeded by
  ``EGREFID``.

What the twins are *richer* in than the five-wave ODE prior: an asymmetric T
wave (two humps), an ST segment (a broad wave of its own), per-lead gain
differences and realistic noise, so the prior is genuinely misspecified for
them. What they still lack: beat-to-beat morphology changes.
"""
from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import wfdb
from tqdm.auto import tqdm

from ..data.vocabulary import COLUMN_TO_INTERVAL
from ..ode import DipoleParams, lead_matrix, simulate
from ..ode.rr import beat_intervals, rr_process
from ..signal import measure_ecg

FS_HZ = 500.0
DURATION_S = 10.0
WAVES = ("P", "Q", "R", "S", "ST", "T", "T2")
_SIGMA_MS = {"P": 22.0, "ST": 45.0}


def _seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


@dataclass(frozen=True)
class Morphology:
    """A subject's fixed waveform traits (amplitudes in mV, directions in X, Y, Z).

    Attributes
    ----------
    alpha : (3, 7) dipole amplitudes of P, Q, R, S, ST, and of T and its tail T2 for a unit T height.
    precordial_gain : (6,) gains of V1-V6.
    bias_ms : measured minus intended PR, QRS, J-Tpeak and Tpeak-Tend of the calibration
        render (ms), keyed by the delineator's names.
    t_amplitude_ratio : measured over intended T amplitude of the calibration render.
    """

    alpha: np.ndarray
    precordial_gain: np.ndarray
    bias_ms: dict[str, float]
    t_amplitude_ratio: float


def _rotation(rng: np.random.Generator, max_deg: float) -> np.ndarray:
    """A random rotation of up to ``max_deg`` degrees about each axis."""
    ax, ay, az = np.radians(rng.uniform(-max_deg, max_deg, 3))
    rx = np.array([[1, 0, 0], [0, math.cos(ax), -math.sin(ax)], [0, math.sin(ax), math.cos(ax)]])
    ry = np.array([[math.cos(ay), 0, math.sin(ay)], [0, 1, 0], [-math.sin(ay), 0, math.cos(ay)]])
    rz = np.array([[math.cos(az), -math.sin(az), 0], [math.sin(az), math.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx


def subject_traits(randid: int) -> tuple[np.ndarray, np.ndarray]:
    """A subject's random waveform traits, seeded by ``randid`` (the same for every call).

    Returns
    -------
    (alpha, precordial_gain)
        ``alpha`` (3, 7) dipole amplitudes in mV of P, Q, R, S, ST, T (unit 12-lead T height)
        and T2; ``precordial_gain`` (6,) gains of V1-V6.
    """
    rng = np.random.default_rng(_seed(f"subject-{randid}"))
    base = np.array([[0.10, -0.20, 1.0, -0.25, 0.03, 0.30],
                     [0.08, 0.05, 0.6, -0.15, 0.02, 0.20],
                     [-0.05, 0.15, -0.3, 0.10, -0.01, -0.10]])
    alpha = _rotation(rng, 20.0) @ base
    alpha[:, :4] *= rng.uniform(0.8, 1.2, 4)
    alpha[:, 4] *= rng.uniform(-1.0, 1.5)  # ST offset: elevated or depressed
    t = _rotation(rng, 25.0) @ base[:, 5]
    alpha[:, 5] = t / np.linalg.norm(lead_matrix("12")[0].numpy() @ t)  # unit T height on the 12-lead magnitude
    tail = alpha[:, 5:6] * rng.uniform(0.1, 0.3)  # T2: a later, wider hump that makes the T wave asymmetric
    return np.hstack([alpha, tail]), rng.uniform(0.85, 1.15, 6)


def _params(alpha: np.ndarray, row: dict[str, float], rr_ms: float) -> DipoleParams:
    """Dipole waves placed so that the tangent-convention intervals equal ``row`` (ms) at ``rr_ms``."""
    # Q, R and S scale with the QRS duration, so the complex keeps its shape as it widens:
    # width QRS/10 each, Q and S centred 2 widths inside the QRS edges, R in the middle (at θ = 0)
    qrs_sigma = float(np.clip(row["qrs_ms"] / 10, 5.0, 16.0))
    t_sigma = row["tpeaktend_ms"] / 2
    sigma = dict(_SIGMA_MS, Q=qrs_sigma, R=qrs_sigma, S=qrs_sigma, T=t_sigma, T2=1.2 * t_sigma)
    q_on = -row["qrs_ms"] / 2
    centre = {
        "P": q_on - row["pr_ms"] + 2 * sigma["P"],
        "Q": q_on + 2 * qrs_sigma,
        "R": 0.0,
        "S": q_on + row["qrs_ms"] - 2 * qrs_sigma,
        "T": q_on + row["qrs_ms"] + row["jtpeak_ms"],
    }
    centre["ST"] = (q_on + row["qrs_ms"] + centre["T"]) / 2
    centre["T2"] = centre["T"] + 0.8 * t_sigma
    to_rad = 2 * math.pi / rr_ms
    theta = torch.tensor([centre[w] * to_rad for w in WAVES], dtype=torch.float64)
    b = torch.tensor([sigma[w] * to_rad for w in WAVES], dtype=torch.float64).expand(3, -1).clone()
    a = torch.tensor(alpha, dtype=torch.float64).clone()
    a[:, 5:] *= row["t_amplitude_uv"] / 1000.0
    return DipoleParams(theta, a, b, WAVES)


def _render(params: list[DipoleParams], rr_ms: list[float], gains: np.ndarray, seeds: list[int],
            noise: bool) -> np.ndarray:
    """(n, 12, 5000) mV: ECGs of the given dipoles with HRV (and noise when ``noise``)."""
    rows = []
    for rr, seed in zip(rr_ms, seeds):
        process = rr_process(DURATION_S + 3.0, 60000.0 / rr, hr_std=1.0, seed=seed)
        rows.append(beat_intervals(process, DURATION_S)[0])
    width = max(len(r) for r in rows)
    rr = torch.stack([torch.cat([r, r[-1:].expand(width - len(r))]) for r in rows])
    batched = DipoleParams(torch.stack([p.theta for p in params]), torch.stack([p.alpha for p in params]),
                           torch.stack([p.b for p in params]), WAVES)
    sim = simulate(n=len(params), duration_s=DURATION_S, fs=FS_HZ, leads="12", params=batched, rr=rr,
                   wander_mv=0.0)
    signal = sim.signal.numpy().copy()
    signal[:, 6:] *= gains[:, :, None]
    if noise:
        t = np.arange(signal.shape[-1]) / FS_HZ
        for i, seed in enumerate(seeds):
            rng = np.random.default_rng(seed)
            wander = rng.uniform(0.05, 0.15) * np.sin(2 * np.pi * rng.uniform(0.15, 0.3) * t + rng.uniform(0, 6.3))
            mains = rng.uniform(0.0, 0.01) * np.sin(2 * np.pi * 60.0 * t + rng.uniform(0, 6.3))
            muscle = rng.normal(0.0, rng.uniform(0.005, 0.015), signal.shape[1:])
            signal[i] += wander + mains + muscle + _electrode_motion(rng, t)
    return signal


def _electrode_motion(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """(12, N) electrode-motion artefacts: 0-2 per record, each a 0.05-0.2 mV baseline jump on a few
    leads that settles over about a second (a skin-electrode potential change)."""
    out = np.zeros((12, t.size))
    for _ in range(rng.integers(0, 3)):
        start = rng.uniform(0.5, t[-1] - 1.0)
        shape = np.where(t >= start, np.exp(-(t - start) / rng.uniform(0.3, 1.0)), 0.0)
        leads = rng.choice(12, size=rng.integers(1, 4), replace=False)
        out[leads] += rng.uniform(0.05, 0.2) * rng.choice([-1.0, 1.0]) * shape
    return out


def _target(row: pd.Series) -> dict[str, float]:
    return {name: float(row[col]) for col, name in COLUMN_TO_INTERVAL.items()}


def subject_morphology(randid: int, reference: dict[str, float]) -> Morphology:
    """A subject's traits and its delineator bias, calibrated on one noise-free render of ``reference``."""
    alpha, gains = subject_traits(randid)
    ecg = _render([_params(alpha, reference, reference["rr_ms"])], [reference["rr_ms"]], gains[None],
                  [_seed(f"calibrate-{randid}")], noise=False)[0]
    measured = measure_ecg(ecg, FS_HZ)
    if measured["quality"] != "ok":
        raise ValueError(f"subject {randid}: calibration render could not be measured ({measured['quality']})")
    bias = {k: measured[k] - reference[k] for k in ("pr_ms", "qrs_ms", "jtpeak_ms", "tpeaktend_ms")}
    return Morphology(alpha, gains, bias, measured["t_amplitude_uv"] / reference["t_amplitude_uv"])


def render_twins(kept: pd.DataFrame, noise: bool = True, progress: bool = True) -> tuple[np.ndarray, pd.DataFrame]:
    """Render a twin for every row of ``kept`` (semi-synthetic).

    Parameters
    ----------
    kept : usable rows of the clinical table.
    noise : add baseline wander, muscle noise, mains hum and electrode motion.
    progress : show a progress bar over subjects.

    Returns
    -------
    (signals, rows)
        ``signals`` (n, 12, 5000) float32 in mV at 500 Hz; ``rows`` the matching
        table rows (same order) with an added ``source`` column = ``"semi-synthetic twin"``.
    """
    out, order = [], []
    for randid, rows in tqdm(kept.groupby("RANDID"), desc="twins", disable=not progress):
        reference = {k: float(np.median([_target(r)[k] for _, r in rows.iterrows()])) for k in COLUMN_TO_INTERVAL.values()}
        morph = subject_morphology(int(randid), reference)
        params, rrs, seeds = [], [], []
        for _, row in rows.iterrows():
            target = _target(row)
            corrected = {k: target[k] - morph.bias_ms.get(k, 0.0) for k in target}
            corrected["t_amplitude_uv"] = target["t_amplitude_uv"] / morph.t_amplitude_ratio
            params.append(_params(morph.alpha, corrected, target["rr_ms"]))
            rrs.append(target["rr_ms"])
            seeds.append(_seed(str(row["EGREFID"])))
        gains = np.repeat(morph.precordial_gain[None], len(params), axis=0)
        out.append(_render(params, rrs, gains, seeds, noise).astype(np.float32))
        order.append(rows)
    table = pd.concat(order).assign(source="semi-synthetic twin")
    return np.concatenate(out), table.reset_index(drop=True)


CACHE_ENV = "ECGWM_CACHE"
"""Environment variable for the cache folder (default ``~/.cache/ecgwm``)."""
TWIN_VERSION = "3"
"""Bumped whenever the twin generator changes, so that stale caches are rebuilt."""


def write_twins(kept: pd.DataFrame, folder: str | None = None, progress: bool = True) -> Path:
    """Render the twins of ``kept`` and write them in the ECGRDVQ PhysioNet layout (cached).

    Layout: ``<folder>/ecgrdvq/raw/<RANDID>/<EGREFID>.{hea,dat}`` (12 leads,
    500 Hz, format 16, 1 µV steps) plus ``ecgrdvq/SCR-002.Clinical.Data.csv``
    with the rows rendered, so that pointing ``ECGWM_DATA`` at ``folder`` makes
    :func:`~ecgwm_core.data.load_ecgrdvq_ecg` read the twins exactly as it reads
    the real waveforms. Every header carries the comment "semi-synthetic twin".

    Parameters
    ----------
    kept : rows to render.
    folder : output folder; default ``$ECGWM_CACHE/twins-v<version>-<hash of the rows>``.
    progress : show progress bars.

    Returns
    -------
    pathlib.Path
        The folder. An existing complete folder for the same rows is reused.
    """
    digest = hashlib.sha256(pd.util.hash_pandas_object(kept["EGREFID"], index=False).values.tobytes())
    digest.update(TWIN_VERSION.encode())
    root = Path(folder) if folder else (
        Path(os.environ.get(CACHE_ENV, Path.home() / ".cache" / "ecgwm")) / f"twins-v{TWIN_VERSION}-{digest.hexdigest()[:12]}")
    done = root / "COMPLETE"
    if done.is_file():
        return root
    signals, rows = render_twins(kept, progress=progress)
    names = [n.lower() for n in lead_matrix("12")[1]]
    for signal, (_, row) in tqdm(zip(signals, rows.iterrows()), total=len(rows), desc="writing", disable=not progress):
        target = root / "ecgrdvq" / "raw" / str(int(row["RANDID"]))
        target.mkdir(parents=True, exist_ok=True)
        wfdb.wrsamp(str(row["EGREFID"]), fs=FS_HZ, units=["mV"] * 12, sig_name=names, p_signal=signal.T.astype(float),
                    fmt=["16"] * 12, adc_gain=[1000.0] * 12, baseline=[0] * 12, write_dir=str(target),
                    comments=["semi-synthetic twin rendered by ecgwm_core.synthetic.twins (not a recording)"])
    rows.to_csv(root / "ecgrdvq" / "SCR-002.Clinical.Data.csv", index=False)
    (root / "README.txt").write_text(
        "SEMI-SYNTHETIC ECGRDVQ digital twins: 12-lead ECGs rendered by ecgwm_core.synthetic.twins so that\n"
        "their measured intervals reproduce rows of the real ECGRDVQ clinical table. Not recordings.\n")
    done.write_text(f"{len(rows)} records\n")
    return root
