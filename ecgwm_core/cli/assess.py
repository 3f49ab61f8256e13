"""``ecgwm assess``: rank candidate drugs for one trial subject by simulated, uncertainty-aware clinical risk.

``--simulator world-model`` (default) rolls out the world model
(``worldmodel.pretrained("quick")``, trained once on first use and cached);
``--simulator exposure-response`` is the population exposure-response model
(no ECG generated) kept for comparison.
"""
from __future__ import annotations

import argparse
import json
import sys

SIMULATORS = {"world-model": "world model (quick config, diffusion rollouts of generated ECGs)",
              "exposure-response": "exposure-response (population model, no ECG generated)"}
"""``--simulator`` choices and how the JSON output names them."""


def _fail(message: str) -> int:
    print(f"ecgwm assess: error: {message}", file=sys.stderr)
    return 2


def _run(args: argparse.Namespace) -> int:
    import warnings

    from ..data import MalformedTableError, load_clinical_table
    from ..risk.loop import UnknownSubjectError, assess, parse_candidates, patient_from_table
    from ..risk.proposer import ProposalError
    from ..risk.simulators import ExposureResponseSimulator, WorldModelSimulator

    if args.samples < 1 or args.kappa < 0 or not 0 <= args.hours <= 48:
        return _fail(f"need --samples >= 1, --kappa >= 0 and --hours in 0-48; got {args.samples}, {args.kappa}, "
                     f"{args.hours}")
    try:
        subject = int(args.subject)
    except ValueError:
        return _fail(f"subject id must be an integer RANDID; got {args.subject!r}")
    try:
        kept = load_clinical_table(args.table).kept
        patient = patient_from_table(kept, subject)
        candidates = parse_candidates(args.candidates) if args.candidates else None
    except (MalformedTableError, FileNotFoundError, UnknownSubjectError, ProposalError) as err:
        return _fail(str(err))
    with warnings.catch_warnings():  # statsmodels' convergence chatter; the fits report convergence themselves
        warnings.simplefilter("ignore")
        if args.simulator == "world-model":
            from ..worldmodel import pretrained

            simulator = WorldModelSimulator(pretrained("quick", progress=False), kept)
        else:
            simulator = ExposureResponseSimulator(kept)
    result = assess(patient, simulator, candidates=candidates, hours=args.hours, samples=args.samples,
                    kappa=args.kappa, seed=args.seed)
    table = result.table()
    if args.json:
        print(json.dumps({"subject": subject, "hours": args.hours, "samples": args.samples, "kappa": args.kappa,
                          "simulator": SIMULATORS[args.simulator], "summary": result.summary(),
                          "candidates": table.round(4).to_dict(orient="records")}, indent=2))
        return 0
    print(f"{'rank':>4s} {'drug':11s} {'dose':>8s} {'E[risk]':>8s} {'Std[risk]':>9s} {'score':>7s} "
          f"{'P(dQTcF>30ms) 95% CI':>21s} {'P(QTcF>500ms) 95% CI':>21s}")
    for i, r in table.iterrows():
        p30 = f"{r.p_dqtcf_gt_30:.2f} ({r.p_dqtcf_gt_30_low:.2f}-{r.p_dqtcf_gt_30_high:.2f})"
        p500 = f"{r.p_qtcf_gt_500:.2f} ({r.p_qtcf_gt_500_low:.2f}-{r.p_qtcf_gt_500_high:.2f})"
        print(f"{i + 1:4d} {r.drug:11s} {r.dose:>8s} {r.expected:8.2f} {r.spread:9.2f} {r.score:7.2f} "
              f"{p30:>21s} {p500:>21s}")
    print()
    print(result.summary())
    return 0


def add_assess_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``assess`` on the ``ecgwm`` subcommand parser."""
    parser = sub.add_parser(
        "assess", help="rank candidate drugs for a trial subject by simulated clinical risk (decision support)",
        description="Simulate K outcomes per candidate drug, score their clinical risk (ICH E14 QTcF and ΔQTcF "
                    "thresholds, PR, QRS, bradycardia) and rank by mean + kappa x spread. Decision support only: "
                    "requires validation by a clinical expert.",
    )
    parser.add_argument("--table", help="SCR-002 CSV (default: the bundled ECGRDVQ table or $ECGWM_DATA)")
    parser.add_argument("--subject", required=True, help="the subject's RANDID, e.g. 1001")
    parser.add_argument("--candidates", help="comma-separated drugs, optionally drug:DOSEunit "
                                             "(e.g. dofetilide,quinidine:200mg,placebo); default: the offline "
                                             "formulary proposer")
    parser.add_argument("--samples", type=int, default=64, help="simulations per candidate (default 64)")
    parser.add_argument("--kappa", type=float, default=1.0, help="weight of the spread in the score (default 1)")
    parser.add_argument("--hours", type=float, default=2.5, help="hours after the dose (default 2.5)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulations (default 0)")
    parser.add_argument("--simulator", choices=tuple(SIMULATORS), default="world-model",
                        help="what rolls out the candidates: the world model (default; trains and caches the quick "
                             "model on first use, a few minutes) or the population exposure-response model")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=_run)
