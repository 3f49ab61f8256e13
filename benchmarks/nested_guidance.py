"""Nested leave-subjects-out choice of the sampling-time guidance strength s, in quick mode.

The default ``DiffusionConfig.guidance`` was fixed on the 4 outer folds themselves. This script
checks that choice without touching a test fold: inside each outer fold's 12 training subjects it
runs 3 inner leave-subjects-out folds (quick models, cached like every fold model), scores each
candidate s on the inner held-out subjects (pre-dose protocol, K = 16), picks the s with the lowest
mean inner MAE and scores it once on the outer held-out subjects (K = 32). About 15 CPU-minutes per
outer fold with an empty cache (3 inner models each); a second run only samples.

Usage::

    .venv/bin/python benchmarks/nested_guidance.py --out benchmarks/nested_guidance.md
"""
from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ecgwm_core.data import load_clinical_table, subject_folds
from ecgwm_core.evaluation.baselines import PopulationMean
from ecgwm_core.evaluation.protocols import score
from ecgwm_core.evaluation.simulation import WorldModelPredictor, fold_model
from ecgwm_core.evaluation.study import heldout
from ecgwm_core.worldmodel import get_config

CANDIDATES = (0.0, 0.5, 1.0, 2.0, 4.0)
"""Guidance strengths s compared (λ0 = 1, so s = guidance)."""


def _mae(model, task, truth: np.ndarray, s: float, k: int, seed: int) -> float:
    return score(WorldModelPredictor(model=model, guidance=s).fit(None).sample(task, k, seed), truth)["mae_ms"]


def outer_fold(kept: pd.DataFrame, fold: int, train: np.ndarray, test: np.ndarray) -> dict:
    """The inner mean MAE of every candidate, the chosen s and its outer MAE next to the population mean's."""
    inner = {s: [] for s in CANDIDATES}
    training = kept[kept["RANDID"].isin(train)]
    for i, (tr, va) in enumerate(subject_folds(training, k=3, seed=0)):
        rows, task, truth = heldout(kept, tr, va)
        model = fold_model(get_config("quick"), rows)
        for s in CANDIDATES:
            inner[s].append(_mae(model, task, truth, s, 16, i))
    means = {s: float(np.mean(v)) for s, v in inner.items()}
    chosen = min(means, key=means.get)
    rows, task, truth = heldout(kept, train, test)
    model = fold_model(get_config("quick"), rows)
    default = get_config("quick").diffusion.sampling_guidance
    return {"fold": fold, **{f"inner, s = {s:g}": m for s, m in means.items()}, "chosen s": chosen,
            "outer, chosen s": _mae(model, task, truth, chosen, 32, fold),
            f"outer, default s = {default:g}": _mae(model, task, truth, default, 32, fold),
            "outer, population mean": score(PopulationMean().fit(rows).sample(task, 32, fold), truth)["mae_ms"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="markdown file for the table (default: print only)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    kept = load_clinical_table(None).kept
    table = pd.DataFrame([outer_fold(kept, f, tr, te) for f, (tr, te) in enumerate(subject_folds(kept, k=4, seed=0))])
    table = table.set_index(table["fold"].map(lambda f: f"fold {f}")).drop(columns="fold")
    shown = pd.concat([table, table.mean().rename("mean").to_frame().T]).T.round(2)  # one column per fold
    text = "\n".join([
        "# Nested choice of the sampling-time guidance strength (quick configuration)", "",
        f"Measured by `benchmarks/nested_guidance.py` on {platform.machine()} in "
        f"{(time.perf_counter() - start) / 60:.1f} min (trained models and rollouts are read from the cache "
        "when present; about an hour on 2 cores without). Pre-dose ΔQTcF MAE (ms): inner rows are the mean "
        "over 3 inner leave-subjects-out folds of each outer fold's training subjects (K = 16); outer "
        "rows are the outer fold's held-out subjects (K = 32).", "",
        shown.to_markdown(), ""])
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
