"""Throughput of the ODE prior against NeuroKit2's ECGSYN, measured in the same run.

Prints generated samples per second (leads × samples × ECGs / wall time) for
10-s, 500-Hz ECGs and the ratio to NeuroKit2 ``ecg_simulate``: its
``method="ecgsyn"`` (single lead) as the baseline for our single-lead
McSharry integration, and its ``method="multileads"`` (12 leads) for our
12-lead dipole output. Target: >= 100x at every batch size.

Run: ``.venv/bin/python benchmarks/bench_ode.py [--repeats 3]``
"""
from __future__ import annotations

import argparse
import time
import warnings

import neurokit2 as nk
import torch

from ecgwm_core.ode import simulate

DURATION_S, FS, HR = 10.0, 500.0, 60.0


def best_time(fn, repeats: int) -> float:
    """Fastest of ``repeats`` wall-clock timings of ``fn()`` in s (one warm-up call first)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 64, 1024])
    args = parser.parse_args()
    n = int(DURATION_S * FS)
    warnings.filterwarnings("ignore")
    nk_single = n / best_time(lambda: nk.ecg_simulate(duration=DURATION_S, sampling_rate=FS, heart_rate=HR,
                                                      method="ecgsyn", random_state=0), args.repeats)
    nk_multi = 12 * n / best_time(lambda: nk.ecg_simulate(duration=DURATION_S, sampling_rate=FS, heart_rate=HR,
                                                          method="multileads", random_state=0), args.repeats)
    print(f"baseline NeuroKit2 ecgsyn, 1 lead     : {nk_single / 1e3:10.1f} k samples/s")
    print(f"baseline NeuroKit2 multileads, 12 lead: {nk_multi / 1e3:10.1f} k samples/s")
    print(f"{'model':28s} {'batch':>6s} {'M samples/s':>12s} {'x NeuroKit2':>12s}")
    for leads, baseline, n_leads in (("1", nk_single, 1), ("12", nk_multi, 12)):
        for batch in args.batches:
            def run(batch=batch, leads=leads):
                return simulate(n=batch, duration_s=DURATION_S, fs=FS, heart_rate=HR, leads=leads, seed=0,
                                dtype=torch.float32)

            seconds = best_time(run, args.repeats)
            rate = batch * n_leads * n / seconds
            name = "McSharry ODE, 1 lead" if leads == "1" else "dipole, 12 leads"
            print(f"{name:28s} {batch:6d} {rate / 1e6:12.2f} {rate / baseline:12.0f}")


if __name__ == "__main__":
    main()
