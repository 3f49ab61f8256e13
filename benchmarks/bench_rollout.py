"""Rollout budget of the world model (quick config): the per-beat measurement (baseline) against the batch one.

1. 64 rollouts x 5 drugs, one patient, one time point (2.5 h), measurement included: budget 5 s.
2. A 24-h trajectory (the trial's 15 post-dose time points) x 5 drugs x 64 rollouts: budget 30 s.

Each case runs both ways in the same process, alternating: **baseline** measures
the decoded beats one at a time with the per-beat delineator as it was (frozen in
``benchmarks/delineate_baseline.py``), **batch** with
:func:`ecgwm_core.signal.delineate_beats` (what ``rollout`` uses). Printed for
each: best and median of the repeats, of the whole rollout and of the time spent
measuring, the ratio to the budget; then the speed-ups (baseline / batch), the
largest difference between the two paths' measured intervals (they must agree),
the torch thread count and the machine's load average. The budget is for 2
cores, hence 2 torch threads by default; on a shared machine with other work
running, 2 threads oversubscribe the cores and the sampling time (not the
measuring) swings by 10x or more: compare with ``--threads 1``. Trains and
caches the quick model first if needed. The patient is a validation subject's
SEMI-SYNTHETIC twin.

Run: ``.venv/bin/python benchmarks/bench_rollout.py [--repeats 3] [--threads 2]``
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import time
from pathlib import Path
from unittest import mock

import numpy as np
import torch

from ecgwm_core.actions import FORMULARY
from ecgwm_core.data import load_clinical_table
from ecgwm_core.data.trial import BASELINE_HOURS
from ecgwm_core.signal import INTERVALS
from ecgwm_core.worldmodel import default_split, pretrained, rollout
from ecgwm_core.worldmodel.anchors import trial_action
from ecgwm_core.worldmodel.representation import measure_beats
from ecgwm_core.worldmodel.validate import period_baselines

BUDGETS_S = {"one time point": 5.0, "24-h trajectory": 30.0}
_spec = importlib.util.spec_from_file_location("delineate_baseline", Path(__file__).with_name("delineate_baseline.py"))
baseline_delineator = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(baseline_delineator)


class _Timed:
    """A stand-in for ``measure_beats`` that adds up the wall time spent in it."""

    def __init__(self, measure) -> None:
        self.measure, self.seconds = measure, 0.0

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.measure(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start


def _run(measure, run) -> tuple[float, float, object]:
    """Wall time (s) of ``run()`` with rollouts measured by ``measure``, the time spent measuring, and the result."""
    timed = _Timed(measure)
    with mock.patch("ecgwm_core.worldmodel.rollout.measure_beats", timed):
        start = time.perf_counter()
        result = run()
        return time.perf_counter() - start, timed.seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per path and case (best and median reported)")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (the budget is for 2 cores)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    kept = load_clinical_table(None).kept
    model = pretrained("quick")
    subject = int(default_split(kept)[1][0])
    rows = kept[(kept["RANDID"] == subject) & (kept["TPT"] == BASELINE_HOURS)]
    baseline = next(iter(period_baselines(model, rows[rows["EXTRT"] == rows["EXTRT"].iloc[0]]).values()))
    hours = sorted(h for h in kept["TPT"].unique() if h > BASELINE_HOURS)
    drugs = [d.trial_name for d in FORMULARY.values()]
    cases = {"one time point": [trial_action(d, 2.5) for d in drugs],
             "24-h trajectory": [trial_action(d, h) for d in drugs for h in hours]}
    rollout(model, baseline, cases["one time point"], samples=64, seed=0)  # warm-up: first calls build caches
    print(f"world-model rollouts, quick config, 64 samples per action, subject {subject} (twin); "
          f"torch {torch.get_num_threads()} intra-op thread(s), {os.cpu_count()} CPUs, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min); best / median of "
          f"{args.repeats}")
    paths = {"baseline (per beat)": baseline_delineator.measure_beats, "batch": measure_beats}
    for name, actions in cases.items():
        n, budget = 64 * len(actions), BUDGETS_S[name]
        times, tables = {path: [] for path in paths}, {}
        for _ in range(args.repeats):  # the paths alternate, so that a change of load hits both
            for path, measure in paths.items():
                total, measuring, result = _run(measure, lambda a=actions: rollout(model, baseline, a, samples=64,
                                                                                   seed=0))
                times[path].append((total, measuring))
                tables[path] = result.table
        print(f"{name} ({len(actions)} actions, {n} rollouts), budget {budget:.0f} s:")
        for path, runs in times.items():
            total, measuring = np.array(runs).T
            print(f"  {path:20s} best {total.min():6.2f} s, median {np.median(total):6.2f} s "
                  f"({n / total.min():5.0f} rollouts/s); measuring best {measuring.min():5.2f} s, "
                  f"median {np.median(measuring):5.2f} s; ratio to budget {total.min() / budget:.2f} "
                  f"(median {np.median(total) / budget:.2f})")
        (old_total, old_measuring), (total, measuring) = (np.array(runs).T for runs in times.values())
        old, new = tables.values()
        cols = [c for c in INTERVALS if c in new]
        print(f"  speed-up baseline / batch: whole rollout {old_total.min() / total.min():.1f}x (median "
              f"{np.median(old_total) / np.median(total):.1f}x), measuring {old_measuring.min() / measuring.min():.1f}x "
              f"(median {np.median(old_measuring) / np.median(measuring):.1f}x)\n"
              f"  paths agree: quality {'same' if (new['quality'] == old['quality']).all() else 'DIFFERENT'}, "
              f"largest interval difference {np.nanmax(np.abs(new[cols].to_numpy() - old[cols].to_numpy())):.1e}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
