"""Training: twins → anchors → autoencoder → latent diffusion, seeded, resumable, with loss curves.

:func:`train` is the single entry point (the CLI, the chapters, leave-subjects-out folds);
:func:`pretrained` trains once per (config, data) and caches the checkpoint.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from filelock import FileLock
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm

from ..data import load_clinical_table, paired_samples, subject_folds
from ..data.trial import BASELINE_HOURS
from ..data.vocabulary import DERIVED_COLUMNS
from .anchors import DrugEffects, anchor_beats, fit_prior, log_rr_change, qt_change_ms, trial_action
from .calibrate import calibrate_anchors
from .cohort import Cohort, cache_root, twin_cohort
from .config import WorldModelConfig, get_config
from .energy import diffusion_loss
from .model import FORMAT, STAGE_FORMAT, WorldModel
from .representation import render_beats

SAVE_EVERY = 500
"""Diffusion steps between resumable training states."""


def resolve_device(config: WorldModelConfig) -> torch.device:
    """The config's device; ``"auto"`` is CUDA when available. Raises ValueError for CUDA without a GPU."""
    if config.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if config.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("config asks for device 'cuda' but no GPU is available; use device='cpu' or 'auto'")
    return torch.device(config.device)


@dataclass
class Anchors:
    """ODE anchors of a cohort's periods.

    Attributes
    ----------
    period_rows : (P,) cohort row of each period's first pre-dose ECG (the one the prior is fitted to).
    pre_beats : (P, 12, M) the fitted prior rendered at that ECG's RR.
    keys : (K, 5) ``period``, ``EXTRT``, ``TPT`` (h), ``prior`` (index into period_rows) and ``dlog_rr``
        (the anchor's change of log RR) of each post-dose anchor; post_beats (K, 12, M).
    """

    period_rows: np.ndarray
    pre_beats: np.ndarray
    keys: pd.DataFrame
    post_beats: np.ndarray


def build_anchors(cohort: Cohort, effects: DrugEffects, config: WorldModelConfig, progress: bool) -> Anchors:
    """Fit the ODE prior to every period's first pre-dose beat and render pre and post anchors."""
    rows = np.array(sorted(cohort.centred))
    prior = fit_prior([cohort.centred[i] for i in rows], config.data.anchor_fit_iterations, progress)
    rr = cohort.rr_s[rows]
    pre = render_beats(prior, rr, config.representation)
    post = cohort.rows[cohort.rows["TPT"] > BASELINE_HOURS]
    keys = post[["period", "EXTRT", "TPT"]].drop_duplicates().reset_index(drop=True)
    where = {int(cohort.rows.loc[r, "period"]): k for k, r in enumerate(rows)}
    index = [where[p] for p in keys["period"]]
    changes = [effects.changes(trial_action(d, h)) for d, h in zip(keys["EXTRT"], keys["TPT"])]
    post_beats = anchor_beats([prior[i] for i in index], rr[index], changes, config.representation)
    return Anchors(rows, pre, keys.assign(prior=index, dlog_rr=log_rr_change(rr[index], changes)), post_beats)


def _flat_optimizer(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    sd = opt.state_dict()
    tensors = {f"{i}.{k}": v for i, s in sd["state"].items() for k, v in s.items()}
    return tensors, sd["param_groups"]


def _restore_optimizer(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], groups: list) -> None:
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        i, name = key.split(".", 1)
        state.setdefault(int(i), {})[name] = value
    opt.load_state_dict({"state": state, "param_groups": groups})


def _autocast(device: torch.device, amp: bool):
    return torch.autocast("cuda", dtype=torch.bfloat16) if amp and device.type == "cuda" else contextlib.nullcontext()


def train_autoencoder(model: WorldModel, beats: np.ndarray, device: torch.device, seed: int,
                      progress: bool) -> list[float]:
    """Fit the autoencoder to (n, 12, M) beats; returns the loss curve (MSE in mV² per step)."""
    cfg = model.config.autoencoder
    gen = torch.Generator().manual_seed(seed)
    data = torch.as_tensor(beats)
    opt = torch.optim.Adam(model.autoencoder.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.steps, pct_start=0.1)
    curve = []
    bar = tqdm(range(cfg.steps), desc="autoencoder", disable=not progress)
    for _ in bar:
        batch = data[torch.randint(len(data), (cfg.batch,), generator=gen)].to(device)
        with _autocast(device, model.config.amp):
            loss = model.autoencoder.loss(batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        curve.append(float(loss.detach()))
        bar.set_postfix(mse_uv2=f"{curve[-1] * 1e6:.0f}", refresh=False)
    return curve


@dataclass
class Pairs:
    """Diffusion training data (all standardised): x0 (N, D), anchors (N, D), cond (N, C)."""

    x0: torch.Tensor
    anchor: torch.Tensor
    cond: torch.Tensor


def build_pairs(model: WorldModel, cohort: Cohort, anchors: Anchors) -> Pairs:
    """States of every ECG, the pre-dose state of each period (mean over its replicates) and, per
    post-dose ECG, its change of state, its anchor change and its conditioning; sets the model's
    standardisation buffers."""
    rows = cohort.rows
    s = model.state(cohort.beats, cohort.rr_s)
    s_anchor_pre = model.state(anchors.pre_beats, cohort.rr_s[anchors.period_rows])
    rr_post = cohort.rr_s[anchors.period_rows][anchors.keys["prior"].to_numpy()]
    s_anchor_post = model.state(anchors.post_beats, rr_post)
    is_pre = torch.as_tensor((rows["TPT"] == BASELINE_HOURS).to_numpy())
    period = torch.as_tensor(rows["period"].to_numpy())
    n_periods = int(period.max()) + 1
    pre_sum = torch.zeros(n_periods, s.shape[1], device=s.device).index_add_(0, period[is_pre].to(s.device), s[is_pre])
    pre_n = torch.bincount(period[is_pre], minlength=n_periods).clamp(min=1).to(s.device)
    s_pre = pre_sum / pre_n[:, None]
    post = rows[~is_pre.numpy()]
    keys = anchors.keys
    per_key = s_anchor_post - s_anchor_pre[keys["prior"].to_numpy()]
    per_key[:, -1] = torch.as_tensor(keys["dlog_rr"].to_numpy(), dtype=per_key.dtype, device=per_key.device)
    target = [qt_change_ms(model.effects.changes(trial_action(d, h))) for d, h in zip(keys["EXTRT"], keys["TPT"])]
    per_key = calibrate_anchors(model, s_pre[torch.as_tensor(keys["period"].to_numpy())], per_key, np.array(target))[0]
    key_index = {(p, h): k for k, (p, h) in enumerate(zip(keys["period"], keys["TPT"]))}
    anchor = per_key[[key_index[(p, h)] for p, h in zip(post["period"], post["TPT"])]]
    pre = s_pre[torch.as_tensor(post["period"].to_numpy())]
    change = s[torch.as_tensor(post.index.to_numpy())] - pre
    model.state_mean.copy_(s.mean(0))
    model.state_std.copy_(s.std(0).clamp(min=1e-3))
    model.change_std.copy_(change.std(0).clamp(min=1e-3))
    actions = [trial_action(d, h) for d, h in zip(post["EXTRT"], post["TPT"])]
    cond = model.condition(pre, model.action_features(actions), anchor)
    return Pairs(change / model.change_std, anchor / model.change_std, cond)


def training_pairs(model: WorldModel, kept: pd.DataFrame, progress: bool = False) -> Pairs:
    """The diffusion training data of a trained ``model`` on ``kept`` (its training rows), from the cache.

    Rebuilds the twins and anchors exactly as :func:`train` did (both are cached, so this takes
    seconds) and returns :func:`build_pairs`' output, e.g. to fit another generator (a baseline)
    on the same pairs with the same autoencoder.
    """
    cohort = twin_cohort(kept, model.config.representation, model.config.data.augment_copies,
                         model.config.data.augment_every, progress)
    anchors = _cached_anchors(cohort, model.effects, model.config, _stage_key(kept, model.config), progress)
    return build_pairs(model, cohort, anchors)


def train_diffusion(model: WorldModel, pairs: Pairs, device: torch.device, seed: int, progress: bool,
                    state_dir: Path | None = None) -> list[dict[str, float]]:
    """Train the denoiser (and its EMA) on ``pairs``; resumes from ``state_dir`` if it holds a state."""
    cfg = model.config.diffusion
    gen = torch.Generator().manual_seed(seed + 1)
    opt = torch.optim.Adam(model.denoiser.parameters(), lr=cfg.lr)
    schedule = model.schedule.to(device)
    curve: list[dict[str, float]] = []
    start = 0
    if state_dir is not None and (state_dir / "diffusion_state.json").is_file():
        info = json.loads((state_dir / "diffusion_state.json").read_text())
        tensors = load_file(str(state_dir / "diffusion_state.safetensors"))
        model.denoiser.load_state_dict({k[9:]: v for k, v in tensors.items() if k.startswith("denoiser.")})
        model.ema.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("ema.")})
        _restore_optimizer(opt, {k[4:]: v for k, v in tensors.items() if k.startswith("opt.")}, info["groups"])
        gen.set_state(tensors["rng"])
        start, curve = info["step"], info["curve"]
    x0, anchor, cond = pairs.x0.to(device), pairs.anchor.to(device), pairs.cond.to(device)
    zeros = torch.zeros(cfg.batch, x0.shape[1], device=device)  # the anchor, in residual coordinates
    bar = tqdm(range(start, cfg.steps), desc="diffusion", disable=not progress, initial=start, total=cfg.steps)
    for step in bar:
        lr = cfg.lr * 0.5 * (1 + np.cos(np.pi * step / cfg.steps))
        for group in opt.param_groups:
            group["lr"] = lr
        idx = torch.randint(len(x0), (cfg.batch,), generator=gen).to(device)
        t = torch.randint(cfg.timesteps, (cfg.batch,), generator=gen).to(device)
        noise = torch.randn(cfg.batch, x0.shape[1], generator=gen).to(device)
        c = cond[idx]
        if cfg.cond_dropout > 0:
            keep = (torch.rand(cfg.batch, 1, generator=gen) >= cfg.cond_dropout).float().to(device)
            c = c * keep
        with _autocast(device, model.config.amp):
            target, pull = (x0[idx] - anchor[idx], zeros) if cfg.residual else (x0[idx], anchor[idx])
            loss, parts = diffusion_loss(lambda z, tt: model.denoiser(z, tt, c), schedule, target, pull,
                                         t, noise, cfg.lambda0, cfg.weight_schedule)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            for pe, p in zip(model.ema.parameters(), model.denoiser.parameters()):
                pe.lerp_(p, 1 - cfg.ema_decay)
        curve.append({"loss": float(loss.detach()), **parts})
        bar.set_postfix(loss=f"{curve[-1]['loss']:.3f}", refresh=False)
        if state_dir is not None and (step + 1) % SAVE_EVERY == 0 and step + 1 < cfg.steps:
            tensors, groups = _flat_optimizer(opt)
            save_file({**{f"denoiser.{k}": v.contiguous() for k, v in model.denoiser.state_dict().items()},
                       **{f"ema.{k}": v.contiguous() for k, v in model.ema.state_dict().items()},
                       **{f"opt.{k}": v.contiguous() for k, v in tensors.items()}, "rng": gen.get_state()},
                      str(state_dir / "diffusion_state.safetensors"))
            (state_dir / "diffusion_state.json").write_text(json.dumps({"step": step + 1, "curve": curve,
                                                                        "groups": groups}))
    return curve


def _stage_key(kept: pd.DataFrame, config: WorldModelConfig) -> str:
    """Cache key of what precedes the diffusion model: data, representation, data and autoencoder configs, seed."""
    parts = [STAGE_FORMAT, data_digest(kept), asdict(config.representation), asdict(config.data),
             asdict(config.autoencoder), config.seed, config.amp]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def _cached_anchors(cohort: Cohort, effects: DrugEffects, config: WorldModelConfig, stage: str,
                    progress: bool) -> Anchors:
    """:func:`build_anchors`, cached in ``$ECGWM_CACHE/worldmodel/anchors-<stage>.npz``."""
    path = cache_root() / f"anchors-{stage}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as f:
            keys = pd.DataFrame({"period": f["period"], "EXTRT": f["drug"], "TPT": f["hours"], "prior": f["prior"],
                                 "dlog_rr": f["dlog_rr"]})
            return Anchors(f["period_rows"], f["pre_beats"], keys, f["post_beats"])
    a = build_anchors(cohort, effects, config, progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, period_rows=a.period_rows, pre_beats=a.pre_beats, post_beats=a.post_beats,
             period=a.keys["period"].to_numpy(), drug=a.keys["EXTRT"].to_numpy(dtype=str),
             hours=a.keys["TPT"].to_numpy(), prior=a.keys["prior"].to_numpy(), dlog_rr=a.keys["dlog_rr"].to_numpy())
    return a


def data_digest(kept: pd.DataFrame) -> str:
    """sha256 of the rows a model is trained on (content, not order).

    Derived columns (:data:`~ecgwm_core.data.vocabulary.DERIVED_COLUMNS`) are left out: they
    follow from the others, and QTcF's last bit is not the same on every CPU, which would make
    a cache key depend on the machine.
    """
    rows = kept.drop(columns=list(DERIVED_COLUMNS), errors="ignore").sort_values("EGREFID").astype(str)
    return hashlib.sha256(pd.util.hash_pandas_object(rows, index=False).values.tobytes()).hexdigest()


def train(config: WorldModelConfig | str = "quick", table: pd.DataFrame | None = None,
          subjects: np.ndarray | list[int] | None = None, out: str | Path | None = None, resume: bool = False,
          progress: bool = True) -> WorldModel:
    """Train a world model on the SEMI-SYNTHETIC twins of ``table``'s rows of ``subjects``.

    Parameters
    ----------
    config : a :class:`WorldModelConfig` or a config name.
    table : usable rows of the clinical table (``ClinicalTable.kept``); default: the bundled table.
    subjects : RANDIDs to train on (default: all of ``table``); everything that uses the table
        (twins, PK, concentration slopes, standardisation) sees only these subjects.
    out : checkpoint folder; with ``resume``, a partly trained denoiser found there is resumed.
        Twin beats, anchors and the autoencoder are cached in ``$ECGWM_CACHE/worldmodel`` by what
        they depend on, so models differing only in the diffusion config share them.
    progress : progress bars.

    Returns
    -------
    WorldModel
        In eval mode, with ``meta`` holding loss curves, timings, subjects and the data digest.
    """
    config = get_config(config) if isinstance(config, str) else config
    kept = load_clinical_table(None).kept if table is None else table
    if subjects is not None:
        unknown = set(np.asarray(subjects).tolist()) - set(kept["RANDID"])
        if unknown:
            raise ValueError(f"subjects {sorted(unknown)} are not in the table")
        kept = kept[kept["RANDID"].isin(list(subjects))]
    device = resolve_device(config)
    torch.manual_seed(config.seed)
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    out = Path(out) if out is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        if not resume:  # start the denoiser afresh
            for name in ("diffusion_state.json", "diffusion_state.safetensors"):
                (out / name).unlink(missing_ok=True)

    effects = DrugEffects.fit(kept)
    cohort = twin_cohort(kept, config.representation, config.data.augment_copies, config.data.augment_every,
                         progress)
    timings["twins_s"] = time.perf_counter() - clock
    stage = _stage_key(kept, config)
    anchors = _cached_anchors(cohort, effects, config, stage, progress)
    timings["anchors_s"] = time.perf_counter() - clock - sum(timings.values())
    model = WorldModel(config, effects).to(device)
    # the autoencoder does not depend on the diffusion config: shared by models that differ only there
    ae_file = cache_root() / f"autoencoder-{stage}.safetensors"
    if ae_file.is_file():
        model.autoencoder.load_state_dict(load_file(str(ae_file)))
        ae_curve = json.loads(ae_file.with_suffix(".json").read_text())
    else:
        beats = np.concatenate([cohort.beats, anchors.pre_beats, anchors.post_beats])
        ae_curve = train_autoencoder(model, beats, device, config.seed, progress)
        ae_file.parent.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in model.autoencoder.state_dict().items()}, str(ae_file))
        ae_file.with_suffix(".json").write_text(json.dumps(ae_curve))
    timings["autoencoder_s"] = time.perf_counter() - clock - sum(timings.values())
    model.autoencoder.eval()
    pairs = build_pairs(model, cohort, anchors)
    diff_curve = train_diffusion(model, pairs, device, config.seed, progress, out)
    timings["diffusion_s"] = time.perf_counter() - clock - sum(timings.values())
    model.meta = {"subjects": sorted(int(s) for s in kept["RANDID"].unique()), "data_sha256": data_digest(kept),
                  "n_ecgs": len(cohort.rows), "n_pairs": len(pairs.x0), "timings_s": timings,
                  "curves": {"autoencoder_mse_mv2": ae_curve[::10],
                             "diffusion": {k: [c[k] for c in diff_curve[::10]] for k in ("loss", "eps", "energy")}}}
    model.eval()
    if out is not None:
        model.save(out)
        for name in ("diffusion_state.json", "diffusion_state.safetensors"):
            (out / name).unlink(missing_ok=True)
    return model


def default_split(kept: pd.DataFrame | None = None, fold: int = 0, k: int = 4, seed: int = 0
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(training, validation) subjects of leave-subjects-out fold ``fold`` of ``k`` (default: 12 / 4)."""
    kept = load_clinical_table(None).kept if kept is None else kept
    return subject_folds(paired_samples(kept), k=k, seed=seed)[fold]


def pretrained(name: str = "quick", table: pd.DataFrame | None = None, progress: bool = True,
               **diffusion_changes) -> WorldModel:
    """The world model of config ``name`` trained on fold 0's training subjects, cached.

    Trained on first use and cached under ``$ECGWM_CACHE/worldmodel/model-<config>-<data>/``;
    later calls load it (a few ms). ``diffusion_changes`` override :class:`DiffusionConfig`
    fields (e.g. ``lambda0=0.0`` for the model without the prior).
    """
    config = get_config(name, **diffusion_changes)
    kept = load_clinical_table(None).kept if table is None else table
    train_subjects, _ = default_split(kept)
    return cached_model(config, kept[kept["RANDID"].isin(train_subjects)], progress)


def cached_model(config: WorldModelConfig, kept: pd.DataFrame, progress: bool = True) -> WorldModel:
    """The world model of ``config`` trained on all rows of ``kept``: loaded from
    ``$ECGWM_CACHE/worldmodel/model-<config>-<format, config digest>-<data digest>/`` or trained there first."""
    key = hashlib.sha256(f"{FORMAT}{config.digest()}".encode()).hexdigest()
    folder = cache_root() / f"model-{config.name}-{key[:12]}-{data_digest(kept)[:12]}"
    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):  # a second process waits here, then loads what the first trained
        if not (folder / "model.json").is_file():
            work = folder.with_name(folder.name + ".partial")
            train(config, kept, out=work, resume=True, progress=progress)
            work.replace(folder)
    return WorldModel.load(folder, expect=config)

