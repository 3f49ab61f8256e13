"""``ecgwm rollout``: generate post-dose ECGs of one trial subject under one action, measured, saved as npz."""
from __future__ import annotations

import argparse
import sys


def _fail(message: str) -> int:
    print(f"ecgwm rollout: error: {message}", file=sys.stderr)
    return 2


def _rollout(args: argparse.Namespace) -> int:
    from ..actions import Action
    from ..data import MalformedTableError, load_clinical_table
    from ..data.trial import BASELINE_HOURS
    from ..worldmodel import CheckpointError, WorldModel, rollout
    from ..worldmodel.validate import period_baselines
    from .output import atomic_output, checked_output, image_extensions

    out = checked_output(args.out, (".npz",))
    plot = checked_output(args.plot, image_extensions(), "--plot") if args.plot else None
    try:
        amount, unit = args.dose
        action = Action(args.drug, float(amount), unit, args.hours)
    except ValueError as err:
        return _fail(str(err))
    if not 0 <= args.hours <= 48:
        return _fail(f"--hours must be within 0-48 h; got {args.hours}")
    if args.samples < 1:
        return _fail(f"--samples must be >= 1; got {args.samples}")
    if args.guidance is not None and not args.guidance >= 0:
        return _fail(f"--guidance must be >= 0; got {args.guidance}")
    try:
        model = WorldModel.load(args.checkpoint)
        kept = load_clinical_table(args.table).kept
    except (CheckpointError, MalformedTableError, FileNotFoundError) as err:
        return _fail(str(err))
    rows = kept[(kept["RANDID"] == args.subject) & (kept["TPT"] == BASELINE_HOURS)]
    if rows.empty:
        return _fail(f"subject {args.subject} has no pre-dose ECG in the table; "
                     f"subjects: {', '.join(map(str, sorted(kept['RANDID'].unique())))}")
    first_period = rows[rows["EXTRT"] == rows["EXTRT"].iloc[0]]
    baseline = next(iter(period_baselines(model, first_period).values()))
    result = rollout(model, baseline, [action], args.samples, args.seed, guidance=args.guidance)
    with atomic_output(out) as temporary:
        result.save(temporary)
    s = result.summary()
    seen = " (a training subject)" if args.subject in model.meta.get("subjects", []) else " (not seen in training)"
    if s.empty:
        print(f"subject {args.subject}{seen}: no plausible sample of {args.samples}; wrote {args.out}")
    else:
        r = s.iloc[0]
        print(f"subject {args.subject}{seen}, {action.drug} {amount} {unit} at {args.hours:g} h: dQTcF median "
              f"{r['median']:.1f} ms (90 % band {r['q05']:.1f} to {r['q95']:.1f}), {int(r['n_plausible'])}/"
              f"{args.samples} plausible (MODEL output); wrote {args.out}")
    if plot is not None:
        from ..worldmodel.plots import plot_rollout_beats

        with atomic_output(plot) as temporary:
            plot_rollout_beats(result, baseline).savefig(temporary, dpi=150)
    return 0


def add_rollout_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``ecgwm rollout``."""
    p = sub.add_parser("rollout", help="generate and measure post-dose ECGs of a trial subject (world model)")
    p.add_argument("--checkpoint", required=True, help="folder written by `ecgwm train`")
    p.add_argument("--subject", type=int, required=True, help="RANDID of a subject in the table")
    p.add_argument("--table", help="SCR-002 CSV (default: the bundled table or $ECGWM_DATA)")
    p.add_argument("--drug", required=True, help="formulary drug, e.g. dofetilide")
    p.add_argument("--dose", nargs=2, metavar=("AMOUNT", "UNIT"), required=True, help="e.g. 500 ug")
    p.add_argument("--hours", type=float, required=True, help="hours since the dose (0-48)")
    p.add_argument("--samples", type=int, default=64, help="rollouts K (default 64)")
    p.add_argument("--seed", type=int, default=0, help="seed of the rollouts")
    p.add_argument("--guidance", type=float, help="energy guidance s toward the ODE anchor at sampling "
                                                  "(default: the checkpoint's lambda0 x guidance; 0: none)")
    p.add_argument("--out", required=True, help="output .npz")
    p.add_argument("--plot", help="optional figure of the generated beats (.png)")
    p.set_defaults(run=_rollout)
