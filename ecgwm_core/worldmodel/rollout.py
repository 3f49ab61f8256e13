"""Stochastic rollouts: K generated post-dose ECGs per (patient, action, time), decoded and measured.

A rollout starts from a :class:`Baseline` (the patient's pre-dose ECGs: the
mean latent state of all replicates, and the ODE prior fitted to one of them),
builds each action's ODE anchor, samples the latent change with the diffusion
model (DDIM, seeded), decodes median beats and measures them with the
project's delineator in the same call. Measurements of generated beats are
checked for plausibility; summaries use the median over plausible samples.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..actions import Action
from ..ode import DipoleParams
from .anchors import anchor_beats, fit_prior, log_rr_change, qt_change_ms
from .calibrate import calibrate_anchors
from .diffusion import sample
from .energy import energy_guidance
from .model import WorldModel
from .representation import measure_beats, render_beats, strip_beats

PLAUSIBLE = {"qtcf_ms": (250.0, 700.0), "hr_bpm": (30.0, 200.0), "pr_ms": (60.0, 400.0), "qrs_ms": (40.0, 250.0)}
"""Ranges (ms, bpm) outside which a generated beat's measurement is flagged implausible."""
MEASURED = ("qtcf_ms", "qt_ms", "hr_bpm", "rr_ms", "pr_ms", "qrs_ms", "jtpeak_ms", "tpeaktend_ms")


@dataclass(frozen=True)
class Baseline:
    """A patient's pre-dose state.

    Attributes
    ----------
    state : (D,) mean raw state [latent, log RR] over the pre-dose replicates.
    prior : the five-wave ODE prior fitted to one pre-dose ECG.
    prior_rr_s : that ECG's RR (s), at which anchors are rendered.
    qtcf_ms : mean QTcF of the replicates' reconstructions (decode ∘ encode), measured by the delineator;
        the reference of every ``dqtcf_ms``, so that the autoencoder's own bias cancels.
    beats : (r, 12, M) the replicates' median beats in mV.
    """

    state: torch.Tensor
    prior: DipoleParams
    prior_rr_s: float
    qtcf_ms: float
    beats: np.ndarray


def baseline_from_beats(model: WorldModel, beats: np.ndarray, rr_s: np.ndarray, centred: np.ndarray) -> Baseline:
    """:class:`Baseline` from represented pre-dose ECGs ((r, 12, M) beats, (r,) RR) and one centred beat."""
    s = model.state(beats, rr_s)
    recon, rr = model.decode_state(s)
    qtcf = np.array([m["qtcf_ms"] for m in measure_beats(recon, rr, model.config.representation)])
    prior = fit_prior([centred], model.config.data.anchor_fit_iterations)[0]
    qtcf_ms = float(np.nanmean(qtcf)) if np.isfinite(qtcf).any() else float("nan")  # NaN: none measurable
    return Baseline(s.mean(0), prior, float(rr_s[0]), qtcf_ms, np.asarray(beats))


def baseline_from_strips(model: WorldModel, signals: np.ndarray, fs: float) -> Baseline:
    """:class:`Baseline` from (r, 12, N) pre-dose 10-s strips in mV (recorded or twins) at ``fs`` Hz."""
    beats, rr, centred = strip_beats(np.asarray(signals, dtype=float), fs, model.config.representation, centred=[0])
    return baseline_from_beats(model, beats, rr, centred[0])


@dataclass
class Rollouts:
    """Generated post-dose ECGs and their measurements.

    Attributes
    ----------
    table : one row per sample: ``action`` (index), ``drug``, ``dose``, ``unit``, ``hours``, ``sample``,
        ``conc_pred_ng_ml``, :data:`MEASURED`, ``dqtcf_ms`` (vs the baseline), ``quality``, ``plausible``.
    beats : (n, 12, M) float32 generated median beats in mV (R at ``r_index``).
    fs_hz : their sampling rate.
    r_index : R-peak sample in each beat.
    baseline_qtcf_ms : the reference of ``dqtcf_ms``.
    """

    table: pd.DataFrame
    beats: np.ndarray
    fs_hz: float
    r_index: int
    baseline_qtcf_ms: float

    def summary(self) -> pd.DataFrame:
        """Per (drug, hours): median ΔQTcF and its 5-95 % band over plausible samples, and their count."""
        ok = self.table[self.table["plausible"]]
        g = ok.groupby(["drug", "hours"])["dqtcf_ms"]
        out = pd.DataFrame({"median": g.median(), "q05": g.quantile(0.05), "q95": g.quantile(0.95),
                            "n_plausible": g.size()}).reset_index()
        return out

    def save(self, path: str) -> None:
        """Write an ``.npz``: ``beats``, every table column as an array, ``fs_hz``, ``r_index``, ``baseline_qtcf_ms``."""
        cols = {f"table_{c}": self.table[c].to_numpy() for c in self.table.columns}
        np.savez_compressed(path, beats=self.beats, fs_hz=self.fs_hz, r_index=self.r_index,
                            baseline_qtcf_ms=self.baseline_qtcf_ms, **cols)


def anchor_changes(model: WorldModel, baseline: Baseline, actions: list[Action]) -> torch.Tensor:
    """(A, D) raw anchor changes of state: encode(shifted prior) − encode(prior), calibrated on the
    patient's state (:func:`.calibrate.calibrate_anchors`), and the actions' expected change of log RR."""
    rep = model.config.representation
    changes = [model.effects.changes(a) for a in actions]
    rr = np.full(len(actions), baseline.prior_rr_s)
    pre = render_beats([baseline.prior], rr[:1], rep)
    post = anchor_beats([baseline.prior] * len(actions), rr, changes, rep)
    change = model.state(post, rr) - model.state(pre, rr[:1])
    change[:, -1] = torch.as_tensor(log_rr_change(rr, changes), dtype=change.dtype, device=change.device)
    base = baseline.state.expand(len(actions), -1)
    return calibrate_anchors(model, base, change, np.array([qt_change_ms(c) for c in changes]))[0]


def rollout_condition(model: WorldModel, baseline: Baseline, actions: list[Action]
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """((A, C) conditioning, (A, D) raw anchor changes) of a patient's rollouts under ``actions``:
    the baseline state, the actions' features and the subject's calibrated ODE anchors."""
    anchor = anchor_changes(model, baseline, actions)
    return model.condition(baseline.state.expand(len(actions), -1), model.action_features(actions), anchor), anchor


def rollout(model: WorldModel, baseline: Baseline, actions: list[Action], samples: int = 64, seed: int = 0,
            steps: int | None = None, eta: float | None = None, guidance: float | None = None) -> Rollouts:
    """``samples`` generated post-dose ECGs for each action, decoded and measured.

    Parameters
    ----------
    model : a trained :class:`WorldModel` (its EMA denoiser is used).
    baseline : the patient's pre-dose state.
    actions : interventions, each with its hours since dose (0-48 h).
    samples : K rollouts per action.
    seed : seeds every random step; the same seed gives the same samples.
    steps, eta : DDIM steps and η (default: the model's config).
    guidance : energy-guidance scale s: each finished sample takes a proximal step toward its anchor
        (:func:`~ecgwm_core.worldmodel.energy.energy_guidance`; default: the config's λ0 · guidance; 0: none).

    Returns
    -------
    Rollouts
    """
    _check_request(actions, samples)
    cfg = model.config.diffusion
    device = model.state_mean.device
    cond, anchor = rollout_condition(model, baseline, actions)
    n = len(actions) * samples
    anchor_x0 = (anchor / model.change_std).repeat_interleave(samples, 0)
    schedule = model.schedule.to(device)
    gen = torch.Generator(device=device).manual_seed(seed)
    cond = cond.repeat_interleave(samples, 0)
    pull = torch.zeros_like(anchor_x0) if cfg.residual else anchor_x0  # the anchor in x0's coordinates
    with torch.no_grad():
        x0 = sample(lambda z, t: model.ema(z, t, cond), schedule, (n, model.dim), gen, "ddim",
                    steps or cfg.ddim_steps, cfg.eta if eta is None else eta, device)
    x0 = energy_guidance(x0, pull, cfg.sampling_guidance if guidance is None else guidance, schedule,
                         cfg.weight_schedule)
    change = x0 + anchor_x0 if cfg.residual else x0
    return measured_rollouts(model, baseline, actions, change * model.change_std)


def _check_request(actions: list[Action], samples: int) -> None:
    if samples < 1 or not actions:
        raise ValueError(f"need at least one action and samples >= 1; got {len(actions)} actions, {samples} samples")
    bad = [a.hours for a in actions if not 0 <= a.hours <= 48]
    if bad:
        raise ValueError(f"hours must be within 0-48 h; got {bad}")


def measured_rollouts(model: WorldModel, baseline: Baseline, actions: list[Action],
                      changes: torch.Tensor) -> Rollouts:
    """Decode and measure generated changes of state, whatever generated them.

    Parameters
    ----------
    model : supplies the decoder and the drug effects (predicted concentrations).
    baseline : the patient's pre-dose state; each generated state is ``baseline.state + change``.
    actions : A interventions.
    changes : (A·K, D) raw changes of state, grouped by action (K consecutive rows per action).

    Returns
    -------
    Rollouts
    """
    samples = len(changes) // max(len(actions), 1)
    _check_request(actions, samples)
    if changes.shape != (len(actions) * samples, model.dim):
        raise ValueError(f"changes must be (A·K, {model.dim}) with A = {len(actions)} actions; "
                         f"got {tuple(changes.shape)}")
    beats, rr = model.decode_state(baseline.state + changes)
    measured = pd.DataFrame(measure_beats(beats, rr, model.config.representation))
    index = np.repeat(np.arange(len(actions)), samples)
    table = pd.DataFrame({
        "action": index, "drug": [actions[i].drug for i in index], "dose": [actions[i].dose for i in index],
        "unit": [actions[i].unit for i in index], "hours": [actions[i].hours for i in index],
        "sample": np.tile(np.arange(samples), len(actions)),
        "conc_pred_ng_ml": [model.effects.concentration(actions[i]) for i in index]})
    for col in MEASURED:
        table[col] = measured[col].to_numpy()
    table["dqtcf_ms"] = table["qtcf_ms"] - baseline.qtcf_ms
    table["quality"] = measured["quality"].to_numpy()
    plausible = table["quality"] == "ok"
    for col, (low, high) in PLAUSIBLE.items():
        plausible &= table[col].between(low, high)
    table["plausible"] = plausible
    rep = model.config.representation
    return Rollouts(table, beats.astype(np.float32), rep.fs_hz, int(round(rep.before_s * rep.fs_hz)),
                    baseline.qtcf_ms)
