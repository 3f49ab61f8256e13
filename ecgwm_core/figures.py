"""Every book figure by name, so ``ecgwm figure NAME --out FILE.png`` can regenerate it.

Each entry builds its figure from the bundled real data (or the model) with
the same library calls the chapter makes.
"""
from __future__ import annotations

from collections.abc import Callable

from matplotlib.figure import Figure

from .data import ACTIVE_DRUGS, PLACEBO, load_clinical_table, load_mitdb, load_ptb
from .data.plots import plot_change_timecourse, plot_jtpeak_vs_tpeaktend
from .data.trial import change_from_baseline
from .plotting.ecgpaper import plot_12lead, plot_strip


def ptb_12lead() -> Figure:
    """Real PTB record s0010_re, first 10 s, on standard ECG paper."""
    rec = load_ptb()
    return plot_12lead(rec.signal, rec.fs, rec.leads, title="PTB s0010_re (real), 10 s")


def mitdb_100_strip() -> Figure:
    """Real MIT-BIH record 100, MLII, 0-10 s with its reference beat labels."""
    rec = load_mitdb().window(0.0, 10.0)
    return plot_strip(rec.lead("MLII"), rec.fs, "MLII", rec.beat_samples, rec.beat_symbols,
                      title="MIT-BIH record 100 (real), reference beat annotations")


def trial_delta_qtcf() -> Figure:
    """Mean ΔQTcF vs hours after dose per ECGRDVQ treatment, 95 % CIs."""
    effects = change_from_baseline(load_clinical_table().kept, "QTcF")
    return plot_change_timecourse(effects, "ΔQTcF (ms)")


def trial_delta_pr() -> Figure:
    """Mean ΔPR vs hours after dose, verapamil and placebo, 95 % CIs."""
    effects = change_from_baseline(load_clinical_table().kept, "PR")
    return plot_change_timecourse(effects, "ΔPR (ms)", drugs=[PLACEBO, "Verapamil HCL"])


def trial_jtpeak_vs_tpeaktend() -> Figure:
    """Mean ΔJ-Tpeak vs ΔTpeak-Tend per treatment over the post-dose time points."""
    kept = load_clinical_table().kept
    return plot_jtpeak_vs_tpeaktend(
        change_from_baseline(kept, "JTPEAK"), change_from_baseline(kept, "TPEAKTEND")
    )


def ode_limit_cycle() -> Figure:
    """The McSharry limit cycle (x, y, z) in 3-D, 60 bpm (model output)."""
    from .ode import simulate
    from .ode.plots import plot_limit_cycle

    return plot_limit_cycle(simulate(duration_s=4, heart_rate=60, hr_std=0, wander_mv=0))


def ode_wave_buildup() -> Figure:
    """One beat of the paper preset built up wave by wave (model output)."""
    from .ode.plots import plot_wave_buildup

    return plot_wave_buildup()


def ode_rr() -> Figure:
    """RR tachogram and spectrum of the RR process (model output)."""
    from .ode.plots import plot_rr

    return plot_rr()


def ode_hr_sweep() -> Figure:
    """Beats at 50-150 bpm aligned at R: QT shortening (model output)."""
    from .ode.plots import plot_hr_sweep

    return plot_hr_sweep()


def ode_12lead() -> Figure:
    """Simulated 12-lead ECG (dipole model, Dower projection) on ECG paper (model output)."""
    from .ode.plots import simulated_12lead

    signal, fs, leads = simulated_12lead()
    return plot_12lead(signal, fs, leads, title="simulated 12-lead ECG (dipole ODE prior, not real data)")


def ode_ptb_fit() -> Figure:
    """Dipole fit to the real PTB s0010_re X, Y, Z median beat with residuals."""
    from .ode import fit_dipole
    from .ode.plots import plot_fit
    from .signal import detect_rpeaks, median_beat, remove_baseline

    rec = load_ptb()
    beat, rr_s = median_beat(remove_baseline(rec.signal, rec.fs), rec.fs, detect_rpeaks(rec.lead("II"), rec.fs))
    return plot_fit(fit_dipole(beat[12:], "xyz"), rr_s, "PTB s0010_re (real) vs five-wave dipole fit")


def actions_pk() -> Figure:
    """Concentration-time curves per drug: real data and the fitted one-compartment model."""
    from .actions import fit_pk
    from .actions.plots import plot_pk

    kept = load_clinical_table().kept
    return plot_pk([fit_pk(kept, d) for d in ACTIVE_DRUGS], kept)


def actions_cqtc() -> Figure:
    """Placebo-corrected ΔΔQTcF vs concentration per drug (real data) with the mixed-model slope."""
    from .actions import concentration_slope
    from .actions.plots import plot_cqtc

    kept = load_clinical_table().kept
    return plot_cqtc(kept, [concentration_slope(kept, d) for d in ACTIVE_DRUGS])


def actions_ode_effect() -> Figure:
    """One lead-II beat of the normal dipole before and after each trial drug at its tmax (model output)."""
    from .actions import FORMULARY, Action, action_changes, calibrated_shift, fit_pk
    from .actions.plots import plot_action_effect
    from .ode import paper_dipole
    from .ode.measured import render_measured

    kept = load_clinical_table().kept
    before = paper_dipole(60.0)
    renderings = {"before": render_measured(before, 1.0)}
    for drug in ACTIVE_DRUGS:
        entry = next(d for d in FORMULARY.values() if d.trial_name == drug)
        action = Action(entry.name, entry.dose, entry.unit, fit_pk(kept, drug).summary()["tmax_fit_h"])
        renderings[drug] = render_measured(calibrated_shift(before, 1.0, action_changes(kept, action)), 1.0)
    return plot_action_effect(renderings)


FIGURES: dict[str, Callable[[], Figure]] = {
    "ptb-12lead": ptb_12lead,
    "mitdb-100": mitdb_100_strip,
    "trial-dqtcf": trial_delta_qtcf,
    "trial-dpr": trial_delta_pr,
    "trial-jtpeak-tpte": trial_jtpeak_vs_tpeaktend,
    "ode-limit-cycle": ode_limit_cycle,
    "ode-wave-buildup": ode_wave_buildup,
    "ode-rr": ode_rr,
    "ode-hr-sweep": ode_hr_sweep,
    "ode-12lead": ode_12lead,
    "ode-ptb-fit": ode_ptb_fit,
    "actions-pk": actions_pk,
    "actions-cqtc": actions_cqtc,
    "actions-ode-effect": actions_ode_effect,
}
"""Figure name -> function building it."""
