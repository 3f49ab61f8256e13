"""``ecgwm simulate``: ECGs from the ODE prior to an .npz file (and optionally a paper-style plot).

Kept outside ``ecgwm_core.ode`` so that ``ecgwm --help`` does not import torch.
Output paths are checked before anything is computed and written atomically
(:mod:`ecgwm_core.cli.output`); bad input raises and :func:`ecgwm_core.cli.main`
turns it into one line.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from .output import atomic_output, checked_output, human_size, image_extensions

MAX_MEMORY_GB = 4.0
"""Default of ``--max-memory`` (a literal copy of ``ecgwm_core.ode.simulate.MAX_MEMORY_GB``, so that
``ecgwm --help`` does not import torch)."""


def _padded_rpeaks(rpeaks: list[np.ndarray]) -> np.ndarray:
    """(n, max beats) int64 R-peak samples, padded with -1."""
    width = max(len(r) for r in rpeaks)
    out = np.full((len(rpeaks), width), -1, dtype=np.int64)
    for i, r in enumerate(rpeaks):
        out[i, : len(r)] = r
    return out


def _plot(signal: np.ndarray, fs: float, leads: tuple[str, ...], args: argparse.Namespace, path: Path) -> None:
    """Draw the first ECG on ECG paper into ``path`` (atomically)."""
    from ..plotting.ecgpaper import plot_12lead, plot_strip

    title = f"simulated (McSharry ODE prior), {args.heart_rate:g} bpm, seed {args.seed}"
    if args.leads == "12" and args.duration >= 10:
        fig = plot_12lead(signal[0], fs, leads, title=title)
    else:
        fig = plot_strip(signal[0, 0], fs, leads[0], title=title)
    with atomic_output(path) as temporary:
        fig.savefig(temporary, dpi=150)


def _run(args: argparse.Namespace) -> int:
    out = checked_output(args.out, (".npz",))
    plot = checked_output(args.plot, image_extensions(), "--plot") if args.plot else None
    from ..ode import simulate

    start = time.perf_counter()
    sim = simulate(
        n=args.n, duration_s=args.duration, fs=args.fs, heart_rate=args.heart_rate,
        hr_std=args.hr_std, leads=args.leads, params=args.preset, seed=args.seed,
        wander_mv=args.wander, max_memory_gb=args.max_memory,
    )
    simulated = time.perf_counter() - start
    signal = sim.signal.detach().cpu().numpy().astype(np.float32)
    arrays = {"signal": signal, "fs": np.float64(sim.fs), "leads": np.array(sim.leads),
              "rpeaks": _padded_rpeaks(sim.rpeaks)}
    save = np.savez_compressed if args.compress else np.savez
    start = time.perf_counter()
    with atomic_output(out) as temporary:
        save(temporary, **arrays)
    written = time.perf_counter() - start
    print(f"wrote {out} ({human_size(out.stat().st_size)}, {'compressed' if args.compress else 'uncompressed'}): "
          f"signal {signal.shape} (ECGs, leads, samples) in mV at {sim.fs:g} Hz; rpeaks padded with -1; "
          f"simulated in {simulated:.2f} s, written in {written:.2f} s")
    if plot is not None:
        _plot(signal, sim.fs, sim.leads, args, plot)
        print(f"wrote {plot}")
    return 0


def add_simulate_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``simulate`` on the ``ecgwm`` subcommand parser."""
    p = sub.add_parser("simulate", help="simulate ECGs from the McSharry ODE prior into an .npz file")
    p.add_argument("--n", type=int, default=1, help="number of ECGs (default 1)")
    p.add_argument("--duration", type=float, default=10.0, help="length in s, at least one beat (default 10)")
    p.add_argument("--fs", type=float, default=500.0, help="sampling frequency in Hz, >= 128 (default 500)")
    p.add_argument("--heart-rate", type=float, default=60.0, help="mean heart rate in bpm, 20-250 (default 60)")
    p.add_argument("--hr-std", type=float, default=1.0, help="heart-rate standard deviation in bpm (default 1)")
    p.add_argument("--leads", choices=["1", "12", "xyz"], default="12",
                   help="single lead, 12 leads or Frank XYZ (default 12)")
    p.add_argument("--preset", choices=["paper", "reference"],
                   help="wave table for --leads 1: McSharry 2003 (paper, default) or ECGSYN code (reference)")
    p.add_argument("--wander", type=float, default=0.15, help="baseline wander amplitude in mV (default 0.15, 0 = off)")
    p.add_argument("--seed", type=int, default=0, help="seed of the RR process (default 0)")
    p.add_argument("--max-memory", type=float, default=MAX_MEMORY_GB, metavar="GB",
                   help=f"refuse if the estimated memory exceeds this (default {MAX_MEMORY_GB:g} GB)")
    p.add_argument("--out", required=True, help="output .npz with signal, fs, leads, rpeaks (uncompressed)")
    p.add_argument("--compress", action="store_true",
                   help="write a compressed .npz (about 2x smaller, several times slower to write)")
    p.add_argument("--plot", help="also draw the first ECG on ECG paper to this image file (.png, .pdf, .svg)")
    p.set_defaults(run=_run)
