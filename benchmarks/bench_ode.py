"""Throughput of the ODE prior against NeuroKit2's ECGSYN, measured in the same run.

Prints generated samples per second (leads × samples × ECGs / wall time) for
10-s, 500-Hz ECGs and the ratio to NeuroKit2 ``ecg_simulate``: its
``method="ecgsyn"`` (single lead) as the baseline for our single-lead
McSharry integration, and its ``method="multileads"`` (12 leads) for our
12-lead dipole output. Target: >= 100x at every batch size.

Both the best and the median of the repeats are printed, with torch's
intra-op thread count. On a shared 2-core machine the default of 2 threads
oversubscribes as soon as anything else runs (the median at batch 1 was 20-30x
slower than the best); one thread holds up under load, so ``--threads 1`` is
the default and ``--threads 0`` keeps torch's own choice.

Run: ``.venv/bin/python benchmarks/bench_ode.py [--repeats 5] [--threads 1]``
"""
from __future__ import annotations

import argparse
import statistics
import time
import warnings

import neurokit2 as nk
import torch

from ecgwm_core.ode import simulate

DURATION_S, FS, HR = 10.0, 500.0, 60.0


def timings(fn, repeats: int) -> tuple[float, float]:
    """Best and median of ``repeats`` wall-clock timings of ``fn()`` in s (one warm-up call first)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 64, 1024])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    n = int(DURATION_S * FS)
    warnings.filterwarnings("ignore")

    def neurokit(method: str):
        return lambda: nk.ecg_simulate(duration=DURATION_S, sampling_rate=FS, heart_rate=HR, method=method,
                                       random_state=0)

    nk_single = n / timings(neurokit("ecgsyn"), args.repeats)[1]
    nk_multi = 12 * n / timings(neurokit("multileads"), args.repeats)[1]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} intra-op thread(s); ratios use medians")
    print(f"baseline NeuroKit2 ecgsyn, 1 lead     : {nk_single / 1e3:10.1f} k samples/s (median)")
    print(f"baseline NeuroKit2 multileads, 12 lead: {nk_multi / 1e3:10.1f} k samples/s (median)")
    print(f"{'model':24s} {'batch':>6s} {'best M/s':>9s} {'median M/s':>11s} {'x NK2 best':>11s} {'x NK2 median':>13s}")
    for leads, baseline, n_leads in (("1", nk_single, 1), ("12", nk_multi, 12)):
        for batch in args.batches:
            def run(batch=batch, leads=leads):
                return simulate(n=batch, duration_s=DURATION_S, fs=FS, heart_rate=HR, leads=leads, seed=0,
                                dtype=torch.float32)

            best, median = timings(run, args.repeats)
            samples = batch * n_leads * n
            name = "McSharry ODE, 1 lead" if leads == "1" else "dipole, 12 leads"
            print(f"{name:24s} {batch:6d} {samples / best / 1e6:9.2f} {samples / median / 1e6:11.2f} "
                  f"{samples / best / baseline:11.0f} {samples / median / baseline:13.0f}")


if __name__ == "__main__":
    main()
