"""``ecgwm pkpd``: fit PK and concentration-QTc slopes on an SCR-002 table, or predict one dose."""
from __future__ import annotations

import argparse
import json
import sys


def _fit(args: argparse.Namespace) -> int:
    from ..actions import concentration_slope, fit_pk
    from ..data import MalformedTableError, active_drugs, load_clinical_table

    try:
        kept = load_clinical_table(args.table).kept
    except (MalformedTableError, FileNotFoundError) as err:
        print(f"ecgwm pkpd fit: {err}", file=sys.stderr)
        return 2
    rows = []
    for drug in active_drugs(kept["EXTRT"]):
        slope = concentration_slope(kept, drug)
        rows.append({
            **fit_pk(kept, drug).summary(),
            "slope_ms_per_ng_ml": slope.slope, "ci_low": slope.ci_low, "ci_high": slope.ci_high,
            "n_subjects": slope.n_subjects,
        })
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'drug':16s} {'ka 1/h':>7s} {'ke 1/h':>7s} {'V/F L':>8s} {'t1/2 h':>7s} {'Cmax fit/obs ng/mL':>22s} "
          f"{'tmax fit/obs h':>15s} {'dQTcF slope ms per ng/mL (95% CI)':>36s}")
    for r in rows:
        print(f"{r['drug']:16s} {r['ka_per_h']:7.2f} {r['ke_per_h']:7.3f} {r['v_over_f_l']:8.0f} {r['half_life_h']:7.1f} "
              f"{r['cmax_fit_ng_ml']:10.4g} / {r['cmax_observed_ng_ml']:<9.4g} {r['tmax_fit_h']:6.2f} / {r['tmax_observed_h']:<6.2f} "
              f"{r['slope_ms_per_ng_ml']:12.4g} ({r['ci_low']:.4g} to {r['ci_high']:.4g})")
    return 0


def _predict(args: argparse.Namespace) -> int:
    from ..actions import FORMULARY, Action, concentration_slope, fit_pk
    from ..data import load_clinical_table

    kept = load_clinical_table().kept
    try:
        amount, unit = args.dose
        action = Action(args.drug, float(amount), unit, args.hours)
        if action.drug == "placebo":
            raise ValueError("placebo has no concentration; choose an active drug")
    except ValueError as err:
        print(f"ecgwm pkpd predict: {err}", file=sys.stderr)
        return 2
    drug = FORMULARY[action.drug].trial_name
    conc = float(fit_pk(kept, drug).predict([action.hours], action.dose_mg)[0])
    slope = concentration_slope(kept, drug)
    result = {
        "drug": drug, "dose": f"{action.dose:g} {action.unit}", "hours": action.hours,
        "concentration_ng_ml": round(conc, 4),
        "ddqtcf_ms": round(slope.slope * conc, 2), "ci_low_ms": round(slope.ci_low * conc, 2),
        "ci_high_ms": round(slope.ci_high * conc, 2),
        "note": "typical subject; CI from the slope only (placebo-corrected, linear C-QTc model)",
    }
    print(json.dumps(result, indent=2))
    return 0


def add_pkpd_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``pkpd fit`` and ``pkpd predict`` on the ``ecgwm`` subcommand parser."""
    pkpd = sub.add_parser("pkpd", help="pharmacokinetics and concentration-QTc slopes from the drug trial")
    actions = pkpd.add_subparsers(dest="pkpd_command", required=True, metavar="ACTION")
    fit = actions.add_parser("fit", help="fit PK and C-QTc per drug on an SCR-002 clinical table")
    fit.add_argument("--table", help="SCR-002 CSV (default: the bundled ECGRDVQ table or $ECGWM_DATA)")
    fit.add_argument("--json", action="store_true", help="print JSON")
    fit.set_defaults(run=_fit)
    predict = actions.add_parser("predict", help="concentration and placebo-corrected ΔΔQTcF for one dose")
    predict.add_argument("--drug", required=True, help="e.g. dofetilide, quinidine, ranolazine, verapamil")
    predict.add_argument("--dose", nargs=2, required=True, metavar=("AMOUNT", "UNIT"), help="e.g. 500 ug")
    predict.add_argument("--hours", type=float, required=True, help="hours after the dose")
    predict.set_defaults(run=_predict)
