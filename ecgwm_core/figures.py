"""Every book figure by name, with its chapter and caption, so that it can be regenerated.

``ecgwm figure NAME --out FILE.png`` rebuilds one figure and ``ecgwm figure all
--out DIR`` every figure (PNG + PDF + a manifest), with the same library calls
the chapters make. To add a figure, write a function returning a matplotlib
``Figure`` and add an entry to :data:`FIGURES`:
``"my-id": FigureEntry(my_function, "book/05_x")``. The caption defaults to the
function's docstring (first paragraph) and must say whether the figure shows
real data, a model output, semi-synthetic data or a schematic. A function with
a ``quick`` keyword is called with ``quick=not paper`` (paper-scale figures).
"""
from __future__ import annotations

import csv
import inspect
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .data import ACTIVE_DRUGS, PLACEBO, load_clinical_table, load_mitdb, load_ptb
from .data.plots import plot_change_timecourse, plot_jtpeak_vs_tpeaktend
from .data.trial import change_from_baseline
from .plotting.ecgpaper import plot_12lead, plot_strip
from .plotting.overview import plot_method_overview


@dataclass(frozen=True)
class FigureEntry:
    """A registered book figure: the function that builds it, its chapter and its caption.

    Parameters
    ----------
    build : callable
        Returns a matplotlib ``Figure``; if it takes a ``quick`` keyword it is
        called with ``quick=not paper``.
    chapter : str
        The ``_toc.yml`` entry that shows the figure, e.g. ``"book/01_data"``.
    caption : str, optional
        One-sentence caption naming the provenance (real / model /
        semi-synthetic / schematic); default: the docstring's first paragraph.
    """

    build: Callable[..., Figure]
    chapter: str
    caption: str = ""

    def __post_init__(self) -> None:
        if not self.caption:
            doc = inspect.getdoc(self.build) or ""
            caption = " ".join(doc.split("\n\n")[0].split())
            if not caption:
                raise ValueError(f"{self.source}: give a caption or a docstring to caption the figure")
            object.__setattr__(self, "caption", caption)

    @property
    def source(self) -> str:
        """Dotted name of the function that builds the figure."""
        return f"{self.build.__module__}.{self.build.__qualname__}"

    @property
    def scales(self) -> bool:
        """Whether the figure has a paper-scale variant (its function takes ``quick``)."""
        return "quick" in inspect.signature(self.build).parameters

    def __call__(self, paper: bool = False) -> Figure:
        """Build the figure (paper scale when ``paper`` and the figure has one)."""
        return self.build(quick=not paper) if self.scales else self.build()


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
    """Mean ΔQTcF vs hours after dose per ECGRDVQ treatment, 95 % CIs (real data)."""
    effects = change_from_baseline(load_clinical_table().kept, "QTcF")
    return plot_change_timecourse(effects, "ΔQTcF (ms)")


def trial_delta_pr() -> Figure:
    """Mean ΔPR vs hours after dose, verapamil and placebo, 95 % CIs (real data)."""
    effects = change_from_baseline(load_clinical_table().kept, "PR")
    return plot_change_timecourse(effects, "ΔPR (ms)", drugs=[PLACEBO, "Verapamil HCL"])


def trial_jtpeak_vs_tpeaktend() -> Figure:
    """Mean ΔJ-Tpeak vs ΔTpeak-Tend per treatment over the post-dose time points (real data)."""
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


def _evaluation_split(quick: bool):
    from .worldmodel import default_split

    kept = load_clinical_table().kept
    return kept, *default_split(kept), ("quick" if quick else "paper")


def evaluation_bland_altman(quick: bool = True) -> Figure:
    """Bland-Altman of forecast vs observed ΔQTcF on held-out subjects: world model (model output from
    semi-synthetic twins) and population mean; targets are real."""
    from .evaluation import study
    from .evaluation.baselines import PopulationMean
    from .evaluation.simulation import WorldModelPredictor
    from .signal.plots import plot_bland_altman
    from .worldmodel import get_config

    kept, train, test, name = _evaluation_split(quick)
    rows, task, truth = study.heldout(kept, train, test)
    means = {label: p.fit(rows).sample(task, 32, 0).mean(1) for label, p in
             (("world model", WorldModelPredictor(get_config(name))), ("population mean", PopulationMean()))}
    return plot_bland_altman({n: truth for n in means}, means, unit="ms",
                             title="forecast − observed ΔQTcF, held-out subjects (model vs real)")


def evaluation_hallucinations(quick: bool = True) -> Figure:
    """Generated median beats (model output, lead II) without and with the ODE prior, plausible and flagged."""
    import numpy as np

    from .evaluation import study
    from .evaluation.plots import plot_hallucinations
    from .worldmodel import pretrained

    kept, _, test, name = _evaluation_split(quick)
    model = pretrained(name, progress=False)
    _, generated = study.waveforms(model, pretrained(name, progress=False, lambda0=0.0), kept, test)
    examples = {}
    for method, short in (("world model, λ0 = 0", "λ0 = 0"), ("world model", "λ0 = 1")):
        g = generated[method]
        for label, idx in (("a plausible beat", np.flatnonzero(g["reasons"] == "")),
                           ("a flagged beat", np.flatnonzero(g["reasons"] != ""))):
            if idx.size:
                examples[f"{short}, {label}"] = (g["beats"][idx[0]], str(g["reasons"][idx[0]]))
    rep = model.config.representation
    return plot_hallucinations(examples, rep.fs_hz, int(round(rep.before_s * rep.fs_hz)))


def evaluation_ablations(quick: bool = True) -> Figure:
    """World-model ablations on held-out subjects (model output scored against real ΔQTcF): λ0, energy
    weight schedule, prior effect scale and number of rollouts K."""
    from .evaluation import study
    from .evaluation.baselines import PopulationMean
    from .evaluation.plots import plot_ablations
    from .evaluation.protocols import score
    from .evaluation.simulation import WorldModelPredictor
    from .worldmodel import get_config

    kept, train, test, name = _evaluation_split(quick)

    def table(variants):
        return study.ablation(kept, train, test, variants, 32, 0).rename(columns={"variant": "value"})

    lambdas = table({v: WorldModelPredictor(get_config(name, lambda0=v)) for v in (0.0, 0.5, 1.0)})
    schedules = table({s: WorldModelPredictor(get_config(name, weight_schedule=s))
                       for s in ("alpha_bar", "constant", "high_noise")})
    mismatch = table({f: WorldModelPredictor(get_config(name), effect_scale=f) for f in (0.5, 1.0, 2.0)})
    ks = study.k_ablation(kept, train, test, WorldModelPredictor(get_config(name)))
    rows, task, truth = study.heldout(kept, train, test)
    reference = score(PopulationMean().fit(rows).sample(task, 32, 0), truth)["mae_ms"]
    return plot_ablations(lambdas, schedules, mismatch, ks, reference)


def _heldout_risk(quick: bool):
    """The 4 held-out subjects' candidate scores from the world model (the risk chapters' first table)."""
    from .risk import WorldModelSimulator, candidate_scores
    from .worldmodel import pretrained

    kept, _, heldout, name = _evaluation_split(quick)
    simulator = WorldModelSimulator(pretrained(name, progress=False), kept)
    return candidate_scores(simulator, kept, heldout), heldout


def risk_mean_variance(quick: bool = True) -> Figure:
    """Mean-variance map (expected risk vs spread over 64 rollouts) of the trial's five arms at 2.5 h for the
    held-out subjects (model output: world model rollouts of semi-synthetic twins)."""
    from .risk.plots import plot_mean_variance_map

    scores, heldout = _heldout_risk(quick)
    return plot_mean_variance_map(scores, list(heldout))


def risk_kappa(quick: bool = True) -> Figure:
    """Rank of each candidate against the risk aversion κ for the held-out subjects (model output)."""
    from .risk.plots import plot_kappa_sensitivity

    scores, heldout = _heldout_risk(quick)
    return plot_kappa_sensitivity(scores, list(heldout))


def risk_cvar(quick: bool = True) -> Figure:
    """CVaR (α = 0.9) against the mean-variance score (κ = 1) of every held-out subject and candidate (model
    output)."""
    from .risk.plots import plot_cvar_vs_mean_variance

    return plot_cvar_vs_mean_variance(_heldout_risk(quick)[0])


def risk_reliability(quick: bool = True) -> Figure:
    """Reliability of P(ΔQTcF > 30 ms) on the held-out subjects: world model with K sampled rollouts and with one,
    population exposure-response model (model output against real data)."""
    import warnings

    from .risk import ExposureResponseSimulator, WorldModelSimulator
    from .risk.plots import plot_reliability
    from .risk.study import calibration_predictions
    from .worldmodel import pretrained

    kept, train, heldout, name = _evaluation_split(quick)
    simulator = WorldModelSimulator(pretrained(name, progress=False), kept)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        population = ExposureResponseSimulator(kept[kept["RANDID"].isin(train)])
    return plot_reliability(calibration_predictions(
        simulator, population, kept, heldout, samples=16 if quick else 64,
        hours=(1.0, 2.0, 2.5, 3.0, 4.0, 6.0) if quick else None))


def _worldmodel_heldout(quick: bool):
    """The quick (or paper) world model, the real table and its held-out subjects (fold 0)."""
    from .worldmodel import pretrained

    kept, _, heldout, name = _evaluation_split(quick)
    return pretrained(name, progress=False), kept, heldout


def worldmodel_reconstructions(quick: bool = True) -> Figure:
    """Held-out twin beats (semi-synthetic, black) and their autoencoder reconstructions (model output, red) at
    the median and 95th percentile of the reconstruction error."""
    from .worldmodel.cohort import twin_cohort
    from .worldmodel.plots import plot_reconstruction_examples
    from .worldmodel.representation import r_index

    model, kept, heldout = _worldmodel_heldout(quick)
    rep = model.config.representation
    twins = twin_cohort(kept[kept["RANDID"].isin(heldout)], rep, progress=False)
    recon, _ = model.decode_state(model.state(twins.beats, twins.rr_s))
    return plot_reconstruction_examples(twins.beats, recon, rep.fs_hz, r_index(rep))


def worldmodel_ptb_reconstruction(quick: bool = True) -> Figure:
    """Real PTB s0010_re median beat (black) and its autoencoder reconstruction (model output, red)."""
    import numpy as np

    from .worldmodel.plots import LEAD_NAMES, plot_reconstructions
    from .worldmodel.representation import r_index, strip_beats

    model, _, _ = _worldmodel_heldout(quick)
    rep, ptb = model.config.representation, load_ptb()
    strip = np.stack([ptb.lead(name) for name in LEAD_NAMES])[None, :, : int(10 * ptb.fs)]
    beat, rr, _ = strip_beats(strip, ptb.fs, rep)
    recon, _ = model.decode_state(model.state(beat, rr))
    return plot_reconstructions(beat, recon, rep.fs_hz, r_index(rep))


def worldmodel_schedule() -> Figure:
    """Cosine noise schedule of the quick world model and the energy weights w(t) (schematic: no data)."""
    from .worldmodel import cosine_schedule, get_config
    from .worldmodel.plots import plot_schedule_and_weights

    return plot_schedule_and_weights(cosine_schedule(get_config("quick").diffusion.timesteps))


def worldmodel_training_curves(quick: bool = True) -> Figure:
    """Training curves of the diffusion model with (λ0 = 1) and without (λ0 = 0) the ODE prior (model output,
    semi-synthetic training data)."""
    from .worldmodel import pretrained
    from .worldmodel.plots import plot_training_curves

    name = "quick" if quick else "paper"
    return plot_training_curves({"λ0 = 1 (ODE prior, w = ᾱ)": pretrained(name, progress=False),
                                 "λ0 = 0 (no prior)": pretrained(name, progress=False, lambda0=0.0)})


def _first_heldout_subject(quick: bool):
    from .worldmodel.validate import period_baselines

    model, kept, heldout = _worldmodel_heldout(quick)
    rows = kept[kept["RANDID"] == int(heldout[0])]
    return model, rows, period_baselines(model, rows)


def worldmodel_generated_beats(quick: bool = True) -> Figure:
    """Eight generated V5 median beats per drug 2.5 h after the dose (model output, red) vs the held-out
    subject's observed twin (semi-synthetic, black)."""
    from .worldmodel.cohort import twin_cohort
    from .worldmodel.plots import plot_generated_vs_observed

    model, rows, baselines = _first_heldout_subject(quick)
    twins = twin_cohort(rows, model.config.representation, progress=False)
    return plot_generated_vs_observed(model, baselines, twins, hours=2.5)


def worldmodel_trajectories(quick: bool = True) -> Figure:
    """24-h ΔQTcF per drug of a held-out subject: rollout median and 5-95 % band (model output) vs the observed
    changes (real table)."""
    from .worldmodel.plots import plot_dqtcf_trajectories, subject_trajectories

    model, rows, baselines = _first_heldout_subject(quick)
    return plot_dqtcf_trajectories(*subject_trajectories(model, rows, baselines))


FIGURES: dict[str, FigureEntry] = {
    "ptb-12lead": FigureEntry(ptb_12lead, "book/01_data"),
    "mitdb-100": FigureEntry(mitdb_100_strip, "book/01_data"),
    "trial-dqtcf": FigureEntry(trial_delta_qtcf, "book/01_data"),
    "trial-dpr": FigureEntry(trial_delta_pr, "book/01_data"),
    "trial-jtpeak-tpte": FigureEntry(trial_jtpeak_vs_tpeaktend, "book/01_data"),
    "ode-limit-cycle": FigureEntry(ode_limit_cycle, "book/02_ode_prior"),
    "ode-wave-buildup": FigureEntry(ode_wave_buildup, "book/02_ode_prior"),
    "ode-rr": FigureEntry(ode_rr, "book/02_ode_prior"),
    "ode-hr-sweep": FigureEntry(ode_hr_sweep, "book/02_ode_prior"),
    "ode-12lead": FigureEntry(ode_12lead, "book/02_ode_prior"),
    "ode-ptb-fit": FigureEntry(ode_ptb_fit, "book/02_ode_prior"),
    "actions-pk": FigureEntry(actions_pk, "book/04_actions"),
    "actions-cqtc": FigureEntry(actions_cqtc, "book/04_actions"),
    "actions-ode-effect": FigureEntry(actions_ode_effect, "book/04_actions"),
    "method-overview": FigureEntry(plot_method_overview, "book/00_framework"),
    "eval-bland-altman": FigureEntry(evaluation_bland_altman, "book/08_evaluation"),
    "eval-hallucinations": FigureEntry(evaluation_hallucinations, "book/08_evaluation"),
    "eval-ablations": FigureEntry(evaluation_ablations, "book/08_evaluation"),
    "risk-mean-variance": FigureEntry(risk_mean_variance, "book/09_risk"),
    "risk-kappa": FigureEntry(risk_kappa, "book/09_risk"),
    "risk-cvar": FigureEntry(risk_cvar, "book/09_risk"),
    "risk-reliability": FigureEntry(risk_reliability, "book/09_risk"),
    "wm-reconstructions": FigureEntry(worldmodel_reconstructions, "book/05_latent_space"),
    "wm-ptb-reconstruction": FigureEntry(worldmodel_ptb_reconstruction, "book/05_latent_space"),
    "wm-schedule": FigureEntry(worldmodel_schedule, "book/06_latent_diffusion"),
    "wm-training-curves": FigureEntry(worldmodel_training_curves, "book/06_latent_diffusion"),
    "wm-generated-beats": FigureEntry(worldmodel_generated_beats, "book/07_simulating_interventions"),
    "wm-dqtcf-trajectories": FigureEntry(worldmodel_trajectories, "book/07_simulating_interventions"),
}
"""Figure id -> registered figure (function, chapter, caption)."""

MANIFEST_FIELDS = ("id", "chapter", "caption", "source", "png", "pdf")
"""Columns of the manifest written by :func:`export_figures`."""


def export_figures(out_dir: str | Path, paper: bool = False, names: Iterable[str] | None = None,
                   dpi: int = 150) -> tuple[list[dict[str, str]], dict[str, str]]:
    """Build figures and write each as ``ID.png`` and ``ID.pdf`` plus ``manifest.json``/``.csv``.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write into (created if missing).
    paper : bool
        Build paper-scale variants where a figure has one.
    names : iterable of str, optional
        Figure ids to build (default: all of :data:`FIGURES`, in order).
    dpi : int
        Resolution of the PNG files.

    Returns
    -------
    rows : list of dict
        One manifest row per written figure (:data:`MANIFEST_FIELDS`; file names
        relative to ``out_dir``).
    failures : dict
        Figure id -> error message for figures that could not be built; the
        others are still written.

    Raises
    ------
    KeyError
        If a name is not a registered figure.
    """
    names = list(FIGURES) if names is None else list(names)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise KeyError(f"unknown figure(s) {unknown}; known: {', '.join(FIGURES)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows, failures = [], {}
    for name in names:
        entry = FIGURES[name]
        try:
            fig = entry(paper=paper)
        except Exception as error:  # noqa: BLE001 -- one broken figure must not hide the others
            failures[name] = f"{type(error).__name__}: {error}"
            continue
        for ext in ("png", "pdf"):
            fig.savefig(out / f"{name}.{ext}", dpi=dpi)
        plt.close(fig)
        rows.append({"id": name, "chapter": entry.chapter, "caption": entry.caption,
                     "source": entry.source, "png": f"{name}.png", "pdf": f"{name}.pdf"})
    (out / "manifest.json").write_text(json.dumps({"paper": paper, "figures": rows}, indent=1,
                                                  ensure_ascii=False) + "\n")
    with open(out / "manifest.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return rows, failures
