"""``ecgwm predict-qtc``: ΔQTcF forecasts for every subject × treatment × post-dose time point of an SCR-002 table.

The predictor is chosen with ``--method`` (:data:`METHODS`). The default is the
world model (:class:`ecgwm_core.evaluation.simulation.WorldModelPredictor`):
``--checkpoint DIR`` loads a trained one; without it the cached quick model is
used (``ecgwm_core.worldmodel.pretrained("quick")``: trained once, with a
progress bar, on the shipped table's default training subjects, then cached).
The baselines are fitted on the shipped trial table. The command says on
stderr which predictor it used.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

OUTPUT_COLUMNS = ("RANDID", "EXTRT", "TPT", "dqtcf_mean", "dqtcf_q05", "dqtcf_q95")
"""Columns of PRED.csv, in order."""


def _fail(message: str) -> int:
    print(f"ecgwm predict-qtc: error: {message}", file=sys.stderr)
    return 2


METHODS = ("world-model", "population-mean", "population-offset", "shifted-population", "linear-cqtc",
           "copy-forward")
"""Values of ``--method``; the first is the default."""


def _predictor(args: argparse.Namespace):
    """The predictor named by ``--method``, fitted (the baselines on the shipped table)."""
    from ..data import load_clinical_table
    from ..evaluation.baselines import CopyForward, LinearCQTc, OffsetPopulation, PopulationMean, ShiftedPopulation
    from ..evaluation.simulation import WorldModelPredictor

    if args.method == "world-model":
        if args.checkpoint is not None:
            return WorldModelPredictor(checkpoint=args.checkpoint, progress=True).fit(None)
        from ..worldmodel import pretrained

        return WorldModelPredictor(model=pretrained("quick", progress=True), progress=True).fit(None)
    make = {"population-mean": PopulationMean, "population-offset": OffsetPopulation,
            "shifted-population": ShiftedPopulation,
            "linear-cqtc": LinearCQTc, "copy-forward": CopyForward}[args.method]
    return make().fit(load_clinical_table().kept)


def _run(args: argparse.Namespace) -> int:
    from ..data import MalformedTableError, load_clinical_table
    from ..evaluation.protocols import prediction_task, summarise_samples
    from ..worldmodel import CheckpointError

    from .output import atomic_output, checked_output

    checked_output(args.out, (".csv",))
    if args.samples < 2:
        return _fail(f"--samples must be at least 2; got {args.samples}")
    if args.checkpoint is not None and args.method != "world-model":
        return _fail(f"--checkpoint is a world-model checkpoint; it cannot be used with --method {args.method}")
    if args.use_concentration and args.method != "linear-cqtc":
        print("predict-qtc: note: only --method linear-cqtc uses concentrations", file=sys.stderr)
    try:
        table = load_clinical_table(args.table)
        task = prediction_task(table.kept, table.rejected, use_concentration=args.use_concentration,
                               observed_until=args.observed_until)
    except (MalformedTableError, FileNotFoundError, ValueError) as err:
        return _fail(str(err))
    if task.queries.empty:
        return _fail(f"{args.table}: no time point after {args.observed_until or 0:g} h to predict")
    try:
        predictor = _predictor(args)
        print(f"predict-qtc: {predictor.name}", file=sys.stderr)
        samples = predictor.sample(task, args.samples, args.seed)
    except (CheckpointError, ValueError) as err:
        return _fail(str(err))
    out = summarise_samples(task, samples)[list(OUTPUT_COLUMNS)]
    with atomic_output(args.out) as temporary:
        out.to_csv(temporary, index=False, float_format="%.2f")
    print(f"wrote {args.out}: {len(out)} predictions ({out['RANDID'].nunique()} subjects)", file=sys.stderr)
    return 0


def add_predict_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``predict-qtc`` on the ``ecgwm`` subcommand parser."""
    p = sub.add_parser("predict-qtc", help="predict ΔQTcF per subject × treatment × post-dose time point of a table")
    p.add_argument("table", type=Path, help="SCR-002 clinical table (CSV); post-dose measurement columns may be empty")
    p.add_argument("--out", type=Path, required=True, help="output CSV: " + ",".join(OUTPUT_COLUMNS))
    p.add_argument("--samples", type=int, default=16,
                   help="predictive samples (rollouts) per time point (default 16; 64 for smoother quantiles)")
    p.add_argument("--method", choices=METHODS, default=METHODS[0],
                   help="predictor (default: world-model; the others are baselines)")
    p.add_argument("--checkpoint", type=Path, help="world-model checkpoint folder (default: the cached quick model)")
    p.add_argument("--use-concentration", action="store_true",
                   help="use PCSTRESN concentrations (linear concentration-QTc model)")
    p.add_argument("--observed-until", type=float, metavar="HOURS",
                   help="also use the rows with TPT <= HOURS and predict TPT > HOURS only")
    p.add_argument("--seed", type=int, default=0, help="seed of the predictive samples (default 0)")
    p.set_defaults(run=_run)
