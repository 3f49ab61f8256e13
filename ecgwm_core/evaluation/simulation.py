"""World-model ΔQTcF forecasters behind the baselines' ``fit``/``sample`` interface.

:class:`WorldModelPredictor` turns a :class:`~ecgwm_core.evaluation.protocols.PredictionTask`
into rollouts: for every subject × treatment of the task, the SEMI-SYNTHETIC twins
of its pre-dose rows (all −0.5 h replicates) become a
:class:`~ecgwm_core.worldmodel.Baseline`, the model generates K post-dose median
beats at every time point wanted, and the delineator measures them
(:func:`ecgwm_core.worldmodel.rollout`). The predictive samples of a query are its
K rollouts' ΔQTcF; rollouts that fail the rollout's plausibility ranges are
replaced by seeded draws from the plausible ones of the same query (so a
hallucinated beat neither enters the forecast nor shrinks K).

**A subject's deviation, and the observed-until rule.** K rollouts from one
pre-dose ECG vary as that subject's ECGs would; they do not know how strongly
a new subject responds. The model carries, per drug, the training subjects'
covariance of ΔQTcF residuals over the day and their regression on the period's
baseline offset (:mod:`ecgwm_core.worldmodel.deviation`). Pre-dose, each point's
samples are shifted by β·offset (a period that starts above the subject's usual
QTcF tends to come down; β ≈ −0.5 on this trial) and get seeded Student-t noise
(:func:`between_subject_noise`) that tops the rollouts' own variance up to the
between-subject variance at that drug and hour, so the predictive spread is at
least the population's. With
``observed_until = H`` the rollouts are also made at the subject's observed
post-dose points (0 < TPT ≤ H); their residuals (observed minus the rollouts'
mean) shift every later forecast by the Gaussian conditional mean of the later
residuals, and the conditional variance replaces the between-subject one: the forecast conditions on
the subject's early trajectory, per drug, as far as the training subjects say
early deviations carry over. The denoiser itself never sees post-dose ECGs.

:class:`ODEPriorOnly` is the prior without the diffusion model: the action-shifted
ODE anchor's change of state added to the baseline, decoded by the same
autoencoder and measured (one deterministic forecast per query).

Rollout draws are cached in ``$ECGWM_CACHE/evaluation`` by model weights, task,
K, seed, effect scale and guidance, so chapters re-execute without sampling.
"""
from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..actions import Action
from ..data.trial import BASELINE_HOURS
from ..worldmodel import Baseline, Rollouts, WorldModel, WorldModelConfig, get_config, measured_rollouts, rollout
from ..worldmodel.anchors import trial_action
from ..worldmodel.cohort import cache_root
from ..worldmodel.deviation import baseline_offsets, conditional_residuals, offsets_of
from ..worldmodel.model import FORMAT
from ..worldmodel.rollout import anchor_changes
from ..worldmodel.train import cached_model, data_digest
from ..worldmodel.validate import period_baselines
from .baselines import antithetic_t
from .protocols import KEY, PredictionTask, observed_dqtcf


def fold_model(config: WorldModelConfig | str, kept: pd.DataFrame, progress: bool = False) -> WorldModel:
    """The world model trained on all rows of ``kept`` (the fold's training subjects), cached by
    :func:`ecgwm_core.worldmodel.train.cached_model`, so fold 0 of the default split reuses the chapters' model."""
    return cached_model(get_config(config) if isinstance(config, str) else config, kept, progress)


def with_effect_scale(model: WorldModel, factor: float) -> WorldModel:
    """A shallow copy of ``model`` whose ODE prior expects ``factor`` × every drug's interval changes.

    Only the anchor (the prior) is mis-specified; the PK, hence the action features, are unchanged.
    """
    if not (np.isfinite(factor) and factor >= 0):
        raise ValueError(f"effect scale must be a finite number >= 0; got {factor}")
    scaled = copy.copy(model)
    scaled.effects = replace(model.effects, scale=factor * model.effects.scale)
    return scaled


def fingerprint(model: WorldModel) -> str:
    """sha256 of the checkpoint format, a model's config, weights and drug effects (the key of cached rollouts)."""
    h = hashlib.sha256(f"{FORMAT}{model.config.digest()}".encode())
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().numpy().tobytes())
    h.update(json.dumps(model.effects.to_dict(), sort_keys=True).encode())
    return h.hexdigest()


_BASELINES: dict[tuple[str, str], dict[tuple[int, str], Baseline]] = {}


def task_baselines(model: WorldModel, context: pd.DataFrame) -> dict[tuple[int, str], Baseline]:
    """{(RANDID, EXTRT): Baseline} from the twins of the context's pre-dose rows (memoised per session)."""
    pre = context[context["TPT"] == BASELINE_HOURS]
    ae = hashlib.sha256(b"".join(t.cpu().numpy().tobytes() for t in model.autoencoder.state_dict().values()))
    key = (data_digest(pre), ae.hexdigest())
    if key not in _BASELINES:
        _BASELINES[key] = period_baselines(model, pre)
    return _BASELINES[key]


@dataclass(frozen=True)
class Draws:
    """K rollouts per (subject, treatment, time point).

    Attributes
    ----------
    keys : one row per point: ``RANDID``, ``EXTRT``, ``TPT`` (h).
    dqtcf : (n, K) generated ΔQTcF in ms (NaN where not measurable).
    plausible : (n, K) whether each rollout passed the rollout's plausibility ranges.
    """

    keys: pd.DataFrame
    dqtcf: np.ndarray
    plausible: np.ndarray


def _wanted(task: PredictionTask) -> pd.DataFrame:
    """Time points to roll out: the queries and the context's observed post-dose points."""
    seen = task.context.loc[task.context["TPT"] > 0, KEY].drop_duplicates()
    return pd.concat([task.queries[KEY], seen]).drop_duplicates().sort_values(KEY).reset_index(drop=True)


def _cache_file(model: WorldModel, keys: pd.DataFrame, context: pd.DataFrame, tag: str) -> Path:
    h = hashlib.sha256(fingerprint(model).encode())
    h.update(data_digest(context[context["TPT"] == BASELINE_HOURS]).encode())
    h.update(pd.util.hash_pandas_object(keys, index=False).values.tobytes())
    h.update(tag.encode())
    return cache_root().parent / "evaluation" / f"draws-{h.hexdigest()[:20]}.npz"


def _cached_draws(model: WorldModel, task: PredictionTask, tag: str, make) -> Draws:
    """Draws of ``task``'s points from ``make(keys) -> (dqtcf, plausible)``, cached on disk."""
    keys = _wanted(task)
    path = _cache_file(model, keys, task.context, tag)
    if path.is_file():
        with np.load(path, allow_pickle=False) as f:
            return Draws(keys, f["dqtcf"], f["plausible"])
    dq, ok = make(keys)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, dqtcf=dq, plausible=ok)
    return Draws(keys, dq, ok)


def generator_draws(model: WorldModel, task: PredictionTask, n_samples: int, seed: int, tag: str,
                    generate: Callable[[Baseline, list[Action], int, int], Rollouts], progress: bool = False
                    ) -> Draws:
    """K measured rollouts of any generator at every query and observed post-dose point of ``task`` (cached).

    Parameters
    ----------
    model : the world model whose autoencoder makes the baselines.
    task : what may be seen; only the context's pre-dose rows form the baselines.
    n_samples : K rollouts per point.
    seed : subject × treatment ``i`` (sorted) is generated with seed ``seed + i``.
    tag : what, besides the model, the task and the points, identifies the draws in the cache
        (the generator, K, seed, ...).
    generate : ``(baseline, actions, K, seed) -> Rollouts`` with K rows per action.
    progress : a progress bar over subject × treatment.
    """
    def make(keys: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        bases = task_baselines(model, task.context)
        dq = np.full((len(keys), n_samples), np.nan)
        ok = np.zeros((len(keys), n_samples), dtype=bool)
        groups = keys.groupby(["RANDID", "EXTRT"], sort=True)
        bar = tqdm(groups, total=groups.ngroups, desc="rollouts (subject x treatment)", disable=not progress)
        for i, ((randid, drug), rows) in enumerate(bar):
            actions = [trial_action(drug, h) for h in rows["TPT"]]
            table = generate(bases[(int(randid), drug)], actions, n_samples, seed + i).table
            dq[rows.index] = table["dqtcf_ms"].to_numpy().reshape(len(actions), n_samples)
            ok[rows.index] = table["plausible"].to_numpy().reshape(len(actions), n_samples)
        return dq, ok

    return _cached_draws(model, task, tag, make)


def rollout_draws(model: WorldModel, task: PredictionTask, n_samples: int, seed: int,
                  guidance: float | None = None, progress: bool = False) -> Draws:
    """The world model's K rollouts at every query and observed post-dose point of ``task``
    (:func:`generator_draws`; ``guidance``: energy-guidance scale at sampling, default the config's)."""
    guidance = model.config.diffusion.sampling_guidance if guidance is None else guidance
    def generate(baseline: Baseline, actions: list[Action], k: int, s: int) -> Rollouts:
        return rollout(model, baseline, actions, k, s, guidance=guidance)

    return generator_draws(model, task, n_samples, seed, f"{n_samples}-{seed}-{guidance}", generate, progress)


def prior_draws(model: WorldModel, task: PredictionTask) -> Draws:
    """One deterministic ΔQTcF per point of ``task`` from the decoded, calibrated ODE anchor, measured
    and range-checked like a rollout (:func:`generator_draws` with the anchor as the only sample; cached)."""
    def generate(baseline: Baseline, actions: list[Action], k: int, s: int) -> Rollouts:
        return measured_rollouts(model, baseline, actions, anchor_changes(model, baseline, actions))

    return generator_draws(model, task, 1, 0, "ode-prior-anchor", generate)


def plausible_samples(dqtcf: np.ndarray, plausible: np.ndarray, seed: int) -> np.ndarray:
    """(n, K) samples where each implausible (or NaN) entry is replaced by a seeded draw from the
    plausible entries of its row; rows without any plausible entry stay NaN."""
    rng = np.random.default_rng(seed)
    good = plausible & np.isfinite(dqtcf)
    out = np.where(good, dqtcf, np.nan)
    for i in np.flatnonzero(~good.all(1)):
        pool = dqtcf[i, good[i]]
        if pool.size:
            out[i, ~good[i]] = rng.choice(pool, size=int((~good[i]).sum()))
    return out


def subject_deviation(model: WorldModel, task: PredictionTask, keys: pd.DataFrame, samples: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(n,) shift and (n,) sd (ms) of each point's subject deviation from the rollouts' forecast.

    The Gaussian conditional of :func:`~ecgwm_core.worldmodel.deviation.conditional_residuals` given
    the period's baseline offset (from the context's pre-dose rows of all the subject's periods) and,
    with observed post-dose points in the context, the subject's residuals there. Pre-dose with a
    single period: no shift and the between-subject sd.
    """
    seen = observed_dqtcf(task.context)
    count = np.isfinite(samples).sum(1)  # a point without any plausible rollout has no mean: left out
    means = keys.assign(mean=np.nansum(samples, axis=1) / np.maximum(count, 1))[count > 0]
    seen = seen[seen["TPT"] > 0].merge(means, on=KEY, how="inner")
    offsets = offsets_of(keys, baseline_offsets(task.context))
    shift, sd = np.zeros(len(keys)), np.zeros(len(keys))
    for (randid, drug), rows in keys.groupby(["RANDID", "EXTRT"], sort=False):
        mine = seen[(seen["RANDID"] == randid) & (seen["EXTRT"] == drug)]
        shift[rows.index], sd[rows.index] = conditional_residuals(
            model.effects.residual_cov[drug], mine["TPT"].to_numpy(), (mine["dqtcf"] - mine["mean"]).to_numpy(),
            rows["TPT"].to_numpy(), float(offsets[rows.index[0]]))
    return shift, sd


def between_subject_noise(sd_ms: np.ndarray, samples: np.ndarray, seed: int, n_subjects: int) -> np.ndarray:
    """(n, K) seeded draws per point that top the rollouts' own variance up to a new subject's.

    A point's draws are e·t_{m−1} with e² = max(0, sd²·(1 + 1/m) − var(samples)) and m =
    ``n_subjects``: the between-subject variance ``sd_ms``² (n,), inflated for estimating the
    population from m training subjects, with Student-t tails of m − 1 degrees of freedom: the
    predictive form of the baselines (:mod:`ecgwm_core.evaluation.baselines`), in antithetic pairs
    (:func:`~ecgwm_core.evaluation.baselines.antithetic_t`: the draws of an even K sum to 0, so the
    forecast's mean is the rollouts' mean plus the shift). Measured on the 4
    leave-subjects-out folds (quick): 90 % coverage 0.85 with this form, 0.83 with N(0, sd² − var).
    """
    if n_subjects < 3:
        raise ValueError(f"need at least 3 training subjects for a between-subject spread; got {n_subjects}")
    inflated = np.asarray(sd_ms) ** 2 * (1 + 1 / n_subjects)
    extra = np.sqrt(np.maximum(inflated - np.nanvar(samples, axis=1), 0.0))
    return extra[:, None] * antithetic_t(np.random.default_rng(seed + 1), n_subjects - 1, samples.shape)


class WorldModelPredictor:
    """ΔQTcF forecasts from world-model rollouts (see the module docstring).

    Parameters
    ----------
    config : configuration trained by :meth:`fit` on the fold's training subjects.
    checkpoint : a checkpoint folder to use instead of training (``fit`` then only loads it).
    model : an already trained model to use instead of training.
    effect_scale : multiply the ODE prior's drug effects (prior-mismatch experiments; 1 = as fitted).
    guidance : energy-guidance scale at sampling (default: the model config's).
    between_subject : add :func:`between_subject_noise` to the rollouts (the spread of a new subject's
        response that K rollouts of one pre-dose ECG do not carry); False: the rollouts alone (the
        observed-until shift is applied either way).
    progress : progress bars while training.
    """

    name = "world model"

    def __init__(self, config: WorldModelConfig | str = "quick", checkpoint: str | Path | None = None,
                 model: WorldModel | None = None, effect_scale: float = 1.0, guidance: float | None = None,
                 between_subject: bool = True, progress: bool = False) -> None:
        self.config, self.checkpoint, self.model = config, checkpoint, model
        self.effect_scale, self.guidance, self.progress = effect_scale, guidance, progress
        self.between_subject = between_subject

    def fit(self, kept: pd.DataFrame | None) -> "WorldModelPredictor":
        """Train (or load the cached model) on ``kept``; load ``checkpoint`` or keep ``model`` if given
        (``kept`` is then unused and may be None)."""
        if self.checkpoint is not None:
            self.model = WorldModel.load(self.checkpoint)
        elif self.model is None:
            if kept is None:
                raise ValueError("fit() needs the training rows unless a checkpoint or model is given")
            self.model = fold_model(self.config, kept, self.progress)
        if self.effect_scale != 1.0:
            self.model = with_effect_scale(self.model, self.effect_scale)
        return self

    def draws(self, task: PredictionTask, n_samples: int, seed: int) -> Draws:
        """The raw rollouts (cached) at the task's queries and observed points."""
        if self.model is None:
            raise ValueError("call fit() before sampling")
        return rollout_draws(self.model, task, n_samples, seed, self.guidance, self.progress)

    def sample(self, task: PredictionTask, n_samples: int, seed: int) -> np.ndarray:
        """(queries, n_samples) ΔQTcF samples in ms."""
        return self.forecast(task, self.draws(task, n_samples, seed), seed)

    def forecast(self, task: PredictionTask, d: Draws, seed: int) -> np.ndarray:
        """(queries, K) ΔQTcF samples (ms) from draws ``d`` of ``task`` (any first K columns of them)."""
        samples, sd = self._shifted(task, d, seed)
        if self.between_subject:
            samples = samples + between_subject_noise(sd, samples, seed, len(self.model.meta["subjects"]))
        return samples[_query_rows(task, d)]

    def point(self, task: PredictionTask, n_samples: int, seed: int) -> np.ndarray:
        """(queries,) point forecasts (ms): the mean of the plausible rollouts plus the subject-deviation
        shift, without the between-subject noise (NaN where no rollout was plausible)."""
        d = self.draws(task, n_samples, seed)
        samples = self._shifted(task, d, seed)[0][_query_rows(task, d)]
        count = np.isfinite(samples).sum(1)
        return np.where(count > 0, np.nansum(samples, axis=1) / np.maximum(count, 1), np.nan)

    def _shifted(self, task: PredictionTask, d: Draws, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """(points, K) plausible rollouts shifted by the subject deviation, and (points,) its sd (ms)."""
        samples = plausible_samples(d.dqtcf, d.plausible, seed)
        shift, sd = subject_deviation(self.model, task, d.keys, samples)
        return samples + shift[:, None], sd


def _query_rows(task: PredictionTask, d: Draws) -> np.ndarray:
    """Index into ``d.keys`` of each of the task's queries."""
    return d.keys.reset_index().merge(task.queries[KEY], on=KEY, how="right")["index"].to_numpy()


class ODEPriorOnly(WorldModelPredictor):
    """The action-shifted ODE anchor, decoded by the world model's autoencoder and measured (no diffusion)."""

    name = "ODE prior only"

    def draws(self, task: PredictionTask, n_samples: int, seed: int) -> Draws:
        """One deterministic ΔQTcF per point, repeated ``n_samples`` times."""
        if self.model is None:
            raise ValueError("call fit() before sampling")
        d = prior_draws(self.model, task)
        return Draws(d.keys, np.repeat(d.dqtcf, n_samples, 1), np.repeat(d.plausible, n_samples, 1))
