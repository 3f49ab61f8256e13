"""``ecgwm pkpd``: fit PK and concentration-QTc slopes on an SCR-002 table, or predict one dose.

Bad input raises; :func:`ecgwm_core.cli.main` turns it into one line. ``fit``
reports each drug it cannot fit and fails only when none could be fitted;
``predict`` refuses doses above the trial's and times after its last sample
unless ``--extrapolate`` is given (then it warns).
"""
from __future__ import annotations

import argparse
import json
import warnings


def _fit_drug(kept, drug: str) -> dict:
    """PK and C-QTc slope of one drug as one row of the report; ``ValueError`` says why it cannot be fitted."""
    import numpy as np

    from ..actions import concentration_slope, fit_pk

    try:
        pk = fit_pk(kept, drug).summary()  # first: its error names a drug without usable concentrations
        slope = concentration_slope(kept, drug)
    except np.linalg.LinAlgError as err:
        raise ValueError(f"{drug}: the concentration-QTc model is singular ({err})") from err
    return {**pk, "slope_ms_per_ng_ml": slope.slope, "ci_low": slope.ci_low, "ci_high": slope.ci_high,
            "n_subjects": slope.n_subjects}


def _fit(args: argparse.Namespace) -> int:
    from ..data import active_drugs, load_clinical_table

    kept = load_clinical_table(args.table).kept
    rows, failures = [], []
    for drug in active_drugs(kept["EXTRT"]):
        try:
            rows.append(_fit_drug(kept, drug))
        except ValueError as err:
            failures.append(f"{drug}: {err}" if not str(err).startswith(drug) else str(err))
    for failure in failures:
        warnings.warn(f"cannot fit {failure}", stacklevel=1)  # cli.main prints "ecgwm pkpd fit: warning: ..."
    if not rows:
        raise ValueError(f"no drug could be fitted ({len(failures)} tried); see the reasons above and check the "
                         "table with `ecgwm data validate`")
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


def _outside_fitted_range(action, fit) -> str | None:
    """Why ``action`` lies outside what the PK fit saw (a dose above the trial's, hours past the last sample)."""
    last_h = float(fit.observed["hours"].max())
    if action.dose_mg > fit.dose_mg * (1 + 1e-9):
        return (f"{action.dose:g} {action.unit} is {action.dose_mg / fit.dose_mg:.4g}x the trial's only dose "
                f"({fit.dose_mg:g} mg); above it, dose-proportional PK and a linear C-QTc slope are assumptions")
    if action.hours > last_h:
        return f"{action.hours:g} h is after the last sampled time ({last_h:g} h)"
    return None


def _predict(args: argparse.Namespace) -> int:
    from ..actions import FORMULARY, Action, concentration_slope, fit_pk
    from ..data import load_clinical_table

    amount, unit = args.dose
    try:
        value = float(amount)
    except ValueError:
        raise ValueError(f"--dose amount must be a number, e.g. --dose 500 ug; got {amount!r}") from None
    action = Action(args.drug, value, unit, args.hours)
    if action.drug == "placebo":
        raise ValueError("placebo has no concentration; choose an active drug")
    kept = load_clinical_table().kept
    drug = FORMULARY[action.drug].trial_name
    pk = fit_pk(kept, drug)
    outside = _outside_fitted_range(action, pk)
    if outside and not args.extrapolate:
        raise ValueError(f"{outside}; pass --extrapolate to predict anyway")
    if outside:
        warnings.warn(f"extrapolating: {outside}", stacklevel=1)
    conc = float(pk.predict([action.hours], action.dose_mg)[0])
    slope = concentration_slope(kept, drug)
    result = {
        "drug": drug, "dose": f"{action.dose:g} {action.unit}", "hours": action.hours,
        "concentration_ng_ml": round(conc, 4),
        "ddqtcf_ms": round(slope.slope * conc, 2), "ci_low_ms": round(slope.ci_low * conc, 2),
        "ci_high_ms": round(slope.ci_high * conc, 2),
        "note": "typical subject; CI from the slope only (placebo-corrected, linear C-QTc model)"
                + ("; EXTRAPOLATED beyond the trial" if outside else ""),
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
    predict.add_argument("--hours", type=float, required=True, help="hours after the dose (0-24 sampled)")
    predict.add_argument("--extrapolate", action="store_true",
                         help="allow a dose above the trial's or a time after its last sample (with a warning)")
    predict.set_defaults(run=_predict)
