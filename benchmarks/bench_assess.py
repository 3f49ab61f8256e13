"""Time of ``assess`` for one patient: 5 candidates × 64 rollouts, scoring and ranking included.

Budget (issue 12): ≤ 10 s on 2 cores. Prints best and median wall time over
``--repeats`` runs (one warm-up first), the one-off set-up (loading the world
model and building the patient's pre-dose state, or fitting the
exposure-response simulator) separately, the thread count, the ratio of the
budget to the median, and the rollouts per second.

Run: ``.venv/bin/python benchmarks/bench_assess.py [--simulator world-model|exposure-response] [--repeats 5]``
(``world-model``, the default as in ``ecgwm assess``, loads ``worldmodel.pretrained("quick")``, training and
caching it on first use).
"""
from __future__ import annotations

import argparse
import statistics
import time
import warnings

import torch

from ecgwm_core.data import load_clinical_table
from ecgwm_core.risk.loop import assess, parse_candidates, patient_from_table
from ecgwm_core.risk.simulators import ExposureResponseSimulator, WorldModelSimulator

CANDIDATES = "placebo,dofetilide,quinidine,ranolazine,verapamil"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulator", choices=("world-model", "exposure-response"), default="world-model")
    parser.add_argument("--subject", type=int, default=1001)
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: on 2 shared cores 2 threads oversubscribe, 5.7 s -> 39 s)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")
    kept = load_clinical_table().kept
    start = time.perf_counter()
    if args.simulator == "world-model":
        from ecgwm_core.worldmodel import pretrained

        simulator = WorldModelSimulator(pretrained("quick", kept), kept)
    else:
        simulator = ExposureResponseSimulator(kept)
    patient = patient_from_table(kept, args.subject)
    candidates = parse_candidates(CANDIDATES)
    run = lambda: assess(patient, simulator, candidates=candidates, samples=args.samples)  # noqa: E731
    run()  # warm-up (the world model builds the patient's pre-dose state here)
    setup = time.perf_counter() - start
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    print(f"simulator {args.simulator}, subject {args.subject}, {len(candidates)} candidates x {args.samples} "
          f"rollouts, {torch.get_num_threads()} threads")
    print(f"set-up (fit/load + first assessment): {setup:.2f} s")
    median = statistics.median(times)
    print(f"assess: best {min(times):.3f} s, median {median:.3f} s; budget 10 s / median = {10 / median:.1f}; "
          f"{len(candidates) * args.samples / median:.0f} rollouts/s")


if __name__ == "__main__":
    main()
