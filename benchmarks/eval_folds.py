"""The evaluation chapter's forecast tables over all 4 leave-subjects-out folds, in quick mode.

Chapter 08 runs fold 0 in quick mode (and all folds with the paper configuration on request);
this script runs the quick configuration on all 4 folds (12 training / 4 held-out subjects
each, every method of :func:`ecgwm_core.evaluation.study.methods`, K = 32 rollouts), so that
the fold-0 numbers can be read against their spread over folds. Trained models and rollouts
are cached, so a second run only loads. About 30 CPU-minutes on 2 cores with an empty cache.

Usage::

    .venv/bin/python benchmarks/eval_folds.py --out benchmarks/folds.md
"""
from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import torch

from ecgwm_core.data import load_clinical_table
from ecgwm_core.evaluation.study import OBSERVED_UNTIL_H, forecast_table, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="markdown file for the tables (default: print only)")
    parser.add_argument("--samples", type=int, default=32, help="rollouts per point (default 32)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    scores = results(load_clinical_table(None).kept, quick=True, n_samples=args.samples, all_folds=True)
    lines = [f"# ΔQTcF forecasts over 4 leave-subjects-out folds (quick configuration, K = {args.samples})", "",
             f"Measured by `benchmarks/eval_folds.py` on {platform.machine()} in "
             f"{(time.perf_counter() - start) / 60:.1f} min (trained models and rollouts are read from the "
             "cache when present; about 11 min on 2 cores without); mean ± sd over the 4 folds, held-out "
             "subjects only; MAE and CRPS in ms.", ""]
    for protocol in ("pre-dose", f"observed until {OBSERVED_UNTIL_H:g} h"):
        lines += [f"**{protocol.capitalize()}**", "", forecast_table(scores, protocol).to_markdown(), ""]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
