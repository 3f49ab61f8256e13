"""The evaluation study of chapter 08, "How good is the simulation?": methods, ablations, waveforms, signals.

Everything here is built from the pieces of :mod:`.protocols`, :mod:`.baselines`
and :mod:`.simulation`; rollouts are cached (see :mod:`.simulation`), so a second
run only loads. Quick mode evaluates fold 0 of the 4 leave-subjects-out folds
(the world model's default split: 12 training, 4 held-out subjects) with the
``quick`` configuration; paper scale (``quick=False``) runs all folds with the
``paper`` configuration.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict

import numpy as np
import pandas as pd

from ..data.trial import BASELINE_HOURS
from ..worldmodel import WorldModel, get_config, pretrained, rollout
from ..worldmodel.anchors import trial_action
from ..worldmodel.cohort import cache_root, twin_cohort
from ..worldmodel.plots import LEAD_NAMES
from ..worldmodel.representation import measure_beats, r_index
from ..worldmodel.rollout import anchor_changes
from ..worldmodel.train import data_digest
from .baselines import CopyForward, LinearCQTc, OffsetPopulation, PopulationMean, PreDoseFeatures, ShiftedPopulation
from .cvae import CVAEPredictor
from .metrics import feature_matrix, frechet_distance, mmd_rbf, waveform_errors
from .plausibility import check_beat
from .predictability import response_signal
from .protocols import KEY, Predictor, leave_subjects_out, observed_dqtcf, prediction_task, score, summarise_folds
from .simulation import ODEPriorOnly, WorldModelPredictor, fingerprint, plausible_samples, task_baselines

OBSERVED_UNTIL_H = 1.5
"""Hours of on-drug ECGs seen in the observed-until protocol."""
WAVEFORM_FEATURES = ("rr_ms", "pr_ms", "qrs_ms", "qt_ms", "jtpeak_ms", "tpeaktend_ms", "t_amplitude_uv")
"""Feature space of the distribution metrics (measured, not the model's latent)."""


BOOK_VARIANTS = ({}, {"lambda0": 0.0}, {"lambda0": 0.5}, {"weight_schedule": "constant"},
                 {"weight_schedule": "high_noise"})
"""Diffusion-config changes of every world model the book trains: the default (λ0 = 1, w = ᾱ),
no prior, half the prior, and the two other weight schedules of the ablations."""


def config_name(quick: bool) -> str:
    """``"quick"`` or ``"paper"``."""
    return "quick" if quick else "paper"


def train_book_models(quick: bool = True, progress: bool = True) -> list[WorldModel]:
    """Train every world model the chapters use (:data:`BOOK_VARIANTS`), once: later calls load them.

    ``make models`` runs this before the chapters execute, so that no chapter pays for
    training inside a cell (quick mode: about 2-4 CPU-minutes per model on first use,
    autoencoder and anchors shared).
    """
    return [pretrained(config_name(quick), progress=progress, **changes) for changes in BOOK_VARIANTS]


def methods(quick: bool = True, observed: bool = False) -> dict[str, Callable[[], Predictor]]:
    """Name -> factory of every compared method (the observed-until protocol adds the shifted population)."""
    name = config_name(quick)
    out: dict[str, Callable[[], Predictor]] = {
        "copy-forward": CopyForward, "population mean": PopulationMean, "linear C-QTc": LinearCQTc,
        "population + baseline offset": OffsetPopulation}
    if observed:
        out["shifted population"] = ShiftedPopulation
    out["ODE prior only"] = lambda: ODEPriorOnly(get_config(name))
    out["conditional VAE"] = lambda: CVAEPredictor(get_config(name))
    out["world model, λ0 = 0"] = lambda: WorldModelPredictor(get_config(name, lambda0=0.0))
    out["world model"] = lambda: WorldModelPredictor(get_config(name))
    out["world model, no subject spread"] = lambda: WorldModelPredictor(get_config(name), between_subject=False)
    return out


def results(kept: pd.DataFrame, quick: bool = True, n_samples: int = 32, seed: int = 0,
            all_folds: bool | None = None) -> pd.DataFrame:
    """ΔQTcF scores of every method, both protocols: one row per protocol × method × fold.

    ``all_folds``: run the 4 folds (default: only at paper scale; quick mode runs fold 0).
    """
    n_folds = None if (not quick if all_folds is None else all_folds) else 1
    parts = []
    for until in (None, OBSERVED_UNTIL_H):
        scores = leave_subjects_out(kept, methods(quick, until is not None), n_folds=n_folds,
                                    n_samples=n_samples, seed=seed, observed_until=until)
        parts.append(scores.assign(protocol="pre-dose" if until is None else f"observed until {until:g} h"))
    return pd.concat(parts, ignore_index=True)


def heldout(kept: pd.DataFrame, train: np.ndarray, test: np.ndarray, observed_until: float | None = None
            ) -> tuple[pd.DataFrame, object, np.ndarray]:
    """(training rows, task of the held-out subjects, observed ΔQTcF of its queries)."""
    task = prediction_task(kept[kept["RANDID"].isin(test)], observed_until=observed_until)
    truth = task.queries[KEY].merge(observed_dqtcf(kept), on=KEY, how="left")["dqtcf"].to_numpy(float)
    return kept[kept["RANDID"].isin(train)], task, truth


def ablation(kept: pd.DataFrame, train: np.ndarray, test: np.ndarray,
             variants: dict[str, WorldModelPredictor], n_samples: int = 32, seed: int = 0) -> pd.DataFrame:
    """Pre-dose scores of world-model variants on one split, plus the mean spread (sd, ms) of the
    plausible rollouts themselves (before the between-subject term) and the share of implausible rollouts."""
    rows_train, task, truth = heldout(kept, train, test)
    rows = []
    for name, predictor in variants.items():
        d = predictor.fit(rows_train).draws(task, n_samples, seed)
        samples = predictor.forecast(task, d, seed)
        spread = np.nanstd(plausible_samples(d.dqtcf, d.plausible, seed), axis=1)
        rows.append({"variant": name, **score(samples, truth), "spread_ms": float(np.nanmean(spread)),
                     "implausible": float(1 - d.plausible.mean())})
    return pd.DataFrame(rows)


def response_signals(kept: pd.DataFrame, train: np.ndarray, test: np.ndarray, quick: bool = True,
                     n_samples: int = 32, seed: int = 0, ridges: tuple[float, ...] = (10.0,)) -> pd.DataFrame:
    """What each pre-dose-conditioned method knows about a held-out subject beyond population + baseline offset.

    Pre-dose protocol on one split: the point forecasts of the world model (mean of K rollouts plus the
    offset shift), the ODE prior alone and :class:`~.baselines.PreDoseFeatures` at each ridge penalty,
    each compared with :class:`~.baselines.OffsetPopulation` by
    :func:`~ecgwm_core.evaluation.predictability.response_signal`.

    Returns
    -------
    pandas.DataFrame
        One row per method: ``method`` and the fields of
        :class:`~ecgwm_core.evaluation.predictability.ResponseSignal`, all on the same points (those
        where some method has no forecast, e.g. no plausible rollout, are left out for every method).
    """
    rows_train, task, truth = heldout(kept, train, test)
    reference = OffsetPopulation().fit(rows_train).point(task)
    config = get_config(config_name(quick))
    candidates = {"world model": WorldModelPredictor(config).fit(rows_train).point(task, n_samples, seed),
                  "ODE prior only": ODEPriorOnly(config).fit(rows_train).point(task, n_samples, seed),
                  **{f"pre-dose ECG features, ridge {r:g}": PreDoseFeatures(ridge=r).fit(rows_train).point(task)
                     for r in ridges}}
    ok = np.logical_and.reduce([np.isfinite(f) for f in candidates.values()])  # one set of points for all
    keys = task.queries.loc[ok, KEY].reset_index(drop=True)
    return pd.DataFrame([{"method": method, **asdict(response_signal(truth[ok], reference[ok], forecast[ok], keys))}
                         for method, forecast in candidates.items()])


def k_ablation(kept: pd.DataFrame, train: np.ndarray, test: np.ndarray, predictor: WorldModelPredictor,
               ks: tuple[int, ...] = (2, 4, 8, 16, 32), seed: int = 0) -> pd.DataFrame:
    """Pre-dose scores using the first K of max(ks) rollouts per point."""
    rows_train, task, truth = heldout(kept, train, test)
    d = predictor.fit(rows_train).draws(task, max(ks), seed)
    rows = []
    for k in ks:
        part = type(d)(d.keys, d.dqtcf[:, :k], d.plausible[:, :k])
        rows.append({"K": k, **score(predictor.forecast(task, part, seed), truth)})
    return pd.DataFrame(rows)


def _observed_beats(model: WorldModel, test_rows: pd.DataFrame, hours: tuple[float, ...]
                    ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Twin beats of the held-out rows at ``hours``: (one row per ECG, (n, 12, M) beats, (n,) RR s)."""
    cohort = twin_cohort(test_rows[test_rows["TPT"].isin(hours)], model.config.representation, progress=False)
    return cohort.rows, cohort.beats, cohort.rr_s


def waveforms(model: WorldModel, prior_free: WorldModel, kept: pd.DataFrame, test: np.ndarray,
              hours: tuple[float, ...] = (1.0, 2.5, 5.0, 12.0), n_samples: int = 4, seed: int = 0
              ) -> tuple[pd.DataFrame, dict[str, dict[str, np.ndarray]]]:
    """Waveform, interval, distribution and hallucination metrics of generated post-dose beats against
    the held-out subjects' SEMI-SYNTHETIC twin beats at the same time points.

    Methods: copy-forward (the decoded pre-dose state), ODE prior only (decoded anchor), the world model
    without (``prior_free``) and with the prior (``model``); both models must share the autoencoder.

    Returns
    -------
    (table, generated)
        ``table``: one row per method: ``waveform_mae_uv``, ``waveform_rmse_uv`` (12-lead mean, µV, against
        the mean twin beat of the same subject, treatment and time), ``qtcf_mae_ms``, ``pr_mae_ms``,
        ``qrs_mae_ms`` (generated − observed twin, medians over samples), ``mmd``, ``frechet`` (in
        :data:`WAVEFORM_FEATURES`, standardised by the observed twins' sd), ``hallucination`` (share failing
        :func:`~ecgwm_core.evaluation.check_beat`), ``n``. ``generated``: per method, ``beats`` (n, 12, M),
        ``rr_s``, ``reasons`` (str per beat) and ``key`` (index into the observed points).
        Cached in ``$ECGWM_CACHE/evaluation``.
    """
    h = hashlib.sha256(f"{fingerprint(model)}{fingerprint(prior_free)}{sorted(test)}{hours}{n_samples}{seed}"
                       .encode())
    h.update(data_digest(kept[kept["RANDID"].isin(test)]).encode())
    path = cache_root().parent / "evaluation" / f"waveforms-{h.hexdigest()[:20]}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as f:
            table = pd.DataFrame({c[6:]: f[c] for c in f.files if c.startswith("table_")})
            names = list(table["method"])
            return table, {m: {k: f[f"{i}_{k}"] for k in ("beats", "rr_s", "reasons", "key")}
                           for i, m in enumerate(names)}
    table, generated = _waveforms(model, prior_free, kept, test, hours, n_samples, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    strings = lambda a: a.astype(str) if a.dtype == object else a  # noqa: E731  (no pickled objects)
    np.savez(path, **{f"table_{c}": strings(table[c].to_numpy()) for c in table.columns},
             **{f"{i}_{k}": strings(np.asarray(v)) for i, m in enumerate(table["method"])
                for k, v in generated[m].items()})
    return table, generated


def _waveforms(model: WorldModel, prior_free: WorldModel, kept: pd.DataFrame, test: np.ndarray,
               hours: tuple[float, ...], n_samples: int, seed: int
               ) -> tuple[pd.DataFrame, dict[str, dict[str, np.ndarray]]]:
    """:func:`waveforms` without the cache."""
    rep = model.config.representation
    test_rows = kept[kept["RANDID"].isin(test)]
    obs_rows, obs_beats, obs_rr = _observed_beats(model, test_rows, hours)
    points = obs_rows[obs_rows["TPT"] > BASELINE_HOURS].groupby(KEY).indices
    keys = sorted(points)
    target = np.stack([obs_beats[points[k]].mean(0) for k in keys])
    observed = pd.DataFrame(measure_beats(obs_beats[np.concatenate([points[k] for k in keys])],
                                          obs_rr[np.concatenate([points[k] for k in keys])], rep))
    task = prediction_task(test_rows)
    bases = task_baselines(model, task.context)
    generated: dict[str, dict[str, list]] = {m: {"beats": [], "rr_s": [], "key": []} for m in
                                             ("copy-forward", "ODE prior only", "world model, λ0 = 0", "world model")}
    for i, (randid, drug, tpt) in enumerate(keys):
        base = bases[(int(randid), drug)]
        action = [trial_action(drug, tpt)]
        parts = {"copy-forward": model.decode_state(base.state[None]),
                 "ODE prior only": model.decode_state(base.state + anchor_changes(model, base, action))}
        for name, m in (("world model, λ0 = 0", prior_free), ("world model", model)):
            r = rollout(m, base, action, n_samples, seed + i)
            parts[name] = (r.beats, r.table["rr_ms"].to_numpy() / 1000.0)
        for name, (beats, rr) in parts.items():
            generated[name]["beats"].append(beats)
            generated[name]["rr_s"].append(np.where(np.isfinite(rr), rr, np.exp(base.state[-1].item())))
            generated[name]["key"].append(np.full(len(beats), i))
    rows, out = [], {}
    for name, g in generated.items():
        beats, rr, key = (np.concatenate(g[k]) for k in ("beats", "rr_s", "key"))
        reasons = [" ; ".join(check_beat(b, rep.fs_hz, r_index(rep), r, LEAD_NAMES).reasons) for b, r in zip(beats, rr)]
        measured = pd.DataFrame(measure_beats(beats, rr, rep))
        err = waveform_errors(target[key], beats)
        obs_point = pd.DataFrame(measure_beats(target, np.array([obs_rr[points[k]].mean() for k in keys]), rep))
        diff = measured[["qtcf_ms", "pr_ms", "qrs_ms"]].to_numpy() - obs_point[["qtcf_ms", "pr_ms", "qrs_ms"]].to_numpy()[key]
        med = pd.DataFrame(np.abs(diff), columns=["qtcf", "pr", "qrs"]).groupby(key).median().mean()
        a, b = feature_matrix(measured, WAVEFORM_FEATURES), feature_matrix(observed, WAVEFORM_FEATURES)
        scale = b.std(0)
        rows.append({"method": name, "waveform_mae_uv": 1000 * float(err["mae_mv"].mean()),
                     "waveform_rmse_uv": 1000 * float(err["rmse_mv"].mean()),
                     "qtcf_mae_ms": float(med["qtcf"]), "pr_mae_ms": float(med["pr"]), "qrs_mae_ms": float(med["qrs"]),
                     "mmd": mmd_rbf(a, b, scale=scale) if len(a) > 1 else np.nan,
                     "frechet": frechet_distance(a, b, scale=scale) if len(a) > len(WAVEFORM_FEATURES) else np.nan,
                     "hallucination": float(np.mean([bool(r) for r in reasons])), "n": len(beats)})
        out[name] = {"beats": beats, "rr_s": rr, "reasons": np.array(reasons), "key": key}
    return pd.DataFrame(rows), out



def forecast_table(scores: pd.DataFrame, protocol: str) -> pd.DataFrame:
    """The chapter's table of one protocol: per method, MAE, 90 % coverage, CRPS and ICH-bin accuracy,
    as ``mean`` (one fold) or ``mean ± sd`` over folds."""
    summary = summarise_folds(scores[scores["protocol"] == protocol]).set_index("method")
    labels = {"mae_ms": "MAE (ms)", "coverage90": "90 % coverage", "crps_ms": "CRPS (ms)",
              "ich_accuracy": "ICH bin accuracy"}
    out = pd.DataFrame(index=summary.index)
    for key, label in labels.items():
        digits = 1 if key.endswith("_ms") else 2
        mean, sd = summary[f"{key}_mean"], summary[f"{key}_sd"]
        out[label] = [f"{m:.{digits}f}" + (f" ± {s:.{digits}f}" if np.isfinite(s) else "") for m, s in zip(mean, sd)]
    return out
