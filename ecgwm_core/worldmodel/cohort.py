"""SEMI-SYNTHETIC training ECGs: the digital twins of table rows, represented as median beats, cached.

Each subject's twins (:func:`ecgwm_core.synthetic.twins.render_twins`) are
rendered, reduced to median beats and RR (:mod:`.representation`) and cached in
``$ECGWM_CACHE/worldmodel/`` per subject, so that folds and chapters reuse them.
Augmentation re-renders a subject's rows under new random morphologies: the
twin morphology is seeded by the subject id, so copy k uses the id
``k·1 000 000 + RANDID`` (and new noise seeds); copies keep every pre-dose row
and every ``every``-th post-dose row.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..data.trial import BASELINE_HOURS
from ..data.vocabulary import COLUMN_TO_INTERVAL as TARGETS
from ..data.vocabulary import DERIVED_COLUMNS
from ..synthetic.twins import CACHE_ENV, FS_HZ, TWIN_VERSION, render_twins
from .config import RepresentationConfig
from .representation import strip_beats

COPY_ID_STRIDE = 1_000_000
"""Synthetic subject id of augmentation copy k: k·stride + RANDID."""
ROW_COLUMNS = ("RANDID", "EGREFID", "EXTRT", "EXDOSE", "EXDOSU", "TPT", "conc_ng_ml", *TARGETS, "QTcF")


def cache_root() -> Path:
    """``$ECGWM_CACHE/worldmodel`` (default ``~/.cache/ecgwm/worldmodel``)."""
    return Path(os.environ.get(CACHE_ENV, Path.home() / ".cache" / "ecgwm")) / "worldmodel"


@dataclass
class Cohort:
    """Represented ECGs (SEMI-SYNTHETIC twins) of table rows.

    Attributes
    ----------
    rows : one row per ECG: :data:`ROW_COLUMNS` plus ``subject`` (the RANDID the rows came from),
        ``copy`` (0 = the subject's own morphology) and ``period`` (a unique id per subject, copy, drug).
    beats : (n, 12, M) float32 median beats in mV.
    rr_s : (n,) median RR in s.
    centred : {row position: (12, RR·fs) beat from R − RR/2 to R + RR/2} of each period's first pre-dose ECG.
    """

    rows: pd.DataFrame
    beats: np.ndarray
    rr_s: np.ndarray
    centred: dict[int, np.ndarray]


def _subject_rows(rows: pd.DataFrame, copy: int, every: int) -> pd.DataFrame:
    rows = rows.loc[:, list(ROW_COLUMNS)].sort_values(["EXTRT", "TPT", "EGREFID"]).reset_index(drop=True)
    rows["subject"] = rows["RANDID"]
    if copy == 0:
        return rows.assign(copy=0)
    post = rows[rows["TPT"] > BASELINE_HOURS]
    keep = rows[rows["TPT"] == BASELINE_HOURS].index.union(post.index[::every])
    rows = rows.loc[keep].reset_index(drop=True)
    return rows.assign(RANDID=copy * COPY_ID_STRIDE + rows["RANDID"], copy=copy,
                       EGREFID=rows["EGREFID"].astype(str) + f"-morphology{copy}")


def _first_pre(rows: pd.DataFrame) -> np.ndarray:
    pre = rows[rows["TPT"] == BASELINE_HOURS]
    return pre.groupby("EXTRT").head(1).index.to_numpy()


def _key(rows: pd.DataFrame, rep: RepresentationConfig) -> str:
    content = rows.drop(columns=list(DERIVED_COLUMNS), errors="ignore").astype(str)  # machine-independent key
    digest = hashlib.sha256(pd.util.hash_pandas_object(content, index=False).values.tobytes())
    digest.update(json.dumps([TWIN_VERSION, asdict(rep)]).encode())
    return digest.hexdigest()[:16]


def _subject(rows: pd.DataFrame, rep: RepresentationConfig) -> Cohort:
    path = cache_root() / f"beats-{_key(rows, rep)}.npz"
    firsts = _first_pre(rows)
    if path.is_file():
        with np.load(path) as f:
            return Cohort(rows, f["beats"], f["rr_s"], {int(i): f[f"centred_{i}"] for i in firsts})
    table = rows.drop(columns=["subject", "copy"])
    signals, rendered = render_twins(table, progress=False)
    if not (rendered["EGREFID"].to_numpy() == table["EGREFID"].to_numpy()).all():
        raise RuntimeError("render_twins changed the row order; the cohort cache would mislabel ECGs")
    beats, rr, centred = strip_beats(signals, FS_HZ, rep, centred=firsts)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, beats=beats, rr_s=rr, **{f"centred_{i}": b for i, b in centred.items()})
    tmp.replace(path)
    return Cohort(rows, beats, rr, centred)


def twin_cohort(kept: pd.DataFrame, rep: RepresentationConfig, copies: int = 0, every: int = 1,
                progress: bool = True) -> Cohort:
    """Represented twins of ``kept`` and of ``copies`` re-rendered morphologies per subject (cached).

    Parameters
    ----------
    kept : usable rows of the clinical table (any subset of subjects).
    rep : the beat window.
    copies : augmentation copies per subject (0: the subjects' own twins only).
    every : keep every n-th post-dose row in the copies.
    progress : progress bar over (subject, copy).

    Returns
    -------
    Cohort
    """
    if copies < 0 or every < 1:
        raise ValueError(f"copies must be >= 0 and every >= 1; got {copies} and {every}")
    parts = []
    jobs = [(s, c) for s in sorted(kept["RANDID"].unique()) for c in range(copies + 1)]
    for subject, copy in tqdm(jobs, desc="twin beats", disable=not progress):
        parts.append(_subject(_subject_rows(kept[kept["RANDID"] == subject], copy, every), rep))
    offsets = np.cumsum([0] + [len(p.rows) for p in parts[:-1]])
    rows = pd.concat([p.rows for p in parts], ignore_index=True)
    rows["period"] = rows.groupby(["RANDID", "EXTRT"], sort=False).ngroup()
    centred = {int(o + i): b for o, p in zip(offsets, parts) for i, b in p.centred.items()}
    return Cohort(rows, np.concatenate([p.beats for p in parts]), np.concatenate([p.rr_s for p in parts]), centred)
