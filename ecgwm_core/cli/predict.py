"""``ecgwm predict-qtc``: ΔQTcF forecasts for every subject × treatment × post-dose time point of an SCR-002 table.

The predictor is pluggable (:data:`BASELINES`); until the world model exposes a
rollout predictor, the command uses the baseline that fits the protocol,
fitted on the shipped trial table, and says which on stderr.
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


def _predictor(args: argparse.Namespace):
    """The baseline for the protocol: shifted population (observed-until), linear C-QTc, or the population mean."""
    from ..evaluation.baselines import LinearCQTc, PopulationMean, ShiftedPopulation

    if args.observed_until is not None:
        return ShiftedPopulation()
    return LinearCQTc() if args.use_concentration else PopulationMean()


def _run(args: argparse.Namespace) -> int:
    from ..data import MalformedTableError, load_clinical_table
    from ..evaluation.protocols import prediction_task, summarise_samples

    if args.samples < 2:
        return _fail(f"--samples must be at least 2; got {args.samples}")
    if args.checkpoint is not None:
        return _fail(f"--checkpoint {args.checkpoint}: the world-model predictor is not wired into predict-qtc "
                     "yet; run without --checkpoint to use the baselines")
    try:
        table = load_clinical_table(args.table)
        task = prediction_task(table.kept, table.rejected, use_concentration=args.use_concentration,
                               observed_until=args.observed_until)
    except (MalformedTableError, FileNotFoundError, ValueError) as err:
        return _fail(str(err))
    if task.queries.empty:
        return _fail(f"{args.table}: no time point after {args.observed_until or 0:g} h to predict")
    predictor = _predictor(args)
    print(f"predict-qtc: {predictor.name} baseline fitted on the shipped ECGRDVQ table", file=sys.stderr)
    training = load_clinical_table().kept
    try:
        samples = predictor.fit(training).sample(task, args.samples, args.seed)
    except ValueError as err:
        return _fail(str(err))
    out = summarise_samples(task, samples)[list(OUTPUT_COLUMNS)]
    out.to_csv(args.out, index=False, float_format="%.2f")
    print(f"wrote {args.out}: {len(out)} predictions ({out['RANDID'].nunique()} subjects)", file=sys.stderr)
    return 0


def add_predict_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``predict-qtc`` on the ``ecgwm`` subcommand parser."""
    p = sub.add_parser("predict-qtc", help="predict ΔQTcF per subject × treatment × post-dose time point of a table")
    p.add_argument("table", type=Path, help="SCR-002 clinical table (CSV); post-dose measurement columns may be empty")
    p.add_argument("--out", type=Path, required=True, help="output CSV: " + ",".join(OUTPUT_COLUMNS))
    p.add_argument("--samples", type=int, default=200, help="predictive samples per time point (default 200)")
    p.add_argument("--checkpoint", type=Path, help="world-model checkpoint folder (not available yet)")
    p.add_argument("--use-concentration", action="store_true",
                   help="use PCSTRESN concentrations (linear concentration-QTc model)")
    p.add_argument("--observed-until", type=float, metavar="HOURS",
                   help="also use the rows with TPT <= HOURS and predict TPT > HOURS only")
    p.add_argument("--seed", type=int, default=0, help="seed of the predictive samples (default 0)")
    p.set_defaults(run=_run)
