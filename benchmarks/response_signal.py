"""Is there anything in a new subject's pre-dose ECG that predicts how strongly it responds? (quick mode)

On each of the 4 leave-subjects-out folds (pre-dose protocol), the point forecasts of the
world model (mean of K = 32 rollouts plus the offset shift; the rollouts of ``make folds``,
read from the cache), of the ODE prior alone, and of a ridge regression of the residual on
the subject's measured pre-dose ECG (:class:`ecgwm_core.evaluation.baselines.PreDoseFeatures`,
penalties 1, 10 and 100, all reported: none is chosen on a test fold) are compared with the
best baseline, population + baseline offset, by
:func:`ecgwm_core.evaluation.study.response_signals`: the correlation r and slope of what each
says about a subject beyond that baseline with what the baseline misses, and the MAE with the
method's drug × time bias relative to the baseline removed (estimated on the held-out subjects:
an upper bound). A few seconds with the rollouts cached; about 10 CPU-minutes without.

Usage::

    .venv/bin/python benchmarks/response_signal.py --out benchmarks/response_signal.md
"""
from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import pandas as pd
import torch

from ecgwm_core.data import load_clinical_table, subject_folds
from ecgwm_core.evaluation.study import response_signals

RIDGES = (1.0, 10.0, 100.0)
"""Ridge penalties of the pre-dose feature regression."""


def _mean_sd(values: pd.Series, digits: int) -> str:
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="markdown file for the table (default: print only)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    kept = load_clinical_table(None).kept
    folds = subject_folds(kept, k=4, seed=0)
    scores = pd.concat([response_signals(kept, tr, te, n_samples=32, seed=f, ridges=RIDGES).assign(fold=f)
                        for f, (tr, te) in enumerate(folds)])
    reference = scores.groupby("fold")["mae_reference"].first()
    rows = [{"method": "population + baseline offset", "MAE (ms)": _mean_sd(reference, 2),
             "bias removed (ms)": "", "r": "", "slope": "", "r per fold": ""}]
    for method, g in scores.groupby("method", sort=False):
        rows.append({"method": method, "MAE (ms)": _mean_sd(g["mae_candidate"], 2),
                     "bias removed (ms)": _mean_sd(g["mae_debiased"], 2), "r": _mean_sd(g["correlation"], 2),
                     "slope": _mean_sd(g["slope"], 1), "r per fold": " / ".join(f"{r:.2f}" for r in g["correlation"])})
    text = "\n".join([
        "# What the pre-dose ECG says about a new subject's response (quick configuration, 4 folds)", "",
        f"Measured by `benchmarks/response_signal.py` on {platform.machine()} in "
        f"{(time.perf_counter() - start) / 60:.1f} min (rollouts read from the cache when present). "
        "Pre-dose protocol, held-out subjects, point forecasts (no predictive noise), mean ± sd over the "
        "4 folds. r and slope: what each method says about a subject beyond population + baseline offset, "
        "against what that baseline misses (ΔQTcF residual, ms). Bias removed: the method with its "
        "drug × time mean difference from the baseline taken out, estimated on the held-out subjects "
        "themselves (an upper bound).", "",
        pd.DataFrame(rows).set_index("method").to_markdown(), ""])
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
