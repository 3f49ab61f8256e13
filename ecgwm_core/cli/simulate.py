"""``ecgwm simulate``: ECGs from the ODE prior to an .npz file (and optionally a paper-style plot).

Kept outside ``ecgwm_core.ode`` so that ``ecgwm --help`` does not import torch.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np


def _run(args: argparse.Namespace) -> int:
    from ..ode import simulate

    try:
        sim = simulate(
            n=args.n, duration_s=args.duration, fs=args.fs, heart_rate=args.heart_rate,
            hr_std=args.hr_std, leads=args.leads, params=args.preset, seed=args.seed,
            wander_mv=args.wander,
        )
    except ValueError as err:
        print(f"ecgwm simulate: {err}", file=sys.stderr)
        return 2
    signal = sim.signal.detach().numpy().astype(np.float32)
    width = max(len(r) for r in sim.rpeaks)
    rpeaks = np.full((args.n, width), -1, dtype=np.int64)
    for i, r in enumerate(sim.rpeaks):
        rpeaks[i, : len(r)] = r
    np.savez_compressed(args.out, signal=signal, fs=np.float64(sim.fs), leads=np.array(sim.leads), rpeaks=rpeaks)
    print(f"wrote {args.out}: signal {signal.shape} (ECGs, leads, samples) in mV at {sim.fs:g} Hz; "
          "rpeaks padded with -1")
    if args.plot:
        from ..plotting.ecgpaper import plot_12lead, plot_strip

        title = f"simulated (McSharry ODE prior), {args.heart_rate:g} bpm, seed {args.seed}"
        if args.leads == "12" and args.duration >= 10:
            fig = plot_12lead(signal[0], sim.fs, sim.leads, title=title)
        else:
            fig = plot_strip(signal[0, 0], sim.fs, sim.leads[0], title=title)
        fig.savefig(args.plot, dpi=150)
        print(f"wrote {args.plot}")
    return 0


def add_simulate_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``simulate`` on the ``ecgwm`` subcommand parser."""
    p = sub.add_parser("simulate", help="simulate ECGs from the McSharry ODE prior into an .npz file")
    p.add_argument("--n", type=int, default=1, help="number of ECGs (default 1)")
    p.add_argument("--duration", type=float, default=10.0, help="length in s (default 10)")
    p.add_argument("--fs", type=float, default=500.0, help="sampling frequency in Hz (default 500)")
    p.add_argument("--heart-rate", type=float, default=60.0, help="mean heart rate in bpm, 20-250 (default 60)")
    p.add_argument("--hr-std", type=float, default=1.0, help="heart-rate standard deviation in bpm (default 1)")
    p.add_argument("--leads", choices=["1", "12", "xyz"], default="12", help="single lead, 12 leads or Frank XYZ (default 12)")
    p.add_argument("--preset", choices=["paper", "reference"],
                   help="wave table for --leads 1: McSharry 2003 (paper, default) or ECGSYN code (reference)")
    p.add_argument("--wander", type=float, default=0.15, help="baseline wander amplitude in mV (default 0.15, 0 = off)")
    p.add_argument("--seed", type=int, default=0, help="seed of the RR process (default 0)")
    p.add_argument("--out", required=True, help="output .npz with signal, fs, leads, rpeaks")
    p.add_argument("--plot", help="also draw the first ECG on ECG paper to this image file")
    p.set_defaults(run=_run)
