"""Rollout budget of the world model (quick config): figures and ratios to the issue's budget.

1. 64 rollouts x 5 drugs, one patient, one time point (2.5 h), measurement included: budget 5 s.
2. A 24-h trajectory (the trial's 15 post-dose time points) x 5 drugs x 64 rollouts: budget 30 s.
Best and median of 3 runs, 1 torch thread, on whatever machine this runs on (trains and caches the
quick model first if needed). The patient is a validation subject's SEMI-SYNTHETIC twin.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from ecgwm_core.actions import FORMULARY
from ecgwm_core.data import load_clinical_table
from ecgwm_core.data.trial import BASELINE_HOURS
from ecgwm_core.worldmodel import default_split, pretrained, rollout
from ecgwm_core.worldmodel.anchors import trial_action
from ecgwm_core.worldmodel.validate import period_baselines

BUDGETS_S = {"one time point": 5.0, "24-h trajectory": 30.0}


def _time(fn, repeats: int = 3) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), float(np.median(times))


def main() -> None:
    torch.set_num_threads(1)
    kept = load_clinical_table(None).kept
    model = pretrained("quick")
    subject = int(default_split(kept)[1][0])
    rows = kept[(kept["RANDID"] == subject) & (kept["TPT"] == BASELINE_HOURS)]
    baseline = next(iter(period_baselines(model, rows[rows["EXTRT"] == rows["EXTRT"].iloc[0]]).values()))
    hours = sorted(h for h in kept["TPT"].unique() if h > BASELINE_HOURS)
    drugs = [d.trial_name for d in FORMULARY.values()]
    cases = {"one time point": [trial_action(d, 2.5) for d in drugs],
             "24-h trajectory": [trial_action(d, h) for d in drugs for h in hours]}
    print(f"world-model rollouts, quick config, 64 samples per action, 1 thread, subject {subject} (twin)")
    for name, actions in cases.items():
        best, median = _time(lambda a=actions: rollout(model, baseline, a, samples=64, seed=0))
        n = 64 * len(actions)
        print(f"{name:16s} {len(actions):3d} actions, {n:5d} rollouts: best {best:6.2f} s, median {median:6.2f} s "
              f"({n / best:6.0f} rollouts/s); budget {BUDGETS_S[name]:.0f} s -> ratio {best / BUDGETS_S[name]:.2f}")


if __name__ == "__main__":
    main()
