"""Is there anything in a new subject's pre-dose ECG that predicts how strongly it responds? (quick mode)

On each of the 4 leave-subjects-out folds (pre-dose protocol), the point forecasts of the
world model (mean of K = 32 rollouts plus the offset shift; the rollouts of ``make folds``,
read from the cache), of the ODE prior alone, and of a ridge regression of the residual on
the subject's measured pre-dose ECG (:class:`ecgwm_core.evaluation.baselines.PreDoseFeatures`,
penalties 1, 10 and 100, all reported: none is chosen on a test fold) are compared with the
best baseline, population + baseline offset, by
:func:`ecgwm_core.evaluation.study.response_signals`. Per fold it also measures how much of
what the baseline misses is a consistent subject × treatment deviation
(:func:`ecgwm_core.evaluation.predictability.subject_share`) and the sd of r that chance
alone gives: r of random parts, one N(0, 1) value per held-out subject × treatment
(:data:`CHANCE_DRAWS` seeded draws). Last, whether the world model's level relative to the
baseline is already there on its own training subjects, and what adding that training-subject
level to its forecasts gives on the held-out ones. A few seconds with the rollouts cached; about
12 CPU-minutes without.

Usage::

    .venv/bin/python benchmarks/response_signal.py --out benchmarks/response_signal.md
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
from ecgwm_core.evaluation.baselines import OffsetPopulation
from ecgwm_core.evaluation.predictability import response_signal, subject_share
from ecgwm_core.evaluation.protocols import KEY
from ecgwm_core.evaluation.simulation import WorldModelPredictor
from ecgwm_core.evaluation.study import heldout, response_signals
from ecgwm_core.worldmodel import get_config

RIDGES = (1.0, 10.0, 100.0)
"""Ridge penalties of the pre-dose feature regression."""
CHANCE_DRAWS = 400
"""Random subject × treatment parts per fold for the chance sd of r."""


def _mean_sd(values: pd.Series, digits: int) -> str:
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


def chance(kept: pd.DataFrame, train: np.ndarray, test: np.ndarray, seed: int) -> dict[str, float]:
    """The share of the baseline's miss that is subject × treatment, and the sd of r under chance."""
    rows, task, truth = heldout(kept, train, test)
    ok = np.isfinite(truth)
    keys = task.queries.loc[ok, KEY].reset_index(drop=True)
    reference, observed = OffsetPopulation().fit(rows).point(task)[ok], truth[ok]
    clusters = keys.groupby(["RANDID", "EXTRT"]).ngroup().to_numpy()
    rng = np.random.default_rng(seed)
    r = [response_signal(observed, reference, reference + rng.standard_normal(clusters.max() + 1)[clusters],
                         keys).correlation for _ in range(CHANCE_DRAWS)]
    return {"share": subject_share(observed - reference, keys), "chance_sd": float(np.std(r))}


def training_level(kept: pd.DataFrame, train: np.ndarray, test: np.ndarray, seed: int) -> dict[str, float]:
    """The world model's mean miss on its own training subjects (observed − point forecast, K = 16), per
    drug, and its held-out MAE with that level added per drug and per drug × time point."""
    rows, task, truth = heldout(kept, train, test)
    model = WorldModelPredictor(get_config("quick")).fit(rows)
    _, own, own_truth = heldout(kept, train, train)  # the training subjects as a task of their own
    miss = own.queries[KEY].assign(miss=own_truth - model.point(own, 16, 100 + seed))
    point, keys = model.point(task, 32, seed), task.queries[KEY]
    by_drug = miss.groupby("EXTRT")["miss"].mean()
    by_time = miss.groupby(["EXTRT", "TPT"])["miss"].mean()
    ok = np.isfinite(truth) & np.isfinite(point)
    mae = lambda forecast: float(np.abs(truth - forecast)[ok].mean())  # noqa: E731
    return {**{f"training-subject level (ms), {d}": v for d, v in by_drug.items()},
            "held-out MAE (ms), world model": mae(point),
            "... + training level per drug": mae(point + keys["EXTRT"].map(by_drug).to_numpy()),
            "... + training level per drug × time": mae(
                point + by_time.reindex(pd.MultiIndex.from_frame(keys[["EXTRT", "TPT"]])).to_numpy())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="markdown file for the tables (default: print only)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    kept = load_clinical_table(None).kept
    folds = subject_folds(kept, k=4, seed=0)
    scores = pd.concat([response_signals(kept, tr, te, n_samples=32, seed=f, ridges=RIDGES).assign(fold=f)
                        for f, (tr, te) in enumerate(folds)])
    null = pd.DataFrame([chance(kept, tr, te, f) for f, (tr, te) in enumerate(folds)])
    reference = scores.groupby("fold")["mae_reference"].first()
    methods = [{"method": "population + baseline offset", "MAE (ms)": _mean_sd(reference, 2)}]
    for method, g in scores.groupby("method", sort=False):
        weight = g["n"] * g["part_sd_ms"] ** 2  # pooled slope: Σ part·miss / Σ part² over the folds
        methods.append({"method": method, "MAE (ms)": _mean_sd(g["mae_candidate"], 2),
                        "subject part only (ms)": _mean_sd(g["mae_subject_part"], 2),
                        "level (ms)": _mean_sd(g["level_ms"], 1), "r": _mean_sd(g["correlation"], 2),
                        "pooled slope": f"{(g['slope'] * weight).sum() / weight.sum():.2f}"})
    by_fold = {"baseline MAE (ms)": reference.to_numpy(),
               "held-out mean miss (ms)": scores.groupby("fold")["reference_miss_ms"].first().to_numpy(),
               "share of miss per subject × treatment": null["share"].to_numpy(),
               "sd of r by chance": null["chance_sd"].to_numpy()}
    for method in ("world model", "ODE prior only", "pre-dose ECG features, ridge 10"):
        g = scores[scores["method"] == method]
        by_fold[f"r, {method}"] = g["correlation"].to_numpy()
        by_fold[f"level (ms), {method}"] = g["level_ms"].to_numpy()
    per_fold = pd.DataFrame(by_fold, index=[f"fold {f}" for f in range(len(folds))]).T.round(2)
    level = pd.DataFrame([training_level(kept, tr, te, f) for f, (tr, te) in enumerate(folds)],
                         index=[f"fold {f}" for f in range(len(folds))])
    level["baseline MAE (ms)"] = reference.to_numpy()
    level = pd.concat([level, level.mean().rename("mean").to_frame().T]).T.round(2)
    text = "\n".join([
        "# What the pre-dose ECG says about a new subject's response (quick configuration, 4 folds)", "",
        f"Measured by `benchmarks/response_signal.py` on {platform.machine()} in "
        f"{time.perf_counter() - start:.0f} s (rollouts read from the cache when present). Pre-dose protocol, "
        "held-out subjects, point forecasts, mean ± sd over the 4 folds. The baseline is population + "
        "baseline offset; r and slope compare what each method says about a subject beyond it with what it "
        "misses, within drug × time points (a slope above ½ is needed for the part to help). Subject part "
        "only: the baseline plus that part, i.e. the method with its level replaced by the baseline's. "
        "Level: the method's mean difference from the baseline.", "",
        pd.DataFrame(methods).set_index("method").fillna("").to_markdown(disable_numparse=True), "",
        "Per fold: how far the held-out subjects sit from the baseline, how much of its miss is a consistent "
        f"subject × treatment deviation, and the sd of r that random parts give ({CHANCE_DRAWS} draws, one "
        "value per subject × treatment).", "",
        per_fold.to_markdown(), "",
        "Is the world model's level already there on the subjects it was trained on? Its mean miss "
        "(observed − point forecast, K = 16) on its own training subjects, per drug, and its held-out MAE "
        "with that level added (a correction that uses training subjects only):", "",
        level.to_markdown(), ""])
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
